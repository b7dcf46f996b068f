// `iptype`: labels both ends of flows, HTTP exchanges and DNS queries with the kind of address they use
// (`source.ip_type`, `destination.ip_type`), so dashboards can split public from private traffic cheaply.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord, Attributes } from '../../records.ts'
import { endpointsOf, mapRecords, withAttributes } from '../enrich.ts'
import { classify, datakitType } from './classify.ts'
import type { IpTypeConfig } from './config.ts'

export class IpTypeProcessor implements Processor {
  private readonly typeOf: (address: string) => string | undefined

  constructor(config: IpTypeConfig) {
    this.typeOf =
      config.mode === 'datakit'
        ? (address) => {
            const type = classify(address)
            return type && datakitType(type)
          }
        : classify
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
    const added: Attributes = {}
    if (source !== undefined) added['source.ip_type'] = source
    if (destination !== undefined) added['destination.ip_type'] = destination
    return withAttributes(record, added)
  }
}
