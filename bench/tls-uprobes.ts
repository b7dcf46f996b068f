// What netlens's OpenSSL uprobes cost a process per libssl call: bench/tools/tls_loop.c runs HTTP/1.1 exchanges
// over TLS in one process (four libssl calls each: SSL_write, SSL_read, SSL_write, SSL_read; no socket I/O), first
// unprobed, then with the http receiver's TLS source probing the exported functions (SSL_read, SSL_write, ...)
// and probing the internal functions they call (the default where found, see src/receivers/http/libssl-probes.ts).
// Runs alternate; the summary gives each mode's median ns per exchange and the added cost per libssl call.
// With kernel.bpf_stats_enabled=1 it also prints the BPF programs' run counts and mean run times.
//   node bench/tls-uprobes.ts [seconds per run, default 3] [rounds, default 3]
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findLibssl } from '../src/receivers/http/libssl.ts'
import { probeTargetsOf, type ProbeTargets } from '../src/receivers/http/libssl-probes.ts'
import { TlsSource } from '../src/receivers/http/tls-source.ts'

const seconds = Number(process.argv[2] ?? 3)
const rounds = Number(process.argv[3] ?? 3)
const root = fileURLToPath(new URL('..', import.meta.url))
mkdirSync(`${root}build/bench`, { recursive: true })
const loop = `${root}build/bench/tls_loop`
execFileSync('gcc', ['-O2', '-o', loop, `${root}bench/tools/tls_loop.c`, '-lssl', '-lcrypto'])
const dir = mkdtempSync(join(tmpdir(), 'netlens-tls-uprobes-'))
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=netlens.test',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
], { stdio: 'ignore' })
const libssl = findLibssl()
if (!libssl) throw new Error('no libssl.so.3 on this system')
const found = probeTargetsOf(libssl)
const bpfStats = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1'

/** Asynchronously: the agent's JS handles the events meanwhile, as it would. */
async function exchangeNs(): Promise<number> {
  const { stdout } = await promisify(execFile)(loop, [join(dir, 'cert.pem'), join(dir, 'key.pem'), String(seconds)], { encoding: 'utf8' })
  return Number(/ns_per_exchange (\d+)/.exec(stdout)![1])
}

type ProgramRuns = Map<string, { runs: number; ns: number }>
function programRuns(ids: number[]): ProgramRuns {
  const runs: ProgramRuns = new Map()
  for (const id of ids) {
    const p = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '--json'], { encoding: 'utf8' })) as {
      name: string; run_cnt?: number; run_time_ns?: number
    }
    const sum = runs.get(p.name) ?? { runs: 0, ns: 0 }
    sum.runs += p.run_cnt ?? 0
    sum.ns += p.run_time_ns ?? 0
    runs.set(p.name, sum)
  }
  return runs
}

async function probed(targets: ProbeTargets): Promise<{ ns: number; events: number; programs: string }> {
  let events = 0
  const source = TlsSource.open(libssl!, () => { events++ }, () => {}, targets)
  try {
    const ids = source.programIds()
    const before = bpfStats ? programRuns(ids) : undefined
    const ns = await exchangeNs()
    let programs = ''
    if (before) {
      programs = [...programRuns(ids)].map(([name, end]) => {
        const runs = end.runs - (before.get(name)?.runs ?? 0)
        const time = end.ns - (before.get(name)?.ns ?? 0)
        return runs > 0 ? `${name} ${runs} runs ${(time / runs).toFixed(0)} ns` : ''
      }).filter(Boolean).join(', ')
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    return { ns, events, programs }
  } finally {
    source.close()
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
try {
  console.log(`tls_loop: in-process TLS 1.3 exchanges, 4 libssl calls each; libssl ${libssl}, internal functions ${
    found.kind === 'internal' ? `at 0x${found.read.toString(16)} (read), 0x${found.write.toString(16)} (write)` : 'not found'}`)
  const modes: Array<[string, ProbeTargets | undefined]> = [['off', undefined], ['exported functions', { kind: 'exported' }]]
  if (found.kind === 'internal') modes.push(['internal functions', found])
  const results = new Map<string, number[]>()
  for (let round = 0; round < rounds; round++) {
    for (const [label, targets] of modes) {
      const run = targets ? await probed(targets) : { ns: await exchangeNs(), events: 0, programs: '' }
      results.set(label, [...(results.get(label) ?? []), run.ns])
      console.log(`${label.padEnd(20)} ${String(run.ns).padStart(7)} ns per exchange${targets ? `  events ${run.events}` : ''}` +
        (run.programs ? `\n${''.padEnd(22)}bpf: ${run.programs}` : ''))
    }
  }
  const off = median(results.get('off')!)
  console.log(`median of ${rounds} rounds:`)
  for (const [label, values] of results) {
    const cost = label === 'off' ? '' : `  +${((median(values) - off) / 4).toFixed(0)} ns per libssl call`
    console.log(`${label.padEnd(20)} ${String(median(values)).padStart(7)} ns per exchange [${Math.min(...values)}–${Math.max(...values)}]${cost}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
