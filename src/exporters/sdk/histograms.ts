// Explicit-bucket histograms aggregated by netlens and handed to the reader as a MetricProducer, beside the SDK's
// own metrics. sdk-metrics takes one value per record() call and hashes the attribute set on each (sorted keys,
// JSON: about 2 µs), which at 100k DNS answers a second was a fifth of a core. The bridge groups a batch's values
// per attribute set; here each set's values go straight into its bucket counts.
import { ValueType, type HrTime } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics'
import type { Resource } from '@opentelemetry/resources'
import type { Attributes } from '../../records.ts'
import { OVERFLOW_ATTRIBUTES, seriesKey } from './series-limit.ts'

export interface HistogramDescriptor {
  name: string
  description: string
  unit: string
  /** Inclusive upper bounds, ascending; one more bucket counts what lies above the last. */
  boundaries: readonly number[]
  /** Series beyond `cardinalityLimit - 1` go to the overflow series (per collection with delta temporality). */
  cardinalityLimit: number
}

interface Series {
  attributes: Attributes
  startTime: HrTime
  value: { buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number; min: number; max: number }
}

/** One histogram metric's series. */
export class HistogramMetric {
  readonly descriptor: HistogramDescriptor
  /** Series by seriesKey() of their attributes; the overflow series under the key ''. */
  readonly series = new Map<string, Series>()

  constructor(descriptor: HistogramDescriptor) {
    this.descriptor = descriptor
  }

  /** Adds values measured under one attribute set (already reduced to the attributes the metric keeps). */
  record(attributes: Attributes, values: readonly number[]): void {
    const { value } = this.seriesOf(attributes)
    const { boundaries } = this.descriptor
    const counts = value.buckets.counts
    for (const measured of values) {
      counts[upperBoundIndex(boundaries, measured)]! += 1
      value.sum += measured
      if (measured < value.min) value.min = measured
      if (measured > value.max) value.max = measured
    }
    value.count += values.length
  }

  private seriesOf(attributes: Attributes): Series {
    let key = seriesKey(attributes)
    let series = this.series.get(key)
    if (series) return series
    if (this.series.size >= this.descriptor.cardinalityLimit - 1) {
      key = ''
      series = this.series.get(key)
      if (series) return series
      attributes = OVERFLOW_ATTRIBUTES
    }
    series = {
      attributes,
      startTime: now(),
      value: {
        buckets: { boundaries: [...this.descriptor.boundaries], counts: new Array<number>(this.descriptor.boundaries.length + 1).fill(0) },
        sum: 0,
        count: 0,
        min: Infinity,
        max: -Infinity,
      },
    }
    this.series.set(key, series)
    return series
  }
}

/** The histograms of one reader, collected with its temporality: cumulative keeps every series for the process's life,
 * delta starts afresh after each collection. */
export class HistogramProducer implements MetricProducer {
  private readonly metrics: HistogramMetric[] = []
  private readonly temporality: AggregationTemporality
  private readonly resource: Resource
  private lastCollection = now()

  constructor(temporality: 'cumulative' | 'delta', resource: Resource) {
    this.resource = resource
    this.temporality = temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE
  }

  add(descriptor: HistogramDescriptor): HistogramMetric {
    const metric = new HistogramMetric(descriptor)
    this.metrics.push(metric)
    return metric
  }

  async collect(): Promise<CollectionResult> {
    const endTime = now()
    const delta = this.temporality === AggregationTemporality.DELTA
    const metrics: MetricData[] = []
    for (const metric of this.metrics) {
      if (metric.series.size === 0) continue
      const dataPoints: DataPoint<Histogram>[] = []
      for (const series of metric.series.values()) {
        const value = delta ? series.value : copyOf(series.value)
        dataPoints.push({ attributes: series.attributes, startTime: delta ? this.lastCollection : series.startTime, endTime, value })
      }
      if (delta) metric.series.clear()
      const { name, description, unit } = metric.descriptor
      metrics.push({
        descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
        aggregationTemporality: this.temporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints,
      })
    }
    this.lastCollection = endTime
    return { resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: { name: 'netlens' }, metrics }] }, errors: [] }
  }
}

/** The index of the first boundary ≥ value (buckets are upper-inclusive), as the SDK and the OTel spec place it. */
function upperBoundIndex(boundaries: readonly number[], value: number): number {
  let low = 0
  let high = boundaries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (boundaries[middle]! < value) low = middle + 1
    else high = middle
  }
  return low
}

/** A cumulative point is exported while the series keeps counting: the exporter gets a snapshot. */
function copyOf(value: Series['value']): Series['value'] {
  return { ...value, buckets: { boundaries: value.buckets.boundaries, counts: [...value.buckets.counts] } }
}

function now(): HrTime {
  const ms = performance.timeOrigin + performance.now()
  const seconds = Math.floor(ms / 1000)
  return [seconds, Math.floor((ms - seconds * 1000) * 1e6)]
}
