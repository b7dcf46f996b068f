// Decoding of the netflow BPF maps; offsets mirror bpf/netflow.h (checked against both objects' BTF in tests).
// Harvests read 100k entries at a time, so fields are read in place from the dump buffers and addresses are
// formatted once per distinct address.
import { ipv4ToString, ipv6ToString, isIpv4Mapped } from '../../net/address.ts'
import type { Family } from '../../records.ts'

export const KEY_SIZE = 32
export const STATS_SIZE = 56
export const OWNER_SIZE = 32

const AF_INET = 2
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17

export const FlowDirection = { UNKNOWN: 0, INCOMING: 1, OUTGOING: 2 } as const
export const FlowState = { ESTABLISHED: 1, CLOSED: 2 } as const

/** netflow_counters indices (enum netflow_counter) that count drops, by the drop reason they report. */
export const KERNEL_DROPS = new Map([
  [0, 'flow_map_full'], [1, 'owner_map_full'], [2, 'udp_unparsed'], [4, 'flow_insert_failed'], [5, 'socket_id_failed'],
])
/** netflow_counters index of NETFLOW_FLOWS_CREATED (entries inserted: not a drop). */
export const FLOWS_CREATED = 3

/** Offsets in struct netflow_stats. */
export const Stats = {
  BYTES_SENT: 0, BYTES_RECEIVED: 8, TOTAL_RETRANS: 16, SRTT_US: 20, RTTVAR_US: 24, LOCAL_PORT: 28, FAMILY: 30,
  PROTOCOL: 31, LOCAL_ADDR: 32, DIRECTION: 48, STATE: 49,
} as const

/** A u64 counter as a Number (exact below 2^53: years of traffic on one flow). */
export function readCounter(buffer: Buffer, offset: number): number {
  return buffer.readUInt32LE(offset) + buffer.readUInt32LE(offset + 4) * 0x1_0000_0000
}

/** The endpoints of an entry, in the family its traffic really uses. */
export interface Endpoints {
  family: Family
  localAddress: string
  remoteAddress: string
}

/** Formats addresses once per distinct 16-byte value; bounded, since harvests see a bounded set of hosts. */
export class AddressFormatter {
  private readonly cache = new Map<number | string, string>()
  private readonly limit: number

  constructor(limit = 65_536) {
    this.limit = limit
  }

  /** IPv4-mapped IPv6 peers of dual-stack sockets are reported as IPv4. */
  endpoints(keys: Buffer, keyOffset: number, values: Buffer, valueOffset: number): Endpoints {
    const remote = keyOffset + 8
    const local = valueOffset + Stats.LOCAL_ADDR
    if (values[valueOffset + Stats.FAMILY] === AF_INET) {
      return { family: 'ipv4', localAddress: this.format(values, local, 4), remoteAddress: this.format(keys, remote, 4) }
    }
    const localIsV4 = isIpv4Mapped(values, local) || values.subarray(local, local + 16).every((b) => b === 0)
    if (isIpv4Mapped(keys, remote) && localIsV4) {
      return { family: 'ipv4', localAddress: this.format(values, local + 12, 4), remoteAddress: this.format(keys, remote + 12, 4) }
    }
    return { family: 'ipv6', localAddress: this.format(values, local, 16), remoteAddress: this.format(keys, remote, 16) }
  }

  /** IPv4 addresses are cached by their value, IPv6 ones by their bytes. */
  private format(buffer: Buffer, offset: number, length: 4 | 16): string {
    const raw = length === 4 ? buffer.readUInt32BE(offset) : buffer.toString('latin1', offset, offset + length)
    let text = this.cache.get(raw)
    if (text === undefined) {
      text = length === 4 ? ipv4ToString(buffer, offset) : ipv6ToString(buffer, offset)
      if (this.cache.size >= this.limit) this.cache.clear()
      this.cache.set(raw, text)
    }
    return text
  }
}

export interface Owner {
  pid: number
  netns: number
  udpBound: boolean
  comm: string
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
