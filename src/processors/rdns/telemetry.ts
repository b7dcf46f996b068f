// The rdns processor's self-telemetry: the size of its store and what happens to lookups and entries, and with
// `ptr_lookups` on, what happens to the addresses it asks DNS servers about.
import type { SelfCounter, SelfTelemetry } from '../../telemetry/self.ts'
import type { PtrEvents, PtrLookups, PtrOutcome, PtrStats } from './ptr.ts'
import type { StoreStats } from './store.ts'

export class RdnsTelemetry implements PtrEvents {
  private readonly component: { component: string }
  readonly hits: SelfCounter
  readonly misses: SelfCounter
  readonly expirations: SelfCounter
  readonly evictions: SelfCounter
  readonly ambiguous: SelfCounter
  readonly ptrLookups: SelfCounter
  readonly ptrHits: SelfCounter
  readonly ptrSkipped: SelfCounter
  readonly ptrRateLimited: SelfCounter
  readonly ptrDropped: SelfCounter

  constructor(telemetry: SelfTelemetry, component: string, entries: () => number, ptr: () => PtrLookups | undefined) {
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
      description: 'Address lookups that found no (unexpired) name learned from DNS answers (a PTR name may follow).',
      unit: '{lookup}',
    })
    this.expirations = telemetry.counter({
      name: 'netlens.rdns.expirations',
      description: 'Address-to-name mappings removed because their TTL (after min_ttl/max_ttl) ran out.',
      unit: '{mapping}',
    })
    this.evictions = telemetry.counter({
      name: 'netlens.rdns.evictions',
      description:
        'Mappings removed before expiry: reason capacity (max_entries), names_per_address, or ptr_capacity ' +
        '(PTR results beyond max_entries).',
      unit: '{mapping}',
    })
    this.ambiguous = telemetry.counter({
      name: 'netlens.rdns.ambiguous',
      description: 'Other live names an address had when a lookup reported one of them (shared hosting, CDNs).',
      unit: '{name}',
    })
    const ptrGauge = (value: (lookups: PtrLookups) => number) => () => {
      const lookups = ptr()
      return lookups ? [{ attributes: { component }, value: value(lookups) }] : []
    }
    telemetry.gauge(
      { name: 'netlens.rdns.ptr.entries', description: 'Addresses with a cached PTR result, named or not.', unit: '{address}' },
      ptrGauge((lookups) => lookups.cache.size),
    )
    telemetry.gauge(
      { name: 'netlens.rdns.ptr.pending', description: 'Addresses queued for or in a PTR lookup.', unit: '{address}' },
      ptrGauge((lookups) => lookups.pending),
    )
    this.ptrLookups = telemetry.counter({
      name: 'netlens.rdns.ptr.lookups',
      description:
        'PTR lookups sent, by outcome: resolved, no_name (NXDOMAIN or no PTR record), timeout (ptr_lookups::timeout) ' +
        'or error (refused, SERVFAIL, unreachable server).',
      unit: '{lookup}',
    })
    this.ptrHits = telemetry.counter({
      name: 'netlens.rdns.ptr.hits',
      description: 'Address lookups without a name from DNS answers that got one from a cached PTR lookup.',
      unit: '{lookup}',
    })
    this.ptrSkipped = telemetry.counter({
      name: 'netlens.rdns.ptr.skipped',
      description: 'Address lookups not turned into a PTR lookup: reason ip_type (ptr_lookups::skip_ip_types).',
      unit: '{lookup}',
    })
    this.ptrRateLimited = telemetry.counter({
      name: 'netlens.rdns.ptr.rate_limited',
      description: 'Addresses that waited in the queue for ptr_lookups::rate before their PTR lookup was sent.',
      unit: '{address}',
    })
    this.ptrDropped = telemetry.counter({
      name: 'netlens.rdns.ptr.dropped',
      description:
        'Addresses that needed a PTR lookup and got none: reason queue_full (ptr_lookups::max_pending; asked again ' +
        'at a later miss) or shutdown (queued or in flight when netlens stopped).',
      unit: '{address}',
    })
  }

  /** Adds what the store (and the PTR lookups) counted since the last call, and zeroes it. */
  report(stats: StoreStats, ptr?: PtrLookups): void {
    this.hits.add(stats.hits, this.component)
    this.misses.add(stats.misses, this.component)
    this.expirations.add(stats.expired, this.component)
    this.evictions.add(stats.evictedCapacity, { ...this.component, reason: 'capacity' })
    this.evictions.add(stats.evictedNames, { ...this.component, reason: 'names_per_address' })
    this.ambiguous.add(stats.ambiguous, this.component)
    stats.hits = stats.misses = stats.expired = stats.evictedCapacity = stats.evictedNames = stats.ambiguous = 0
    if (ptr) this.reportPtr(ptr.stats, ptr)
  }

  private reportPtr(stats: PtrStats, ptr: PtrLookups): void {
    this.ptrHits.add(stats.hits, this.component)
    this.ptrSkipped.add(stats.skipped, { ...this.component, reason: 'ip_type' })
    this.ptrRateLimited.add(stats.rateLimited, this.component)
    this.ptrDropped.add(stats.queueFull, { ...this.component, reason: 'queue_full' })
    this.evictions.add(ptr.cache.evicted, { ...this.component, reason: 'ptr_capacity' })
    stats.hits = stats.skipped = stats.rateLimited = stats.queueFull = ptr.cache.evicted = 0
  }

  lookedUp(outcome: PtrOutcome): void {
    this.ptrLookups.add(1, { ...this.component, outcome })
  }

  dropped(reason: 'shutdown', count: number): void {
    this.ptrDropped.add(count, { ...this.component, reason })
  }
}
