// The `otlphttp` exporter: the same metrics as `otlp`, posted as OTLP protobuf over HTTP(S) to `<endpoint>/v1/metrics`
// every `interval` (the reader, bridge and lifecycle are ../sdk/push-exporter.ts).
import type { AgentOptions } from 'node:https'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics'
import type { CreateSettings } from '../../component/types.ts'
import { temporalityOf } from '../sdk/push-config.ts'
import { PushExporter, type Transport } from '../sdk/push-exporter.ts'
import { readTlsFiles } from '../sdk/tls.ts'
import { metricsUrl, type OtlpHttpConfig } from './config.ts'

async function agentOptions(config: OtlpHttpConfig, https: boolean): Promise<AgentOptions> {
  if (!https) return { keepAlive: true }
  const { ca, cert, key } = await readTlsFiles(config.tls)
  return { keepAlive: true, ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) }
}

async function httpTransport(config: OtlpHttpConfig, timeoutMs: number): Promise<Transport> {
  const url = metricsUrl(config.endpoint)
  const https = url.protocol === 'https:'
  // As for `otlp`: `compression` is the CompressionAlgorithm enum ('gzip' | 'none'), and the exporter is typed
  // against its own copy of sdk-metrics, hence the structural casts.
  const exporter = new OTLPMetricExporter({
    url: url.href,
    headers: { ...config.headers },
    compression: config.compression as never,
    timeoutMillis: timeoutMs,
    httpAgentOptions: await agentOptions(config, https),
    temporalityPreference: temporalityOf(config),
  } as ConstructorParameters<typeof OTLPMetricExporter>[0])
  return { exporter: exporter as unknown as PushMetricExporter, details: { url: url.href, tls: https } }
}

export class OtlpHttpExporter extends PushExporter {
  constructor(settings: CreateSettings, config: OtlpHttpConfig) {
    super(settings, config, (timeoutMs) => httpTransport(config, timeoutMs))
  }
}
