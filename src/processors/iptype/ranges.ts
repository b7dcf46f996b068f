// The IANA special-purpose address registries (iana-ipv4-special-registry, iana-ipv6-special-registry, as of
// 2025) plus multicast, broadcast and the IPv6 space outside global unicast, as prefix tables. An entry marked
// "Globally Reachable: True" in the registry (anycast services, AS112, AMT, ORCHIDv2, ...) is `other`: it is a
// public address. A prefix inside another is more specific and wins (longest prefix match).

/** Every type an address can have, in the order the docs list them. */
export const IP_TYPES = [
  'private',
  'loopback',
  'link_local',
  'multicast',
  'broadcast',
  'unspecified',
  'cgnat',
  'documentation',
  'reserved',
  'other',
] as const

export type IpType = (typeof IP_TYPES)[number]

export interface RangeEntry {
  /** CIDR as written in the registry. */
  cidr: string
  type: IpType
  /** Registry name, for the docs and test output. */
  name: string
}

export const IPV4_RANGES: readonly RangeEntry[] = [
  { cidr: '0.0.0.0/8', type: 'reserved', name: '"This network" (RFC 791)' },
  { cidr: '0.0.0.0/32', type: 'unspecified', name: '"This host on this network" (RFC 1122)' },
  { cidr: '10.0.0.0/8', type: 'private', name: 'Private-Use (RFC 1918)' },
  { cidr: '100.64.0.0/10', type: 'cgnat', name: 'Shared Address Space (RFC 6598)' },
  { cidr: '127.0.0.0/8', type: 'loopback', name: 'Loopback (RFC 1122)' },
  { cidr: '169.254.0.0/16', type: 'link_local', name: 'Link Local (RFC 3927)' },
  { cidr: '172.16.0.0/12', type: 'private', name: 'Private-Use (RFC 1918)' },
  { cidr: '192.0.0.0/24', type: 'reserved', name: 'IETF Protocol Assignments (RFC 6890)' },
  { cidr: '192.0.0.0/29', type: 'reserved', name: 'IPv4 Service Continuity Prefix (RFC 7335)' },
  { cidr: '192.0.0.8/32', type: 'reserved', name: 'IPv4 dummy address (RFC 7600)' },
  { cidr: '192.0.0.9/32', type: 'other', name: 'Port Control Protocol Anycast (RFC 7723)' },
  { cidr: '192.0.0.10/32', type: 'other', name: 'Traversal Using Relays around NAT Anycast (RFC 8155)' },
  { cidr: '192.0.0.170/32', type: 'reserved', name: 'NAT64/DNS64 Discovery (RFC 7050)' },
  { cidr: '192.0.0.171/32', type: 'reserved', name: 'NAT64/DNS64 Discovery (RFC 7050)' },
  { cidr: '192.0.2.0/24', type: 'documentation', name: 'Documentation (TEST-NET-1, RFC 5737)' },
  { cidr: '192.31.196.0/24', type: 'other', name: 'AS112-v4 (RFC 7535)' },
  { cidr: '192.52.193.0/24', type: 'other', name: 'AMT (RFC 7450)' },
  { cidr: '192.88.99.0/24', type: 'reserved', name: 'Deprecated (6to4 Relay Anycast, RFC 7526)' },
  { cidr: '192.168.0.0/16', type: 'private', name: 'Private-Use (RFC 1918)' },
  { cidr: '192.175.48.0/24', type: 'other', name: 'Direct Delegation AS112 Service (RFC 7534)' },
  { cidr: '198.18.0.0/15', type: 'reserved', name: 'Benchmarking (RFC 2544)' },
  { cidr: '198.51.100.0/24', type: 'documentation', name: 'Documentation (TEST-NET-2, RFC 5737)' },
  { cidr: '203.0.113.0/24', type: 'documentation', name: 'Documentation (TEST-NET-3, RFC 5737)' },
  { cidr: '224.0.0.0/4', type: 'multicast', name: 'Multicast (RFC 5771)' },
  { cidr: '240.0.0.0/4', type: 'reserved', name: 'Reserved (RFC 1112)' },
  { cidr: '255.255.255.255/32', type: 'broadcast', name: 'Limited Broadcast (RFC 919)' },
]

/** `::ffff:0:0/96` is not here: an IPv4-mapped address is classified as the IPv4 address it carries. */
export const IPV6_RANGES: readonly RangeEntry[] = [
  { cidr: '::/8', type: 'reserved', name: 'Reserved by IETF (RFC 4291)' },
  { cidr: '::/128', type: 'unspecified', name: 'Unspecified Address (RFC 4291)' },
  { cidr: '::1/128', type: 'loopback', name: 'Loopback Address (RFC 4291)' },
  { cidr: '64:ff9b::/96', type: 'other', name: 'IPv4-IPv6 Translat. (RFC 6052)' },
  { cidr: '64:ff9b:1::/48', type: 'reserved', name: 'IPv4-IPv6 Translat., local use (RFC 8215)' },
  { cidr: '100::/64', type: 'reserved', name: 'Discard-Only Address Block (RFC 6666)' },
  { cidr: '100:0:0:1::/64', type: 'reserved', name: 'Dummy IPv6 Prefix (RFC 9780)' },
  { cidr: '2001::/23', type: 'reserved', name: 'IETF Protocol Assignments (RFC 2928)' },
  { cidr: '2001::/32', type: 'reserved', name: 'TEREDO (RFC 4380)' },
  { cidr: '2001:1::1/128', type: 'other', name: 'Port Control Protocol Anycast (RFC 7723)' },
  { cidr: '2001:1::2/128', type: 'other', name: 'Traversal Using Relays around NAT Anycast (RFC 8155)' },
  { cidr: '2001:1::3/128', type: 'other', name: 'DNS-SD Service Registration Protocol Anycast (RFC 9665)' },
  { cidr: '2001:2::/48', type: 'reserved', name: 'Benchmarking (RFC 5180)' },
  { cidr: '2001:3::/32', type: 'other', name: 'AMT (RFC 7450)' },
  { cidr: '2001:4:112::/48', type: 'other', name: 'AS112-v6 (RFC 7535)' },
  { cidr: '2001:10::/28', type: 'reserved', name: 'Deprecated (previously ORCHID, RFC 4843)' },
  { cidr: '2001:20::/28', type: 'other', name: 'ORCHIDv2 (RFC 7343)' },
  { cidr: '2001:30::/28', type: 'other', name: 'Drone Remote ID Protocol Entity Tags (RFC 9374)' },
  { cidr: '2001:db8::/32', type: 'documentation', name: 'Documentation (RFC 3849)' },
  { cidr: '2002::/16', type: 'other', name: '6to4 (RFC 3056)' },
  { cidr: '2620:4f:8000::/48', type: 'other', name: 'Direct Delegation AS112 Service (RFC 7534)' },
  { cidr: '3fff::/20', type: 'documentation', name: 'Documentation (RFC 9637)' },
  { cidr: '4000::/2', type: 'reserved', name: 'Unassigned space outside 2000::/3 (IANA IPv6 Address Space)' },
  { cidr: '5f00::/16', type: 'reserved', name: 'Segment Routing (SRv6) SIDs (RFC 9602)' },
  { cidr: '8000::/1', type: 'reserved', name: 'Unassigned space outside 2000::/3 (IANA IPv6 Address Space)' },
  { cidr: '100::/8', type: 'reserved', name: 'Reserved by IETF (RFC 4291)' },
  { cidr: '200::/7', type: 'reserved', name: 'Reserved by IETF (RFC 4048)' },
  { cidr: '400::/6', type: 'reserved', name: 'Reserved by IETF (RFC 4291)' },
  { cidr: '800::/5', type: 'reserved', name: 'Reserved by IETF (RFC 4291)' },
  { cidr: '1000::/4', type: 'reserved', name: 'Reserved by IETF (RFC 4291)' },
  { cidr: 'fc00::/7', type: 'private', name: 'Unique-Local (RFC 4193)' },
  { cidr: 'fe80::/10', type: 'link_local', name: 'Link-Local Unicast (RFC 4291)' },
  { cidr: 'fec0::/10', type: 'reserved', name: 'Deprecated site-local (RFC 3879)' },
  { cidr: 'ff00::/8', type: 'multicast', name: 'Multicast (RFC 4291)' },
]
