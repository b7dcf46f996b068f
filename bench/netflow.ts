// netflow overhead, agent off vs on in one run, plus the cost of harvesting 100k live flows.
//   node bench/netflow.ts [seconds per measurement, default 5]
// Traffic runs between two network namespaces this script creates (veth through the root namespace).
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { createSocket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '../test/helpers/netns.ts'
import { startNetflow } from '../test/receivers/netflow/harness.ts'

const seconds = Number(process.argv[2] ?? 5)
const root = fileURLToPath(new URL('..', import.meta.url))
const tcpRr = `${root}build/bench/tcp_rr`
mkdirSync(`${root}build/bench`, { recursive: true })
execFileSync('gcc', ['-O2', '-o', tcpRr, `${root}bench/tools/tcp_rr.c`])

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function iperf(client: TestHost, server: TestHost, extra: string[]): number {
  const daemon = server.spawn('iperf3', ['-s', '-1', '-B', server.ipv4], { stdio: 'ignore' })
  execFileSync('sleep', ['0.3'])
  try {
    const out = client.exec('iperf3', ['-c', server.ipv4, '-t', String(seconds), '-J', ...extra])
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9
  } finally {
    daemon.kill()
  }
}

async function requestResponse(client: TestHost, server: TestHost): Promise<number> {
  const daemon = server.spawn(tcpRr, ['server', server.ipv4, '7400'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise((r) => daemon.stdout!.once('data', r))
  try {
    return Number(client.exec(tcpRr, ['client', server.ipv4, '7400', String(seconds)]).trim())
  } finally {
    daemon.kill()
  }
}

async function measure(client: TestHost, server: TestHost) {
  return {
    bulk: iperf(client, server, []),
    small: iperf(client, server, ['-l', '1K']),
    rr: await requestResponse(client, server),
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in clock ticks of 1/100 s
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

async function startAgent() {
  const agent = spawn(`${root}bin/netlens`, ['run', '--config', `${root}bench/netflow.yaml`], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    await sleep(100)
    const ok = await fetch('http://127.0.0.1:13199/').then((r) => r.ok, () => false)
    if (ok) return agent
  }
  agent.kill()
  throw new Error('agent did not become healthy')
}

async function harvestCost(target: TestHost) {
  const { receiver, consumer } = await startNetflow({ interval: '1h', max_flows: 131072, max_sockets: 4096 })
  try {
    receiver.harvest()
    const socket = createSocket('udp4')
    const payload = Buffer.alloc(1)
    for (let port = 1; port <= 100_000; port++) {
      await new Promise<void>((r) => socket.send(payload, (port % 60000) + 1, port <= 60000 ? target.ipv4 : target.gatewayIpv4, () => r()))
    }
    socket.close()
    const started = process.hrtime.bigint()
    receiver.harvest()
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    return { ms, records: consumer.records.length }
  } finally {
    await receiver.shutdown()
  }
}

const client = createTestHost()
const server = createTestHost()
try {
  const off = await measure(client, server)
  const agent = await startAgent()
  const cpuBefore = cpuSeconds(agent.pid!)
  const wallBefore = Date.now()
  const on = await measure(client, server)
  const agentCpu = (cpuSeconds(agent.pid!) - cpuBefore) / ((Date.now() - wallBefore) / 1000)
  const rss = rssMiB(agent.pid!)
  agent.kill('SIGTERM')
  const harvest = await harvestCost(server)
  const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)} %`
  console.log(`netflow overhead, ${seconds} s per measurement, veth between two namespaces`)
  console.log(`  iperf3 bulk       off ${off.bulk.toFixed(2)} Gbit/s   on ${on.bulk.toFixed(2)} Gbit/s   ${pct(off.bulk, on.bulk)}`)
  console.log(`  iperf3 -l 1K      off ${off.small.toFixed(2)} Gbit/s   on ${on.small.toFixed(2)} Gbit/s   ${pct(off.small, on.small)}`)
  console.log(`  1-byte TCP RR     off ${off.rr.toFixed(0)} /s   on ${on.rr.toFixed(0)} /s   ${pct(off.rr, on.rr)}`)
  console.log(`  agent             ${(agentCpu * 100).toFixed(1)} % of one core during the load, RSS ${rss.toFixed(0)} MiB`)
  console.log(`  harvest of 100k live flows: ${harvest.ms.toFixed(1)} ms (${harvest.records} records)`)
} finally {
  client.destroy()
  server.destroy()
}
