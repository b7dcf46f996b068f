// Cost of turning records into metrics (the exporters' MetricsBridge: grouping per attribute set, counters through
// sdk-metrics, duration histograms aggregated by netlens), cumulative. dns: dnsflow records with a different question
// name on every record as real traffic has (the default view drops it). http: wrk's keep-alive GETs on 32
// connections as the http receiver hands them on, each record holding `per record` requests of its connection (1:
// a record per request, as before the receiver aggregated).
//   node bench/bridge.ts [requests, default 450000] [dns|http, default dns] [requests per http record, default 64]
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { MetricsBridge } from '../src/exporters/sdk/bridge.ts'
import type { AnyRecord, DnsRecord, HttpRecord } from '../src/records.ts'
import { SelfTelemetry } from '../src/telemetry/self.ts'

const total = Number(process.argv[2] ?? 450_000)
const kind = process.argv[3] ?? 'dns'
if (kind !== 'dns' && kind !== 'http') throw new Error(`unknown kind ${kind}: dns or http`)
const perRecord = kind === 'http' ? Number(process.argv[4] ?? 64) : 1
const BATCH = 2048 // requests per batch: the dns receiver's batch size
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
let reader!: PeriodicExportingMetricReader
const bridge = new MetricsBridge({
  id: 'otlp',
  telemetry: new SelfTelemetry(),
  resource: [],
  selection: { metrics: [], cardinality_limit: 2000 },
  reader: (producers) => (reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000, ...producers })),
  temporality: 'cumulative',
})
const duration = (i: number) => 0.0001 + (i % 100) * 1e-5
const codes = ['NOERROR', 'NOERROR', 'NOERROR', 'NXDOMAIN']
const dns = (i: number): DnsRecord => ({
  kind: 'dns', transport: 'udp', family: 'ipv4',
  client: { address: '10.0.0.2', port: 30_000 + i }, server: { address: '10.255.0.53', port: 53 },
  questionName: `host${i}.svc.cluster.local`, questionType: i % 3 ? 'A' : 'AAAA', responseCode: codes[i % 4]!,
  durationSeconds: duration(i), attributes: {},
})
const server = { address: '198.18.2.2', port: 18080 }
const clients = Array.from({ length: 32 }, (_, i) => ({ address: '198.18.2.1', port: 40_000 + i }))
const attributes = Object.freeze({ 'url.scheme': 'http', 'source.ip_type': 'private', 'destination.ip_type': 'private' })
const http = (i: number): HttpRecord => ({
  kind: 'http', side: 'client', family: 'ipv4', source: clients[i % clients.length]!, destination: server, pid: 0,
  method: 'GET', path: '/ok', pathTruncated: false, statusCode: 200, protocolVersion: '1.1',
  durationsSeconds: Array.from({ length: perRecord }, (_, n) => duration(i + n)), attributes,
})
const batch: AnyRecord[] = Array.from({ length: BATCH / perRecord }, (_, i) => (kind === 'dns' ? dns(i) : http(i)))
const cpu = process.cpuUsage()
const started = process.hrtime.bigint()
let done = 0
for (; done < total; done += BATCH) bridge.consume({ records: batch })
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const { user, system } = process.cpuUsage(cpu)
await reader.forceFlush()
const points = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).length
const what = kind === 'dns' ? 'dns records' : `http requests in ${done / perRecord} records`
const per = kind === 'dns' ? 'record' : 'request'
const cpuSeconds = (user + system) / 1e6
console.log(
  `${done} ${what} in ${seconds.toFixed(2)} s (cpu ${cpuSeconds.toFixed(2)} s): ` +
  `${(seconds / done * 1e6).toFixed(2)} µs/${per} (cpu ${(cpuSeconds / done * 1e6).toFixed(2)}), ${points} metrics exported`,
)
await bridge.shutdown()
