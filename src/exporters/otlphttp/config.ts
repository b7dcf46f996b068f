// `otlphttp` exporter configuration, with the OpenTelemetry Collector's keys: `endpoint` is the base URL to which
// `/v1/metrics` is appended (as the Collector's otlphttp exporter does); the scheme decides TLS. Everything else
// is shared with `otlp` (../sdk/push-config.ts).
import { hasTlsFiles, pushSchema, tlsFilesSchema, validatePushConfig, type PushConfig } from '../sdk/push-config.ts'

export interface OtlpHttpConfig extends PushConfig {
  endpoint: string
}

const METRICS_PATH = '/v1/metrics'

/** What is wrong with an endpoint URL, as "must be ..." text; undefined when it is fine. */
function problemWith(endpoint: unknown): string | undefined {
  let url: URL | undefined
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint.trim()) : undefined
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return 'an http:// or https:// URL such as "http://localhost:4318"'
  }
  if (url.search || url.hash || url.username || url.password) {
    return 'a URL without query, fragment or credentials (credentials go in headers)'
  }
  return undefined
}

/** `http(s)://host:port[/base]` → the URL metrics are posted to, `<base>/v1/metrics`. */
export function metricsUrl(endpoint: unknown, key = 'endpoint'): URL {
  const problem = problemWith(endpoint)
  if (problem) throw new Error(`${key}: must be ${problem}, got ${JSON.stringify(endpoint)}`)
  const url = new URL((endpoint as string).trim())
  url.pathname = url.pathname.replace(/\/+$/, '') + METRICS_PATH
  return url
}

export const otlpHttpSchema = {
  endpoint: {
    doc: 'OTLP/HTTP base URL; /v1/metrics is appended. https:// uses TLS.',
    default: 'http://localhost:4318',
    format: (value: unknown) => {
      const problem = problemWith(value)
      if (problem) throw new Error(`must be ${problem}`)
    },
  },
  tls: tlsFilesSchema,
  ...pushSchema,
}

export function validateOtlpHttpConfig(config: OtlpHttpConfig): void {
  validatePushConfig(config)
  if (hasTlsFiles(config.tls) && metricsUrl(config.endpoint).protocol !== 'https:') {
    throw new Error('tls: ca_file, cert_file and key_file need an https:// endpoint')
  }
}
