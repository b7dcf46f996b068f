// Configuration of the `http` receiver (YAML `receivers: http:`). Durations arrive in milliseconds through the
// shared `duration` format (src/config/formats.ts).
import type { Schema } from 'convict'
import { PORT_FILTER_MAX_PORTS } from '../../capture/port-filter.ts'

export interface HttpConfig {
  ports: number[]
  interface: string
  tls: { enabled: boolean; libssl: string }
  max_path_length: number
  redact_query: boolean
  timeout: number
  max_connections: number
  flush_interval: number
  kernel_exchanges: boolean
}

export const MAX_PATH_LENGTH_LIMIT = 4096

export const httpSchema: Schema<HttpConfig> = {
  ports: {
    doc: `Server ports whose TCP traffic is read as plaintext HTTP/1.x (source or destination), at most ${PORT_FILTER_MAX_PORTS}.`,
    format: 'port-list',
    default: [80, 8080, 8000, 3000, 5000, 9000],
  },
  interface: {
    doc: 'Capture on this interface only; empty captures every interface of the agent\'s network namespace.',
    format: String,
    default: '',
  },
  tls: {
    enabled: {
      doc: 'Read HTTPS plaintext through uprobes on OpenSSL 3 (SSL_read/SSL_write in libssl.so.3) in every process.',
      format: Boolean,
      default: true,
    },
    libssl: {
      doc: 'Path of libssl.so.3; empty finds it (ldconfig, then the usual paths) and skips HTTPS when there is none.',
      format: String,
      default: '',
    },
  },
  max_path_length: {
    doc: `URL path characters kept; longer paths are cut and marked truncated (at most ${MAX_PATH_LENGTH_LIMIT}).`,
    format: 'positive-int',
    default: 150,
  },
  redact_query: {
    doc: 'Leave the query string out of recorded paths (it often carries tokens). Userinfo is always left out.',
    format: Boolean,
    default: true,
  },
  timeout: {
    doc: 'A request unanswered for this long is counted as dropped (request_timeout) and makes no record.',
    format: 'duration',
    default: 30_000,
  },
  max_connections: {
    doc: 'Connections tracked at once (plaintext and TLS each); the oldest is forgotten beyond it (counted).',
    format: 'positive-int',
    default: 65_536,
  },
  flush_interval: {
    doc: 'How often finished exchanges are sent on as one batch.',
    format: 'duration',
    default: 1_000,
  },
  kernel_exchanges: {
    doc: 'Read simple exchanges (a bodiless GET/HEAD in one segment, a Content-Length-framed response) in the capture ' +
      'filter and send one record per exchange instead of their packets: several times cheaper at high request rates. ' +
      'Other connections, or what follows on a connection the filter stops reading, are decoded from packets as before. ' +
      'Needs CAP_PERFMON (the filter without it needs only CAP_BPF, or nothing where unprivileged BPF is allowed).',
    format: Boolean,
    default: true,
  },
}

export function validateHttp(config: HttpConfig): void {
  if (config.ports.length === 0 || config.ports.length > PORT_FILTER_MAX_PORTS) {
    throw new Error(`ports: must list 1 to ${PORT_FILTER_MAX_PORTS} ports`)
  }
  if (config.max_path_length > MAX_PATH_LENGTH_LIMIT) throw new Error(`max_path_length: at most ${MAX_PATH_LENGTH_LIMIT}`)
  if (config.timeout < 10) throw new Error('timeout: must be at least 10ms')
  if (config.flush_interval < 10) throw new Error('flush_interval: must be at least 10ms')
  if (/[\s/]/.test(config.interface) || config.interface.length > 15) {
    throw new Error(`interface: "${config.interface}" is not an interface name`)
  }
}
