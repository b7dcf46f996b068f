// A real authoritative DNS server for tests: knotd (Debian `knot`) serving one zone inside a test namespace,
// with its configuration, zone file, rundir and storage in a temp dir that stop() removes.
import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestHost } from './netns.ts'

export interface KnotServer {
  port: number
  zone: string
  /** knotd's stderr so far, for failure messages. */
  log(): string
  stop(): Promise<void>
}

export interface KnotOptions {
  host: TestHost
  port: number
  /** Zone apex without trailing dot, e.g. `netlens.test`. */
  zone: string
  /** Zone file body after the SOA and NS records (relative owner names). */
  records: string[]
  /**
   * More zones configured without a zone file: knotd 3.2 logs "zone event 'load' failed (not exists)" and answers
   * SERVFAIL for every name in them.
   */
  unloadableZones?: string[]
  /** knotd's largest UDP response (`server.udp-max-payload`, default 1232); larger EDNS answers then fragment. */
  udpMaxPayload?: number
}

function zoneFile(zone: string, records: string[]): string {
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 900 604800 60`,
    `@ IN NS ns.${zone}.`,
    'ns IN A 192.0.2.53',
    ...records,
    '',
  ].join('\n')
}

/** Starts knotd in `host` listening on its IPv4 and IPv6 address at `port`; resolves once it answers. */
export async function startKnot(options: KnotOptions): Promise<KnotServer> {
  const { host, port, zone } = options
  const dir = mkdtempSync(join(tmpdir(), 'netlens-knot-'))
  writeFileSync(join(dir, `${zone}.zone`), zoneFile(zone, options.records))
  const config = join(dir, 'knot.conf')
  writeFileSync(config, [
    'server:',
    `  rundir: "${dir}"`,
    `  listen: [ ${host.ipv4}@${port}, ${host.ipv6}@${port} ]`,
    ...(options.udpMaxPayload ? [`  udp-max-payload: ${options.udpMaxPayload}`] : []),
    'database:',
    `  storage: "${dir}"`,
    'log:',
    '  - target: stderr',
    '    any: info',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    semantic-checks: on',
    'zone:',
    `  - domain: ${zone}.`,
    `    file: "${zone}.zone"`,
    ...(options.unloadableZones ?? []).flatMap((name) => [`  - domain: ${name}.`, `    file: "${name}.zone"`]),
    '',
  ].join('\n'))

  let stderr = ''
  const child: ChildProcess = host.spawn('knotd', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      killer.unref()
      await exited
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  // Ready when it answers the zone's SOA (asked from inside the namespace, before any capture starts).
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`knotd exited with ${child.exitCode}: ${stderr}`)
    }
    try {
      const answer = host.exec('kdig', [`@${host.ipv4}`, '-p', String(port), `${zone}.`, 'SOA', '+short', '+timeout=1', '+retry=0'])
      if (answer.includes(`ns.${zone}.`)) break
    } catch { /* not listening yet */ }
    if (attempt === 50) {
      await stop()
      throw new Error(`knotd did not answer within 50 attempts: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { port, zone, log: () => stderr, stop }
}

/**
 * Runs kdig from the current (root) namespace; returns its output, then its warnings (stderr: "truncated reply
 * ..., retrying over TCP", failures), whatever its exit status. `realtime` runs it SCHED_FIFO, so that on a busy
 * machine its own timing (`;; From ... in X ms`) measures the exchange, not how long it waited for a CPU.
 */
export function kdig(args: string[], options: { realtime?: boolean } = {}): string {
  const [command, argv] = options.realtime ? ['chrt', ['-f', '50', 'kdig', ...args]] : ['kdig', args]
  const run = spawnSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (run.error) throw run.error
  return `${run.stdout}${run.stderr}`
}
