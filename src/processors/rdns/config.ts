// Configuration of the `rdns` processor (YAML `processors: rdns:`). Durations arrive in milliseconds through the
// shared `duration` format (src/config/formats.ts).
import type { Schema } from 'convict'

export interface RdnsConfig {
  min_ttl: number
  max_ttl: number
  max_entries: number
  max_names_per_address: number
  replace_address: boolean
}

export const rdnsSchema: Schema<RdnsConfig> = {
  min_ttl: {
    doc:
      'A learned name is kept at least this long whatever the answer\'s TTL: connections outlive the DNS TTL ' +
      '(clients cache answers and keep connections open), and a 0-30 s TTL would leave most flows unnamed.',
    format: 'duration',
    default: 300_000,
  },
  max_ttl: {
    doc: 'A learned name is kept at most this long, even when the answer\'s TTL is longer (addresses get reused).',
    format: 'duration',
    default: 3_600_000,
  },
  max_entries: {
    doc: 'Addresses remembered at most; when full, the least recently used 1/64 of them are evicted (counted).',
    format: 'positive-int',
    default: 100_000,
  },
  max_names_per_address: {
    doc:
      'Names remembered per address (shared hosting, CDNs); the most recent one is reported, preferring a name the ' +
      'flow\'s own client asked for; the oldest is dropped beyond it (counted).',
    format: 'positive-int',
    default: 4,
  },
  replace_address: {
    doc: 'Also replace the address itself (destination.address, source.address) by the name, not only add *.domain.',
    format: Boolean,
    default: false,
  },
}

export function validateRdns(config: RdnsConfig): void {
  if (config.min_ttl > config.max_ttl) throw new Error('min_ttl: must not be greater than max_ttl')
  if (config.max_ttl < 1000) throw new Error('max_ttl: must be at least 1s')
}
