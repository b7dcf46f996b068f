// PTR lookup results by address: the name, or `null` when the lookup gave none (NXDOMAIN, no PTR record, timeout,
// error), each until its own expiry. Apart from the names learned on the wire (store.ts), which always win.
// Bounded like that store: at most `maxEntries` addresses, the least recently used 1/64 evicted when full.

interface PtrEntry {
  /** null: asked, no name; not asked again before expiresAt. */
  name: string | null
  /** Clock time (ms) at which the result expires. */
  expiresAt: number
}

/** Evicting a batch at once keeps one Map iterator per eviction (see EVICT_FRACTION in store.ts). */
const EVICT_FRACTION = 64

export class PtrCache {
  private readonly entries = new Map<string, PtrEntry>()
  private readonly maxEntries: number
  private readonly now: () => number
  /** Entries evicted for capacity since the processor last reported (plain number: lookups are the hot path). */
  evicted = 0

  constructor(maxEntries: number, now: () => number) {
    this.maxEntries = maxEntries
    this.now = now
  }

  get size(): number {
    return this.entries.size
  }

  /** The live result for `address`: a name, null for "asked, none", undefined when never asked or expired. */
  get(address: string): string | null | undefined {
    const entry = this.entries.get(address)
    if (entry === undefined) return undefined
    this.entries.delete(address)
    if (entry.expiresAt <= this.now()) return undefined
    this.entries.set(address, entry) // most recently used
    return entry.name
  }

  set(address: string, name: string | null, ttlMs: number): void {
    this.entries.delete(address)
    this.entries.set(address, { name, expiresAt: this.now() + ttlMs })
    const over = this.entries.size - this.maxEntries
    if (over > 0) this.evict(over + Math.floor(this.maxEntries / EVICT_FRACTION))
  }

  /** Drops every expired result; returns how many went. */
  sweep(): number {
    const now = this.now()
    let expired = 0
    for (const [address, entry] of this.entries) {
      if (entry.expiresAt > now) continue
      this.entries.delete(address)
      expired++
    }
    return expired
  }

  private evict(count: number): void {
    let left = count
    for (const address of this.entries.keys()) {
      if (left-- === 0) break
      this.entries.delete(address)
      this.evicted++
    }
  }
}
