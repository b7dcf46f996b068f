// The agent as `netlens run` runs it: health endpoint first (so probes see 503 while starting), then the
// component graph and its lifecycle. stop() is idempotent and reports every failure instead of throwing.
import type { AddressInfo } from 'node:net'
import type { AgentConfig } from '../config/types.ts'
import { receiverPreflight } from '../system/preflight.ts'
import { HealthServer, HealthState } from '../telemetry/health.ts'
import type { Logger } from '../telemetry/logger.ts'
import { ProcessTelemetry } from '../telemetry/process.ts'
import { SelfTelemetry } from '../telemetry/self.ts'
import { BuildError, buildGraph } from './build.ts'
import { Service, type ServiceOptions } from './service.ts'

export interface AgentOptions extends Omit<ServiceOptions, 'health'> {
  telemetry?: SelfTelemetry
}

export class Agent {
  readonly health = new HealthState()
  readonly telemetry: SelfTelemetry
  private readonly config: AgentConfig
  private readonly options: AgentOptions
  private readonly logger: Logger
  private readonly process: ProcessTelemetry
  private healthServer: HealthServer | undefined
  private service: Service | undefined
  private stopping: Promise<Error[]> | undefined

  constructor(config: AgentConfig, options: AgentOptions) {
    this.config = config
    this.options = options
    this.logger = options.logger
    this.telemetry = options.telemetry ?? new SelfTelemetry()
    this.process = new ProcessTelemetry(this.telemetry)
  }

  /** Resolves once running (possibly with failed receivers); rejects when the agent cannot run, after cleaning up. */
  async start(): Promise<void> {
    const endpoint = this.config.telemetry.healthEndpoint
    if (endpoint !== '') {
      this.healthServer = new HealthServer(endpoint, this.health)
      const address = await this.healthServer.listen()
      this.logger.info('health check listening', { endpoint: formatAddress(address) })
    }
    // stop() may have come while the endpoint was binding: then there is nothing left to start.
    if (this.stopping) return
    this.process.start()
    try {
      const graph = buildGraph(this.config, this.logger, this.telemetry)
      // Receivers missing a capability or kernel feature are disabled with a message naming it; the rest run.
      const preflight = this.options.receiverPreflight ?? receiverPreflight(this.config, this.logger)
      this.service = new Service(graph, { ...this.options, health: this.health, receiverPreflight: preflight })
    } catch (error) {
      if (error instanceof BuildError) {
        this.service = new Service(error.partial, { ...this.options, health: this.health })
      }
      await this.stop()
      throw error
    }
    try {
      await this.service.start()
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  stop(): Promise<Error[]> {
    this.stopping ??= this.stopAll()
    return this.stopping
  }

  private async stopAll(): Promise<Error[]> {
    this.health.phase = 'shutting_down'
    const failures = this.service ? await this.service.shutdown() : []
    this.health.phase = 'stopped'
    this.process.stop()
    await this.healthServer?.close()
    return failures
  }
}

export function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`
}
