// Cardinality under a flood of names: 1M DNS answers for random subdomains, each followed by a flow to the
// answered address, through rdns → attributes → the otlp exporter (to a real OTLP/gRPC server on loopback).
// Prints heap use as the names pour in (rdns's store is bounded by max_entries, the guard's value set by
// max_values) and the series the collector receives for netflow.bytes: max_values + 1 (the overflow value).
// A second run without the processor guard shows the exporter's own cap (cardinality_limit, OTel overflow series).
//   node --expose-gc bench/cardinality.ts [names]
import { attributesProcessorFactory } from '../src/processors/attributes/factory.ts'
import { rdnsProcessorFactory } from '../src/processors/rdns/factory.ts'
import { otlpExporterFactory } from '../src/exporters/otlp/factory.ts'
import type { Exporter, Processor } from '../src/component/types.ts'
import type { AnyRecord, DnsAnswerRecord, FlowRecord } from '../src/records.ts'
import { configOf, testHost, testSettings } from '../test/helpers/components.ts'
import { OtlpTestServer } from '../test/helpers/otlp-server.ts'

const NAMES = Number(process.argv[2] ?? 1_000_000)
const BATCH = 1000
const MAX_ENTRIES = 10_000
const MAX_VALUES = 1000
const EXPORTER_LIMIT = 2000

const gc = (globalThis as { gc?: () => void }).gc
const heapMiB = () => {
  gc?.()
  return (process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)
}

let seed = 7
const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) & 0x7fffffff)

async function run(guard: boolean): Promise<void> {
  const server = await OtlpTestServer.start()
  const settings = testSettings('bench')
  const rdns = rdnsProcessorFactory.create(settings, configOf(rdnsProcessorFactory, { max_entries: MAX_ENTRIES }))
  const attributes = attributesProcessorFactory.create(settings,
    configOf(attributesProcessorFactory, { max_values: guard ? [`destination.domain=${MAX_VALUES}`] : [] }))
  const exporter: Exporter = otlpExporterFactory.create(settings, configOf(otlpExporterFactory, {
    endpoint: server.endpoint, tls: { insecure: true }, interval: '1h', cardinality_limit: EXPORTER_LIMIT,
    metrics: [{ name: 'netflow.bytes', attributes: ['destination.domain'] }],
  }))
  const processors: Processor[] = [rdns, attributes]
  await exporter.start(testHost)
  for (const p of processors) await p.start(testHost)

  console.log(`\n${guard ? 'with' : 'without'} attributes max_values=${MAX_VALUES}; rdns max_entries=${MAX_ENTRIES}; exporter cardinality_limit=${EXPORTER_LIMIT}`)
  console.log(`  heap before: ${heapMiB()} MiB`)
  let processorNs = 0n
  let exporterNs = 0n
  const started = process.hrtime.bigint()
  for (let done = 0; done < NAMES; done += BATCH) {
    const records: AnyRecord[] = []
    for (let i = 0; i < BATCH; i++) {
      const n = random()
      const address = `198.${18 + (n & 1)}.${(n >> 1) & 255}.${(n >> 9) & 255}`
      const answer: DnsAnswerRecord = {
        kind: 'dns.answer', client: '10.0.0.1', questionName: `r${n.toString(36)}.cdn.example`,
        addresses: [{ address, ttlSeconds: 300 }], attributes: {},
      }
      const flow: FlowRecord = {
        kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing', source: { address: '10.0.0.1', port: 0 },
        destination: { address, port: 443 }, netns: 0, pid: 1, comm: 'bench', bytesSent: 100, bytesReceived: 1000,
        established: 1, closed: 1, retransmits: 0, attributes: {},
      }
      records.push(answer, flow)
    }
    const before = process.hrtime.bigint()
    let batch = { records }
    for (const p of processors) batch = p.process(batch)
    const between = process.hrtime.bigint()
    exporter.consume(batch)
    processorNs += between - before
    exporterNs += process.hrtime.bigint() - between
    if ((done + BATCH) % (NAMES / 4) === 0) console.log(`  after ${done + BATCH} names: heap ${heapMiB()} MiB`)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await exporter.flush?.()
  const last = server.exports.at(-1)
  const bytes = last?.metrics.find((m) => m.name === 'netflow.bytes')
  const series = bytes?.points.length ?? 0
  const overflow = bytes?.points.filter((p) => p.attributes['otel.metric.overflow'] === true).length ?? 0
  const other = bytes?.points.filter((p) => p.attributes['destination.domain'] === '_other').length ?? 0
  console.log(`  ${NAMES} names + ${NAMES} flows in ${seconds.toFixed(2)} s = ${(NAMES / seconds / 1e3).toFixed(0)}k answer+flow pairs/s`)
  console.log(`  of which rdns+attributes ${(Number(processorNs) / 1e9).toFixed(2)} s, exporter consume ${(Number(exporterNs) / 1e9).toFixed(2)} s`)
  console.log(`  netflow.bytes series received: ${series} (domain "_other": ${other}, otel.metric.overflow: ${overflow})`)
  for (const p of processors) await p.shutdown()
  await exporter.shutdown()
  await server.stop()
}

await run(true)
await run(false)
