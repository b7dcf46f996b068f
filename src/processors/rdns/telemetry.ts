// The rdns processor's self-telemetry: the size of its store and what happens to lookups and entries.
import type { SelfCounter, SelfTelemetry } from '../../telemetry/self.ts'
import type { StoreStats } from './store.ts'

export class RdnsTelemetry {
  private readonly component: { component: string }
  readonly hits: SelfCounter
  readonly misses: SelfCounter
  readonly expirations: SelfCounter
  readonly evictions: SelfCounter
  readonly ambiguous: SelfCounter

  constructor(telemetry: SelfTelemetry, component: string, entries: () => number) {
    this.component = { component }
    telemetry.gauge(
      { name: 'netlens.rdns.entries', description: 'Addresses the rdns processor currently has a name for.', unit: '{address}' },
      () => [{ attributes: { component }, value: entries() }],
    )
    this.hits = telemetry.counter({
      name: 'netlens.rdns.hits',
      description: 'Address lookups that found a name learned from DNS answers.',
      unit: '{lookup}',
    })
    this.misses = telemetry.counter({
      name: 'netlens.rdns.misses',
      description: 'Address lookups that found no (unexpired) name.',
      unit: '{lookup}',
    })
    this.expirations = telemetry.counter({
      name: 'netlens.rdns.expirations',
      description: 'Address-to-name mappings removed because their TTL (after min_ttl/max_ttl) ran out.',
      unit: '{mapping}',
    })
    this.evictions = telemetry.counter({
      name: 'netlens.rdns.evictions',
      description: 'Mappings removed before expiry: reason capacity (max_entries) or names_per_address.',
      unit: '{mapping}',
    })
    this.ambiguous = telemetry.counter({
      name: 'netlens.rdns.ambiguous',
      description: 'Other live names an address had when a lookup reported one of them (shared hosting, CDNs).',
      unit: '{name}',
    })
  }

  /** Adds what the store counted since the last call, and zeroes it. */
  report(stats: StoreStats): void {
    this.hits.add(stats.hits, this.component)
    this.misses.add(stats.misses, this.component)
    this.expirations.add(stats.expired, this.component)
    this.evictions.add(stats.evictedCapacity, { ...this.component, reason: 'capacity' })
    this.evictions.add(stats.evictedNames, { ...this.component, reason: 'names_per_address' })
    this.ambiguous.add(stats.ambiguous, this.component)
    stats.hits = stats.misses = stats.expired = stats.evictedCapacity = stats.evictedNames = stats.ambiguous = 0
  }
}
