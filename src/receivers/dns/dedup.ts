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
  /** Entries remembered at most; the older of two generations goes first when the newer one is full. */
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
  /** A view into the captured batch (each batch owns its memory), held for two windows at most. */
  payload: Buffer
  timeNs: number
  /** The next entry under the same hash, in the same generation. */
  next: Entry | undefined
}

/**
 * Datagrams are remembered in two generations, each one window long: a copy is looked for in both, and the older one
 * is dropped whole when the next begins. A datagram stays findable for at least a window after it was seen. Expiring
 * entry by entry kept a Map churning (one insert and one delete per packet: ~0.4 µs per packet at 100k packets/s);
 * a generation is only ever added to.
 */
export class Deduplicator {
  private readonly windowNs: number
  /** Entries per generation: two generations hold at most maxEntries. */
  private readonly generationCap: number
  /** Hash → newest entry under it, the others chained through `next`. */
  private current = new Map<number, Entry>()
  private previous = new Map<number, Entry>()
  /** Entries in each generation (a Map's size counts hashes, not the entries chained under them). */
  private currentEntries = 0
  private previousEntries = 0
  private generationStartNs = -Infinity
  /**
   * Datagrams forgotten before a window had passed over them, because the newer generation filled up first (more
   * than maxEntries / 2 datagrams in one window): a copy of one of them would count twice. Read and reset by the owner.
   */
  forgottenEarly = 0

  constructor(options: DedupOptions) {
    this.windowNs = Number(options.windowNs)
    this.generationCap = Math.max(1, Math.floor(options.maxEntries / 2))
  }

  /** Datagrams remembered, some of them possibly older than the window. */
  get size(): number {
    return this.currentEntries + this.previousEntries
  }

  /**
   * True when this datagram is a copy of one seen within the window. Times are compared as Numbers of ns: exact
   * below 2^53 ns, and ~256 ns apart at today's epoch (2^60 ns), far finer than copies' microseconds and the
   * window's milliseconds; BigInt arithmetic allocated on every packet.
   */
  isDuplicate(flow: DatagramFlow, payload: Buffer, timestampNs: bigint): boolean {
    const nowNs = Number(timestampNs)
    this.rotate(nowNs)
    const hash = hashOf(flow, payload)
    const newest = this.current.get(hash)
    if (this.seenWithin(newest, flow, payload, nowNs) || this.seenWithin(this.previous.get(hash), flow, payload, nowNs)) {
      return true
    }
    this.current.set(hash, { flow, payload, timeNs: nowNs, next: newest })
    this.currentEntries++
    return false
  }

  /** Starts a generation when the current one is a window old or full; after a quiet gap of two windows, forgets both. */
  private rotate(nowNs: number): void {
    const age = nowNs - this.generationStartNs
    if (age < this.windowNs && this.currentEntries < this.generationCap) return
    // Full before a window passed: the older generation goes while some of it may be in the window still.
    if (age < this.windowNs) this.forgottenEarly += this.previousEntries
    const keep = age < 2 * this.windowNs
    this.previous = keep ? this.current : new Map()
    this.previousEntries = keep ? this.currentEntries : 0
    this.current = new Map()
    this.currentEntries = 0
    this.generationStartNs = nowNs
  }

  /** Whether the chain from `entry` holds this datagram stamped within the window (either side: CPUs stamp out of order). */
  private seenWithin(entry: Entry | undefined, flow: DatagramFlow, payload: Buffer, nowNs: number): boolean {
    for (; entry !== undefined; entry = entry.next) {
      if (Math.abs(nowNs - entry.timeNs) <= this.windowNs && sameDatagram(entry, flow, payload)) return true
    }
    return false
  }
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
 * FNV-1a over the ports, the last characters of the addresses, the payload length and first bytes, as a small integer
 * for the Map: copies are byte-identical, so any decent spread suffices, and the rest is left to the comparison. The
 * address characters keep one payload sent by many hosts (a spoofed flood) off a single chain.
 */
function hashOf(flow: DatagramFlow, payload: Buffer): number {
  let h = Math.imul(0x811c9dc5 ^ flow.sourcePort, 0x01000193)
  h = Math.imul(h ^ flow.destinationPort, 0x01000193)
  h = Math.imul(h ^ addressTail(flow.sourceAddress), 0x01000193)
  h = Math.imul(h ^ addressTail(flow.destinationAddress), 0x01000193)
  h = Math.imul(h ^ payload.length, 0x01000193)
  const end = Math.min(payload.length, HASHED_BYTES)
  for (let i = 0; i < end; i++) h = Math.imul(h ^ (payload[i] as number), 0x01000193)
  return h & 0x3fffffff
}

/** The last three characters of an address (where hosts of one subnet differ), packed in an integer. */
function addressTail(address: string): number {
  const n = address.length
  return (address.charCodeAt(n - 1) | (address.charCodeAt(n - 2) << 8) | (address.charCodeAt(n - 3) << 16)) | 0
}
