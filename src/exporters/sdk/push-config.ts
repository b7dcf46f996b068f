// Config keys shared by the push exporters (`otlp` over gRPC, `otlphttp`), with the OpenTelemetry Collector's
// names: headers, compression, timeout, interval, temporality, the TLS files, resource and metric selection.
// Each exporter adds its own `endpoint` (and `tls.insecure` for gRPC). `duration` is the format registered by
// src/config/formats.ts; durations are parsed again at create() whether they arrive coerced or raw.
import { AggregationTemporality } from '@opentelemetry/sdk-metrics'
import { resourceSchema, type ResourceAttribute } from './resource.ts'
import { selectionSchema, type MetricSelection } from './selection.ts'
import { parseDuration } from './values.ts'

export interface TlsFiles {
  ca_file: string
  cert_file: string
  key_file: string
}

export interface PushConfig {
  tls: TlsFiles
  /** Sent with every export. Sensitive (API keys): never logged. */
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
  if (!ok) throw new Error('must be a map of header name to string value')
}

/** The `tls` file keys, to spread into an exporter's `tls` section. */
export const tlsFilesSchema = {
  ca_file: { doc: 'PEM file of the CA that signs the collector certificate (default: system roots).', default: '', format: String },
  cert_file: { doc: 'PEM client certificate for mutual TLS.', default: '', format: String },
  key_file: { doc: 'PEM client key for mutual TLS.', default: '', format: String },
}

/** Every shared key but `tls`, to spread into an exporter's schema. */
export const pushSchema = {
  headers: {
    doc: 'Headers (gRPC metadata for otlp) sent with every export, e.g. an API key. Sensitive: never logged.',
    default: {} as Record<string, string>,
    format: stringMap,
    sensitive: true,
  },
  compression: { doc: 'gzip or none.', default: 'gzip', format: ['gzip', 'none'] },
  timeout: {
    doc:
      'Deadline of one export (capped at interval). otlp (gRPC) retries transient failures within it, after the delay ' +
      'a RESOURCE_EXHAUSTED or UNAVAILABLE answer asks for in RetryInfo; a longer delay holds back the next exports ' +
      'until it ends. otlphttp retries within it as the OpenTelemetry SDK does (Retry-After honoured, 5 attempts).',
    default: '10s',
    format: 'duration',
  },
  interval: { doc: 'Export period.', default: '10s', format: 'duration' },
  temporality: {
    doc: 'Aggregation temporality of counters and histograms: cumulative or delta.',
    default: 'cumulative',
    format: ['cumulative', 'delta'],
  },
  ...resourceSchema,
  ...selectionSchema,
}

/** Cross-field checks shared by the push exporters. */
export function validatePushConfig(config: PushConfig): void {
  parseDuration(config.timeout, 'timeout')
  parseDuration(config.interval, 'interval')
  if (Boolean(config.tls.cert_file) !== Boolean(config.tls.key_file)) {
    throw new Error('tls: cert_file and key_file go together')
  }
}

export function hasTlsFiles(tls: TlsFiles): boolean {
  return Boolean(tls.ca_file || tls.cert_file || tls.key_file)
}

export function temporalityOf(config: PushConfig): AggregationTemporality {
  return config.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE
}
