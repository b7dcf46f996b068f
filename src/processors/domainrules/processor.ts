// `domainrules`: keeps, drops or labels records by their domain, through a trie of the configured rules.
// Dropped records are counted by the pipeline (`netlens.records.dropped{reason="filtered"}`); `dns.answer`
// records (which only feed rdns) always pass.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord } from '../../records.ts'
import { withAttributes } from '../enrich.ts'
import { buildTrie, type DomainRulesConfig } from './config.ts'
import type { DomainTrie } from './trie.ts'

export class DomainRulesProcessor implements Processor {
  readonly trie: DomainTrie
  private readonly config: DomainRulesConfig

  constructor(config: DomainRulesConfig) {
    this.config = config
    this.trie = buildTrie(config.rules)
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {}

  process(batch: Batch): Batch {
    const kept: AnyRecord[] = []
    let changed = false
    for (const record of batch.records) {
      const result = this.apply(record)
      if (result !== record) changed = true
      if (result) kept.push(result)
    }
    return changed ? { ...batch, records: kept } : batch
  }

  /** The record (possibly labelled), or undefined to drop it. */
  private apply(record: AnyRecord): AnyRecord | undefined {
    if (record.kind === 'dns.answer') return record
    const domain = this.domainOf(record)
    if (domain === undefined) return this.config.no_domain === 'keep' ? record : undefined
    const verdict = this.trie.match(domain)
    if ((verdict.decision ?? this.config.default) === 'deny') return undefined
    return withAttributes(record, verdict.labels)
  }

  private domainOf(record: AnyRecord): string | undefined {
    const value = record.kind === 'dns' ? record.questionName : record.attributes[this.config.attribute]
    if (typeof value !== 'string' || value === '') return undefined
    const name = value.endsWith('.') ? value.slice(0, -1) : value
    return name.toLowerCase()
  }
}
