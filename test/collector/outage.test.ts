// A collector outage of a minute (NETLENS_OUTAGE_SECONDS to change it) under steady real traffic: the real agent
// keeps counting, logs the failure and the recovery once each, stays within bounded memory, and the cumulative
// totals the collector receives after recovery equal the ground truth of the bytes the peers exchanged.
import assert from 'node:assert/strict'
import { startAgent, type RunningAgent } from '../helpers/agent.ts'
import { rssMiB } from '../helpers/proc.ts'
import { TestCollector } from '../helpers/collector.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import { printed, runPeer } from '../helpers/peers.ts'

const OUTAGE_MS = Number(process.env.NETLENS_OUTAGE_SECONDS ?? 60) * 1000
/** Memory the agent may gain over the outage (it holds cumulative state only, nothing queued per export). */
const RSS_GROWTH_LIMIT_MIB = 40

describe('netlens run through a collector outage', function () {
  this.timeout(OUTAGE_MS + 120_000)
  let client: TestHost
  let server: TestHost
  let collector: TestCollector
  let agent: RunningAgent | undefined

  before(async () => {
    collector = await TestCollector.create()
    await collector.start()
    client = createTestHost()
    server = createTestHost()
  })

  after(async () => {
    agent?.destroy()
    client?.destroy()
    server?.destroy()
    await collector?.destroy()
  })

  it(`exports the exact totals after ${OUTAGE_MS / 1000} s without a collector`, async function () {
    agent = await startAgent(`
receivers:
  netflow: { interval: 500ms, udp: false }
exporters:
  otlp: { endpoint: "${collector.grpcEndpoint}", tls: { insecure: true }, interval: 1s, timeout: 500ms }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [otlp] }
  telemetry:
    health_check: { endpoint: "" }
`)
    const pid = agent.process.pid!
    const port = 7503
    // One 1-byte round trip every ~10 ms, from before the outage until after it: the ground truth is the count.
    const pings = Math.ceil((OUTAGE_MS + 15_000) / 10)
    const echo = runPeer(server, ['tcp-echo-server', server.ipv4, port, 0, 0])
    await printed(echo, 'ready')
    const pinger = runPeer(client, ['tcp-pinger', server.ipv4, port, pings, 0])
    const bytes = (direction: 'transmit' | 'receive') => collector.metricsNamed('netflow.bytes').flatMap((m) => m.points)
      .filter((p) => p.attributes['process.pid'] === pinger.pid && p.attributes['network.io.direction'] === direction)
      .map((p) => p.value ?? 0)
    await collector.waitFor(() => bytes('transmit').length > 0, 'the pinger before the outage')

    await collector.stop()
    const rssBefore = rssMiB(pid)
    let rssMax = rssBefore
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssMiB(pid)) }, 1000)
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    clearInterval(sampler)
    await collector.start()

    await printed(pinger, 'paused')
    await collector.waitFor(() => bytes('transmit').at(-1) === pings && bytes('receive').at(-1) === pings,
      `totals of ${pings} bytes each way (last seen ${bytes('transmit').at(-1)} / ${bytes('receive').at(-1)})`)
    pinger.stdin!.end()
    echo.kill()

    const sent = bytes('transmit')
    assert.deepEqual(sent, [...sent].sort((a, b) => a - b), 'cumulative totals never go back')
    const log = agent.stderr()
    assert.equal(log.split('\n').filter((l) => l.includes('otlp: export failing')).length, 1, log)
    assert.equal(log.split('\n').filter((l) => l.includes('otlp: export recovered')).length, 1, log)
    assert.ok(rssMax - rssBefore < RSS_GROWTH_LIMIT_MIB, `RSS ${rssBefore.toFixed(0)} MiB before, ${rssMax.toFixed(0)} MiB at most during the outage`)
    assert.equal(await agent.stop(), 0, agent.stderr())
  })
})
