// `otlp` exporter configuration, with the OpenTelemetry Collector's keys. `duration` and `endpoint` are the
// formats registered by src/config/formats.ts; create() parses durations whether they arrive coerced or raw.
import { parseDuration } from '../sdk/values.ts'
import { resourceSchema, type ResourceAttribute } from '../sdk/resource.ts'
import { selectionSchema, type MetricSelection } from '../sdk/selection.ts'

export interface OtlpConfig {
  endpoint: string
  tls: { insecure: boolean; ca_file: string; cert_file: string; key_file: string }
  /** gRPC metadata sent with every export. Sensitive (API keys): never logged. */
  headers: Record<string, string>
  compression: 'gzip' | 'none'
  timeout: string | number
  interval: string | number
  temporality: 'cumulative' | 'delta'
  resource: ResourceAttribute[]
  metrics: MetricSelection[]
  cardinality_limit: number
}

function stringMap(value: unknown): void {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  if (!ok) throw new Error('headers: expected a map of header name to string value')
}

export const otlpSchema = {
  endpoint: {
    doc: 'OTLP/gRPC collector address, host:port.',
    default: 'localhost:4317',
    format: 'endpoint',
  },
  tls: {
    insecure: { doc: 'Plain-text gRPC (no TLS).', default: false, format: Boolean },
    ca_file: { doc: 'PEM file of the CA that signs the collector certificate (default: system roots).', default: '', format: String },
    cert_file: { doc: 'PEM client certificate for mutual TLS.', default: '', format: String },
    key_file: { doc: 'PEM client key for mutual TLS.', default: '', format: String },
  },
  headers: {
    doc: 'gRPC metadata sent with every export (e.g. an API key). Sensitive: never logged.',
    default: {} as Record<string, string>,
    format: stringMap,
    sensitive: true,
  },
  compression: { doc: 'gzip or none.', default: 'gzip', format: ['gzip', 'none'] },
  timeout: { doc: 'Deadline of one export (capped at interval).', default: '10s', format: 'duration' },
  interval: { doc: 'Export period.', default: '10s', format: 'duration' },
  temporality: {
    doc: 'Aggregation temporality of counters and histograms: cumulative or delta.',
    default: 'cumulative',
    format: ['cumulative', 'delta'],
  },
  ...resourceSchema,
  ...selectionSchema,
}

export function validateOtlpConfig(config: OtlpConfig): void {
  parseDuration(config.timeout, 'timeout')
  parseDuration(config.interval, 'interval')
  if (config.tls.insecure && (config.tls.ca_file || config.tls.cert_file || config.tls.key_file)) {
    throw new Error('tls: ca_file, cert_file and key_file need insecure: false')
  }
  if (Boolean(config.tls.cert_file) !== Boolean(config.tls.key_file)) {
    throw new Error('tls: cert_file and key_file go together')
  }
}
