// `attributes`: shapes what records carry before the exporters see them. In order: include / exclude / rename
// enrichment attributes, collapse values to constants (ports to 0, ...), then the cardinality guard (at most N
// distinct values per attribute, the rest folded into one overflow value). Records are copied, never mutated.
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord, Attributes, Endpoint } from '../../records.ts'
import type { SelfCounter, SelfTelemetry } from '../../telemetry/self.ts'
import { mapRecords } from '../enrich.ts'
import { parseAttributesConfig, type AttributesConfig, type ParsedAttributesConfig } from './config.ts'

type Side = 'source' | 'destination'

const TYPED_FIELDS = new Map<string, [Side, keyof Endpoint]>([
  ['source.address', ['source', 'address']],
  ['source.port', ['source', 'port']],
  ['destination.address', ['destination', 'address']],
  ['destination.port', ['destination', 'port']],
])

/** `source.port` → ['source', 'port']; undefined for anything that is not a typed endpoint field. */
function typedField(key: string): [Side, keyof Endpoint] | undefined {
  return TYPED_FIELDS.get(key)
}

/** A record being rewritten: copies of the parts that changed, made on first change. */
class Draft {
  readonly original: AnyRecord
  attributes: Attributes | undefined
  source: Endpoint | undefined
  destination: Endpoint | undefined

  constructor(record: AnyRecord) {
    this.original = record
  }

  get(key: string): string | number | boolean | undefined {
    const typed = typedField(key)
    const record = this.original
    if (typed && (record.kind === 'flow' || record.kind === 'http')) {
      const [side, field] = typed
      return (this[side] ?? record[side])[field]
    }
    return (this.attributes ?? record.attributes)[key]
  }

  set(key: string, value: string | number): void {
    const typed = typedField(key)
    const record = this.original
    if (typed && (record.kind === 'flow' || record.kind === 'http')) {
      const [side, field] = typed
      const endpoint = (this[side] ??= { ...record[side] })
      if (field === 'port') endpoint.port = Number(value)
      else endpoint.address = String(value)
      return
    }
    this.attributes ??= { ...record.attributes }
    this.attributes[key] = value
  }

  result(): AnyRecord {
    if (!this.attributes && !this.source && !this.destination) return this.original
    const out = { ...this.original, attributes: this.attributes ?? this.original.attributes } as AnyRecord
    if (out.kind === 'flow' || out.kind === 'http') {
      if (this.source) out.source = this.source
      if (this.destination) out.destination = this.destination
    }
    return out
  }
}

export class AttributesProcessor implements Processor {
  private readonly rules: ParsedAttributesConfig
  private readonly seen = new Map<string, Set<string | number | boolean>>()
  private readonly overflowed: SelfCounter
  private readonly id: string
  private readonly noop: boolean

  constructor(id: string, telemetry: SelfTelemetry, config: AttributesConfig) {
    this.id = id
    this.rules = parseAttributesConfig(config)
    const r = this.rules
    this.noop = r.include.size + r.exclude.size + r.rename.size + r.collapse.size + r.maxValues.size === 0
    for (const key of r.maxValues.keys()) this.seen.set(key, new Set())
    this.overflowed = telemetry.counter({
      name: 'netlens.attributes.overflowed',
      description: 'Attribute values replaced by overflow_value because max_values distinct values were already seen.',
      unit: '{value}',
    })
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {}

  /** Distinct values the guard has admitted for `key`. */
  distinct(key: string): number {
    return this.seen.get(key)?.size ?? 0
  }

  process(batch: Batch): Batch {
    if (this.noop) return batch
    const records = mapRecords(batch.records, (record) => this.shape(record))
    return records === batch.records ? batch : { ...batch, records }
  }

  private shape(record: AnyRecord): AnyRecord {
    const { include, exclude, rename, collapse, maxValues, overflowValue } = this.rules
    const draft = new Draft(record)
    if (include.size > 0 || exclude.size > 0 || rename.size > 0) {
      let changed = false
      const attributes: Attributes = {}
      for (const [key, value] of Object.entries(record.attributes)) {
        if ((include.size > 0 && !include.has(key)) || exclude.has(key)) {
          changed = true
          continue
        }
        const name = rename.get(key) ?? key
        if (name !== key) changed = true
        attributes[name] = value
      }
      if (changed) draft.attributes = attributes
    }
    for (const [key, value] of collapse) {
      const current = draft.get(key)
      if (current !== undefined && current !== value) draft.set(key, value)
    }
    for (const [key, limit] of maxValues) {
      const value = draft.get(key)
      if (value === undefined) continue
      const seen = this.seen.get(key) as Set<string | number | boolean>
      if (seen.has(value)) continue
      if (seen.size < limit) {
        seen.add(value)
        continue
      }
      draft.set(key, overflowValue)
      this.overflowed.add(1, { component: this.id, attribute: key })
    }
    return draft.result()
  }
}
