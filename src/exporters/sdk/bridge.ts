// What SDK-based exporters (otlp, otlphttp, prometheus) share: a MeterProvider with netlens's
// resource and views, instruments built from the metric definitions, records turned into measurements, and
// netlens's own telemetry observed at each collection.
import type { Attributes as OtelAttributes, Meter } from '@opentelemetry/api'
import { MeterProvider, type IMetricReader } from '@opentelemetry/sdk-metrics'
import type { Batch } from '../../component/types.ts'
import type { Attributes } from '../../records.ts'
import { measure, METRICS, type AnyMetricDefinition } from '../../metrics/definitions.ts'
import { standardCounters, type SelfCounter, type SelfTelemetry } from '../../telemetry/self.ts'
import { netlensResource, type ResourceAttribute } from './resource.ts'
import { metricViews, viewsOf, type SelectionConfig } from './selection.ts'
import { SeriesLimit } from './series-limit.ts'

export interface BridgeOptions {
  /** The exporter's id (`otlp`, `otlp/backup`): the `component` attribute of its self-telemetry. */
  id: string
  telemetry: SelfTelemetry
  resource: ResourceAttribute[]
  selection: SelectionConfig
  readers: IMetricReader[]
  /** Cumulative state keeps every series it ever saw: then each metric's series are capped for life (SeriesLimit). */
  temporality: 'cumulative' | 'delta'
}

type RecordFn = (value: number, attributes: OtelAttributes) => void

interface Recorder {
  definition: AnyMetricDefinition
  record: RecordFn
  /** The measurements of the batch being consumed, per attribute set, handed to the SDK set by set. */
  series: BatchSeries
}

export function exportsCounter(telemetry: SelfTelemetry): SelfCounter {
  return telemetry.counter({
    name: 'netlens.exporter.exports',
    description: 'Export attempts by exporter and outcome (success or failure).',
    unit: '{export}',
  })
}

export class MetricsBridge {
  readonly provider: MeterProvider
  private readonly meter: Meter
  private readonly recorders: Recorder[]
  /** The recorders of each record kind, so a record meets only the definitions that measure it. */
  private readonly recordersByKind = new Map<string, Recorder[]>()
  private readonly telemetry: SelfTelemetry
  private readonly observed = new Set<string>()
  private readonly received: SelfCounter
  private readonly dropped: SelfCounter
  private readonly component: Attributes
  private shutdownPromise: Promise<void> | undefined

  constructor(options: BridgeOptions) {
    this.telemetry = options.telemetry
    this.component = { component: options.id }
    const counters = standardCounters(options.telemetry)
    this.received = counters.received
    this.dropped = counters.dropped
    exportsCounter(options.telemetry)
    this.provider = new MeterProvider({
      resource: netlensResource(options.resource),
      views: metricViews(options.selection),
      readers: options.readers,
    })
    this.meter = this.provider.getMeter('netlens')
    const views = viewsOf(options.selection)
    this.recorders = METRICS.map((definition, index) => {
      const view = views[index]!
      const limit = options.temporality === 'cumulative' ? new SeriesLimit(view.cardinalityLimit, view.kept) : undefined
      return { definition, record: this.instrument(definition), series: new BatchSeries(definition.instrument === 'counter', limit) }
    })
    for (const recorder of this.recorders) {
      const { source } = recorder.definition
      this.recordersByKind.set(source, [...(this.recordersByKind.get(source) ?? []), recorder])
    }
    this.syncSelfTelemetry()
  }

  private instrument(definition: AnyMetricDefinition): RecordFn {
    const options = { description: definition.description, unit: definition.unit }
    switch (definition.instrument) {
      case 'counter': {
        const counter = this.meter.createCounter(definition.name, options)
        return (value, attributes) => counter.add(value, attributes)
      }
      case 'histogram': {
        const advice = definition.buckets ? { explicitBucketBoundaries: [...definition.buckets] } : undefined
        const histogram = this.meter.createHistogram(definition.name, { ...options, advice })
        return (value, attributes) => histogram.record(value, attributes)
      }
      case 'gauge': {
        const gauge = this.meter.createGauge(definition.name, options)
        return (value, attributes) => gauge.record(value, attributes)
      }
    }
  }

  /**
   * Records every measurement the definitions take from the batch; bad values are counted drops. Each SDK call
   * hashes its attributes (sorted keys, JSON) and looks the series up, ~2 µs: measurements are grouped per
   * attribute set over the batch first, so counters cost one SDK call per series instead of one per record, and
   * the series limit is checked once per set. Histograms and gauges keep one call per value (the API takes no
   * pre-aggregated points).
   */
  consume(batch: Batch): void {
    if (this.shutdownPromise) {
      this.dropped.add(batch.records.length, { ...this.component, reason: 'shutdown' })
      return
    }
    this.syncSelfTelemetry()
    this.received.add(batch.records.length, this.component)
    let invalid = 0
    for (const record of batch.records) {
      const recorders = this.recordersByKind.get(record.kind)
      if (recorders === undefined) continue // dns.answer: for the rdns processor, not a metric
      for (const { definition, series } of recorders) {
        for (const m of measure(definition, record)) {
          if (!(Number.isFinite(m.value) && m.value >= 0)) invalid++
          else series.add(m.value, m.attributes)
        }
      }
    }
    for (const { record, series } of this.recorders) series.flush(record)
    if (invalid > 0) this.dropped.add(invalid, { ...this.component, reason: 'invalid_value' })
  }

  /** Observes every SelfTelemetry instrument not yet observed; instruments registered later join here. */
  syncSelfTelemetry(): void {
    if (this.observed.size === this.telemetry.list().length) return
    for (const instrument of this.telemetry.list()) {
      if (this.observed.has(instrument.name)) continue
      this.observed.add(instrument.name)
      const options = { description: instrument.description, unit: instrument.unit }
      const observable =
        instrument.type === 'counter'
          ? this.meter.createObservableCounter(instrument.name, options)
          : this.meter.createObservableGauge(instrument.name, options)
      observable.addCallback((result) => {
        for (const point of instrument.points()) result.observe(point.value, point.attributes)
      })
    }
  }

  forceFlush(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise
    return this.provider.forceFlush()
  }

  /** Flushes what is pending and stops the readers; idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.provider.shutdown()
    return this.shutdownPromise
  }
}

/**
 * One metric's measurements of one batch, per attribute set: summed for a counter, kept in order otherwise. Sets
 * are found by a numeric hash of their values and confirmed by comparing names and values: building a string key
 * per measurement cost as much as the SDK call it saved. Typed values (`53` vs `"53"`) stay apart, as in the SDK.
 */
class BatchSeries {
  /** Hash of the values → the sets that hash there (almost always one). */
  private readonly sets = new Map<number, Array<{ attributes: Attributes; values: number[] }>>()
  private readonly sum: boolean
  private readonly limit: SeriesLimit | undefined

  constructor(sum: boolean, limit: SeriesLimit | undefined) {
    this.sum = sum
    this.limit = limit
  }

  add(value: number, attributes: Attributes): void {
    const hash = hashValues(attributes)
    const sets = this.sets.get(hash)
    const set = sets?.find((s) => sameAttributes(s.attributes, attributes))
    if (!set) {
      const entry = { attributes, values: [value] }
      if (sets) sets.push(entry)
      else this.sets.set(hash, [entry])
    } else if (this.sum) {
      set.values[0]! += value
    } else {
      set.values.push(value)
    }
  }

  /** Hands each set's values to the SDK, under the overflow series once the metric is full, and forgets them. */
  flush(record: RecordFn): void {
    for (const sets of this.sets.values()) {
      for (const { attributes, values } of sets) {
        const admitted = this.limit ? this.limit.admit(attributes) : attributes
        for (const value of values) record(value, admitted)
      }
    }
    this.sets.clear()
  }
}

/** FNV-1a over the values (string characters, numbers, booleans), as a small integer for the Map. */
function hashValues(attributes: Attributes): number {
  let h = 0x811c9dc5
  for (const name in attributes) {
    const v = attributes[name]
    if (typeof v === 'string') {
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193)
    } else {
      h = Math.imul(h ^ (typeof v === 'number' ? v | 0 : v ? 1 : 2), 0x01000193)
    }
    h = Math.imul(h ^ 0xff, 0x01000193)
  }
  return h & 0x3fffffff
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  let count = 0
  for (const name in a) {
    if (a[name] !== b[name]) return false
    count++
  }
  for (const _ in b) count--
  return count === 0
}
