// IP reassembly of captured fragments (IPv4 RFC 791, IPv6 RFC 8200), so that a UDP datagram larger than the path
// MTU (a large EDNS answer) can be decoded: the port filter keeps the later fragments of a datagram whose first
// fragment matched (bpf/port_filter.bpf.c), and this puts the pieces back together, in whatever order they come.
// Pieces that overlap must agree byte for byte: overlapping fragments with different data are an evasion trick,
// and the datagram is given up rather than guessed (as Linux does, RFC 5722). Bounded: datagrams pending, buffer
// bytes in all (the oldest pending datagram evicted), pieces per datagram, and a timeout counted from the first
// piece in capture time. Every fragment that does not end up in a datagram is reported through `onDrop`.
import type { IpDatagram, IpFragment } from './packet.ts'

export interface ReassemblyOptions {
  /** A datagram still incomplete this long after its first piece (capture time) is given up. */
  timeoutNs: bigint
  /** Datagrams pending at once; beyond it the oldest is given up. */
  maxDatagrams: number
  /** Buffer bytes held in all; at least 65535 (one datagram of the largest size). */
  maxBytes: number
  /** Pieces per datagram (a 65535-byte datagram over a 1280-byte MTU takes 52). */
  maxFragments: number
}

export const DEFAULT_REASSEMBLY_OPTIONS: ReassemblyOptions = {
  timeoutNs: 5_000_000_000n,
  maxDatagrams: 1024,
  maxBytes: 8 << 20,
  maxFragments: 256,
}

export type ReassemblyDropReason =
  | 'ip_reassembly_timeout'
  | 'ip_reassembly_full'
  | 'ip_reassembly_invalid'
  | 'duplicate'
  | 'shutdown_pending'

/** The largest IPv4 total length or IPv6 payload length. */
const MAX_DATAGRAM = 65535
/** The first buffer of a datagram whose size is not known yet: room for two Ethernet-sized pieces and more. */
const INITIAL_CAPACITY = 4096

interface Pending {
  family: IpFragment['family']
  sourceAddress: string
  destinationAddress: string
  protocol: number
  /** The fragmentable part as far as received; only `covered` ranges hold data. */
  buffer: Buffer
  /** Received byte ranges, sorted and merged: start, end, start, end, ... */
  covered: number[]
  /** The datagram's length once its last piece came, -1 before. */
  total: number
  /** Frames held (what is lost if it is given up). */
  fragments: number
  firstNs: bigint
  /** Given up as invalid: its remaining pieces are counted as such until it times out. */
  invalid: boolean
}

type Placement = 'placed' | 'duplicate' | 'invalid'

export class IpReassembly {
  /** In order of first piece, so the oldest come first for timeouts and eviction. */
  private readonly pending = new Map<string, Pending>()
  private readonly options: ReassemblyOptions
  private readonly onDrop: (reason: ReassemblyDropReason, count: number) => void
  private heldBytes = 0

  constructor(options: ReassemblyOptions, onDrop: (reason: ReassemblyDropReason, count: number) => void) {
    if (options.maxBytes < MAX_DATAGRAM) throw new RangeError(`reassembly: maxBytes must be at least ${MAX_DATAGRAM}`)
    if (options.maxDatagrams < 1 || options.maxFragments < 2) throw new RangeError('reassembly: limits too small')
    this.options = options
    this.onDrop = onDrop
  }

  /** Datagrams pending. */
  get size(): number {
    return this.pending.size
  }

  /** Buffer bytes held. */
  get bytes(): number {
    return this.heldBytes
  }

  /**
   * Adds a piece captured on `ifindex` at `timestampNs`; returns the whole datagram when this piece completed it.
   * A datagram seen on two interfaces is reassembled once per interface, like any copy, and its copies left to
   * the caller's duplicate detection: pieces of copies would meet an entry already completed and removed.
   */
  push(fragment: IpFragment, ifindex: number, timestampNs: bigint): IpDatagram | undefined {
    this.expire(timestampNs)
    // Addresses in text tell the family apart; the identification is unique per addresses and protocol.
    const key = `${ifindex}|${fragment.sourceAddress}|${fragment.destinationAddress}|${fragment.protocol}|${fragment.fragmentId}`
    const entry = this.pending.get(key) ?? this.open(key, fragment, timestampNs)
    if (entry.invalid) {
      this.onDrop('ip_reassembly_invalid', 1)
      return undefined
    }
    const placement = this.place(entry, fragment)
    if (placement === 'duplicate') {
      this.onDrop('duplicate', 1)
      return undefined
    }
    if (placement === 'invalid') {
      this.onDrop('ip_reassembly_invalid', entry.fragments + 1)
      this.release(entry)
      entry.invalid = true
      return undefined
    }
    entry.fragments++
    const { covered, total } = entry
    if (total < 0 || covered.length !== 2 || covered[0] !== 0 || covered[1] !== total) return undefined
    const data = entry.buffer.subarray(0, total)
    this.pending.delete(key)
    this.release(entry)
    return {
      family: entry.family, sourceAddress: entry.sourceAddress, destinationAddress: entry.destinationAddress,
      protocol: entry.protocol, data,
    }
  }

  /** Gives up datagrams whose first piece was captured the timeout or longer before `nowNs` (capture time). */
  expire(nowNs: bigint): void {
    if (this.pending.size === 0) return
    const cutoffNs = nowNs - this.options.timeoutNs
    for (const [key, entry] of this.pending) {
      // Stop at the first in time: entries are in arrival order, which follows capture time closely enough.
      if (entry.firstNs > cutoffNs) return
      this.remove(key, entry, 'ip_reassembly_timeout')
    }
  }

  /** Forgets every pending datagram (shutdown); their pieces are counted as dropped. */
  clear(): void {
    for (const [key, entry] of this.pending) this.remove(key, entry, 'shutdown_pending')
  }

  private open(key: string, fragment: IpFragment, timestampNs: bigint): Pending {
    if (this.pending.size >= this.options.maxDatagrams) this.evictOldest()
    const entry: Pending = {
      family: fragment.family, sourceAddress: fragment.sourceAddress, destinationAddress: fragment.destinationAddress,
      protocol: fragment.protocol, buffer: EMPTY, covered: [], total: -1, fragments: 0, firstNs: timestampNs,
      invalid: false,
    }
    this.pending.set(key, entry)
    return entry
  }

  /** Checks a piece against what the datagram already has and copies it in. */
  private place(entry: Pending, fragment: IpFragment): Placement {
    const { data, fragmentOffset: start, moreFragments } = fragment
    const end = start + data.length
    // Empty pieces, or pieces not in 8-byte units before the last, are not what any sender makes.
    if (data.length === 0 || (moreFragments && data.length % 8 !== 0)) return 'invalid'
    if (end + fragment.headerLength > MAX_DATAGRAM) return 'invalid'
    const { covered, total } = entry
    // Once the last piece told the length, nothing may go past it and another last piece must agree with it.
    if (total >= 0 && (moreFragments ? end > total : end !== total)) return 'invalid'
    // A last piece ending before data already received.
    if (total < 0 && !moreFragments && covered.length > 0 && end < (covered[covered.length - 1] as number)) return 'invalid'
    let fresh = data.length
    for (let i = 0; i < covered.length; i += 2) {
      const from = Math.max(covered[i] as number, start)
      const to = Math.min(covered[i + 1] as number, end)
      if (from >= to) continue
      if (entry.buffer.compare(data, from - start, to - start, from, to) !== 0) return 'invalid'
      fresh -= to - from
    }
    if (fresh === 0) return 'duplicate'
    if (entry.fragments + 1 > this.options.maxFragments) return 'invalid'
    if (!moreFragments) entry.total = end
    this.reserve(entry, end)
    data.copy(entry.buffer, start)
    cover(covered, start, end)
    return 'placed'
  }

  /** Grows the datagram's buffer to hold `end` bytes, evicting older datagrams while the budget is exceeded. */
  private reserve(entry: Pending, end: number): void {
    const current = entry.buffer.length
    if (end <= current) return
    const capacity = entry.total >= 0 ? entry.total : Math.min(MAX_DATAGRAM, Math.max(end, 2 * current, INITIAL_CAPACITY))
    while (this.heldBytes + capacity - current > this.options.maxBytes) {
      if (!this.evictOldest(entry)) break // cannot happen: maxBytes holds the largest datagram
    }
    const buffer = Buffer.alloc(capacity)
    entry.buffer.copy(buffer)
    entry.buffer = buffer
    this.heldBytes += capacity - current
  }

  /** Gives up the oldest datagram other than `keep`; false when there is none. */
  private evictOldest(keep?: Pending): boolean {
    for (const [key, entry] of this.pending) {
      if (entry === keep) continue
      this.remove(key, entry, 'ip_reassembly_full')
      return true
    }
    return false
  }

  private remove(key: string, entry: Pending, reason: ReassemblyDropReason): void {
    this.pending.delete(key)
    // An invalid entry's pieces were counted when it was given up.
    if (!entry.invalid) this.onDrop(reason, entry.fragments)
    this.release(entry)
  }

  private release(entry: Pending): void {
    this.heldBytes -= entry.buffer.length
    entry.buffer = EMPTY
    entry.covered.length = 0
  }
}

const EMPTY = Buffer.alloc(0)

/** Adds [start, end) to sorted, merged ranges, merging it with those it overlaps or touches. */
function cover(ranges: number[], start: number, end: number): void {
  let i = 0
  while (i < ranges.length && (ranges[i + 1] as number) < start) i += 2
  let j = i
  while (j < ranges.length && (ranges[j] as number) <= end) {
    start = Math.min(start, ranges[j] as number)
    end = Math.max(end, ranges[j + 1] as number)
    j += 2
  }
  ranges.splice(i, j - i, start, end)
}
