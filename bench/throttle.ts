// The real agent under DNS load while its collector throttles it: the OTLP endpoint answers every export with
// RESOURCE_EXHAUSTED and a RetryInfo delay for a while, then accepts again. Prints, per phase, the agent's event-loop
// delay (its own nodejs.eventloop.delay.* self-telemetry, scraped from its Prometheus endpoint), the export calls
// the endpoint received against what the delay allows, and at the end netlens's dnsflow total against dnsperf's.
//   node bench/throttle.ts [seconds throttled, default 30] [qps, default 30000] [retry delay ms, default 2000]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { startAgent } from '../test/helpers/agent.ts'
import { freePort } from '../test/helpers/collector.ts'
import { startKnot } from '../test/helpers/knot.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { OtlpTestServer } from '../test/helpers/otlp-server.ts'

const throttledSeconds = Number(process.argv[2] ?? 30)
const qps = Number(process.argv[3] ?? 30_000)
const retryDelayMs = Number(process.argv[4] ?? 2000)
const PORT = 5353
const ZONE = 'throttle.test'
const NAMES = 200
const PHASE_SECONDS = 10
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const workdir = mkdtempSync(join(tmpdir(), 'netlens-throttle-'))
const queries = join(workdir, 'queries.txt')
writeFileSync(queries, Array.from({ length: NAMES }, (_, i) => `host${i}.${ZONE} A`).join('\n') + '\n')
const server = createTestHost()
const knot = await startKnot({ host: server, port: PORT, zone: ZONE, records: Array.from({ length: NAMES }, (_, i) => `host${i} IN A 198.18.200.${i}`) })
const otlp = await OtlpTestServer.start()
const promPort = await freePort()
const agent = await startAgent(`
receivers:
  dns: { ports: [${PORT}], timeout: 2s }
exporters:
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 1s, timeout: 1s }
  prometheus: { endpoint: "127.0.0.1:${promPort}" }
service:
  pipelines:
    dnsflow: { receivers: [dns], exporters: [otlp, prometheus] }
  telemetry:
    health_check: { endpoint: "" }
`, /dns receiver started/)

async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text()
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^(nodejs_eventloop_delay_(?:p50|p99|max)|process_memory_usage)(?:\{[^}]*\})? ([\d.e+-]+)/.exec(line)
    if (match) values.set(match[1]!, Number(match[2]))
  }
  return values
}

/** The phase's worst event-loop delay windows, from scrapes every second. */
async function phase(name: string, seconds: number): Promise<void> {
  const callsBefore = otlp.calls.length
  let p99 = 0
  let max = 0
  let rss = 0
  for (let s = 0; s < seconds; s++) {
    await sleep(1000)
    const values = await scrape()
    p99 = Math.max(p99, values.get('nodejs_eventloop_delay_p99') ?? 0)
    max = Math.max(max, values.get('nodejs_eventloop_delay_max') ?? 0)
    rss = Math.max(rss, values.get('process_memory_usage') ?? 0)
  }
  const calls = otlp.calls.length - callsBefore
  console.log(`  ${name.padEnd(28)} event loop p99 ${(p99 * 1000).toFixed(0).padStart(4)} ms, max ${(max * 1000).toFixed(0).padStart(4)} ms; ` +
    `RSS ${(rss / 2 ** 20).toFixed(0)} MiB; ${calls} export calls in ${seconds} s`)
}

const dnsflowTotal = () => otlp.metricsNamed('dnsflow.requests').at(-1)?.points.reduce((sum, p) => sum + (p.value ?? 0), 0) ?? 0

try {
  const totalSeconds = 2 * PHASE_SECONDS + throttledSeconds + PHASE_SECONDS
  const perf = spawn('dnsperf', ['-s', server.ipv4, '-p', String(PORT), '-d', queries, '-l', String(totalSeconds), '-Q', String(qps), '-c', '4', '-t', '1'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const perfExited = once(perf, 'exit')
  let perfOut = ''
  perf.stdout.setEncoding('utf8').on('data', (chunk: string) => { perfOut += chunk })
  console.log(`dnsperf ${qps} qps for ${totalSeconds} s → knotd (veth); the agent exports every 1 s; RetryInfo delay ${retryDelayMs} ms`)
  await phase('before', PHASE_SECONDS)
  otlp.failWith(status.RESOURCE_EXHAUSTED, 'bench: throttling', retryDelayMs)
  await phase(`throttled (at most ${Math.ceil(throttledSeconds * 1000 / retryDelayMs)} calls)`, throttledSeconds)
  otlp.succeed()
  await phase('recovered', PHASE_SECONDS)
  await phase('load ending', PHASE_SECONDS)
  await perfExited
  const completed = Number(/Queries completed:\s+(\d+)/.exec(perfOut)?.[1])
  const deadline = Date.now() + 10_000
  while (dnsflowTotal() < completed && Date.now() < deadline) await sleep(500)
  if (!(completed > 0)) console.log(perfOut)
  console.log(`  dnsperf completed ${completed} queries; netlens's exported dnsflow.requests total ${dnsflowTotal()} (timeouts included)`)
} finally {
  await agent.stop()
  agent.destroy()
  await otlp.stop()
  await knot.stop()
  server.destroy()
  rmSync(workdir, { recursive: true, force: true })
}
