// Can the configured collector be reached? A TCP connect with a short timeout to each OTLP exporter's endpoint
// (`host:port` for otlp/gRPC, a URL for otlphttp). A connect proves a listener, not that it speaks OTLP.
import { connect } from 'node:net'
import type { AgentConfig } from '../config/types.ts'
import { parseEndpoint } from '../config/formats.ts'
import { label } from '../pipeline/build.ts'
import { outcome, reason, type CheckResult } from './check.ts'

/** Exporter types whose `endpoint` is a collector netlens connects to (prometheus's is one it listens on). */
const COLLECTOR_EXPORTERS = new Set(['otlp', 'otlphttp'])

export interface Target {
  host: string
  port: number
}

/** `localhost:4317`, `[::1]:4317`, `http://collector:4318/v1/metrics` → host and port. */
export function targetOf(endpoint: string): Target | undefined {
  if (endpoint.includes('://')) {
    try {
      const url = new URL(endpoint)
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port }
    } catch {
      return undefined
    }
  }
  const parsed = parseEndpoint(endpoint)
  return parsed ? { host: parsed.host || 'localhost', port: parsed.port } : undefined
}

export function tcpConnect(target: Target, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port })
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.end()
      resolve()
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** One row per collector exporter some pipeline uses. */
export async function endpointChecks(config: AgentConfig, timeoutMs: number): Promise<CheckResult[]> {
  const used = (id: string) => config.pipelines.some((p) => p.exporters.includes(id))
  const entries = [...config.exporters.values()].filter((e) => COLLECTOR_EXPORTERS.has(e.type) && used(e.id))
  return Promise.all(
    entries.map(async (entry) => {
      const endpoint = String((entry.config as { endpoint?: unknown }).endpoint ?? '')
      const name = `${label('exporter', entry.id)} → ${endpoint}`
      const target = targetOf(endpoint)
      if (!target) return outcome(name, false, true, 'cannot read the endpoint')
      try {
        await tcpConnect(target, timeoutMs)
        return outcome(name, true, true, 'TCP connect succeeded')
      } catch (error) {
        return outcome(name, false, true, `cannot connect: ${reason(error)}; metrics would be dropped until it answers`)
      }
    }),
  )
}
