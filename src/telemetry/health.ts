// The Collector's health_check convention: `GET /` answers 200 {"status":"Server available"} while the agent runs,
// 503 while it starts, while it shuts down, and once any component has failed (the body names which).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseEndpoint } from '../config/formats.ts'

export type Phase = 'starting' | 'running' | 'shutting_down' | 'stopped'

export interface ComponentFailure {
  /** e.g. `receiver "dns"`. */
  component: string
  error: string
}

/** What the agent's lifecycle reports and the endpoint reads. */
export class HealthState {
  phase: Phase = 'starting'
  readonly upSince = new Date()
  private readonly failures = new Map<string, string>()

  markFailed(component: string, error: Error | string): void {
    this.failures.set(component, typeof error === 'string' ? error : error.message)
  }

  failed(): ComponentFailure[] {
    return [...this.failures].map(([component, error]) => ({ component, error }))
  }

  get healthy(): boolean {
    return this.phase === 'running' && this.failures.size === 0
  }

  body(now = new Date()): Record<string, unknown> {
    const failed = this.failed()
    return {
      status: this.healthy ? 'Server available' : 'Server not available',
      upSince: this.upSince.toISOString(),
      uptime: `${((now.getTime() - this.upSince.getTime()) / 1000).toFixed(3)}s`,
      phase: this.phase,
      ...(failed.length > 0 ? { failed } : {}),
    }
  }
}

/** The HTTP side; listens only after listen() and closes in close(), which is idempotent. */
export class HealthServer {
  private readonly server: Server
  private readonly state: HealthState
  private readonly endpoint: string
  private listening = false

  constructor(endpoint: string, state: HealthState) {
    this.endpoint = endpoint
    this.state = state
    this.server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0]
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end()
        return
      }
      if (path !== '/') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}')
        return
      }
      const body = JSON.stringify(this.state.body())
      response.writeHead(this.state.healthy ? 200 : 503, { 'content-type': 'application/json' })
      response.end(request.method === 'HEAD' ? undefined : body)
    })
    // Keep-alive connections from a prober must not hold shutdown open.
    this.server.keepAliveTimeout = 1000
  }

  /** Binds the endpoint and resolves with the address actually bound (port 0 picks a free one). */
  async listen(): Promise<AddressInfo> {
    const parsed = parseEndpoint(this.endpoint)
    if (!parsed) throw new Error(`health_check: invalid endpoint "${this.endpoint}"`)
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`health_check: cannot listen on ${this.endpoint}: ${error.message}`))
      this.server.once('error', onError)
      this.server.listen({ host: parsed.host === '' ? undefined : parsed.host, port: parsed.port }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.listening = true
    this.server.unref()
    return this.server.address() as AddressInfo
  }

  async close(): Promise<void> {
    if (!this.listening) return
    this.listening = false
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
