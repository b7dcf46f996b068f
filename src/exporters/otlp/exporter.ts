// The `otlp` exporter: metrics from the definitions plus netlens self-telemetry, pushed over OTLP/gRPC by the
// OpenTelemetry SDK every `interval`.
import { readFile } from 'node:fs/promises'
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { AggregationTemporality, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import type { Batch, CreateSettings, Exporter, Host } from '../../component/types.ts'
import { standardCounters } from '../../telemetry/self.ts'
import { exportsCounter, MetricsBridge } from '../sdk/bridge.ts'
import { parseEndpoint, parseDuration } from '../sdk/values.ts'
import type { OtlpConfig } from './config.ts'
import { watchExports } from './health.ts'

async function readPem(path: string, key: string): Promise<Buffer | null> {
  if (!path) return null
  try {
    return await readFile(path)
  } catch (error) {
    throw new Error(`tls.${key}: cannot read ${path}: ${(error as Error).message}`)
  }
}

async function channelCredentials(tls: OtlpConfig['tls']): Promise<ChannelCredentials> {
  if (tls.insecure) return credentials.createInsecure()
  const [ca, key, cert] = await Promise.all([
    readPem(tls.ca_file, 'ca_file'),
    readPem(tls.key_file, 'key_file'),
    readPem(tls.cert_file, 'cert_file'),
  ])
  return credentials.createSsl(ca, key, cert)
}

function metadataOf(headers: Record<string, string>): Metadata {
  const metadata = new Metadata()
  for (const [name, value] of Object.entries(headers)) metadata.set(name.toLowerCase(), value)
  return metadata
}

export class OtlpExporter implements Exporter {
  private readonly settings: CreateSettings
  private readonly config: OtlpConfig
  private bridge: MetricsBridge | undefined
  private stopped = false

  constructor(settings: CreateSettings, config: OtlpConfig) {
    this.settings = settings
    this.config = config
    standardCounters(settings.telemetry)
    exportsCounter(settings.telemetry)
  }

  async start(_host: Host): Promise<void> {
    if (this.bridge || this.stopped) return
    const { config, settings } = this
    const endpoint = parseEndpoint(config.endpoint, 'endpoint')
    const intervalMs = parseDuration(config.interval, 'interval')
    // The SDK requires timeout <= interval; an export still pending at the next tick would only queue up.
    const timeoutMs = Math.min(parseDuration(config.timeout, 'timeout'), intervalMs)
    const channel = await channelCredentials(config.tls)
    if (this.stopped || this.bridge) return
    // `compression` is typed as otlp-exporter-base's CompressionAlgorithm enum, whose values are exactly 'gzip' and
    // 'none'; the exporter is built on its own copy of sdk-metrics (3.1.0), hence the structural casts below.
    const otlp = new OTLPMetricExporter({
      url: `${config.tls.insecure ? 'http' : 'https'}://${endpoint.host}:${endpoint.port}`,
      credentials: channel,
      metadata: metadataOf(config.headers),
      compression: config.compression as never,
      timeoutMillis: timeoutMs,
      temporalityPreference:
        config.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    } as ConstructorParameters<typeof OTLPMetricExporter>[0])
    let bridge: MetricsBridge | undefined
    const watched = watchExports(otlp as unknown as PushMetricExporter, {
      id: settings.id,
      logger: settings.logger,
      exports: exportsCounter(settings.telemetry),
      beforeExport: () => bridge?.syncSelfTelemetry(),
    })
    const reader = new PeriodicExportingMetricReader({
      exporter: watched,
      exportIntervalMillis: intervalMs,
      exportTimeoutMillis: timeoutMs,
    })
    bridge = new MetricsBridge({
      id: settings.id,
      telemetry: settings.telemetry,
      resource: config.resource,
      selection: config,
      readers: [reader],
    })
    this.bridge = bridge
    settings.logger.info(`${settings.id}: exporting every ${intervalMs} ms`, {
      endpoint: `${endpoint.host}:${endpoint.port}`,
      tls: !config.tls.insecure,
      compression: config.compression,
      temporality: config.temporality,
    })
  }

  consume(batch: Batch): void {
    if (this.bridge) {
      this.bridge.consume(batch)
      return
    }
    const reason = this.stopped ? 'shutdown' : 'not_started'
    standardCounters(this.settings.telemetry).dropped.add(batch.records.length, { component: this.settings.id, reason })
  }

  async flush(): Promise<void> {
    await this.bridge?.forceFlush()
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    await this.bridge?.shutdown()
  }
}
