// A long DNS flood through the real agent at a steady rate (the 10 minutes at the sustainable rate): every
// minute the agent's RSS, open fds, CPU, event-loop delay and every loss it counts, then dnsperf's completed
// queries against netlens's exported total and the growth per hour of RSS and fds.
//   node bench/dns-flood.ts [minutes, default 10] [qps, default 50000]
import { startDnsBench } from './tools/dns-agent.ts'

const minutes = Number(process.argv[2] ?? 10)
const qps = Number(process.argv[3] ?? 50_000)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const bench = await startDnsBench('dns-flood')
try {
  const perf = bench.dnsperf(qps, minutes * 60)
  console.log(`dnsperf ${qps} qps for ${minutes} min → knotd (veth), the real agent capturing; a sample a minute`)
  console.log('  min  RSS MiB  fds  CPU % (1 min)  loop p99 ms  loop max ms  exported total  drops')
  const started = Date.now()
  const samples: Array<{ minute: number; rss: number; fds: number }> = []
  let cpuBefore = 0
  for (let minute = 1; minute <= minutes; minute++) {
    await sleep(started + minute * 60_000 - Date.now())
    const values = await bench.scrape()
    const cpu = [...values].filter(([key]) => key.startsWith('process_cpu_time')).reduce((sum, [, v]) => sum + v, 0)
    const drops = Object.fromEntries([...values].filter(([key]) => key.startsWith('netlens_records_dropped'))
      .map(([key, v]) => [/reason="([^"]+)"/.exec(key)?.[1] ?? key, v]))
    const sample = { minute, rss: (values.get('process_memory_usage') ?? 0) / 2 ** 20, fds: bench.fds() }
    samples.push(sample)
    console.log(`  ${String(minute).padStart(3)}  ${sample.rss.toFixed(0).padStart(7)}  ${String(sample.fds).padStart(3)}  ` +
      `${((cpu - cpuBefore) / 60 * 100).toFixed(0).padStart(13)}  ${((values.get('nodejs_eventloop_delay_p99') ?? 0) * 1000).toFixed(0).padStart(11)}  ` +
      `${((values.get('nodejs_eventloop_delay_max') ?? 0) * 1000).toFixed(0).padStart(11)}  ${String(bench.dnsflowTotal()).padStart(14)}  ${JSON.stringify(drops)}`)
    cpuBefore = cpu
  }
  const completed = await perf.completed
  const deadline = Date.now() + 15_000
  while (bench.dnsflowTotal() < completed && Date.now() < deadline) await sleep(500)
  console.log(`  dnsperf completed ${completed}; netlens exported ${bench.dnsflowTotal()} (answered and timed out)`)
  // Growth from the second sample on: the first minute includes warm-up (JIT, buffers, the pending-query table).
  const first = samples[1] ?? samples[0]!
  const last = samples.at(-1)!
  const hours = Math.max(1, last.minute - first.minute) / 60
  console.log(`  growth per hour after minute ${first.minute}: RSS ${((last.rss - first.rss) / hours).toFixed(0)} MiB, fds ${((last.fds - first.fds) / hours).toFixed(0)}`)
} finally {
  await bench.stop()
}
