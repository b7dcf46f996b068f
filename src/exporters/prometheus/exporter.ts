// The `prometheus` exporter: a pull endpoint. Prometheus scrapes `http://<endpoint>/metrics`; each scrape collects
// the metrics bridge through @opentelemetry/exporter-prometheus's reader (cumulative, text format). The HTTP
// server is netlens's own so that a bind failure fails start() with the key named, and so that self-telemetry
// instruments registered since the last scrape join before each one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrometheusExporter as PrometheusReader } from '@opentelemetry/exporter-prometheus'
import type { IMetricReader } from '@opentelemetry/sdk-metrics'
import type { Batch, CreateSettings, Exporter, Host } from '../../component/types.ts'
import { parseEndpoint } from '../../config/formats.ts'
import { standardCounters } from '../../telemetry/self.ts'
import { MetricsBridge } from '../sdk/bridge.ts'
import type { PrometheusConfig } from './config.ts'

const METRICS_PATH = '/metrics'

function listen(server: Server, endpoint: string): Promise<AddressInfo> {
  const parsed = parseEndpoint(endpoint)
  if (!parsed) return Promise.reject(new Error(`endpoint: expected host:port, got ${JSON.stringify(endpoint)}`))
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`endpoint: cannot listen on ${endpoint}: ${error.message}`))
    server.once('error', onError)
    server.listen({ host: parsed.host === '' ? undefined : parsed.host, port: parsed.port }, () => {
      server.off('error', onError)
      resolve(server.address() as AddressInfo)
    })
  })
}

export class PrometheusExporter implements Exporter {
  private readonly settings: CreateSettings
  private readonly config: PrometheusConfig
  private bridge: MetricsBridge | undefined
  private server: Server | undefined
  private bound: AddressInfo | undefined
  private stopped = false

  constructor(settings: CreateSettings, config: PrometheusConfig) {
    this.settings = settings
    this.config = config
    standardCounters(settings.telemetry)
  }

  /** The address actually bound (port 0 picks a free one); undefined before start(). */
  address(): AddressInfo | undefined {
    return this.bound
  }

  async start(_host: Host): Promise<void> {
    if (this.bridge || this.stopped) return
    const { config, settings } = this
    let reader: PrometheusReader | undefined
    const bridge = new MetricsBridge({
      id: settings.id,
      telemetry: settings.telemetry,
      resource: config.resource,
      selection: config,
      // The reader is built on exporter-prometheus's own copy of sdk-metrics (3.1.0): structurally the same.
      reader: (producers) => {
        reader = new PrometheusReader({
          preventServerStart: true,
          prefix: config.namespace,
          withResourceConstantLabels: config.resource_to_telemetry_conversion.enabled ? /.*/ : undefined,
          ...producers,
        })
        return reader as unknown as IMetricReader
      },
      temporality: 'cumulative', // Prometheus is cumulative by definition
    })
    const server = createServer((request, response) => this.serve(reader!, request, response))
    // A scraper's keep-alive connection must not hold shutdown open.
    server.keepAliveTimeout = 1000
    try {
      this.bound = await listen(server, config.endpoint)
    } catch (error) {
      await bridge.shutdown()
      throw error
    }
    server.unref()
    this.server = server
    this.bridge = bridge
    const host = this.bound.family === 'IPv6' ? `[${this.bound.address}]` : this.bound.address
    settings.logger.info(`${settings.id}: serving metrics on http://${host}:${this.bound.port}${METRICS_PATH}`)
    if (this.stopped) await this.shutdown()
  }

  private serve(reader: PrometheusReader, request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '').split('?')[0]
    if (path !== METRICS_PATH) {
      response.writeHead(404).end()
      return
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    this.bridge?.syncSelfTelemetry()
    reader.getMetricsRequestHandler(request, response)
  }

  consume(batch: Batch): void {
    if (this.bridge && !this.stopped) {
      this.bridge.consume(batch)
      return
    }
    const reason = this.stopped ? 'shutdown' : 'not_started'
    standardCounters(this.settings.telemetry).dropped.add(batch.records.length, { component: this.settings.id, reason })
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    const server = this.server
    this.server = undefined
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await this.bridge?.shutdown()
  }
}
