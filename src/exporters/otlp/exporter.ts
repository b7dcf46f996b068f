// The `otlp` exporter: metrics from the definitions plus netlens self-telemetry, pushed over OTLP/gRPC by the
// OpenTelemetry SDK every `interval` (the reader, bridge and lifecycle are ../sdk/push-exporter.ts), with the
// retries the specification asks for (../sdk/grpc-retry.ts).
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics'
import type { CreateSettings } from '../../component/types.ts'
import { retryingExporter } from '../sdk/grpc-retry.ts'
import { temporalityOf } from '../sdk/push-config.ts'
import { PushExporter, type Transport } from '../sdk/push-exporter.ts'
import { readTlsFiles } from '../sdk/tls.ts'
import { parseEndpoint } from '../sdk/values.ts'
import type { OtlpConfig } from './config.ts'

async function channelCredentials(tls: OtlpConfig['tls']): Promise<ChannelCredentials> {
  if (tls.insecure) return credentials.createInsecure()
  const { ca, key, cert } = await readTlsFiles(tls)
  return credentials.createSsl(ca, key, cert)
}

function metadataOf(headers: Record<string, string>): Metadata {
  const metadata = new Metadata()
  for (const [name, value] of Object.entries(headers)) metadata.set(name.toLowerCase(), value)
  return metadata
}

async function grpcTransport(config: OtlpConfig, timeoutMs: number): Promise<Transport> {
  const endpoint = parseEndpoint(config.endpoint, 'endpoint')
  const channel = await channelCredentials(config.tls)
  // `compression` is typed as otlp-exporter-base's CompressionAlgorithm enum, whose values are exactly 'gzip' and
  // 'none'; the exporter is built on its own copy of sdk-metrics (3.1.0), hence the structural casts below.
  const exporter = new OTLPMetricExporter({
    url: `${config.tls.insecure ? 'http' : 'https'}://${endpoint.host}:${endpoint.port}`,
    credentials: channel,
    metadata: metadataOf(config.headers),
    compression: config.compression as never,
    timeoutMillis: timeoutMs,
    temporalityPreference: temporalityOf(config),
  } as ConstructorParameters<typeof OTLPMetricExporter>[0])
  return {
    exporter: retryingExporter(exporter as unknown as PushMetricExporter, { timeoutMs }),
    details: { endpoint: `${endpoint.host}:${endpoint.port}`, tls: !config.tls.insecure },
  }
}

export class OtlpExporter extends PushExporter {
  constructor(settings: CreateSettings, config: OtlpConfig) {
    super(settings, config, (timeoutMs) => grpcTransport(config, timeoutMs))
  }
}
