import assert from 'node:assert/strict'
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type Histogram,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { HistogramProducer, type HistogramDescriptor } from '../../../src/exporters/sdk/histograms.ts'
import { OVERFLOW_ATTRIBUTES } from '../../../src/exporters/sdk/series-limit.ts'

const BOUNDARIES = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]
const descriptor = (cardinalityLimit = 100): HistogramDescriptor => ({
  name: 'dnsflow.duration', description: 'd', unit: 's', boundaries: BOUNDARIES, cardinalityLimit,
})
const resource = resourceFromAttributes({})

class ManualReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function points(producer: HistogramProducer) {
  const { resourceMetrics } = await producer.collect()
  const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics) as HistogramMetricData[]
  return metrics.flatMap((m) => m.dataPoints.map((p) => ({ metric: m, attributes: p.attributes, value: p.value, start: p.startTime })))
}

describe('HistogramProducer', () => {
  it('aggregates exactly as the SDK does: buckets (upper-inclusive, boundaries themselves included), sum, count, min, max', async () => {
    const values = [0, 0.001, 0.0010001, 0.005, 0.02, 0.1, 0.7, 1, 1.5, 42, ...Array.from({ length: 500 }, (_, i) => (i * 7919 % 1000) / 700)]
    const reader = new ManualReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
    const provider = new MeterProvider({
      readers: [reader],
      views: [{ instrumentName: 'h', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: BOUNDARIES } } }],
    })
    const sdkHistogram = provider.getMeter('t').createHistogram('h')
    for (const value of values) sdkHistogram.record(value, { a: 1 })
    const sdk = (await reader.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0] as HistogramMetricData
    const expected = sdk.dataPoints[0]!.value

    const producer = new HistogramProducer('cumulative', resource)
    const metric = producer.add(descriptor())
    metric.record({ a: 1 }, values.slice(0, 5))
    metric.record({ a: 1 }, values.slice(5))
    const [point] = await points(producer)
    assert.deepEqual(point!.value, expected as Histogram)
    assert.equal(point!.metric.dataPointType, DataPointType.HISTOGRAM)
    assert.equal(point!.metric.aggregationTemporality, AggregationTemporality.CUMULATIVE)
    assert.deepEqual(point!.metric.descriptor, { name: 'dnsflow.duration', description: 'd', unit: 's', valueType: 1 })
    await provider.shutdown()
  })

  it('cumulative: series keep counting across collections, each collection a snapshot with the same start time', async () => {
    const producer = new HistogramProducer('cumulative', resource)
    const metric = producer.add(descriptor())
    metric.record({ code: 'NOERROR' }, [0.125])
    const first = await points(producer)
    metric.record({ code: 'NOERROR' }, [0.25, 0.5])
    const second = await points(producer)
    assert.equal(first[0]!.value.count, 1, 'the first snapshot is not changed by later values')
    assert.deepEqual([second[0]!.value.count, second[0]!.value.sum, second[0]!.value.max], [3, 0.875, 0.5])
    assert.deepEqual(second[0]!.start, first[0]!.start)
  })

  it('delta: each collection holds what came since the last one; quiet series are left out', async () => {
    const producer = new HistogramProducer('delta', resource)
    const metric = producer.add(descriptor())
    metric.record({ code: 'NOERROR' }, [0.002, 0.004])
    metric.record({ code: 'NXDOMAIN' }, [0.5])
    const first = await points(producer)
    metric.record({ code: 'NOERROR' }, [0.3])
    const second = await points(producer)
    assert.deepEqual(first.map((p) => [p.attributes.code, p.value.count]), [['NOERROR', 2], ['NXDOMAIN', 1]])
    assert.deepEqual(second.map((p) => [p.attributes.code, p.value.count, p.value.min]), [['NOERROR', 1, 0.3]])
    assert.equal(second[0]!.metric.aggregationTemporality, AggregationTemporality.DELTA)
    assert.deepEqual(await points(producer), [], 'nothing new, nothing exported')
  })

  it('sends attribute sets beyond cardinality_limit - 1 to the overflow series, counts kept whole', async () => {
    const producer = new HistogramProducer('cumulative', resource)
    const metric = producer.add(descriptor(3))
    for (const port of [1, 2, 3, 4, 1]) metric.record({ port }, [0.01])
    const collected = await points(producer)
    assert.deepEqual(collected.map((p) => [p.attributes, p.value.count]), [[{ port: 1 }, 2], [{ port: 2 }, 1], [OVERFLOW_ATTRIBUTES, 2]])
  })

  it('exports nothing for a metric that saw no value', async () => {
    const producer = new HistogramProducer('cumulative', resource)
    producer.add(descriptor())
    assert.deepEqual((await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics, [])
  })
})
