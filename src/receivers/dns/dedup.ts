// One datagram seen on several interfaces (a pod's veth and the bridge, or ingress on one veth and egress on
// another) must count once. A copy has the same addresses, ports and payload (so the same DNS id and
// direction) and arrives within a few microseconds; a real retransmission comes hundreds of milliseconds later.
// TCP needs none of this: reassembly by sequence number already discards copies.
//
// At 200k packets/s this runs for every UDP packet, so it builds no strings: entries are found by a numeric hash of
// ports and payload start, and confirmed by comparing addresses, ports and bytes (exact: a hash collision is never taken
// for a copy), and times are Numbers (see `isDuplicate`).

export interface DedupOptions {
  /** Copies closer than this in kernel time are one packet. */
  windowNs: bigint
  /** Entries remembered at most; the oldest go first. */
  maxEntries: number
}

/** What makes two datagrams the same flow, besides their payload. */
export interface DatagramFlow {
  sourceAddress: string
  sourcePort: number
  destinationAddress: string
  destinationPort: number
}

interface Entry {
  flow: DatagramFlow
  /** A view into the captured batch (each batch owns its memory), held for the window only. */
  payload: Buffer
  timeNs: number
  hash: number
  /** The next entry under the same hash. */
  next: Entry | undefined
  /** False once expired, evicted or replaced; its queue slot is then stale. */
  live: boolean
}

export class Deduplicator {
  private readonly windowNs: number
  private readonly maxEntries: number
  /** Hash → newest entry under it, the others chained through `next`. */
  private readonly byHash = new Map<number, Entry>()
  private live = 0
  /**
   * Expiry order: entries as inserted, consumed from `head`. Not the Map's own order: a Map used as a queue keeps
   * deleted slots until it rehashes, and every fresh iterator walks past them from the start, which cost ~5 µs per
   * packet at 100k packets/s (5000 entries in the window).
   */
  private queue: Entry[] = []
  private head = 0

  constructor(options: DedupOptions) {
    this.windowNs = Number(options.windowNs)
    this.maxEntries = options.maxEntries
  }

  get size(): number {
    return this.live
  }

  /**
   * True when this datagram is a copy of one seen within the window. Times are compared as Numbers of ns: exact
   * below 2^53 ns, and ~256 ns apart at today's epoch (2^60 ns), far finer than copies' microseconds and the
   * window's milliseconds; BigInt arithmetic allocated on every packet.
   */
  isDuplicate(flow: DatagramFlow, payload: Buffer, timestampNs: bigint): boolean {
    const nowNs = Number(timestampNs)
    this.expire(nowNs - this.windowNs)
    const hash = hashOf(flow, payload)
    const newest = this.byHash.get(hash)
    for (let entry = newest; entry !== undefined; entry = entry.next) {
      if (!sameDatagram(entry, flow, payload)) continue
      if (Math.abs(nowNs - entry.timeNs) <= this.windowNs) return true
      // Older than the window but not yet expired (stamped out of order): replaced by the entry below.
      this.remove(entry)
      break
    }
    const entry: Entry = { flow, payload, timeNs: nowNs, hash, next: this.byHash.get(hash), live: true }
    this.byHash.set(hash, entry)
    this.queue.push(entry)
    this.live++
    while (this.live > this.maxEntries) this.popOldest()
    return false
  }

  /** Forgets entries stamped before `cutoffNs`, stopping at the first one still in time (arrival ≈ time order). */
  private expire(cutoffNs: number): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Entry).timeNs < cutoffNs) this.popOldest()
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  private popOldest(): void {
    const entry = this.queue[this.head] as Entry
    this.queue[this.head] = STALE
    this.head++
    if (entry.live) this.remove(entry)
  }

  /** Unlinks a live entry from its hash chain. */
  private remove(entry: Entry): void {
    entry.live = false
    this.live--
    const newest = this.byHash.get(entry.hash)
    if (newest === entry) {
      if (entry.next === undefined) this.byHash.delete(entry.hash)
      else this.byHash.set(entry.hash, entry.next)
      return
    }
    for (let previous = newest; previous !== undefined; previous = previous.next) {
      if (previous.next === entry) {
        previous.next = entry.next
        return
      }
    }
  }
}

/** A consumed queue slot, so the queue holds no payload views past their entry's life. */
const STALE: Entry = {
  flow: { sourceAddress: '', sourcePort: 0, destinationAddress: '', destinationPort: 0 },
  payload: Buffer.alloc(0), timeNs: 0, hash: 0, next: undefined, live: false,
}

function sameDatagram(entry: Entry, flow: DatagramFlow, payload: Buffer): boolean {
  const seen = entry.flow
  return seen.sourcePort === flow.sourcePort && seen.destinationPort === flow.destinationPort &&
    seen.sourceAddress === flow.sourceAddress && seen.destinationAddress === flow.destinationAddress &&
    entry.payload.equals(payload)
}

/** Payload bytes hashed: a DNS message's id, flags, counts and the start of its question name. */
const HASHED_BYTES = 32

/**
 * FNV-1a over the ports, payload length and first bytes, as a small integer for the Map: copies are byte-identical,
 * so any decent spread suffices; addresses and the rest of the bytes are left to the comparison.
 */
function hashOf(flow: DatagramFlow, payload: Buffer): number {
  let h = Math.imul(0x811c9dc5 ^ flow.sourcePort, 0x01000193)
  h = Math.imul(h ^ flow.destinationPort, 0x01000193)
  h = Math.imul(h ^ payload.length, 0x01000193)
  const end = Math.min(payload.length, HASHED_BYTES)
  for (let i = 0; i < end; i++) h = Math.imul(h ^ (payload[i] as number), 0x01000193)
  return h & 0x3fffffff
}
