// Map contents laid out as bpf/netflow.h says, for the tests of the netflow tracker and its parts.
import { KEY_SIZE, OWNER_SIZE, OwnerField, Stats, STATS_SIZE } from '../../../src/receivers/netflow/layout.ts'

/** A flow entry; the family follows the local address's length (4: AF_INET, 16: AF_INET6). */
export interface FakeFlow {
  cookie: bigint; protocol: number; local: number[]; localPort: number; remote: number[]; remotePort: number
  sent?: number; received?: number; retrans?: number; srtt?: number; rttvar?: number; direction?: number; state?: number
}

export interface FakeOwner {
  cookie: bigint; pid: number; comm: string | number[]; udpBound?: boolean; netns?: number
}

export function flows(list: FakeFlow[]) {
  const keys = Buffer.alloc(list.length * KEY_SIZE)
  const values = Buffer.alloc(list.length * STATS_SIZE)
  list.forEach((f, i) => {
    const k = keys.subarray(i * KEY_SIZE), v = values.subarray(i * STATS_SIZE)
    k.writeBigUInt64LE(f.cookie, 0)
    Buffer.from(f.remote).copy(k, 8)
    k.writeUInt16LE(f.remotePort, 24)
    v.writeBigUInt64LE(BigInt(f.sent ?? 0), Stats.BYTES_SENT)
    v.writeBigUInt64LE(BigInt(f.received ?? 0), Stats.BYTES_RECEIVED)
    v.writeUInt32LE(f.retrans ?? 0, Stats.TOTAL_RETRANS)
    v.writeUInt32LE(f.srtt ?? 0, Stats.SRTT_US)
    v.writeUInt32LE(f.rttvar ?? 0, Stats.RTTVAR_US)
    v.writeUInt16LE(f.localPort, Stats.LOCAL_PORT)
    v.writeUInt8(f.local.length === 4 ? 2 : 10, Stats.FAMILY)
    v.writeUInt8(f.protocol, Stats.PROTOCOL)
    Buffer.from(f.local).copy(v, Stats.LOCAL_ADDR)
    v.writeUInt8(f.direction ?? 0, Stats.DIRECTION)
    v.writeUInt8(f.state ?? 0, Stats.STATE)
  })
  return { keys, values, count: list.length }
}

/** `comm` as text, or as the 16 raw bytes. */
export function owners(list: FakeOwner[]) {
  const keys = Buffer.alloc(list.length * 8)
  const values = Buffer.alloc(list.length * OWNER_SIZE)
  list.forEach((o, i) => {
    const v = values.subarray(i * OWNER_SIZE)
    keys.writeBigUInt64LE(o.cookie, i * 8)
    v.writeUInt32LE(o.pid, OwnerField.PID)
    v.writeUInt32LE(o.netns ?? 4026531840, OwnerField.NETNS)
    v.writeUInt8(o.udpBound ? 1 : 0, OwnerField.UDP_BOUND)
    if (typeof o.comm === 'string') v.write(o.comm, OwnerField.COMM)
    else Buffer.from(o.comm).copy(v, OwnerField.COMM)
  })
  return { keys, values, count: list.length }
}
