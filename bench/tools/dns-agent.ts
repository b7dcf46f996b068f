// The set-up the DNS agent benches share: knotd serving NAMES names in a test namespace, a dnsperf query file, an
// OTLP/gRPC endpoint, and the real agent (`netlens run`) capturing the queries with the dns receiver and exporting
// over OTLP: the issue's configuration. Its own telemetry is read from the last OTLP export, or, for a bench that
// makes the OTLP endpoint fail, from a Prometheus endpoint the agent then also serves.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent, type RunningAgent } from '../../test/helpers/agent.ts'
import { freePort } from '../../test/helpers/collector.ts'
import { startKnot, type KnotServer } from '../../test/helpers/knot.ts'
import { createTestHost, type TestHost } from '../../test/helpers/netns.ts'
import { openFds } from '../../test/helpers/proc.ts'
import { OtlpTestServer } from '../../test/helpers/otlp-server.ts'

const PORT = 5353
const ZONE = 'bench.test'
const NAMES = 200

export interface DnsBench {
  agent: RunningAgent
  otlp: OtlpTestServer
  /** dnsperf at `qps` for `seconds`; resolves with its completed queries once it exits. */
  dnsperf(qps: number, seconds: number): { process: ChildProcess; completed: Promise<number> }
  /** The agent's own telemetry, summed per metric name (dots as underscores) and label set, Prometheus-style. */
  scrape(): Promise<Map<string, number>>
  /** Open file descriptors of the agent. */
  fds(): number
  /** dnsflow.requests summed over its series, in the last export the OTLP endpoint received. */
  dnsflowTotal(): number
  stop(): Promise<void>
}

export async function startDnsBench(name: string, options: { prometheus?: boolean } = {}): Promise<DnsBench> {
  const workdir = mkdtempSync(join(tmpdir(), `netlens-${name}-`))
  const queries = join(workdir, 'queries.txt')
  writeFileSync(queries, Array.from({ length: NAMES }, (_, i) => `host${i}.${ZONE} A`).join('\n') + '\n')
  const server: TestHost = createTestHost()
  let knot: KnotServer | undefined
  let otlp: OtlpTestServer | undefined
  try {
    knot = await startKnot({ host: server, port: PORT, zone: ZONE, records: Array.from({ length: NAMES }, (_, i) => `host${i} IN A 198.18.200.${i}`) })
    otlp = await OtlpTestServer.start()
    const promPort = options.prometheus ? await freePort() : 0
    const agent = await startAgent(`
receivers:
  dns: { ports: [${PORT}], timeout: 2s }
exporters:
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 1s, timeout: 1s }
  ${promPort ? `prometheus: { endpoint: "127.0.0.1:${promPort}" }` : ''}
service:
  pipelines:
    dnsflow: { receivers: [dns], exporters: [otlp${promPort ? ', prometheus' : ''}] }
  telemetry:
    health_check: { endpoint: "" }
`, /dns receiver started/)
    const endpoint = otlp
    return {
      agent,
      otlp: endpoint,
      dnsperf(qps, seconds) {
        const child = spawn('dnsperf', ['-s', server.ipv4, '-p', String(PORT), '-d', queries, '-l', String(seconds), '-Q', String(qps), '-c', '4', '-t', '1'],
          { stdio: ['ignore', 'pipe', 'ignore'] })
        let output = ''
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
        const completed = once(child, 'exit').then(() => Number(/Queries completed:\s+(\d+)/.exec(output)?.[1]))
        return { process: child, completed }
      },
      async scrape() {
        if (!promPort) return lastExportValues(endpoint)
        const text = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text()
        const values = new Map<string, number>()
        for (const line of text.split('\n')) {
          const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line)
          if (!match) continue
          const labels = (match[2] ?? '').replace(/,?otel_scope_name="[^"]*"/, '').replace('{,', '{').replace(/^\{\}$/, '')
          values.set(match[1]! + labels, (values.get(match[1]! + labels) ?? 0) + Number(match[3]))
        }
        return values
      },
      fds: () => openFds(agent.process.pid!),
      dnsflowTotal: () => endpoint.metricsNamed('dnsflow.requests').at(-1)?.points.reduce((sum, p) => sum + (p.value ?? 0), 0) ?? 0,
      async stop() {
        await agent.stop()
        agent.destroy()
        await endpoint.stop()
        await knot?.stop()
        server.destroy()
        rmSync(workdir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await otlp?.stop()
    await knot?.stop()
    server.destroy()
    rmSync(workdir, { recursive: true, force: true })
    throw error
  }
}

/** The values of the last export that carried the agent's own telemetry, keyed as scrape() keys them. */
function lastExportValues(otlp: OtlpTestServer): Map<string, number> {
  const values = new Map<string, number>()
  const last = otlp.exports.findLast((e) => e.metrics.some((m) => m.name === 'process.cpu.time'))
  for (const metric of last?.metrics ?? []) {
    for (const point of metric.points) {
      const labels = Object.entries(point.attributes).map(([k, v]) => `${k.replaceAll('.', '_')}="${String(v)}"`).join(',')
      const key = metric.name.replaceAll('.', '_') + (labels ? `{${labels}}` : '')
      values.set(key, (values.get(key) ?? 0) + (point.value ?? 0))
    }
  }
  return values
}
