// OTLP metrics as the tests read them, from either decoder of the wire format: protobufjs objects (the OTLP test
// server, with enums and 64-bit integers as numbers) or the Collector's file exporter JSON (pdata: enums as
// integers, 64-bit integers as strings). Both have the proto's camelCase field names.

export type AttributeValue = string | number | boolean

export interface DataPoint {
  attributes: Record<string, AttributeValue>
  /** Sums and gauges. */
  value?: number
  /** Histograms. */
  count?: number
  sum?: number
  bucketCounts?: number[]
  explicitBounds?: number[]
  startTimeUnixNano: number
  timeUnixNano: number
}

export interface ReceivedMetric {
  name: string
  description: string
  unit: string
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary'
  temporality?: 'delta' | 'cumulative'
  monotonic?: boolean
  points: DataPoint[]
}

type Decoded = Record<string, any>

function anyValue(value: Decoded | undefined): AttributeValue {
  if (!value) return ''
  if ('stringValue' in value) return value.stringValue
  if ('intValue' in value) return Number(value.intValue)
  if ('doubleValue' in value) return value.doubleValue
  if ('boolValue' in value) return value.boolValue
  return JSON.stringify(value)
}

export function attributesOf(list: Decoded[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]))
}

function pointOf(p: Decoded): DataPoint {
  const point: DataPoint = {
    attributes: attributesOf(p.attributes),
    startTimeUnixNano: Number(p.startTimeUnixNano ?? 0),
    timeUnixNano: Number(p.timeUnixNano ?? 0),
  }
  if (p.asDouble !== undefined) point.value = Number(p.asDouble)
  if (p.asInt !== undefined) point.value = Number(p.asInt)
  if (p.count !== undefined) point.count = Number(p.count)
  if (p.sum !== undefined) point.sum = Number(p.sum)
  if (p.bucketCounts) point.bucketCounts = p.bucketCounts.map(Number)
  if (p.explicitBounds) point.explicitBounds = p.explicitBounds.map(Number)
  return point
}

/** AggregationTemporality enum values. */
const TEMPORALITY: Record<number, ReceivedMetric['temporality']> = { 1: 'delta', 2: 'cumulative' }

export function metricOf(m: Decoded, source: string): ReceivedMetric {
  const type = (['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const).find((t) => m[t])
  if (!type) throw new Error(`${source}: metric ${m.name} has no data`)
  const data = m[type] as Decoded
  return {
    name: m.name,
    description: m.description ?? '',
    unit: m.unit ?? '',
    type,
    temporality: TEMPORALITY[Number(data.aggregationTemporality)],
    monotonic: type === 'sum' ? Boolean(data.isMonotonic) : undefined,
    points: ((data.dataPoints ?? []) as Decoded[]).map(pointOf),
  }
}
