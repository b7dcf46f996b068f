// What SDK-based exporters (otlp, otlphttp, prometheus) share: a MeterProvider with netlens's
// resource and views, instruments built from the metric definitions, records turned into measurements, and
// netlens's own telemetry observed at each collection.
import type { Attributes as OtelAttributes, Meter } from '@opentelemetry/api'
import { MeterProvider, type IMetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics'
import type { Batch } from '../../component/types.ts'
import type { Attributes } from '../../records.ts'
import { measure, METRICS, type AnyMetricDefinition } from '../../metrics/definitions.ts'
import { standardCounters, type SelfCounter, type SelfTelemetry } from '../../telemetry/self.ts'
import { netlensResource, type ResourceAttribute } from './resource.ts'
import { metricViews, viewsOf, type SelectionConfig } from './selection.ts'
import { HistogramProducer } from './histograms.ts'
import { SeriesLimit } from './series-limit.ts'

export interface BridgeOptions {
  /** The exporter's id (`otlp`, `otlp/backup`): the `component` attribute of its self-telemetry. */
  id: string
  telemetry: SelfTelemetry
  resource: ResourceAttribute[]
  selection: SelectionConfig
  /** Builds the exporter's reader; the options carry netlens's own histograms (a MetricProducer) to collect. */
  reader: (options: { metricProducers: MetricProducer[] }) => IMetricReader
  /** Cumulative state keeps every series it ever saw: then each metric's series are capped for life (SeriesLimit). */
  temporality: 'cumulative' | 'delta'
}

/** Hands on one attribute set's values from a batch (for a counter, their sum). */
type FlushFn = (attributes: Attributes, values: number[]) => void

/** One attribute set's measurements of a batch: the attributes the view keeps, and the values. */
interface SeriesSet {
  attributes: Attributes
  values: number[]
}

interface Recorder {
  definition: AnyMetricDefinition
  /** The measurements of the batch being consumed, per attribute set, handed on set by set. */
  series: BatchSeries
  flush: FlushFn
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
    const resource = netlensResource(options.resource)
    const histograms = new HistogramProducer(options.temporality, resource)
    const views = viewsOf(options.selection)
    this.provider = new MeterProvider({
      resource,
      views: metricViews(views),
      readers: [options.reader({ metricProducers: [histograms] })],
    })
    this.meter = this.provider.getMeter('netlens')
    this.recorders = METRICS.map((definition, index) => {
      const view = views[index]!
      const series = new BatchSeries(definition.instrument === 'counter', view.kept)
      if (definition.instrument === 'histogram') {
        const metric = histograms.add({ ...definition, boundaries: definition.buckets ?? [], cardinalityLimit: view.cardinalityLimit })
        return { definition, series, flush: (attributes, values) => metric.record(attributes, values) }
      }
      const limit = options.temporality === 'cumulative' ? new SeriesLimit(view.cardinalityLimit, view.kept) : undefined
      const record = this.instrument(definition)
      // A counter's values arrive summed; a gauge keeps its last value.
      return { definition, series, flush: (attributes, values) => record(values[values.length - 1]!, limit?.admit(attributes) ?? attributes) }
    })
    for (const recorder of this.recorders) {
      const { source } = recorder.definition
      this.recordersByKind.set(source, [...(this.recordersByKind.get(source) ?? []), recorder])
    }
    this.syncSelfTelemetry()
  }

  private instrument(definition: AnyMetricDefinition): (value: number, attributes: OtelAttributes) => void {
    const options = { description: definition.description, unit: definition.unit }
    if (definition.instrument === 'counter') {
      const counter = this.meter.createCounter(definition.name, options)
      return (value, attributes) => counter.add(value, attributes)
    }
    const gauge = this.meter.createGauge(definition.name, options)
    return (value, attributes) => gauge.record(value, attributes)
  }

  /**
   * Records every measurement the definitions take from the batch; bad values are counted drops. Each SDK call
   * hashes its attributes (sorted keys, JSON) and looks the series up, ~2 µs: measurements are grouped per
   * attribute set (the attributes the metric's view keeps) over the batch first, so a counter or gauge costs one
   * SDK call per series instead of one per record, and the series limit is checked once per set. Histograms are
   * aggregated by netlens itself (histograms.ts).
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
    for (const { series, flush } of this.recorders) series.flush(flush)
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
 * One metric's measurements of one batch, per attribute set: summed for a counter, kept in order otherwise. Only the
 * attributes the metric's view keeps make a set (a question name the view drops must not split a DNS series).
 * Sets are found by a numeric hash of their values and confirmed by comparing names and values: building a string
 * key per measurement cost as much as the SDK call it saved. Typed values (`53` vs `"53"`) stay apart, as in the SDK.
 * Measurements in a row with the same attributes object (an HTTP record's durations: definitions.ts) go to the set
 * of the first without looking it up again.
 */
class BatchSeries {
  /** Hash of the kept values → the sets that hash there (almost always one). */
  private readonly sets = new Map<number, SeriesSet[]>()
  private readonly sum: boolean
  private readonly kept: (name: string) => boolean
  /** The attributes object of the last measurement, and the set it went to. */
  private lastAttributes: Attributes | undefined
  private lastSet: SeriesSet | undefined

  constructor(sum: boolean, kept: (name: string) => boolean) {
    this.sum = sum
    this.kept = kept
  }

  add(value: number, attributes: Attributes): void {
    if (attributes !== this.lastAttributes || this.lastSet === undefined) {
      this.lastSet = this.setOf(attributes)
      this.lastAttributes = attributes
    }
    const values = this.lastSet.values
    if (this.sum) values[0]! += value
    else values.push(value)
  }

  /** Hands each set's values on and forgets them. */
  flush(flush: FlushFn): void {
    for (const sets of this.sets.values()) for (const { attributes, values } of sets) flush(attributes, values)
    this.sets.clear()
    this.lastAttributes = undefined
    this.lastSet = undefined
  }

  /** The set of `attributes`' kept values, created empty (a counter's sum at 0) on first use. */
  private setOf(attributes: Attributes): SeriesSet {
    const hash = this.hashKept(attributes)
    const sets = this.sets.get(hash)
    const found = sets?.find((s) => this.sameKept(s.attributes, attributes))
    if (found) return found
    const created = { attributes: this.keptOf(attributes), values: this.sum ? [0] : [] }
    if (sets) sets.push(created)
    else this.sets.set(hash, [created])
    return created
  }

  private keptOf(attributes: Attributes): Attributes {
    const kept: Attributes = {}
    for (const name in attributes) if (this.kept(name)) kept[name] = attributes[name]!
    return kept
  }

  /** FNV-1a over the kept values (string characters, numbers, booleans), as a small integer for the Map. */
  private hashKept(attributes: Attributes): number {
    let h = 0x811c9dc5
    for (const name in attributes) {
      if (!this.kept(name)) continue
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

  /** `set` holds kept attributes only; `attributes` may carry more, which do not count. */
  private sameKept(set: Attributes, attributes: Attributes): boolean {
    let count = 0
    for (const name in attributes) {
      if (!this.kept(name)) continue
      if (set[name] !== attributes[name]) return false
      count++
    }
    for (const _ in set) count--
    return count === 0
  }
}
