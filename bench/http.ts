// http receiver overhead and completeness: wrk against nginx (`return 200`) in a test namespace, requests/s with
// netlens off, with plaintext capture only, and with the default configuration (capture + OpenSSL uprobes, whose
// syscall tracepoints see every read/write on the machine), then HTTPS with uprobes off vs on. Each run also
// compares netlens's record count with wrk's: wrk counts completed responses, so netlens may exceed it by the
// requests in flight when wrk stopped (at most one per connection) and never fall short.
//   node bench/http.ts [seconds per measurement, default 5] [connections, default 32]
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { HttpConfig } from '../src/receivers/http/config.ts'
import { httpReceiverFactory } from '../src/receivers/http/factory.ts'
import type { HttpRecord } from '../src/records.ts'
import type { SelfCounter } from '../src/telemetry/self.ts'
import { configOf, testHost, testSettings } from '../test/helpers/components.ts'
import { createTestHost } from '../test/helpers/netns.ts'
import { cpuSeconds } from '../test/helpers/proc.ts'
import { startNginx } from '../test/helpers/nginx.ts'

const seconds = Number(process.argv[2] ?? 5)
const connections = Number(process.argv[3] ?? 32)
const PORT = 18_080
const TLS_PORT = 18_443
const run = promisify(execFile)

async function wrk(url: string): Promise<{ requests: number; perSecond: number }> {
  const { stdout } = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, url])
  return { requests: Number(/(\d+) requests in/.exec(stdout)![1]), perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]) }
}

const host = createTestHost()
const nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
const plain = `http://${host.ipv4}:${PORT}/ok`
const tls = `https://${host.ipv4}:${TLS_PORT}/ok`

async function withReceiver(section: Record<string, unknown>, url: string) {
  const settings = testSettings('http/bench')
  let records = 0
  const receiver = httpReceiverFactory.create(settings, configOf(httpReceiverFactory, { ports: [PORT], ...section }), {
    consume: (batch) => { records += (batch.records as HttpRecord[]).filter((r) => r.destination.address === host.ipv4).length },
  })
  await receiver.start(testHost)
  const cpu = cpuSeconds('self')
  const result = await wrk(url)
  const cpuPercent = ((cpuSeconds('self') - cpu) / seconds) * 100
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await receiver.shutdown()
  const dropped = settings.telemetry.get('netlens.records.dropped') as SelfCounter
  const drops = dropped.points().map((p) => `${p.attributes.reason}=${p.value}`).join(' ') || 'none'
  return { ...result, records, cpuPercent, drops }
}

try {
  const rows: string[] = []
  type Measured = { perSecond: number; requests: number; records?: number; cpuPercent?: number; drops?: string }
  const line = (label: string, r: Measured) => {
    let text = `${label.padEnd(38)} ${r.perSecond.toFixed(0).padStart(8)} req/s  wrk ${String(r.requests).padStart(8)}`
    if (r.records !== undefined) {
      text += `  netlens ${String(r.records).padStart(8)} (${r.records - r.requests >= 0 ? '+' : ''}${r.records - r.requests})`
      text += `  netlens cpu ${r.cpuPercent!.toFixed(0)}%  drops: ${r.drops}`
    }
    rows.push(text)
  }
  const off = await wrk(plain)
  line('http  netlens off', off)
  const captureOnly = await withReceiver({ tls: { enabled: false } }, plain)
  line('http  netlens on (capture only)', captureOnly)
  const defaults = await withReceiver({}, plain)
  line('http  netlens on (default, +uprobes)', defaults)
  const tlsOff = await wrk(tls)
  line('https netlens off', tlsOff)
  const tlsOn = await withReceiver({}, tls)
  line('https netlens on (uprobes; client+server records)', tlsOn)
  console.log(`wrk -t2 -c${connections} -d${seconds}s → nginx (1 worker) in a namespace, netlens in the root namespace`)
  for (const row of rows) console.log(row)
} finally {
  await nginx.stop()
  host.destroy()
}
