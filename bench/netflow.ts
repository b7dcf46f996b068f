// netflow overhead, agent off vs on in one run, plus the cost of harvesting 100k live flows.
//   node bench/netflow.ts [seconds per measurement, default 5] [rounds, default 3] [hooks, default auto]
//                         [harvests of the 100k live flows, default 3]
// 0 rounds: the harvest only; 0 harvests: the loads only.
// `hooks` is the receiver's setting, or several separated by commas (`tp_btf,classic`): each round then measures
// the agent on each of them in turn, for a comparison under the same conditions.
// Traffic runs over the loopback of a network namespace this script creates. Between two namespaces (veth through
// the root namespace) TCP on this 2-CPU VM sees its segments reordered: a sender transmits from its own CPU and
// from the CPU where ACKs arrive, and each CPU's backlog feeds the next hop in parallel. Measured with no agent,
// 3 s runs: 45k-70k fast retransmits in bulk, and `-l 1K` at 0.65-4.23 Gbit/s from one run to the next.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { createSocket } from 'node:dgram'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '../test/helpers/netns.ts'
import { cpuSeconds, rssMiB } from '../test/helpers/proc.ts'
import { startNetflow } from '../test/receivers/netflow/harness.ts'

const seconds = Number(process.argv[2] ?? 5)
const hookSettings = (process.argv[4] ?? 'auto').split(',')
const harvests = Number(process.argv[5] ?? 3)
const root = fileURLToPath(new URL('..', import.meta.url))
const tcpRr = `${root}build/bench/tcp_rr`
mkdirSync(`${root}build/bench`, { recursive: true })
execFileSync('gcc', ['-O2', '-o', tcpRr, `${root}bench/tools/tcp_rr.c`])

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const LOOPBACK = '127.0.0.1'

function iperf(host: TestHost, extra: string[]): number {
  const daemon = host.spawn('iperf3', ['-s', '-1', '-B', LOOPBACK], { stdio: 'ignore' })
  execFileSync('sleep', ['0.3'])
  try {
    const out = host.exec('iperf3', ['-c', LOOPBACK, '-t', String(seconds), '-J', ...extra])
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9
  } finally {
    daemon.kill()
  }
}

async function requestResponse(host: TestHost): Promise<number> {
  const daemon = host.spawn(tcpRr, ['server', LOOPBACK, '7400'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise((r) => daemon.stdout!.once('data', r))
  try {
    return Number(host.exec(tcpRr, ['client', LOOPBACK, '7400', String(seconds)]).trim())
  } finally {
    daemon.kill()
  }
}

/** CPU time all CPUs spent busy so far (/proc/stat: user, nice, system, irq, softirq), seconds. */
function busySeconds(): number {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number)
  return (user! + nice! + system! + irq! + softirq!) / 100
}

/**
 * A load's result, and the time netlens's programs took during it (0 with the agent off): over the CPU time the
 * machine spent busy, what a CPU-bound load (bulk) loses at most; over the wall time, what a load bound by its
 * round trips (ping-pong) loses at most, if every program ran on its critical path.
 */
interface Measured {
  value: number
  programShareOfBusy: number
  programShareOfWall: number
  /** Nanoseconds each program took during the load. */
  programNs: Map<string, number>
}

async function measured(load: () => number | Promise<number>): Promise<Measured> {
  const before = bpfStats()
  const busyBefore = busySeconds()
  const wallBefore = process.hrtime.bigint()
  const value = await load()
  const wall = Number(process.hrtime.bigint() - wallBefore) / 1e9
  const programNs = new Map([...bpfStats()].map(([name, { ns }]) => [name, ns - (before.get(name)?.ns ?? 0)]))
  const programs = [...programNs.values()].reduce((sum, ns) => sum + ns, 0) / 1e9
  return { value, programShareOfBusy: programs / (busySeconds() - busyBefore), programShareOfWall: programs / wall, programNs }
}

async function measure(host: TestHost) {
  return {
    bulk: await measured(() => iperf(host, [])),
    small: await measured(() => iperf(host, ['-l', '1K'])),
    rr: await measured(() => requestResponse(host)),
  }
}

/** run_cnt and run_time_ns of netlens's netflow programs (kernel.bpf_stats_enabled must be 1). */
function bpfStats(): Map<string, { runs: number; ns: number }> {
  const programs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as
    Array<{ name?: string; run_cnt?: number; run_time_ns?: number }>
  const stats = new Map<string, { runs: number; ns: number }>()
  for (const p of programs) {
    if (!p.name?.startsWith('netflow_')) continue
    const entry = stats.get(p.name) ?? { runs: 0, ns: 0 }
    entry.runs += p.run_cnt ?? 0
    entry.ns += p.run_time_ns ?? 0
    stats.set(p.name, entry)
  }
  return stats
}

async function startAgent(hooks: string) {
  const agent = spawn(`${root}bin/netlens`, ['run', '--config', `${root}bench/netflow.yaml`], {
    stdio: 'ignore', env: { ...process.env, NETLENS_BENCH_HOOKS: hooks },
  })
  for (let i = 0; i < 100; i++) {
    await sleep(100)
    const ok = await fetch('http://127.0.0.1:13199/').then((r) => r.ok, () => false)
    if (ok) return agent
  }
  agent.kill()
  throw new Error('agent did not become healthy')
}

// 100k UDP peers of one socket, each sending once per round: the first harvest meets them all for the first time,
// the next ones find all of them changed (the steady state of 100k live flows).
async function harvestCost(target: TestHost) {
  const { receiver, consumer } = await startNetflow({ interval: '1h', max_flows: 131072, max_sockets: 4096 })
  const socket = createSocket('udp4')
  const payload = Buffer.alloc(1)
  const sendToAll = async () => {
    for (let port = 1; port <= 100_000; port++) {
      await new Promise<void>((r) => socket.send(payload, (port % 60000) + 1, port <= 60000 ? target.ipv4 : target.gatewayIpv4, () => r()))
    }
  }
  // The records are counted and let go, as an agent's pipeline does once exported: 100k records kept per harvest
  // would grow the heap, and with it the garbage collection, harvest after harvest.
  const timedHarvest = () => {
    const started = process.hrtime.bigint()
    receiver.harvest()
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const records = consumer.batches.reduce((sum, batch) => sum + batch.records.length, 0)
    consumer.batches.length = 0
    return { ms, records }
  }
  // As the receiver's timers harvest: the kernel's copy of the map on a native thread, the event loop's share (its
  // active time, from its utilization) apart from the whole.
  const backgroundHarvest = async () => {
    const utilization = performance.eventLoopUtilization()
    const started = process.hrtime.bigint()
    await receiver.harvestInBackground()
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const eventLoopMs = performance.eventLoopUtilization(utilization).active
    const records = consumer.batches.reduce((sum, batch) => sum + batch.records.length, 0)
    consumer.batches.length = 0
    return { ms, eventLoopMs, records }
  }
  try {
    receiver.harvest()
    await sendToAll()
    const first = timedHarvest()
    const live: number[] = []
    const background: number[] = []
    const eventLoop: number[] = []
    for (let round = 0; round < harvests; round++) {
      await sendToAll()
      const { ms, records } = timedHarvest()
      if (records !== first.records) throw new Error(`harvest reported ${records} records, expected ${first.records}`)
      live.push(ms)
      await sendToAll()
      const inBackground = await backgroundHarvest()
      if (inBackground.records !== first.records) throw new Error(`background harvest reported ${inBackground.records} records, expected ${first.records}`)
      background.push(inBackground.ms)
      eventLoop.push(inBackground.eventLoopMs)
    }
    return { first, live, background, eventLoop }
  } finally {
    socket.close()
    await receiver.shutdown()
  }
}

const rounds = Number(process.argv[3] ?? 3)
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`

/** Which programs the time went to, over all rounds of a load, largest share first. */
function programSplit(loads: Measured[]): string {
  const total = new Map<string, number>()
  for (const { programNs } of loads) for (const [name, ns] of programNs) total.set(name, (total.get(name) ?? 0) + ns)
  const sum = [...total.values()].reduce((a, b) => a + b, 0)
  return [...total].filter(([, ns]) => ns / sum >= 0.01).sort((a, b) => b[1] - a[1])
    .map(([name, ns]) => `${name.replace('netflow_', '')} ${((ns / sum) * 100).toFixed(0)} %`).join(', ')
}

const host = createTestHost()
try {
  // Off and on alternate, and medians are reported: single runs on a small VM vary by more than the overhead.
  const off: Array<Awaited<ReturnType<typeof measure>>> = []
  const on = new Map(hookSettings.map((hooks) => [hooks, {
    load: [] as typeof off, agentCpu: 0, rss: 0, kernelSeconds: 0, kernel: new Map<string, { runs: number; ns: number }>(),
  }]))
  // The kernel's own accounting of time spent in netlens's programs: exact, where throughput is noisy.
  execFileSync('sysctl', ['-qw', 'kernel.bpf_stats_enabled=1'])
  for (let round = 0; round < rounds; round++) {
    off.push(await measure(host))
    for (const [hooks, agentOn] of on) {
      const agent = await startAgent(hooks)
      const cpuBefore = cpuSeconds(agent.pid!)
      const wallBefore = Date.now()
      agentOn.load.push(await measure(host))
      agentOn.kernelSeconds += (Date.now() - wallBefore) / 1000
      for (const [name, { runs, ns }] of bpfStats()) {
        const total = agentOn.kernel.get(name) ?? { runs: 0, ns: 0 }
        agentOn.kernel.set(name, { runs: total.runs + runs, ns: total.ns + ns })
      }
      agentOn.agentCpu = Math.max(agentOn.agentCpu, (cpuSeconds(agent.pid!) - cpuBefore) / ((Date.now() - wallBefore) / 1000))
      agentOn.rss = Math.max(agentOn.rss, rssMiB(agent.pid!))
      agent.kill('SIGTERM')
      await new Promise((r) => agent.once('exit', r))
    }
  }
  execFileSync('sysctl', ['-qw', 'kernel.bpf_stats_enabled=0'])
  const harvest = harvests > 0 ? await harvestCost(host) : undefined
  console.log(`netflow overhead: medians of ${rounds} alternating rounds, ${seconds} s each, loopback of a test namespace`)
  for (const [hooks, { load, agentCpu, rss, kernelSeconds, kernel }] of rounds > 0 ? on : []) {
    // The programs' shares come from the kernel's exact accounting, where the throughput comparison is at the mercy
    // of the VM's noise.
    const line = (name: string, unit: string, scale: number, pick: (m: (typeof off)[number]) => Measured) => {
      const a = off.map((m) => pick(m).value / scale)
      const b = load.map((m) => pick(m).value / scale)
      const change = ((median(b) - median(a)) / median(a)) * 100
      const ofBusy = median(load.map((m) => pick(m).programShareOfBusy)) * 100
      const ofWall = median(load.map((m) => pick(m).programShareOfWall)) * 100
      console.log(`  ${name.padEnd(16)} off ${median(a).toFixed(2)} ${unit} (${spread(a)})   on ${median(b).toFixed(2)} ${unit} (${spread(b)})   ${change.toFixed(1)} %`)
      console.log(`  ${''.padEnd(16)} programs: ${ofBusy.toFixed(2)} % of busy CPU time, ${ofWall.toFixed(2)} % of wall time; ${programSplit(load.map(pick))}`)
    }
    console.log(` hooks: ${hooks}`)
    line('iperf3 bulk', 'Gbit/s', 1, (m) => m.bulk)
    line('iperf3 -l 1K', 'Gbit/s', 1, (m) => m.small)
    line('1-byte TCP RR', 'k/s', 1000, (m) => m.rr)
    console.log(`  agent            at most ${(agentCpu * 100).toFixed(1)} % of one core during the load, RSS at most ${rss.toFixed(0)} MiB`)
    let busyNs = 0
    for (const [name, { runs, ns }] of [...kernel].sort()) {
      busyNs += ns
      if (runs > 0) console.log(`  kernel           ${name.padEnd(27)} ${(ns / runs).toFixed(0).padStart(5)} ns/run  ${(runs / kernelSeconds / 1000).toFixed(0).padStart(6)} k runs/s`)
    }
    console.log(`  kernel           all programs: ${((busyNs / 1e9 / kernelSeconds) * 100).toFixed(2)} % of one core during the load`)
  }
  if (harvest) {
    const list = (values: number[]) => `${values.map((ms) => ms.toFixed(1)).join(', ')} ms (median ${median(values).toFixed(1)})`
    console.log(`  harvest of 100k live flows: ${list(harvest.live)}; ${harvest.first.records} records each; first sight of them: ${harvest.first.ms.toFixed(1)} ms`)
    console.log(`  the same in the background, as the timers harvest: ${list(harvest.eventLoop)} on the event loop, ${list(harvest.background)} in all`)
  }
} finally {
  host.destroy()
}
