// `rdns`: names addresses after the DNS question that produced them. It learns from `dns.answer` records (in
// whichever pipeline carries them, typically the dns one) and, being one instance shared by every pipeline,
// names flows and HTTP exchanges in the others: `destination.domain` always, `source.domain` when the remote end
// is the source (incoming flows, HTTP seen from the server). No active PTR lookups: names come from the wire only.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord, Attributes, DnsAnswerRecord, FlowRecord, HttpRecord } from '../../records.ts'
import type { SelfTelemetry } from '../../telemetry/self.ts'
import { mapRecords } from '../enrich.ts'
import type { RdnsConfig } from './config.ts'
import { DomainStore } from './store.ts'
import { RdnsTelemetry } from './telemetry.ts'

/** How often expired mappings are swept when nothing looks them up. */
const SWEEP_INTERVAL_MS = 30_000

export interface RdnsOptions {
  /** Milliseconds; Date.now unless a test injects its own clock. */
  now?: () => number
}

export class RdnsProcessor implements Processor {
  readonly store: DomainStore
  private readonly telemetry: RdnsTelemetry
  private readonly replaceAddress: boolean
  private sweeper: NodeJS.Timeout | undefined

  constructor(id: string, telemetry: SelfTelemetry, config: RdnsConfig, options: RdnsOptions = {}) {
    this.telemetry = new RdnsTelemetry(telemetry, id, () => this.store.size)
    this.store = new DomainStore({
      minTtlMs: config.min_ttl,
      maxTtlMs: config.max_ttl,
      maxEntries: config.max_entries,
      maxNamesPerAddress: config.max_names_per_address,
      now: options.now ?? Date.now,
    })
    this.replaceAddress = config.replace_address
  }

  async start(): Promise<void> {
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref()
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }

  /** Drops every expired mapping now (the timer does this every 30 s); returns how many went. */
  sweep(): number {
    const expired = this.store.sweep()
    this.telemetry.report(this.store.stats)
    return expired
  }

  process(batch: Batch): Batch {
    try {
      return this.enrich(batch)
    } finally {
      this.telemetry.report(this.store.stats) // once per batch: lookups are counted in plain numbers meanwhile
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
    const destination = this.store.lookup(record.destination.address, record.source.address)
    const source = remoteIsSource ? this.store.lookup(record.source.address, record.destination.address) : undefined
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
}

/** Lower case without the trailing dot; '' for the root or an empty name, which name nothing. */
function normalizeName(name: string): string {
  const text = name.endsWith('.') ? name.slice(0, -1) : name
  return text.toLowerCase()
}
