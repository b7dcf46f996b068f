// dns receiver under load: dnsperf (root namespace) → knotd (a namespace this script creates) over the veth,
// the receiver capturing in this process. Prints figures, asserts nothing:
//   node bench/dns-load.ts [seconds per step, default 5] [rates, default 10000,25000,50000,75000,100000,0 (0: as fast as it goes)]
// For each rate: dnsperf's sent/completed/lost and qps, netlens's answered/timeout records, every drop reason, and the
// receiver's CPU (process.cpuUsage(), capture thread included) per 100k packets. Then dnsperf's top qps with netlens
// off vs on, and tshark decoding the same traffic (-T fields) beside netlens at the highest lossless rate.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { join } from 'node:path'
import type { DnsConfig } from '../src/receivers/dns/config.ts'
import { dnsReceiverFactory } from '../src/receivers/dns/factory.ts'
import type { DnsRecord } from '../src/records.ts'
import type { SelfCounter } from '../src/telemetry/self.ts'
import { CollectingConsumer, configOf, testHost, testSettings } from '../test/helpers/components.ts'
import { startKnot } from '../test/helpers/knot.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { cpuSeconds } from '../test/helpers/proc.ts'

const seconds = Number(process.argv[2] ?? 5)
const rates = (process.argv[3] ?? '10000,25000,50000,75000,100000,0').split(',').map(Number)
const PORT = 5353
const ZONE = 'load.test'
const NAMES = 1000
const TIMEOUT_MS = 2000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

interface DnsperfResult { sent: number; completed: number; lost: number; qps: number }

async function dnsperf(server: string, file: string, rate: number): Promise<DnsperfResult> {
  const args = ['-s', server, '-p', String(PORT), '-d', file, '-l', String(seconds), '-c', '4', '-q', '500', '-t', '1']
  if (rate > 0) args.push('-Q', String(rate))
  const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.resume()
  const [code] = await once(child, 'exit')
  const field = (label: string) => {
    const match = new RegExp(`${label}:\\s+([\\d.]+)`).exec(out)
    if (!match) throw new Error(`dnsperf exited with ${code}, no "${label}":\n${out}`)
    return Number(match[1])
  }
  return { sent: field('Queries sent'), completed: field('Queries completed'), lost: field('Queries lost'), qps: field('Queries per second') }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

const workdir = mkdtempSync(join(tmpdir(), 'netlens-dns-load-'))
const queries = join(workdir, 'queries.txt')
writeFileSync(queries, Array.from({ length: NAMES }, (_, i) => `host${i}.${ZONE} ${i % 4 === 3 ? 'AAAA' : 'A'}`).join('\n') + '\n')
const server = createTestHost()
const knot = await startKnot({
  host: server, port: PORT, zone: ZONE,
  records: Array.from({ length: NAMES }, (_, i) => [`host${i} IN A 198.18.${100 + (i >> 8)}.${i & 255}`, `host${i} IN AAAA fd00:198:18:99::${i.toString(16)}`]).flat(),
})

const consumer = new CollectingConsumer()
const settings = testSettings('dns/load')
const config = configOf(dnsReceiverFactory, { ports: [PORT], timeout: `${TIMEOUT_MS}ms`, flush_interval: '200ms' })
const dropped = () => {
  const counter = settings.telemetry.get('netlens.records.dropped') as SelfCounter | undefined
  const byReason: Record<string, number> = {}
  for (const point of counter?.points() ?? []) byReason[String(point.attributes.reason)] = point.value
  return byReason
}
const counted = () => {
  let answered = 0
  let timeouts = 0
  for (const batch of consumer.batches) {
    for (const record of batch.records) {
      if (record.kind !== 'dns') continue
      if ((record as DnsRecord).responseCode === 'timeout') timeouts++
      else answered++
    }
  }
  consumer.batches.length = 0
  return { answered, timeouts }
}

interface Step { rate: number; perf: DnsperfResult; answered: number; timeouts: number; drops: Record<string, number>; cpuSeconds: number; maxLoopDelayMs: number }

async function stepWithNetlens(rate: number): Promise<Step> {
  counted()
  const dropsBefore = dropped()
  const cpuBefore = process.cpuUsage()
  // The receiver's flush timer waits behind frame handling: a long delay means records pile up between flushes.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const perf = await dnsperf(server.ipv4, queries, rate)
  loopDelay.disable()
  await sleep(TIMEOUT_MS + 800) // lost queries fall due, and the last batch is flushed
  const cpu = process.cpuUsage(cpuBefore)
  const dropsAfter = dropped()
  const drops: Record<string, number> = {}
  for (const [reason, value] of Object.entries(dropsAfter)) if (value - (dropsBefore[reason] ?? 0) > 0) drops[reason] = value - (dropsBefore[reason] ?? 0)
  return { rate, perf, ...counted(), drops, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxLoopDelayMs: loopDelay.max / 1e6 }
}

/** Reasons that are the agent losing traffic it was given (others: traffic that was never whole DNS). */
const LOSS = ['capture_ring_full', 'capture_queue_full', 'parse_error', 'pending_full', 'buffer_full', 'internal_error', 'tcp_desync', 'unmatched_response', 'duplicate']

async function main() {
  console.log(`dnsperf -> knotd ${server.ipv4}@${PORT} (veth), ${seconds} s per step, ${NAMES} names; load average at start: ${load()}`)
  const off = await dnsperf(server.ipv4, queries, 0)
  console.log(`netlens off: dnsperf ${Math.round(off.qps)} qps (completed ${off.completed}, lost ${off.lost})`)

  const receiver = dnsReceiverFactory.create(settings, config, consumer)
  await receiver.start(testHost)
  const steps: Step[] = []
  try {
    console.log('rate(-Q)  dnsperf qps  sent      completed  lost  | netlens answered  timeouts  equal  loss  cpu/100k pkts  cpu%   loop delay max  drops')
    for (const rate of rates) {
      const step = await stepWithNetlens(rate)
      steps.push(step)
      const packets = 2 * step.answered + step.timeouts
      const loss = LOSS.reduce((sum, reason) => sum + (step.drops[reason] ?? 0), 0)
      console.log([
        String(rate || 'max').padEnd(9), String(Math.round(step.perf.qps)).padEnd(12), String(step.perf.sent).padEnd(9),
        String(step.perf.completed).padEnd(10), String(step.perf.lost).padEnd(5), '|', String(step.answered).padEnd(16),
        // dnsperf's lost queries include sends that failed (never on the wire): netlens's timeouts can be fewer.
        String(step.timeouts).padEnd(9), String(step.answered === step.perf.completed).padEnd(6),
        String(loss).padEnd(5), `${(step.cpuSeconds / (packets / 1e5) * 1000).toFixed(1)} ms`.padEnd(14),
        `${(step.cpuSeconds / (seconds + (TIMEOUT_MS + 800) / 1000) * 100).toFixed(0)}%`.padEnd(6),
        `${step.maxLoopDelayMs.toFixed(0)} ms`.padEnd(15), JSON.stringify(step.drops),
      ].join(' '))
    }
    const lossless = steps.filter((s) => s.answered === s.perf.completed && LOSS.every((r) => !s.drops[r]))
    const best = lossless.reduce<Step | undefined>((top, s) => (!top || s.perf.qps > top.perf.qps ? s : top), undefined)
    const on = steps.find((s) => s.rate === 0)
    if (on) console.log(`netlens on: dnsperf ${Math.round(on.perf.qps)} qps (off: ${Math.round(off.qps)}, ${((on.perf.qps / off.qps - 1) * 100).toFixed(1)} %)`)
    console.log(best ? `highest lossless step: -Q ${best.rate || 'max'} = ${Math.round(best.perf.qps)} qps` : 'no lossless step')
    await besideTshark(best ? best.rate || Math.round(best.perf.qps) : 25_000)
  } finally {
    await receiver.shutdown()
  }
  console.log(`load average at end: ${load()}`)
}

/** tshark decoding the DNS fields of the same traffic, netlens capturing too. */
async function besideTshark(rate: number) {
  const tshark: ChildProcess = spawn('tshark', [
    '-i', server.hostInterface, '-f', `port ${PORT}`, '-l', '-n', '-d', `udp.port==${PORT},dns`,
    '-T', 'fields', '-e', 'dns.qry.name', '-e', 'dns.qry.type', '-e', 'dns.flags.rcode', '-e', 'dns.id',
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let lines = 0
  let stderr = ''
  tshark.stdout!.on('data', (chunk: Buffer) => { for (const byte of chunk) if (byte === 10) lines++ })
  tshark.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  for (let i = 0; i < 100 && !stderr.includes('Capturing on'); i++) await sleep(100)
  await sleep(500)
  const pids = () => [tshark.pid!, ...childrenOf(tshark.pid!)]
  const cpuBefore = pids().map(cpuSeconds).reduce((a, b) => a + b, 0)
  const started = Date.now()
  const step = await stepWithNetlens(rate)
  // tshark may still be decoding its backlog: wait until its output stops growing.
  for (let last = -1; last !== lines;) { last = lines; await sleep(1000) }
  const busySeconds = (Date.now() - started) / 1000
  const cpu = pids().map(cpuSeconds).reduce((a, b) => a + b, 0) - cpuBefore
  tshark.kill('SIGINT')
  await once(tshark, 'exit')
  const packets = 2 * step.perf.completed + step.perf.lost
  console.log(`beside tshark at -Q ${rate}: dnsperf ${Math.round(step.perf.qps)} qps; netlens answered ${step.answered}/${step.perf.completed}, drops ${JSON.stringify(step.drops)}, ` +
    `cpu ${(step.cpuSeconds / (packets / 1e5) * 1000).toFixed(1)} ms/100k pkts`)
  console.log(`  tshark decoded ${lines}/${packets} packets, ${Math.round(lines / busySeconds)} packets/s over ${busySeconds.toFixed(1)} s until done, ` +
    `cpu ${(cpu / (lines / 1e5) * 1000).toFixed(0)} ms/100k pkts (tshark + dumpcap); ${stderr.trim().split('\n').slice(-1)[0]}`)
}

try {
  await main()
} finally {
  await knot.stop()
  server.destroy()
  rmSync(workdir, { recursive: true, force: true })
}
