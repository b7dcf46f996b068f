// Decoding of the netflow BPF maps; offsets mirror bpf/netflow.h (checked against the object's BTF in tests).
import { ipv4ToString, ipv6ToString, isIpv4Mapped } from '../../net/address.ts'
import type { Family } from '../../records.ts'

export const KEY_SIZE = 32
export const STATS_SIZE = 64
export const OWNER_SIZE = 32

const AF_INET = 2
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17

export const FlowDirection = { UNKNOWN: 0, INCOMING: 1, OUTGOING: 2 } as const
export const FlowState = { ESTABLISHED: 1, CLOSED: 2 } as const

/** netflow_counters indices (enum netflow_counter) and the drop reason each one reports. */
export const KERNEL_COUNTERS = ['flow_map_full', 'owner_map_full', 'udp_unparsed'] as const

export interface FlowEntry {
  /** The raw key, to delete the entry later. */
  key: Buffer
  cookie: bigint
  family: Family
  protocol: number
  localAddress: string
  localPort: number
  remoteAddress: string
  remotePort: number
  bytesSent: number
  bytesReceived: number
  totalRetrans: number
  srttUs: number
  rttVarUs: number
  direction: number
  state: number
}

export interface Owner {
  pid: number
  netns: number
  udpBound: boolean
  comm: string
}

/** Addresses as the socket has them; IPv4-mapped IPv6 peers of dual-stack sockets are reported as IPv4. */
function addresses(family: number, local: Buffer, remote: Buffer): { family: Family; local: string; remote: string } {
  if (family === AF_INET) return { family: 'ipv4', local: ipv4ToString(local), remote: ipv4ToString(remote) }
  if (isIpv4Mapped(remote) && (isIpv4Mapped(local) || local.every((b) => b === 0))) {
    return { family: 'ipv4', local: ipv4ToString(local, 12), remote: ipv4ToString(remote, 12) }
  }
  return { family: 'ipv6', local: ipv6ToString(local), remote: ipv6ToString(remote) }
}

export function decodeFlow(keys: Buffer, values: Buffer, index: number): FlowEntry {
  const k = keys.subarray(index * KEY_SIZE, (index + 1) * KEY_SIZE)
  const v = values.subarray(index * STATS_SIZE, (index + 1) * STATS_SIZE)
  const family = v.readUInt8(38)
  const { family: reported, local, remote } = addresses(family, v.subarray(40, 56), k.subarray(8, 24))
  return {
    key: k,
    cookie: k.readBigUInt64LE(0),
    family: reported,
    protocol: v.readUInt8(39),
    localAddress: local,
    localPort: v.readUInt16LE(36),
    remoteAddress: remote,
    remotePort: k.readUInt16LE(24),
    bytesSent: Number(v.readBigUInt64LE(0)),
    bytesReceived: Number(v.readBigUInt64LE(8)),
    totalRetrans: v.readUInt32LE(24),
    srttUs: v.readUInt32LE(28),
    rttVarUs: v.readUInt32LE(32),
    direction: v.readUInt8(56),
    state: v.readUInt8(57),
  }
}

export function decodeOwner(value: Buffer, offset = 0): Owner {
  const comm = value.subarray(offset + 16, offset + 32)
  const end = comm.indexOf(0)
  return {
    pid: value.readUInt32LE(offset),
    netns: value.readUInt32LE(offset + 4),
    udpBound: value.readUInt8(offset + 8) !== 0,
    comm: comm.toString('utf8', 0, end < 0 ? comm.length : end),
  }
}
