// Ring events → records throughput of the http receiver's kernel-exchange path (kernel-exchanges.ts: event decode,
// request-line parse, endpoints, the record buffer) on one core: wrk's keep-alive GET against nginx's `return 200`
// as the capture filter sends it, one 320-byte event per exchange, round robin over the connections. CPU time per
// request here is what the agent's JS thread spends per exchange the filter read, without the ring reader thread.
//   node bench/http-kernel-exchanges.ts [requests, default 4M] [connections, default 32]
import { KernelExchanges } from '../src/receivers/http/kernel-exchanges.ts'
import { RecordBuffer } from '../src/receivers/http/record-buffer.ts'
import { HttpTelemetry } from '../src/receivers/http/telemetry.ts'
import { testSettings } from '../test/helpers/components.ts'
import { exchangeEvent } from '../test/receivers/http/exchange-events.ts'

const total = Number(process.argv[2] ?? 4_000_000)
const connections = Number(process.argv[3] ?? 32)
const PER_BATCH = 4096 // the ring reader's batch size
const events: Buffer[] = []
for (let i = 0; i < PER_BATCH; i++) {
  events.push(exchangeEvent({
    line: 'GET /ok HTTP/1.1', startNs: 1_000_000 + i * 1000, responseNs: 1_050_000 + i * 1000, clientPort: 40000 + (i % connections),
  }))
}

const telemetry = new HttpTelemetry(testSettings('http/kernel-bench').telemetry, 'http')
const sink = new RecordBuffer(1_000_000, telemetry)
const kernel = new KernelExchanges({ maxPathLength: 150, redactQuery: true }, sink)
let requests = 0
let records = 0
const FLUSH_EVERY = 64 // batches per receiver flush (a flush interval at ~260k exchanges/s)
const started = process.cpuUsage()
const wall = process.hrtime.bigint()
for (let done = 0, batches = 0; done < total; done += PER_BATCH) {
  kernel.handle(events)
  if (++batches % FLUSH_EVERY === 0) {
    for (const r of sink.take()) { records++; requests += r.durationsSeconds.length }
  }
}
for (const r of sink.take()) { records++; requests += r.durationsSeconds.length }
const cpu = process.cpuUsage(started)
const seconds = Number(process.hrtime.bigint() - wall) / 1e9
const cpuUs = (cpu.user + cpu.system) / requests
console.log(`${requests} requests in ${records} records, ${(requests / seconds / 1e3).toFixed(0)}k/s, ${cpuUs.toFixed(2)} µs CPU per request`)
