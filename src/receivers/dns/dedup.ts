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
  /** Key → first timestamp. */
  private readonly seen = new Map<string, bigint>()
  /**
   * Expiry order: keys and timestamps as inserted, consumed from `head`. Not the Map's own order: a Map used as
   * a queue keeps deleted slots until it rehashes, and every fresh iterator walks past them from the start,
   * which cost ~5 µs per packet at 100k packets/s (5000 entries in the window).
   */
  private queueKeys: string[] = []
  private queueTimes: bigint[] = []
  private head = 0
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
      // Older than the window but not yet expired (stamped out of order): replaced; its queue slot goes stale.
    }
    this.seen.set(key, timestampNs)
    this.queueKeys.push(key)
    this.queueTimes.push(timestampNs)
    while (this.seen.size > maxEntries) this.popOldest()
    return false
  }

  /** Forgets entries stamped before `cutoffNs`, stopping at the first one still in time (arrival ≈ time order). */
  private expire(cutoffNs: bigint): void {
    while (this.head < this.queueKeys.length && (this.queueTimes[this.head] as bigint) < cutoffNs) this.popOldest()
    if (this.head > 4096 && this.head * 2 > this.queueKeys.length) {
      this.queueKeys = this.queueKeys.slice(this.head)
      this.queueTimes = this.queueTimes.slice(this.head)
      this.head = 0
    }
  }

  private popOldest(): void {
    const key = this.queueKeys[this.head] as string
    // A stale slot (the key was set again later) leaves the newer entry alone.
    if (this.seen.get(key) === this.queueTimes[this.head]) this.seen.delete(key)
    this.head++
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
