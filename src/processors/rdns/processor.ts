// `rdns`: names addresses after the DNS question that produced them. It learns from `dns.answer` records (in
// whichever pipeline carries them, typically the dns one) and, being one instance shared by every pipeline,
// names flows and HTTP exchanges in the others: `destination.domain` always, `source.domain` when the remote end
// is the source (incoming flows, HTTP seen from the server). With `ptr_lookups` on (off by default), an address
// no answer named is queued for a PTR lookup (ptr.ts: rate-limited, deduplicated, bounded, cached, with a deadline)
// without holding the batch: that record passes unnamed, later ones get the PTR name. Wire names always win.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord, Attributes, DnsAnswerRecord, FlowRecord, HttpRecord } from '../../records.ts'
import type { SelfTelemetry } from '../../telemetry/self.ts'
import { mapRecords } from '../enrich.ts'
import type { RdnsConfig } from './config.ts'
import { PtrLookups } from './ptr.ts'
import { DomainStore, normalizeName } from './store.ts'
import { RdnsTelemetry } from './telemetry.ts'

/** How often expired mappings are swept when nothing looks them up. */
const SWEEP_INTERVAL_MS = 30_000

export interface RdnsOptions {
  /** Milliseconds; Date.now unless a test injects its own clock. */
  now?: () => number
}

export class RdnsProcessor implements Processor {
  readonly store: DomainStore
  /** Active PTR lookups; undefined unless ptr_lookups::enabled. */
  readonly ptr: PtrLookups | undefined
  private readonly telemetry: RdnsTelemetry
  private readonly replaceAddress: boolean
  private sweeper: NodeJS.Timeout | undefined

  constructor(id: string, telemetry: SelfTelemetry, config: RdnsConfig, options: RdnsOptions = {}) {
    const now = options.now ?? Date.now
    this.telemetry = new RdnsTelemetry(telemetry, id, () => this.store.size, () => this.ptr)
    this.store = new DomainStore({
      minTtlMs: config.min_ttl,
      maxTtlMs: config.max_ttl,
      maxEntries: config.max_entries,
      maxNamesPerAddress: config.max_names_per_address,
      now,
    })
    const ptr = config.ptr_lookups
    this.ptr = ptr.enabled ? new PtrLookups(ptr, config.max_entries, now, this.telemetry) : undefined
    this.replaceAddress = config.replace_address
  }

  async start(): Promise<void> {
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref()
    this.ptr?.start()
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper)
    this.sweeper = undefined
    await this.ptr?.stop()
  }

  /** Drops every expired mapping (and PTR result) now (the timer does this every 30 s); returns how many went. */
  sweep(): number {
    const expired = this.store.sweep() + (this.ptr?.cache.sweep() ?? 0)
    this.telemetry.report(this.store.stats, this.ptr)
    return expired
  }

  process(batch: Batch): Batch {
    try {
      return this.enrich(batch)
    } finally {
      this.telemetry.report(this.store.stats, this.ptr) // once per batch: lookups count in plain numbers meanwhile
    }
  }

  private enrich(batch: Batch): Batch {
    // Learn first: a pipeline fed by both receivers may carry an answer and the flow it explains together.
    let named = false
    for (const record of batch.records) {
      if (record.kind === 'dns.answer') this.learn(record)
      else if (record.kind === 'flow' || record.kind === 'http') named = true
    }
    if (!named) return batch
    const records = mapRecords(batch.records, (record) => this.name(record))
    return records === batch.records ? batch : { ...batch, records }
  }

  private learn(answer: DnsAnswerRecord): void {
    const name = normalizeName(answer.questionName)
    if (name === '') return
    for (const { address, ttlSeconds } of answer.addresses) this.store.learn(address, name, ttlSeconds, answer.client)
  }

  private name(record: AnyRecord): AnyRecord {
    if (record.kind !== 'flow' && record.kind !== 'http') return record
    const remoteIsSource = record.kind === 'flow' ? record.direction === 'incoming' : record.side === 'server'
    // The local end asked the question: for the destination that is the source, and the reverse.
    const destination = this.lookup(record.destination.address, record.source.address)
    const source = remoteIsSource ? this.lookup(record.source.address, record.destination.address) : undefined
    if (destination === undefined && source === undefined) return record
    const attributes: Attributes = { ...record.attributes }
    if (destination !== undefined) attributes['destination.domain'] = destination
    if (source !== undefined) attributes['source.domain'] = source
    const named: FlowRecord | HttpRecord = { ...record, attributes }
    if (this.replaceAddress) {
      if (destination !== undefined) named.destination = { ...record.destination, address: destination }
      if (source !== undefined) named.source = { ...record.source, address: source }
    }
    return named
  }

  /** The name of `address` from the wire (preferring what `client` asked), else from PTR (a miss starts a lookup). */
  private lookup(address: string, client: string): string | undefined {
    return this.store.lookup(address, client) ?? this.ptr?.name(address)
  }
}
