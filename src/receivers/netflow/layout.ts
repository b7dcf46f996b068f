// Decoding of the netflow BPF maps; offsets mirror bpf/netflow.h (checked against both objects' BTF in tests).
// Harvests read 100k entries at a time, so fields are read in place from the dump buffers and addresses are
// formatted once per distinct address.
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import type { Family } from '../../records.ts'

export const KEY_SIZE = 32
export const STATS_SIZE = 56
export const OWNER_SIZE = 32

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

/** Formats addresses once per distinct value; bounded, since harvests see a bounded set of hosts. */
export class AddressFormatter {
  private readonly ipv4 = new Map<number, string>()
  private readonly ipv6 = new Map<string, string>()
  private readonly limit: number
  /** The address being formatted, as words and as bytes. */
  private readonly scratch = Buffer.alloc(16)
  private readonly scratchWords = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, 4)

  constructor(limit = 65_536) {
    this.limit = limit
  }

  /** The text of an address held as its raw words at `words[at..]` (IPv4: the first word). */
  format(words: Uint32Array, at: number, family: Family): string {
    return family === 'ipv4' ? this.formatIpv4(words[at]!) : this.formatIpv6(words, at)
  }

  /** Cached by the word as a signed 32-bit number: a small integer in Node's V8 (no pointer compression), hashed without allocating. */
  private formatIpv4(word: number): string {
    let text = this.ipv4.get(word | 0)
    if (text === undefined) {
      this.scratchWords[0] = word
      text = ipv4ToString(this.scratch)
      if (this.ipv4.size >= this.limit) this.ipv4.clear()
      this.ipv4.set(word | 0, text)
    }
    return text
  }

  /** Cached by the address's bytes. */
  private formatIpv6(words: Uint32Array, at: number): string {
    for (let i = 0; i < 4; i++) this.scratchWords[i] = words[at + i]!
    const raw = this.scratch.toString('latin1')
    let text = this.ipv6.get(raw)
    if (text === undefined) {
      text = ipv6ToString(this.scratch)
      if (this.ipv6.size >= this.limit) this.ipv6.clear()
      this.ipv6.set(raw, text)
    }
    return text
  }
}

/** Offsets in struct netflow_owner (comm: TASK_COMM_LEN bytes, NUL-terminated when shorter). */
export const OwnerField = { PID: 0, NETNS: 4, UDP_BOUND: 8, COMM: 16 } as const
