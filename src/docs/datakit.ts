// How Datakit's eBPF data sets (netflow, dnsflow, httpflow tags and fields) map onto netlens's OpenTelemetry
// metrics and attributes. Rendered into docs/metrics.md; renderDatakitMapping() checks every metric and attribute
// named here against the metric definitions, so a rename in code breaks generation instead of leaving stale docs.
import { findMetric, METRICS } from '../metrics/definitions.ts'

export type DataSet = 'shared tags' | 'netflow' | 'dnsflow' | 'httpflow'

export interface DatakitMapping {
  set: DataSet
  /** The Datakit tag or field. */
  datakit: string
  /** Metrics carrying it; checked against the definitions. Empty: every metric of the data set. */
  metrics?: readonly string[]
  /** The OTel attribute carrying it; checked against the definitions of `metrics` (or of any metric). */
  attribute?: string
  /** How it is expressed when it is not a plain attribute (resource, enrichment, value of a metric, nothing). */
  note: string
}

const HTTP_METRICS = ['http.client.request.duration', 'http.server.request.duration'] as const

export const DATAKIT_MAPPING: readonly DatakitMapping[] = [
  { set: 'shared tags', datakit: 'src_ip', attribute: 'source.address', note: 'flows: the client side.' },
  { set: 'shared tags', datakit: 'dst_ip', attribute: 'destination.address', note: 'flows; DNS and HTTP use `server.address`.' },
  { set: 'shared tags', datakit: 'src_port', attribute: 'source.port', note: 'omitted when the ephemeral port is collapsed.' },
  { set: 'shared tags', datakit: 'dst_port', attribute: 'destination.port', note: 'flows; DNS and HTTP use `server.port`.' },
  { set: 'shared tags', datakit: 'transport', attribute: 'network.transport', note: '`tcp` / `udp`.' },
  { set: 'shared tags', datakit: 'family', attribute: 'network.type', note: '`ipv4` / `ipv6` (Datakit: `IPv4` / `IPv6`).' },
  { set: 'shared tags', datakit: 'direction', attribute: 'flow.direction', note: '`incoming` / `outgoing`, from accept vs connect.' },
  { set: 'shared tags', datakit: 'src_ip_type / dst_ip_type', note: 'enrichment `source.ip_type` / `destination.ip_type` (iptype processor).' },
  { set: 'shared tags', datakit: 'host', note: 'resource attribute `host.name`.' },
  { set: 'shared tags', datakit: 'source', note: 'the metric name prefix: `netflow.*`, `dnsflow.*`, `http.*`.' },
  { set: 'shared tags', datakit: 'k8s tags', note: 'not produced yet.' },
  { set: 'netflow', datakit: 'pid', metrics: ['netflow.bytes'], attribute: 'process.pid', note: 'on every netflow metric.' },
  { set: 'netflow', datakit: 'dst_domain', note: 'enrichment `destination.domain` (rdns processor, from sniffed DNS answers).' },
  { set: 'netflow', datakit: 'bytes_read', metrics: ['netflow.bytes'], attribute: 'network.io.direction', note: 'value with `network.io.direction=receive`.' },
  { set: 'netflow', datakit: 'bytes_written', metrics: ['netflow.bytes'], attribute: 'network.io.direction', note: 'value with `network.io.direction=transmit`.' },
  { set: 'netflow', datakit: 'retransmits', metrics: ['netflow.tcp.retransmits'], note: 'counter (segments).' },
  { set: 'netflow', datakit: 'rtt', metrics: ['netflow.tcp.rtt'], note: 'histogram in seconds (Datakit: µs).' },
  { set: 'netflow', datakit: 'rtt_var', note: 'not exported.' },
  { set: 'netflow', datakit: 'tcp_established', metrics: ['netflow.tcp.connections.established'], note: 'counter.' },
  { set: 'netflow', datakit: 'tcp_closed', metrics: ['netflow.tcp.connections.closed'], note: 'counter.' },
  { set: 'dnsflow', datakit: 'count', metrics: ['dnsflow.requests'], note: 'counter (a rate over any window).' },
  { set: 'dnsflow', datakit: 'latency', metrics: ['dnsflow.duration'], note: 'histogram in seconds: mean = sum / count.' },
  { set: 'dnsflow', datakit: 'latency_max', metrics: ['dnsflow.duration'], note: 'histogram max (OTLP), or its buckets.' },
  { set: 'dnsflow', datakit: 'rcode', metrics: ['dnsflow.requests'], attribute: 'dns.response_code', note: 'the name (`NXDOMAIN`); Datakit -1 is `timeout`.' },
  { set: 'dnsflow', datakit: 'domain', metrics: ['dnsflow.requests'], attribute: 'dns.question.name', note: 'optional: off by default.' },
  {
    set: 'httpflow', datakit: 'count', metrics: HTTP_METRICS,
    note: 'the histogram count. Records are aggregated as Datakit\'s are: one per connection and series each flush ' +
      'interval, whose `count` is its `durationsSeconds.length`.',
  },
  { set: 'httpflow', datakit: 'latency', metrics: HTTP_METRICS, note: 'histogram in seconds, request start to first response byte.' },
  { set: 'httpflow', datakit: 'method', metrics: HTTP_METRICS, attribute: 'http.request.method', note: '' },
  { set: 'httpflow', datakit: 'path', metrics: HTTP_METRICS, attribute: 'url.path', note: 'optional: off by default.' },
  { set: 'httpflow', datakit: 'status_code', metrics: HTTP_METRICS, attribute: 'http.response.status_code', note: '' },
  { set: 'httpflow', datakit: 'http_version', metrics: HTTP_METRICS, attribute: 'network.protocol.version', note: '' },
  { set: 'httpflow', datakit: 'truncated', note: 'not exported (the path is capped by the receiver).' },
]

function check(row: DatakitMapping): void {
  const definitions = (row.metrics ?? []).map((name) => {
    const definition = findMetric(name)
    if (!definition) throw new Error(`datakit mapping ${row.set}/${row.datakit}: unknown metric ${name}`)
    return definition
  })
  if (row.attribute === undefined) return
  const candidates = definitions.length > 0 ? definitions : METRICS
  const known = candidates.some((d) => d.attributes.includes(row.attribute!) || d.optionalAttributes.includes(row.attribute!))
  if (!known) throw new Error(`datakit mapping ${row.set}/${row.datakit}: no metric carries attribute ${row.attribute}`)
}

function cell(row: DatakitMapping): string {
  const parts = [...(row.metrics ?? []).map((m) => `\`${m}\``), ...(row.attribute ? [`\`${row.attribute}\``] : [])]
  return parts.length > 0 ? parts.join(' · ') : '—'
}

/** The Markdown mapping tables, one per data set; throws when a row names a metric or attribute the code lacks. */
export function renderDatakitMapping(): string {
  const lines = [
    '## Datakit netflow / dnsflow / httpflow mapping',
    '',
    "Users of Datakit's eBPF input know its data sets; this is where each of their tags and fields lives in",
    "netlens's OpenTelemetry metrics. Dots in names become underscores in Prometheus (`netflow.bytes` →",
    '`netflow_bytes_total`).',
    '',
  ]
  for (const set of ['shared tags', 'netflow', 'dnsflow', 'httpflow'] as const) {
    lines.push(`### ${set}`, '', '| Datakit | netlens (metric · attribute) | Notes |', '| --- | --- | --- |')
    for (const row of DATAKIT_MAPPING.filter((r) => r.set === set)) {
      check(row)
      lines.push(`| \`${row.datakit}\` | ${cell(row)} | ${row.note} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}
