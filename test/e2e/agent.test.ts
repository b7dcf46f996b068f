// The whole path, as a user runs it: `netlens run` with the netflow receiver, a real TCP connection between two
// test hosts, records through the pipeline to the debug console view and to an OTLP/gRPC endpoint this test runs;
// then SIGTERM, and no netlens program left in the kernel.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { startAgent, type RunningAgent } from '../helpers/agent.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import { OtlpTestServer } from '../helpers/otlp-server.ts'
import { exited, printed, runPeer } from '../helpers/peers.ts'

/** Kernel ids of the loaded programs that netlens's objects define. */
function netlensPrograms(): Set<number> {
  const programs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as Array<{ id: number; name?: string }>
  return new Set(programs.filter((p) => p.name?.startsWith('netflow_') || p.name === 'port_filter').map((p) => p.id))
}

describe('netlens run, end to end (real kernel, real OTLP/gRPC endpoint)', function () {
  this.timeout(60_000)
  let client: TestHost
  let server: TestHost
  let otlp: OtlpTestServer
  let agent: RunningAgent | undefined

  before(async () => {
    client = createTestHost()
    server = createTestHost()
    otlp = await OtlpTestServer.start()
  })

  after(async () => {
    agent?.destroy()
    await otlp?.stop()
    client?.destroy()
    server?.destroy()
  })

  it('reports a real TCP connection to the console and over OTLP, then detaches everything on SIGTERM', async () => {
    const before = netlensPrograms()
    agent = await startAgent(`
receivers:
  netflow: { interval: 500ms, udp: false }
exporters:
  debug: { verbosity: normal, interval: 1s }
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 1s }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [debug, otlp] }
  telemetry:
    health_check: { endpoint: "" }
`)
    // Ids, not names: other processes on the machine may load the same programs at the same time.
    const loaded = [...netlensPrograms()].filter((id) => !before.has(id))
    assert.ok(loaded.length > 0, 'the agent loaded its programs')

    const port = 7501
    const serverPeer = runPeer(server, ['tcp-server', server.ipv4, port, 1000, 2000])
    await printed(serverPeer, 'ready')
    const clientPeer = runPeer(client, ['tcp-client', server.ipv4, port, 1000, 2000])
    await Promise.all([exited(clientPeer), exited(serverPeer)])

    const connectionTo = (m: { points: Array<{ attributes: Record<string, unknown> }> }) =>
      m.points.some((p) => p.attributes['destination.address'] === server.ipv4 && p.attributes['destination.port'] === port &&
        p.attributes['flow.direction'] === 'outgoing' && p.attributes['process.pid'] === clientPeer.pid)
    await otlp.waitFor((s) => s.metricsNamed('netflow.tcp.connections.established').some(connectionTo), 'the connection over OTLP')
    const established = otlp.metricsNamed('netflow.tcp.connections.established').filter(connectionTo).at(-1)!
    const point = established.points.find((p) => p.attributes['process.pid'] === clientPeer.pid)!
    assert.equal(point.value, 1)
    assert.equal(established.temporality, 'cumulative')
    assert.equal(point.attributes['process.executable.name'], 'python3')
    assert.equal(point.attributes['network.transport'], 'tcp')
    assert.ok(otlp.exports.some((e) => e.resource['service.name'] === 'netlens'), 'resource names the service')
    assert.ok(otlp.exports.some((e) => e.metrics.some((m) => m.name === 'netlens.records.received')), 'own telemetry rides along')

    const running = agent
    await new Promise<void>((resolve) => {
      const check = () => (running.stdout().includes(`${server.ipv4}:${port}`) ? resolve() : undefined)
      check()
      running.process.stdout!.on('data', check)
    })
    assert.match(agent.stdout(), /python3/, 'the console view names the process')

    assert.equal(await agent.stop(), 0, agent.stderr())
    const after = netlensPrograms()
    assert.deepEqual(loaded.filter((id) => after.has(id)), [], 'no program of the agent left in the kernel')
  })
})
