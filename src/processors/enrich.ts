// What every enriching processor shares: which addresses a record has on each side, and copy-on-write updates.
// A receiver feeding several pipelines hands each one the SAME record objects (src/pipeline/consumers.ts), so a
// processor never mutates a record it was given: it returns a copy with the change, and only when there is one.
import type { AnyRecord, Attributes } from '../records.ts'

/** The addresses a record names: flows and HTTP by source/destination, DNS by client (source) / server (destination). */
export interface RecordEndpoints {
  source: string
  destination: string
}

export function endpointsOf(record: AnyRecord): RecordEndpoints | undefined {
  switch (record.kind) {
    case 'flow':
    case 'http':
      return { source: record.source.address, destination: record.destination.address }
    case 'dns':
      return { source: record.client.address, destination: record.server.address }
    default:
      return undefined
  }
}

/** A copy of `record` whose attributes are its own plus `added` (which win); the record itself when nothing is added. */
export function withAttributes<R extends AnyRecord>(record: R, added: Attributes | undefined): R {
  if (added === undefined) return record
  return { ...record, attributes: { ...record.attributes, ...added } }
}

/** Returns the new batch only when some record changed, so untouched batches cost no allocation. */
export function mapRecords(records: AnyRecord[], update: (record: AnyRecord) => AnyRecord): AnyRecord[] {
  let out: AnyRecord[] | undefined
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as AnyRecord
    const next = update(record)
    if (next !== record && out === undefined) out = records.slice(0, i)
    if (out !== undefined) out.push(next)
  }
  return out ?? records
}
