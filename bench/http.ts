// http receiver overhead and completeness: wrk against nginx (`return 200`) in a test namespace, requests/s with
// netlens off, with plaintext capture only, and with the default configuration (capture + OpenSSL uprobes and
// their socket tracepoints), then HTTPS with uprobes off vs on. Each run also compares netlens's request count with
// wrk's: wrk counts completed responses, so netlens may exceed it by the requests in flight when wrk stopped (at
// most one per connection) and never fall short.
//   node bench/http.ts [seconds per measurement, default 5] [connections, default 32] [modes] [rounds, default 1]
// modes: a comma-separated subset of off,capture,packets,default,agent,https-off,https (all by default); `capture`
// has the filter read simple exchanges itself (kernel_exchanges, the default), `packets` decodes every exchange
// from its frames in user space. With several rounds
// the modes alternate (off, capture, ..., off, capture, ...) so that a change in the machine's load hits them
// alike; the summary gives each mode's median and range, and the cost against the median of `off` (or
// `https-off`). `agent` runs the netlens binary instead, with the httpflow pipeline of the default configuration
// (bench/http-agent.yaml: capture, iptype, an SDK exporter), and reads its count back from the exported metric: the
// cost as deployed, where the other modes measure the receiver alone. With kernel.bpf_stats_enabled=1 each
// receiver run also prints run count and mean time of the receiver's BPF programs (bpftool), and the agent's CPU
// is split into the JS thread and the others (native threads).
import { execFile, execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { httpReceiverFactory } from '../src/receivers/http/factory.ts'
import type { HttpRecord } from '../src/records.ts'
import type { SelfCounter } from '../src/telemetry/self.ts'
import { configOf, testHost, testSettings } from '../test/helpers/components.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { startNginx } from '../test/helpers/nginx.ts'
import { cpuSeconds } from '../test/helpers/proc.ts'
import { startAgent } from '../test/helpers/agent.ts'

const seconds = Number(process.argv[2] ?? 5)
const connections = Number(process.argv[3] ?? 32)
const MODES = ['off', 'capture', 'packets', 'default', 'agent', 'https-off', 'https'] as const
type Mode = (typeof MODES)[number]
const modes = (process.argv[4] ? process.argv[4].split(',') : [...MODES]) as Mode[]
for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}: one of ${MODES.join(',')}`)
const rounds = Number(process.argv[5] ?? 1)
const PORT = 18_080
const TLS_PORT = 18_443
const run = promisify(execFile)

async function wrk(url: string): Promise<{ requests: number; perSecond: number }> {
  const { stdout } = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, url])
  return { requests: Number(/(\d+) requests in/.exec(stdout)![1]), perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]) }
}

/** CPU seconds of this process's JS thread (the main thread) and of all its other threads. */
function threadCpu(): { js: number; other: number } {
  let js = 0
  let other = 0
  for (const tid of readdirSync('/proc/self/task')) {
    let fields: string[]
    try {
      fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    } catch {
      continue // the thread ended
    }
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100
    if (Number(tid) === process.pid) js += cpu
    else other += cpu
  }
  return { js, other }
}

const bpfStatsEnabled = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1'
type ProgramStats = Map<number, { name: string; runs: number; ns: number }>

function bpfPrograms(): ProgramStats {
  const programs: ProgramStats = new Map()
  const list = JSON.parse(execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8' })) as Array<{
    id: number; name?: string; run_cnt?: number; run_time_ns?: number
  }>
  for (const p of list) programs.set(p.id, { name: p.name ?? '?', runs: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 })
  return programs
}

const host = createTestHost()
const nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
const plain = `http://${host.ipv4}:${PORT}/ok`
const tls = `https://${host.ipv4}:${TLS_PORT}/ok`

interface Measured {
  perSecond: number
  requests: number
  /** Requests netlens counted: the durations its records hold, or the histograms' count the agent exported. */
  counted?: number
  cpuPercent?: number
  jsPercent?: number
  drops?: string
  programs?: string
}

async function withReceiver(section: Record<string, unknown>, url: string): Promise<Measured> {
  const settings = testSettings('http/bench')
  let counted = 0
  const receiver = httpReceiverFactory.create(settings, configOf(httpReceiverFactory, { ports: [PORT], ...section }), {
    consume: (batch) => {
      for (const r of batch.records as HttpRecord[]) if (r.destination.address === host.ipv4) counted += r.durationsSeconds.length
    },
  })
  const before = bpfStatsEnabled ? bpfPrograms() : undefined
  await receiver.start(testHost)
  // Ours: the programs loaded by start() (other processes may load theirs meanwhile, rarely).
  const loaded = bpfStatsEnabled ? bpfPrograms() : undefined
  const cpu = threadCpu()
  const result = await wrk(url)
  const after = threadCpu()
  const measured = bpfStatsEnabled ? bpfPrograms() : undefined
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await receiver.shutdown()
  const dropped = settings.telemetry.get('netlens.records.dropped') as SelfCounter
  const kernel = settings.telemetry.get('netlens.http.kernel_exchanges') as SelfCounter
  const kernelEvents = kernel.points().map((p) => `${p.attributes.event}=${p.value}`).join(' ')
  const drops = (dropped.points().map((p) => `${p.attributes.reason}=${p.value}`).join(' ') || 'none') +
    (kernelEvents ? `  kernel: ${kernelEvents}` : '')
  let programs: string | undefined
  if (before && loaded && measured) {
    const byName = new Map<string, { runs: number; ns: number }>()
    for (const [id, start] of loaded) {
      const end = measured.get(id)
      if (before.has(id) || !end) continue
      const sum = byName.get(start.name) ?? { runs: 0, ns: 0 }
      sum.runs += end.runs - start.runs
      sum.ns += end.ns - start.ns
      byName.set(start.name, sum)
    }
    programs = [...byName].map(([name, s]) => {
      const perRequest = (s.runs / result.requests).toFixed(2)
      return `${name} ${perRequest}/req ${s.runs ? (s.ns / s.runs).toFixed(0) : 0} ns (${((s.ns / 1e9 / seconds) * 100).toFixed(1)}% cpu)`
    }).join(', ')
  }
  return {
    ...result, counted, drops, programs,
    cpuPercent: ((after.js + after.other - cpu.js - cpu.other) / seconds) * 100,
    jsPercent: ((after.js - cpu.js) / seconds) * 100,
  }
}

const AGENT_METRICS = 'http://127.0.0.1:19464/metrics'

/** Sum of a Prometheus text exposition's samples named `name` whose labels include `labels` (`a="b"` text). */
function sampleSum(exposition: string, name: string, labels = ''): number {
  let sum = 0
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

async function withAgent(url: string): Promise<Measured> {
  process.env.NETLENS_BENCH_PORT = String(PORT)
  const agent = await startAgent(readFileSync(new URL('http-agent.yaml', import.meta.url), 'utf8'), /http receiver started/)
  try {
    const cpu = cpuSeconds(agent.process.pid!)
    const result = await wrk(url)
    const used = cpuSeconds(agent.process.pid!) - cpu
    await new Promise((resolve) => setTimeout(resolve, 1500)) // the receiver's flush_interval, and some
    const exposition = await (await fetch(AGENT_METRICS)).text()
    // wrk runs in the agent's namespace: its exchanges are client side.
    const counted = ['client', 'server']
      .reduce((sum, side) => sum + sampleSum(exposition, `http_${side}_request_duration_count`, `server_address="${host.ipv4}"`), 0)
    const drops = exposition.split('\n').filter((l) => l.startsWith('netlens_records_dropped_total{') && !l.endsWith(' 0'))
      .map((l) => `${/reason="([^"]+)"/.exec(l)?.[1]}=${l.slice(l.lastIndexOf(' ') + 1)}`).join(' ') || 'none'
    return { ...result, counted, drops, cpuPercent: (used / seconds) * 100 }
  } finally {
    await agent.stop()
    agent.destroy()
  }
}

const LABELS: Record<Mode, string> = {
  off: 'http  netlens off',
  capture: 'http  netlens on (capture only)',
  packets: 'http  netlens on (capture, no kernel exchanges)',
  default: 'http  netlens on (default, +uprobes)',
  agent: 'http  netlens agent (capture, iptype, exporter)',
  'https-off': 'https netlens off',
  https: 'https netlens on (uprobes; client+server records)',
}

function measure(mode: Mode): Promise<Measured> {
  switch (mode) {
    case 'off': return wrk(plain)
    case 'capture': return withReceiver({ tls: { enabled: false } }, plain)
    case 'packets': return withReceiver({ tls: { enabled: false }, kernel_exchanges: false }, plain)
    case 'default': return withReceiver({}, plain)
    case 'agent': return withAgent(plain)
    case 'https-off': return wrk(tls)
    case 'https': return withReceiver({}, tls)
  }
}

function line(label: string, r: Measured): string {
  let text = `${label.padEnd(50)} ${r.perSecond.toFixed(0).padStart(7)} req/s  wrk ${String(r.requests).padStart(8)}`
  if (r.counted !== undefined) {
    text += `  netlens ${String(r.counted).padStart(8)} (${r.counted - r.requests >= 0 ? '+' : ''}${r.counted - r.requests})`
    const js = r.jsPercent === undefined ? '' : ` (js ${r.jsPercent.toFixed(0)}%)`
    text += `  netlens cpu ${r.cpuPercent!.toFixed(0)}%${js}  drops: ${r.drops}`
  }
  if (r.programs) text += `\n${''.padEnd(52)}bpf: ${r.programs}`
  return text
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

try {
  console.log(`wrk -t2 -c${connections} -d${seconds}s → nginx (1 worker) in a namespace, netlens in the root namespace`)
  const results = new Map<Mode, number[]>()
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const measured = await measure(mode)
      console.log(line(LABELS[mode], measured))
      results.set(mode, [...(results.get(mode) ?? []), measured.perSecond])
    }
  }
  if (rounds > 1) {
    console.log(`median of ${rounds} rounds [range]:`)
    for (const [mode, values] of results) {
      const baseline = results.get(mode === 'https' ? 'https-off' : 'off')
      const cost = baseline && mode !== 'off' && mode !== 'https-off'
        ? `  ${((median(values) / median(baseline) - 1) * 100).toFixed(1)} %` : ''
      console.log(`${LABELS[mode].padEnd(50)} ${median(values).toFixed(0).padStart(7)} req/s [${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}]${cost}`)
    }
  }
} finally {
  await nginx.stop()
  host.destroy()
}
