// Names learned from DNS answers, by address. Bounded: at most `maxEntries` addresses (when full, the least
// recently used 1/64 are evicted; a Map iterates in insertion order, so re-inserting on use keeps the oldest first)
// and at most `maxNamesPerAddress` names each (most recent first). Every name expires on its own TTL, clamped to
// [minTtl, maxTtl]; expired names are dropped when looked up and by sweep().

interface NameEntry {
  name: string
  /** Clock time (ms) at which the mapping expires. */
  expiresAt: number
  /** The client whose query taught it: a flow from that client prefers this name. */
  client: string
}

/** What happened since the processor last reported to self-telemetry (plain numbers: lookups are the hot path). */
export interface StoreStats {
  hits: number
  misses: number
  expired: number
  evictedCapacity: number
  evictedNames: number
  /** Other live names an address had when a lookup reported one. */
  ambiguous: number
}

export interface StoreOptions {
  minTtlMs: number
  maxTtlMs: number
  maxEntries: number
  maxNamesPerAddress: number
  /** Milliseconds; injected so tests control time. */
  now: () => number
}

/**
 * A full store evicts this fraction of its entries at once. Evicting one entry per insert would start a new Map
 * iterator each time, and V8 makes each one step over every deleted slot left at the front of the table since
 * the last rehash: measured ~10 µs per insert at 10k entries, against ~0.5 µs when a batch shares the walk.
 */
const EVICT_FRACTION = 64

export class DomainStore {
  private readonly entries = new Map<string, NameEntry[]>()
  private readonly options: StoreOptions
  readonly stats: StoreStats = { hits: 0, misses: 0, expired: 0, evictedCapacity: 0, evictedNames: 0, ambiguous: 0 }

  constructor(options: StoreOptions) {
    this.options = options
  }

  get size(): number {
    return this.entries.size
  }

  learn(address: string, name: string, ttlSeconds: number, client: string): void {
    const { minTtlMs, maxTtlMs, maxNamesPerAddress, maxEntries } = this.options
    const ttlMs = Math.min(maxTtlMs, Math.max(minTtlMs, ttlSeconds * 1000))
    if (!(ttlMs > 0)) return // TTL 0 with no floor: the answer must not be cached, so nothing to learn
    const expiresAt = this.options.now() + ttlMs
    const names = this.entries.get(address)
    if (names) {
      this.entries.delete(address) // re-inserted below: most recently used
      const index = names.findIndex((entry) => entry.name === name)
      if (index >= 0) names.splice(index, 1)
      names.unshift({ name, expiresAt, client })
      if (names.length > maxNamesPerAddress) {
        this.stats.evictedNames += names.length - maxNamesPerAddress
        names.length = maxNamesPerAddress
      }
      this.entries.set(address, names)
      return
    }
    this.entries.set(address, [{ name, expiresAt, client }])
    if (this.entries.size > maxEntries) this.evict(this.entries.size - maxEntries + Math.floor(maxEntries / EVICT_FRACTION))
  }

  /** Evicts the `count` least recently used addresses with one pass of one iterator. */
  private evict(count: number): void {
    let left = count
    for (const [address, names] of this.entries) {
      if (left-- === 0) break
      this.stats.evictedCapacity += names.length
      this.entries.delete(address)
    }
  }

  /**
   * The name for `address`: among its live names the most recent one `client` asked for, else the most recent.
   * Counts a hit or a miss in `stats`, and the other live names as ambiguous.
   */
  lookup(address: string, client?: string): string | undefined {
    const names = this.entries.get(address)
    if (!names) {
      this.stats.misses++
      return undefined
    }
    const live = this.dropExpired(address, names)
    if (live === 0) {
      this.stats.misses++
      return undefined
    }
    this.entries.delete(address)
    this.entries.set(address, names)
    this.stats.hits++
    if (live > 1) this.stats.ambiguous += live - 1
    const own = client === undefined ? undefined : names.find((entry) => entry.client === client)
    return (own ?? names[0]!).name
  }

  /** Drops every expired mapping; returns how many went. Runs periodically, so idle addresses do not linger. */
  sweep(): number {
    let expired = 0
    for (const [address, names] of this.entries) {
      const before = names.length
      expired += before - this.dropExpired(address, names)
    }
    return expired
  }

  /** Removes expired names in place (and the address when none is left); returns how many are live. */
  private dropExpired(address: string, names: NameEntry[]): number {
    const now = this.options.now()
    let live = 0
    for (const entry of names) if (entry.expiresAt > now) names[live++] = entry
    const expired = names.length - live
    if (expired > 0) {
      names.length = live
      this.stats.expired += expired
      if (live === 0) this.entries.delete(address)
    }
    return live
  }
}

/** Lower case without the trailing dot; '' for the root or an empty name, which name nothing. */
export function normalizeName(name: string): string {
  const text = name.endsWith('.') ? name.slice(0, -1) : name
  return text.toLowerCase()
}
