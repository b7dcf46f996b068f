// netlens's own telemetry: plain counters and gauges that any exporter turns into `netlens.*` metrics.
// Components register their instruments at creation, so exporters can see every one before data flows.
import type { Attributes } from '../records.ts'

export interface InstrumentInfo {
  name: string
  description: string
  unit: string
}

export interface Point {
  attributes: Attributes
  value: number
}

export interface SelfInstrument extends InstrumentInfo {
  type: 'counter' | 'gauge'
  /** Current values, one per attribute set. Counters are cumulative since start. */
  points(): Point[]
}

export class SelfCounter implements SelfInstrument {
  readonly type = 'counter'
  private readonly values = new Map<string, Point>()
  readonly name: string
  readonly description: string
  readonly unit: string

  constructor(info: InstrumentInfo) {
    this.name = info.name
    this.description = info.description
    this.unit = info.unit
  }

  add(value: number, attributes: Attributes = {}): void {
    if (!(value > 0)) return
    const key = attributeKey(attributes)
    const point = this.values.get(key)
    if (point) point.value += value
    else this.values.set(key, { attributes: { ...attributes }, value })
  }

  /** Sum over the attribute sets that contain every given attribute. */
  value(filter: Attributes = {}): number {
    let sum = 0
    for (const point of this.values.values()) {
      if (Object.entries(filter).every(([k, v]) => point.attributes[k] === v)) sum += point.value
    }
    return sum
  }

  points(): Point[] {
    return [...this.values.values()].map((p) => ({ attributes: p.attributes, value: p.value }))
  }
}

export class SelfGauge implements SelfInstrument {
  readonly type = 'gauge'
  readonly name: string
  readonly description: string
  readonly unit: string
  private readonly read: () => Point[]

  constructor(info: InstrumentInfo, read: () => Point[]) {
    this.name = info.name
    this.description = info.description
    this.unit = info.unit
    this.read = read
  }

  points(): Point[] {
    return this.read()
  }
}

function attributeKey(attributes: Attributes): string {
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k}=${String(attributes[k])}`)
    .join(',')
}

export class SelfTelemetry {
  private readonly instruments = new Map<string, SelfInstrument>()
  private readonly gauges = new Map<string, Array<() => Point[]>>()

  /** The counter with this name, created on first use: several components share one by attributes. */
  counter(info: InstrumentInfo): SelfCounter {
    const existing = this.instruments.get(info.name)
    if (existing) {
      if (!(existing instanceof SelfCounter)) throw new Error(`telemetry: ${info.name} is not a counter`)
      return existing
    }
    const counter = new SelfCounter(info)
    this.instruments.set(info.name, counter)
    return counter
  }

  /** An observed value; several components may feed one gauge name, their points are concatenated. */
  gauge(info: InstrumentInfo, read: () => Point[]): void {
    const readers = this.gauges.get(info.name)
    if (readers) {
      readers.push(read)
      return
    }
    const list = [read]
    this.gauges.set(info.name, list)
    this.instruments.set(info.name, new SelfGauge(info, () => list.flatMap((r) => r())))
  }

  list(): SelfInstrument[] {
    return [...this.instruments.values()]
  }

  get(name: string): SelfInstrument | undefined {
    return this.instruments.get(name)
  }
}

/** The counters every stage shares; one place defines their names. */
export function standardCounters(telemetry: SelfTelemetry) {
  return {
    received: telemetry.counter({
      name: 'netlens.records.received',
      description: 'Records a component produced (receivers) or took in (processors, exporters).',
      unit: '{record}',
    }),
    dropped: telemetry.counter({
      name: 'netlens.records.dropped',
      description: 'Records or packets dropped anywhere, by component and reason (kernel map full, ring overrun, parse error, queue full, ...); ' +
        'the http receiver counts requests, an HTTP record standing for one or more.',
      unit: '{record}',
    }),
  }
}
