// A real OpenTelemetry Collector for end-to-end tests: build/otelcol/otelcol-netlens (scripts/build-collector.sh,
// run here when needed; cached) with the OTLP receiver on free 127.0.0.1 ports (gRPC and HTTP, optionally TLS)
// and the file exporter writing OTLP JSON into a temp dir. It can be started late (ports are chosen before the
// process runs), stopped and restarted on the same ports; each run writes its own file and all are read back,
// in order, decoded into the same shapes as test/helpers/otlp-server.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { attributesOf, metricOf, type AttributeValue, type ReceivedMetric } from './otlp-metrics.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const COLLECTOR_BINARY = join(ROOT, 'build/otelcol/otelcol-netlens')
const READY = 'Everything is ready'

/** Builds the collector if it is missing or stale (a cold build takes minutes: give the caller's hook time). */
export function ensureCollector(): string {
  execFileSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (!existsSync(COLLECTOR_BINARY)) throw new Error(`collector: ${COLLECTOR_BINARY} was not built`)
  return COLLECTOR_BINARY
}

/** A port free on 127.0.0.1 now (bound then released), for a server that starts later. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export interface CollectorTls {
  certFile: string
  keyFile: string
  /** Mutual TLS: clients must present a certificate this CA signed. */
  clientCaFile?: string
}

/** What one ExportMetricsServiceRequest's ResourceMetrics carried, as the collector decoded it. */
export interface CollectedExport {
  resource: Record<string, AttributeValue>
  scope: string
  metrics: ReceivedMetric[]
}

/* OTLP JSON as pdata writes it: camelCase keys, enums as integers, 64-bit integers as strings. */
type Json = Record<string, any>

function collectorConfig(grpcPort: number, httpPort: number, file: string, tls: CollectorTls | undefined): string {
  const clientCa = tls?.clientCaFile ? `, client_ca_file: "${tls.clientCaFile}"` : ''
  const tlsBlock = tls ? `\n        tls: { cert_file: "${tls.certFile}", key_file: "${tls.keyFile}"${clientCa} }` : ''
  return `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpcPort}${tlsBlock}
      http:
        endpoint: 127.0.0.1:${httpPort}${tlsBlock}
exporters:
  file:
    path: "${file}"
    flush_interval: 100ms
  debug:
    verbosity: basic
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [file, debug]
  telemetry:
    logs: { level: info, encoding: console }
    # No internal metrics server (it would take port 8888, shared by every collector on the machine).
    metrics: { level: none }
`
}

export class TestCollector {
  readonly dir: string
  readonly grpcPort: number
  readonly httpPort: number
  private readonly tls: CollectorTls | undefined
  private process: ChildProcess | undefined
  private runs = 0
  /** Everything the collector processes wrote on stderr, across runs. */
  log = ''

  private constructor(dir: string, grpcPort: number, httpPort: number, tls: CollectorTls | undefined) {
    this.dir = dir
    this.grpcPort = grpcPort
    this.httpPort = httpPort
    this.tls = tls
  }

  /** Chooses ports and a temp dir; start() runs the process (call it later to test a collector that is down). */
  static async create(tls?: CollectorTls): Promise<TestCollector> {
    ensureCollector()
    const dir = mkdtempSync(join(tmpdir(), 'netlens-otelcol-'))
    return new TestCollector(dir, await freePort(), await freePort(), tls)
  }

  /** gRPC endpoint for the `otlp` exporter. */
  get grpcEndpoint(): string {
    return `127.0.0.1:${this.grpcPort}`
  }

  /** Base URL for the `otlphttp` exporter. */
  get httpEndpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`
  }

  get running(): boolean {
    return this.process !== undefined
  }

  /** Runs the collector; resolves once it says it is ready, rejects if it exits first. */
  async start(): Promise<void> {
    if (this.process) return
    this.runs++
    const file = join(this.dir, `metrics-${this.runs}.json`)
    const config = join(this.dir, `config-${this.runs}.yaml`)
    writeFileSync(config, collectorConfig(this.grpcPort, this.httpPort, file, this.tls))
    const child = spawn(COLLECTOR_BINARY, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.process = child
    child.stderr!.setEncoding('utf8')
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      const onData = (text: string) => {
        seen += text
        this.log += text
        if (seen.includes(READY)) resolve()
      }
      child.stderr!.on('data', onData)
      child.once('exit', (code, signal) => {
        if (this.process === child) this.process = undefined
        reject(new Error(`collector exited (${code ?? signal}) before it was ready:\n${seen}`))
      })
    })
  }

  /** SIGTERM and wait: the collector drains its pipeline and the file exporter flushes before exiting. */
  async stop(): Promise<void> {
    const child = this.process
    if (!child) return
    this.process = undefined
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }

  /** Stops the collector and removes its files. */
  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Every ResourceMetrics the collector wrote, oldest first, across runs. */
  exports(): CollectedExport[] {
    const out: CollectedExport[] = []
    for (let run = 1; run <= this.runs; run++) {
      const file = join(this.dir, `metrics-${run}.json`)
      if (!existsSync(file)) continue
      // A line still being written has no newline yet: only complete lines are decoded.
      const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1)
      for (const line of lines.filter((l) => l.trim() !== '')) {
        for (const rm of (JSON.parse(line) as Json).resourceMetrics ?? []) {
          for (const sm of (rm.scopeMetrics ?? []) as Json[]) {
            out.push({
              resource: attributesOf(rm.resource?.attributes),
              scope: sm.scope?.name ?? '',
              metrics: ((sm.metrics ?? []) as Json[]).map((m) => metricOf(m, 'collector')),
            })
          }
        }
      }
    }
    return out
  }

  /** Metrics with this name, oldest first. */
  metricsNamed(name: string): ReceivedMetric[] {
    return this.exports().flatMap((e) => e.metrics.filter((m) => m.name === name))
  }

  /** Resolves when `predicate` holds; polls the files without asserting on timing. */
  async waitFor(predicate: (collector: TestCollector) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this)) {
      if (Date.now() > deadline) {
        throw new Error(`collector: timed out waiting for ${what} (${this.exports().length} exports written)\n${this.log.slice(-2000)}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}
