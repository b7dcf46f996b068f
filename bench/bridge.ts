// Cost per record of turning dnsflow records into metrics (the exporters' MetricsBridge: grouping per attribute
// set, the counter through sdk-metrics, the duration histogram aggregated by netlens), cumulative, with a
// different question name on every record as real traffic has (the default view drops it).
//   node bench/bridge.ts [records, default 450000]
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { MetricsBridge } from '../src/exporters/sdk/bridge.ts'
import type { DnsRecord } from '../src/records.ts'
import { SelfTelemetry } from '../src/telemetry/self.ts'

const total = Number(process.argv[2] ?? 450_000)
const BATCH = 2048 // the dns receiver's batch size
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
const codes = ['NOERROR', 'NOERROR', 'NOERROR', 'NXDOMAIN']
const batch: DnsRecord[] = Array.from({ length: BATCH }, (_, i) => ({
  kind: 'dns', transport: 'udp', family: 'ipv4',
  client: { address: '10.0.0.2', port: 30_000 + i }, server: { address: '10.255.0.53', port: 53 },
  questionName: `host${i}.svc.cluster.local`, questionType: i % 3 ? 'A' : 'AAAA', responseCode: codes[i % 4]!,
  durationSeconds: 0.0001 + (i % 100) * 1e-5, attributes: {},
}))
const cpu = process.cpuUsage()
const started = process.hrtime.bigint()
for (let n = 0; n < total; n += BATCH) bridge.consume({ records: batch })
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const { user, system } = process.cpuUsage(cpu)
await reader.forceFlush()
const points = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).length
console.log(`${total} records in ${seconds.toFixed(2)} s (cpu ${((user + system) / 1e6).toFixed(2)} s): ${(seconds / total * 1e6).toFixed(2)} µs/record, ${points} metrics exported`)
await bridge.shutdown()
