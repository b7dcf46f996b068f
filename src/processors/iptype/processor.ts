// `iptype`: labels both ends of flows, HTTP exchanges and DNS queries with the kind of address they use
// (`source.ip_type`, `destination.ip_type`), so dashboards can split public from private traffic cheaply.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord, Attributes } from '../../records.ts'
import { endpointsOf, mapRecords, withAttributes } from '../enrich.ts'
import { classify, datakitType } from './classify.ts'
import type { IpTypeConfig } from './config.ts'

/**
 * Addresses whose type is remembered. HTTP and DNS records come one per exchange, tens of thousands a second
 * between few addresses: parsing and classifying both ends of each cost more than the rest of this processor.
 * Past the limit the memo starts over, so a scan of many addresses costs what it did without one.
 */
const MEMO_LIMIT = 65_536

export class IpTypeProcessor implements Processor {
  private readonly classify: (address: string) => string | undefined
  private readonly memo = new Map<string, string | undefined>()
  /** The attributes added for each (source type, destination type), shared by the records that get them. */
  private readonly labels = new Map<string, Attributes>()

  constructor(config: IpTypeConfig) {
    this.classify =
      config.mode === 'datakit'
        ? (address) => {
            const type = classify(address)
            return type && datakitType(type)
          }
        : classify
  }

  private typeOf(address: string): string | undefined {
    let type = this.memo.get(address)
    if (type === undefined && !this.memo.has(address)) {
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear()
      type = this.classify(address)
      this.memo.set(address, type)
    }
    return type
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {}

  process(batch: Batch): Batch {
    const records = mapRecords(batch.records, (record) => this.label(record))
    return records === batch.records ? batch : { ...batch, records }
  }

  private label(record: AnyRecord): AnyRecord {
    const ends = endpointsOf(record)
    if (!ends) return record
    const source = this.typeOf(ends.source)
    const destination = this.typeOf(ends.destination)
    if (source === undefined && destination === undefined) return record
    return withAttributes(record, this.labelsFor(source, destination))
  }

  private labelsFor(source: string | undefined, destination: string | undefined): Attributes {
    const key = `${source}/${destination}`
    let added = this.labels.get(key)
    if (added === undefined) {
      const labels: Attributes = {}
      if (source !== undefined) labels['source.ip_type'] = source
      if (destination !== undefined) labels['destination.ip_type'] = destination
      added = Object.freeze(labels)
      this.labels.set(key, added)
    }
    return added
  }
}
