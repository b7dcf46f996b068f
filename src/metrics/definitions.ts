// The one table of metrics netlens produces. Exporters build instruments from it and the metric reference
// (docs/metrics.md) is rendered from it, so code and docs cannot drift.
import type { AnyRecord, Attributes, DnsRecord, FlowRecord, HttpRecord } from '../records.ts'
import { dnsAttributes, flowAttributes, httpAttributes } from './attributes.ts'
import { DNS_BUCKETS_SECONDS, HTTP_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './buckets.ts'

export type InstrumentKind = 'counter' | 'histogram' | 'gauge'
/** Record kinds that produce metrics; `dns.answer` feeds the rdns processor only. */
export type MeasuredKind = 'flow' | 'dns' | 'http'

export interface Measurement {
  value: number
  attributes: Attributes
}

export interface MetricDefinition<K extends MeasuredKind = MeasuredKind> {
  name: string
  instrument: InstrumentKind
  /** UCUM unit: `By`, `s`, `{connection}`. */
  unit: string
  description: string
  source: K
  /** Attributes kept by default, besides the enrichment in `record.attributes`. */
  attributes: readonly string[]
  /** Attributes produced but dropped unless an exporter's `metrics` selection names them. */
  optionalAttributes: readonly string[]
  /** Explicit histogram bucket boundaries. */
  buckets?: readonly number[]
  /** What a record contributes: zero or more values with their attributes (all of them, optional included). */
  measure(record: Extract<AnyRecord, { kind: K }>): Measurement[]
}

export type AnyMetricDefinition = MetricDefinition<'flow'> | MetricDefinition<'dns'> | MetricDefinition<'http'>

const FLOW_ATTRIBUTES = [
  'source.address',
  'source.port',
  'destination.address',
  'destination.port',
  'network.transport',
  'network.type',
  'flow.direction',
  'process.pid',
  'process.executable.name',
] as const

const DNS_ATTRIBUTES = [
  'dns.response_code',
  'dns.question.type',
  'server.address',
  'server.port',
  'network.transport',
  'network.type',
] as const

const HTTP_ATTRIBUTES = [
  'http.request.method',
  'http.response.status_code',
  'network.protocol.version',
  'server.address',
  'server.port',
] as const

/**
 * A counter of one flow field; TCP-only fields yield nothing for UDP, and a zero adds no series. Anything else
 * non-zero (even NaN or negative) is passed on, so the exporter counts it as a drop instead of hiding it.
 */
function flowCounter(field: 'established' | 'closed' | 'retransmits', tcpOnly: boolean) {
  return (record: FlowRecord): Measurement[] => {
    if (tcpOnly && record.transport !== 'tcp') return []
    const value = record[field]
    return value !== 0 ? [{ value, attributes: flowAttributes(record) }] : []
  }
}

/** One value per request the record stands for, all sharing one attributes object (built once per record). */
function httpDuration(side: HttpRecord['side']) {
  return (record: HttpRecord): Measurement[] => {
    if (record.side !== side) return []
    const attributes = httpAttributes(record)
    return record.durationsSeconds.map((value) => ({ value, attributes }))
  }
}

export const METRICS: readonly AnyMetricDefinition[] = [
  {
    name: 'netflow.bytes',
    instrument: 'counter',
    unit: 'By',
    description: 'Payload bytes sent (transmit) and received (receive) by local sockets, per flow.',
    source: 'flow',
    attributes: ['network.io.direction', ...FLOW_ATTRIBUTES],
    optionalAttributes: [],
    measure: (record) => {
      const out: Measurement[] = []
      const base = flowAttributes(record)
      if (record.bytesSent !== 0) out.push({ value: record.bytesSent, attributes: { ...base, 'network.io.direction': 'transmit' } })
      if (record.bytesReceived !== 0) {
        out.push({ value: record.bytesReceived, attributes: { ...base, 'network.io.direction': 'receive' } })
      }
      return out
    },
  },
  {
    name: 'netflow.tcp.connections.established',
    instrument: 'counter',
    unit: '{connection}',
    description: 'TCP connections established (connect or accept completed).',
    source: 'flow',
    attributes: FLOW_ATTRIBUTES,
    optionalAttributes: [],
    measure: flowCounter('established', true),
  },
  {
    name: 'netflow.tcp.connections.closed',
    instrument: 'counter',
    unit: '{connection}',
    description: 'TCP connections closed.',
    source: 'flow',
    attributes: FLOW_ATTRIBUTES,
    optionalAttributes: [],
    measure: flowCounter('closed', true),
  },
  {
    name: 'netflow.tcp.retransmits',
    instrument: 'counter',
    unit: '{segment}',
    description: 'TCP segments retransmitted by the local side.',
    source: 'flow',
    attributes: FLOW_ATTRIBUTES,
    optionalAttributes: [],
    measure: flowCounter('retransmits', true),
  },
  {
    name: 'netflow.tcp.rtt',
    instrument: 'histogram',
    unit: 's',
    description: 'Smoothed TCP round-trip time, sampled once per flow and interval.',
    source: 'flow',
    attributes: FLOW_ATTRIBUTES,
    optionalAttributes: [],
    buckets: RTT_BUCKETS_SECONDS,
    measure: (record) =>
      record.transport === 'tcp' && record.rttUs !== undefined
        ? [{ value: record.rttUs / 1e6, attributes: flowAttributes(record) }]
        : [],
  },
  {
    name: 'dnsflow.requests',
    instrument: 'counter',
    unit: '{request}',
    description: 'DNS queries seen, by response code (`timeout` when no answer came).',
    source: 'dns',
    attributes: DNS_ATTRIBUTES,
    optionalAttributes: ['dns.question.name'],
    measure: (record: DnsRecord) => [{ value: 1, attributes: dnsAttributes(record) }],
  },
  {
    name: 'dnsflow.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'DNS response time from kernel timestamps of query and response; answered queries only.',
    source: 'dns',
    attributes: DNS_ATTRIBUTES,
    optionalAttributes: ['dns.question.name'],
    buckets: DNS_BUCKETS_SECONDS,
    measure: (record: DnsRecord) =>
      record.durationSeconds === undefined ? [] : [{ value: record.durationSeconds, attributes: dnsAttributes(record) }],
  },
  {
    name: 'http.client.request.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'HTTP requests made by local clients: request start to first response byte.',
    source: 'http',
    attributes: HTTP_ATTRIBUTES,
    optionalAttributes: ['url.path'],
    buckets: HTTP_BUCKETS_SECONDS,
    measure: httpDuration('client'),
  },
  {
    name: 'http.server.request.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'HTTP requests served by local servers: request start to first response byte.',
    source: 'http',
    attributes: HTTP_ATTRIBUTES,
    optionalAttributes: ['url.path'],
    buckets: HTTP_BUCKETS_SECONDS,
    measure: httpDuration('server'),
  },
]

/** The measurements one definition takes from a record; nothing when the record is of another kind. */
export function measure(definition: AnyMetricDefinition, record: AnyRecord): Measurement[] {
  if (record.kind !== definition.source) return []
  return (definition.measure as (record: AnyRecord) => Measurement[])(record)
}

export function findMetric(name: string): AnyMetricDefinition | undefined {
  return METRICS.find((m) => m.name === name)
}

/** Descriptions of every attribute a definition may carry, for the generated reference. */
export const ATTRIBUTE_DOCS: Readonly<Record<string, string>> = {
  'network.io.direction': '`transmit` (bytes sent) or `receive` (bytes received).',
  'source.address': 'Flow initiator (client) address.',
  'source.port': 'Client port; omitted when the receiver collapsed an ephemeral port (port 0).',
  'destination.address': 'Flow responder (server) address.',
  'destination.port': 'Server port.',
  'network.transport': '`tcp` or `udp`.',
  'network.type': '`ipv4` or `ipv6`.',
  'flow.direction': '`outgoing` (a local socket connected), `incoming` (accepted) or `unknown`.',
  'process.pid': 'Owner of the local socket; omitted when unknown.',
  'process.executable.name': 'Process name (comm) of the local socket owner; omitted when unknown.',
  'dns.response_code': 'Response code name (`NOERROR`, `NXDOMAIN`, `SERVFAIL`, ...) or `timeout`.',
  'dns.question.type': 'Record type asked (`A`, `AAAA`, ...).',
  'dns.question.name': 'Name asked. High cardinality: off by default.',
  'server.address': 'DNS or HTTP server address.',
  'server.port': 'DNS or HTTP server port.',
  'http.request.method': 'Request method (`GET`, `POST`, ...).',
  'http.response.status_code': 'Response status code.',
  'network.protocol.version': 'HTTP version (`1.1`, `2`).',
  'url.path': 'Request path, capped by the receiver. High cardinality: off by default.',
}
