// Configuration of the `dns` receiver (YAML `receivers: dns:`). Durations arrive in milliseconds through the
// shared `duration` format (src/config/formats.ts).
import type { Schema } from 'convict'
import type { Transport } from '../../records.ts'

export interface DnsConfig {
  ports: number[]
  transports: Transport[]
  interface: string
  timeout: number
  max_pending: number
  flush_interval: number
}

/** The capture filter holds at most this many ports (bpf/port_filter.h). */
export const MAX_PORTS = 16

export const dnsSchema: Schema<DnsConfig> = {
  ports: {
    doc: `Server ports whose traffic is DNS (source or destination), at most ${MAX_PORTS}.`,
    format: 'port-list',
    default: [53],
  },
  transports: {
    doc: 'Transports to capture: any of "udp" and "tcp".',
    format(value: unknown) {
      const ok = Array.isArray(value) && value.length > 0 && value.every((t) => t === 'udp' || t === 'tcp')
      if (!ok) throw new Error('must be a non-empty list of "udp" and "tcp"')
    },
    default: ['udp', 'tcp'],
  },
  interface: {
    doc: 'Capture on this interface only; empty captures every interface of the agent\'s network namespace.',
    format: String,
    default: '',
  },
  timeout: {
    doc: 'A query unanswered for this long is reported with response code "timeout".',
    format: 'duration',
    default: 5_000,
  },
  max_pending: {
    doc: 'Queries awaiting their response at most; queries beyond it are counted as dropped (pending_full).',
    format: 'positive-int',
    default: 65_536,
  },
  flush_interval: {
    doc: 'How often finished records (answered and timed-out queries, answers) are sent on as one batch.',
    format: 'duration',
    default: 1_000,
  },
}

export function validateDns(config: DnsConfig): void {
  if (config.ports.length === 0 || config.ports.length > MAX_PORTS) throw new Error(`ports: must list 1 to ${MAX_PORTS} ports`)
  if (config.timeout < 10) throw new Error('timeout: must be at least 10ms')
  if (config.flush_interval < 10) throw new Error('flush_interval: must be at least 10ms')
  if (/[\s/]/.test(config.interface) || config.interface.length > 15) {
    throw new Error(`interface: "${config.interface}" is not an interface name`)
  }
}
