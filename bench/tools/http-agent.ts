// nginx in a test namespace and the http receiver watching it, until SIGINT/SIGTERM: a target for wrk, perf,
// vmstat or `node --cpu-prof --cpu-prof-interval 4000` while one load runs (bench/http.ts measures; this profiles).
//   node bench/tools/http-agent.ts [off|capture|default]   → prints the URLs, then `ready`
//   wrk -t2 -c32 -d10s <url>; kill -INT <pid>                → prints the request and record counts and the drops
import type { PacketCapture } from '../../src/capture/packet-capture.ts'
import { httpReceiverFactory } from '../../src/receivers/http/factory.ts'
import type { HttpRecord } from '../../src/records.ts'
import type { SelfCounter } from '../../src/telemetry/self.ts'
import { configOf, testHost, testSettings } from '../../test/helpers/components.ts'
import { createTestHost } from '../../test/helpers/netns.ts'
import { startNginx } from '../../test/helpers/nginx.ts'

const mode = process.argv[2] ?? 'default'
if (!['off', 'capture', 'default'].includes(mode)) throw new Error(`unknown mode ${mode}: off, capture or default`)
const PORT = 18_080
const TLS_PORT = 18_443

const host = createTestHost()
const nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
const settings = testSettings('http/agent')
let records = 0
let requests = 0
const receiver = mode === 'off' ? undefined : httpReceiverFactory.create(
  settings,
  configOf(httpReceiverFactory, { ports: [PORT], ...(mode === 'capture' ? { tls: { enabled: false } } : {}) }),
  {
    consume: (batch) => {
      for (const r of batch.records as HttpRecord[]) {
        if (r.destination.address !== host.ipv4) continue
        records++
        requests += r.durationsSeconds.length
      }
    },
  },
)
await receiver?.start(testHost)
console.log(`http://${host.ipv4}:${PORT}/ok https://${host.ipv4}:${TLS_PORT}/ok pid ${process.pid}`)
console.log('ready')

const keepAlive = setInterval(() => {}, 1 << 30)
let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(keepAlive)
  try {
    // The capture filter's counters (a peek at the receiver's private capture, for this tool only).
    const filter = (receiver as unknown as { capture?: PacketCapture } | undefined)?.capture?.stats().filter
    if (filter) console.log(`filter: matched ${filter.matched}, payload skipped ${filter.payloadSkipped}, bare ACKs ${filter.tcpNoPayload}`)
    await receiver?.shutdown()
    const byReason = (name: string) => (settings.telemetry.get(name) as SelfCounter | undefined)
      ?.points().map((p) => `${p.attributes.reason}=${p.value}`).join(' ') || 'none'
    console.log(`requests ${requests} in ${records} records  drops: ${byReason('netlens.records.dropped')}  parse errors: ${byReason('netlens.http.parse_errors')}`)
  } finally {
    await nginx.stop()
    host.destroy()
  }
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
