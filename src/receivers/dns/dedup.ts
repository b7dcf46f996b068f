// One datagram seen on several interfaces (a pod's veth and the bridge, or ingress on one veth and egress on
// another) must count once. A copy has the same addresses, ports and payload (so the same DNS id and
// direction) and arrives within a few microseconds; a real retransmission comes hundreds of milliseconds later.
// TCP needs none of this: reassembly by sequence number already discards copies.

export interface DedupOptions {
  /** Copies closer than this in kernel time are one packet. */
  windowNs: bigint
  /** Entries remembered at most; the oldest go first. */
  maxEntries: number
}

export class Deduplicator {
  /** Key → first timestamp; insertion order is (nearly) time order, so expiry pops from the front. */
  private readonly seen = new Map<string, bigint>()
  private readonly options: DedupOptions

  constructor(options: DedupOptions) {
    this.options = options
  }

  get size(): number {
    return this.seen.size
  }

  /** True when this datagram is a copy of one seen within the window. */
  isDuplicate(flowKey: string, payload: Buffer, timestampNs: bigint): boolean {
    const { windowNs, maxEntries } = this.options
    this.expire(timestampNs - windowNs)
    const key = `${flowKey}|${hash(payload)}`
    const first = this.seen.get(key)
    if (first !== undefined) {
      const gap = timestampNs > first ? timestampNs - first : first - timestampNs
      if (gap <= windowNs) return true
      this.seen.delete(key)
    }
    this.seen.set(key, timestampNs)
    if (this.seen.size > maxEntries) this.seen.delete(this.seen.keys().next().value as string)
    return false
  }

  private expire(cutoffNs: bigint): void {
    for (const [key, timestampNs] of this.seen) {
      if (timestampNs >= cutoffNs) return
      this.seen.delete(key)
    }
  }
}

/** FNV-1a over the payload: copies are byte-identical, so any decent spread suffices. */
function hash(payload: Buffer): number {
  let h = 0x811c9dc5
  for (let i = 0; i < payload.length; i++) {
    h ^= payload[i] as number
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
