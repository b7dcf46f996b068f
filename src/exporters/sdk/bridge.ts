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
import { metricViews, type SelectionConfig } from './selection.ts'

export interface BridgeOptions {
  /** The exporter's id (`otlp`, `otlp/backup`): the `component` attribute of its self-telemetry. */
  id: string
  telemetry: SelfTelemetry
  resource: ResourceAttribute[]
  selection: SelectionConfig
  readers: IMetricReader[]
}

type RecordFn = (value: number, attributes: OtelAttributes) => void

interface Recorder {
  definition: AnyMetricDefinition
  record: RecordFn
  /** Counters only: sums per attribute set within the batch being consumed, handed to the SDK once per set. */
  sums: CounterSums | undefined
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
    this.recorders = METRICS.map((definition) => ({
      definition,
      record: this.instrument(definition),
      sums: definition.instrument === 'counter' ? new CounterSums() : undefined,
    }))
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
   * hashes its attributes (sorted keys, JSON) and looks the series up, ~2 µs: counters are summed per attribute
   * set over the batch first, so they cost one SDK call per series instead of one per record. Histograms and
   * gauges keep one call per value (the API takes no pre-aggregated points).
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
      for (const { definition, record: recordValue, sums } of recorders) {
        for (const m of measure(definition, record)) {
          if (!(Number.isFinite(m.value) && m.value >= 0)) invalid++
          else if (sums) sums.add(m.value, m.attributes)
          else recordValue(m.value, m.attributes)
        }
      }
    }
    for (const { record, sums } of this.recorders) sums?.flush(record)
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
 * A counter's measurements of one batch, summed per attribute set. Sets are found by a numeric hash of their
 * values and confirmed by comparing names and values: building a string key per measurement cost as much as the
 * SDK call it saved. Typed values (`53` vs `"53"`) stay apart, as in the SDK.
 */
class CounterSums {
  /** Hash of the values → the sums whose attributes hash there (almost always one). */
  private readonly sums = new Map<number, Array<{ attributes: Attributes; value: number }>>()

  add(value: number, attributes: Attributes): void {
    const hash = hashValues(attributes)
    const sums = this.sums.get(hash)
    if (!sums) {
      this.sums.set(hash, [{ attributes, value }])
      return
    }
    const sum = sums.find((s) => sameAttributes(s.attributes, attributes))
    if (sum) sum.value += value
    else sums.push({ attributes, value })
  }

  /** Hands each sum to the SDK and forgets them. */
  flush(record: RecordFn): void {
    for (const sums of this.sums.values()) for (const { attributes, value } of sums) record(value, attributes)
    this.sums.clear()
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
