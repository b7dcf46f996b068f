// A flood of distinct UDP 5-tuples (default 1M: 16 sockets × 62.5k destination ports × 2 address families... as
// many as asked) through the real agent: the kernel flow map stays at its size and counts what does not fit
// (flow_map_full), the agent's memory stays bounded, and the series the OTLP endpoint receives stop at the
// exporter's cardinality_limit plus OTel's overflow series. Prints samples every 5 s and the totals.
//   node bench/flows-explosion.ts [tuples, default 1000000]
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent } from '../test/helpers/agent.ts'
import { rssMiB } from '../test/helpers/proc.ts'
import { freePort } from '../test/helpers/collector.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { OtlpTestServer } from '../test/helpers/otlp-server.ts'

const tuples = Number(process.argv[2] ?? 1_000_000)
const SOCKETS = 16
const MAX_FLOWS = 65_536
const CARDINALITY_LIMIT = 2000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const sender = createTestHost()
const otlp = await OtlpTestServer.start()
const promPort = await freePort()
const agent = await startAgent(`
receivers:
  netflow: { interval: 1s, max_flows: ${MAX_FLOWS}, idle_timeout: 5s }
exporters:
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 2s, cardinality_limit: ${CARDINALITY_LIMIT} }
  prometheus: { endpoint: "127.0.0.1:${promPort}" }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [otlp, prometheus] }
  telemetry:
    health_check: { endpoint: "" }
`)

/** Sums of the agent's own counters, from its Prometheus endpoint. */
async function selfCounters(): Promise<{ mapFull: number; tracked: number }> {
  const text = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text()
  const sum = (pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l)).reduce((s, l) => s + Number(l.split(' ').at(-1)), 0)
  return {
    mapFull: sum(/^netlens_records_dropped_total\{[^}]*reason="flow_map_full"/),
    tracked: sum(/^netlens_netflow_tracked_entries\{/),
  }
}

try {
  // Python in the sender's namespace: 16 sockets (16 source ports) × distinct destination ports, to the root
  // namespace's address on the link (nothing listens: the kernel answers ICMP, which netflow does not count).
  const script = join(tmpdir(), 'netlens-flows-explosion.py')
  writeFileSync(script, [
    'import socket, sys',
    `sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(${SOCKETS})]`,
    `for n in range(${tuples}):`,
    `    sockets[n % ${SOCKETS}].sendto(b"x", ("${sender.gatewayIpv4}", 1024 + (n // ${SOCKETS}) % 64000))`,
  ].join('\n'))
  const started = Date.now()
  const child = sender.spawn('python3', [script], { stdio: 'ignore' })
  const done = new Promise((resolve) => child.once('exit', resolve))
  let finished = false
  void done.then(() => { finished = true })
  console.log(`${tuples} distinct UDP 5-tuples from ${SOCKETS} sockets; max_flows ${MAX_FLOWS}, cardinality_limit ${CARDINALITY_LIMIT}`)
  console.log('  s     agent RSS MiB  tracked entries  flow_map_full drops')
  let rssMax = 0
  while (!finished || Date.now() - started < 20_000) {
    await sleep(5000)
    const rss = rssMiB(agent.process.pid!)
    rssMax = Math.max(rssMax, rss)
    const { mapFull, tracked } = await selfCounters()
    console.log(`  ${String(Math.round((Date.now() - started) / 1000)).padEnd(5)} ${rss.toFixed(0).padStart(13)}  ${String(tracked).padStart(15)}  ${String(mapFull).padStart(19)}`)
  }
  await sleep(3000)
  const bytes = otlp.metricsNamed('netflow.bytes').at(-1)
  const series = new Set(bytes?.points.map((p) => JSON.stringify(p.attributes)) ?? []).size
  const overflow = bytes?.points.some((p) => p.attributes['otel.metric.overflow'] === true) ?? false
  console.log(`  netflow.bytes series in the last export: ${series} (cardinality_limit ${CARDINALITY_LIMIT}; overflow series present: ${overflow})`)
  console.log(`  agent RSS at most ${rssMax.toFixed(0)} MiB`)
} finally {
  await agent.stop()
  agent.destroy()
  await otlp.stop()
  sender.destroy()
}
