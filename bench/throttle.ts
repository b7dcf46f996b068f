// The real agent under DNS load while its collector throttles it: the OTLP endpoint answers every export with
// RESOURCE_EXHAUSTED and a RetryInfo delay for a while, then accepts again. Prints, per phase, the agent's event-loop
// delay (its own nodejs.eventloop.delay.* self-telemetry, scraped from its Prometheus endpoint), the export calls
// the endpoint received against what the delay allows, and at the end netlens's dnsflow total against dnsperf's.
//   node bench/throttle.ts [seconds throttled, default 30] [qps, default 30000] [retry delay ms, default 2000]
import { status } from '@grpc/grpc-js'
import { startDnsBench } from './tools/dns-agent.ts'

const throttledSeconds = Number(process.argv[2] ?? 30)
const qps = Number(process.argv[3] ?? 30_000)
const retryDelayMs = Number(process.argv[4] ?? 2000)
const PHASE_SECONDS = 10
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const bench = await startDnsBench('throttle', { prometheus: true })

/** The phase's worst event-loop delay windows and memory, from scrapes every second. */
async function phase(name: string, seconds: number): Promise<void> {
  const callsBefore = bench.otlp.calls.length
  let p99 = 0
  let max = 0
  let rss = 0
  for (let s = 0; s < seconds; s++) {
    await sleep(1000)
    const values = await bench.scrape()
    p99 = Math.max(p99, values.get('nodejs_eventloop_delay_p99') ?? 0)
    max = Math.max(max, values.get('nodejs_eventloop_delay_max') ?? 0)
    rss = Math.max(rss, values.get('process_memory_usage') ?? 0)
  }
  const calls = bench.otlp.calls.length - callsBefore
  console.log(`  ${name.padEnd(28)} event loop p99 ${(p99 * 1000).toFixed(0).padStart(4)} ms, max ${(max * 1000).toFixed(0).padStart(4)} ms; ` +
    `RSS ${(rss / 2 ** 20).toFixed(0)} MiB; ${calls} export calls in ${seconds} s`)
}

try {
  const totalSeconds = 2 * PHASE_SECONDS + throttledSeconds + PHASE_SECONDS
  const perf = bench.dnsperf(qps, totalSeconds)
  console.log(`dnsperf ${qps} qps for ${totalSeconds} s → knotd (veth); the agent exports every 1 s; RetryInfo delay ${retryDelayMs} ms`)
  await phase('before', PHASE_SECONDS)
  bench.otlp.failWith(status.RESOURCE_EXHAUSTED, 'bench: throttling', retryDelayMs)
  await phase(`throttled (at most ${Math.ceil(throttledSeconds * 1000 / retryDelayMs)} calls)`, throttledSeconds)
  bench.otlp.succeed()
  await phase('recovered', PHASE_SECONDS)
  await phase('load ending', PHASE_SECONDS)
  const completed = await perf.completed
  const deadline = Date.now() + 10_000
  while (bench.dnsflowTotal() < completed && Date.now() < deadline) await sleep(500)
  console.log(`  dnsperf completed ${completed} queries; netlens's exported dnsflow.requests total ${bench.dnsflowTotal()} (timeouts included)`)
} finally {
  await bench.stop()
}
