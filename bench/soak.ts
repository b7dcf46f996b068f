// Soak: the real agent (`netlens run`, every receiver) under a steady mix of DNS, HTTP and TCP for a while,
// sampled every interval: RSS, CPU, open fds and every drop counter netlens reports, then the growth per hour.
//   node bench/soak.ts [minutes, default 30] [sample seconds, default 30]
// Traffic stays between the root namespace and one test namespace (knotd and nginx) this script creates.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKnot } from '../test/helpers/knot.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { cpuSeconds, openFds, rssMiB } from '../test/helpers/proc.ts'
import { startNginx } from '../test/helpers/nginx.ts'

const minutes = Number(process.argv[2] ?? 30)
const sampleSeconds = Number(process.argv[3] ?? 30)
const root = fileURLToPath(new URL('..', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function processSample(pid: number) {
  return { cpu: cpuSeconds(pid), rss: rssMiB(pid), fds: openFds(pid) }
}

/** netlens.records.dropped and received from the agent's own Prometheus endpoint, summed by reason. */
async function scrape(port: number): Promise<{ received: number; dropped: Record<string, number> }> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text())
  let received = 0
  const dropped: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const value = Number(line.split(' ').at(-1))
    if (line.startsWith('netlens_records_received')) received += value
    const drop = /^netlens_records_dropped[^{]*\{([^}]*)\}/.exec(line)
    if (drop) {
      const reason = /reason="([^"]*)"/.exec(drop[1]!)?.[1] ?? '?'
      dropped[reason] = (dropped[reason] ?? 0) + value
    }
  }
  return { received, dropped }
}

/** A steady HTTP client: `rate` requests/s, half on one keep-alive connection, half on new connections. */
function httpLoad(host: string, port: number, rate: number): () => void {
  const timer = setInterval(() => {
    for (let i = 0; i < rate / 10; i++) {
      const req = request({ host, port, path: `/files/small.txt?i=${i}`, agent: i % 2 === 0 ? undefined : false }, (res) => res.resume())
      req.on('error', () => {})
      req.end()
    }
  }, 100)
  return () => clearInterval(timer)
}

const server = createTestHost()
const dir = mkdtempSync(join(tmpdir(), 'netlens-soak-'))
const children: ChildProcess[] = []
let stopHttp = () => {}
const knot = await startKnot({ host: server, port: 53, zone: 'soak.test', records: ['www 300 IN A 198.18.200.10'] })
const nginx = await startNginx({ host: server, port: 80, tlsPort: 443 })
try {
  const config = join(dir, 'soak.yaml')
  writeFileSync(config, `
receivers: { netflow: {}, dns: {}, http: {} }
processors: { rdns: {}, iptype: {} }
exporters:
  debug: { verbosity: basic, interval: 60s }
  prometheus: { endpoint: "127.0.0.1:19464" }
service:
  pipelines:
    netflow: { receivers: [netflow], processors: [rdns, iptype], exporters: [debug, prometheus] }
    dnsflow: { receivers: [dns], processors: [rdns], exporters: [debug, prometheus] }
    httpflow: { receivers: [http], exporters: [debug, prometheus] }
  telemetry: { health_check: { endpoint: "" } }
`)
  const agent = spawn(`${root}bin/netlens`, ['run', '--config', config], { stdio: 'ignore' })
  children.push(agent)
  for (let i = 0; i < 100; i++) {
    await sleep(100)
    if (await scrape(19464).then(() => true, () => false)) break
  }
  const queries = join(dir, 'queries')
  writeFileSync(queries, Array.from({ length: 100 }, (_, i) => `n${i}.soak.test A\nwww.soak.test AAAA\n`).join(''))
  children.push(spawn('dnsperf', ['-s', server.ipv4, '-d', queries, '-Q', '2000', '-l', String(minutes * 60 + 5)], { stdio: 'ignore' }))
  stopHttp = httpLoad(server.ipv4, 80, 200)

  console.log(`soak: ${minutes} min of DNS 2000 qps + HTTP 200 req/s (half on new TCP connections), sampled every ${sampleSeconds} s`)
  console.log('  min     rss MiB  cpu %   fds   records (all stages)   drops')
  const samples: Array<{ t: number; rss: number; fds: number }> = []
  let last = processSample(agent.pid!)
  const start = Date.now()
  while (Date.now() - start < minutes * 60_000) {
    await sleep(sampleSeconds * 1000)
    const now = processSample(agent.pid!)
    const { received, dropped } = await scrape(19464)
    const t = (Date.now() - start) / 60_000
    samples.push({ t, rss: now.rss, fds: now.fds })
    const cpu = ((now.cpu - last.cpu) / sampleSeconds) * 100
    console.log(`  ${t.toFixed(1).padStart(5)}  ${now.rss.toFixed(1).padStart(8)}  ${cpu.toFixed(1).padStart(5)}  ${String(now.fds).padStart(4)}  ${String(received).padStart(8)}   ${JSON.stringify(dropped)}`)
    last = now
  }
  // Growth from the second half only: the first minutes fill caches and maps up to their steady size.
  const tail = samples.slice(Math.floor(samples.length / 2))
  const slope = (key: 'rss' | 'fds') => {
    const n = tail.length
    const mt = tail.reduce((a, s) => a + s.t, 0) / n
    const mv = tail.reduce((a, s) => a + s[key], 0) / n
    const num = tail.reduce((a, s) => a + (s.t - mt) * (s[key] - mv), 0)
    const den = tail.reduce((a, s) => a + (s.t - mt) ** 2, 0)
    return den === 0 ? 0 : (num / den) * 60
  }
  console.log(`  growth per hour over the second half: RSS ${slope('rss').toFixed(1)} MiB, fds ${slope('fds').toFixed(1)}`)
} finally {
  stopHttp()
  for (const child of children) child.kill('SIGTERM')
  await sleep(500)
  await nginx.stop()
  await knot.stop()
  server.destroy()
  rmSync(dir, { recursive: true, force: true })
}
