// Configuration of the `rdns` processor (YAML `processors: rdns:`). Durations arrive in milliseconds through the
// shared `duration` format (src/config/formats.ts).
import type { Schema } from 'convict'
import { isIP } from 'node:net'
import { parseEndpoint } from '../../config/formats.ts'
import { IP_TYPES } from '../iptype/ranges.ts'

/** Active PTR lookups for addresses the wire gave no name (`ptr_lookups:`); off unless `enabled`. */
export interface PtrLookupsConfig {
  enabled: boolean
  servers: string[]
  rate: number
  timeout: number
  ttl: number
  negative_ttl: number
  max_pending: number
  skip_ip_types: string[]
}

export interface RdnsConfig {
  min_ttl: number
  max_ttl: number
  max_entries: number
  max_names_per_address: number
  replace_address: boolean
  ptr_lookups: PtrLookupsConfig
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
    doc:
      'Addresses remembered at most (and as many PTR results, apart); when full, the least recently used 1/64 of ' +
      'them are evicted (counted).',
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
  ptr_lookups: {
    enabled: {
      doc:
        'Ask DNS servers for the PTR name of addresses no sniffed answer named. Off by default: every new address ' +
        'becomes a query, which floods resolvers. The record that missed passes unnamed; later ones get the name ' +
        'once it arrives. Names from the wire always win over PTR names.',
      format: Boolean,
      default: false,
    },
    servers: {
      doc:
        'DNS servers to ask, "IP" or "IP:port" ("[IPv6]:port"); empty: the system\'s resolvers (/etc/resolv.conf). ' +
        'netlens\'s own dns receiver sees these queries too.',
      format: 'string-list',
      default: [],
    },
    rate: {
      doc:
        'Lookups sent per second at most (a token bucket holding one second\'s worth); addresses beyond it wait in ' +
        'the queue (counted as rate limited).',
      format: 'positive-int',
      default: 10,
    },
    timeout: {
      doc: 'Deadline of one lookup, every server and retry included; one try per server, sharing it.',
      format: 'duration',
      default: 2000,
    },
    ttl: {
      doc: 'How long a PTR name is kept (the TTL of a PTR answer is not available to netlens).',
      format: 'duration',
      default: 3_600_000,
    },
    negative_ttl: {
      doc:
        'How long an address whose lookup gave no name (NXDOMAIN, no PTR record, timeout or error) is not asked ' +
        'again.',
      format: 'duration',
      default: 300_000,
    },
    max_pending: {
      doc: 'Addresses queued or being looked up at most; a miss beyond it is dropped (counted) and asked again later.',
      format: 'positive-int',
      default: 1000,
    },
    skip_ip_types: {
      doc:
        `Address types (as the iptype processor names them: ${IP_TYPES.join(', ')}) never asked about. ` +
        'Private addresses are asked by default: an internal resolver often names them.',
      format: 'string-list',
      default: ['unspecified', 'loopback', 'link_local', 'multicast', 'broadcast'],
    },
  },
}

export function validateRdns(config: RdnsConfig): void {
  if (config.min_ttl > config.max_ttl) throw new Error('min_ttl: must not be greater than max_ttl')
  if (config.max_ttl < 1000) throw new Error('max_ttl: must be at least 1s')
  validatePtrLookups(config.ptr_lookups)
}

function validatePtrLookups(ptr: PtrLookupsConfig): void {
  ptr.servers.forEach((server, index) => {
    if (!isServer(server)) {
      throw new Error(
        `ptr_lookups::servers[${index}]: "${server}" is not an IP address or IP:port (an IPv6 address with a port ` +
          'goes in brackets: "[fd00::53]:53")',
      )
    }
  })
  ptr.skip_ip_types.forEach((type, index) => {
    if (!(IP_TYPES as readonly string[]).includes(type)) {
      throw new Error(`ptr_lookups::skip_ip_types[${index}]: "${type}" is not one of ${IP_TYPES.join(', ')}`)
    }
  })
  if (ptr.timeout < 1) throw new Error('ptr_lookups::timeout: must be at least 1ms')
  if (ptr.ttl < 1000) throw new Error('ptr_lookups::ttl: must be at least 1s')
  if (ptr.negative_ttl < 1000) {
    throw new Error('ptr_lookups::negative_ttl: must be at least 1s (unnamed addresses would be asked at every record)')
  }
}

/** "IP" or "IP:port" with IPv6 in brackets, what dns.Resolver.setServers() takes. */
function isServer(text: string): boolean {
  if (isIP(text) !== 0) return true
  const endpoint = parseEndpoint(text)
  return endpoint !== undefined && endpoint.port > 0 && isIP(endpoint.host) !== 0
}
