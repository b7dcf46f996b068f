// The real agent end to end: `netlens run` with the netflow receiver sees a TCP connection between two test hosts
// and exports it to a real OpenTelemetry Collector over OTLP/gRPC and OTLP/HTTP at once, and serves it on a
// Prometheus endpoint that this test scrapes; SIGTERM then ends it cleanly.
import assert from 'node:assert/strict'
import { startAgent, type RunningAgent } from '../helpers/agent.ts'
import { freePort, TestCollector } from '../helpers/collector.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import type { ReceivedMetric } from '../helpers/otlp-server.ts'
import { exited, printed, runPeer } from '../helpers/peers.ts'

describe('netlens run → OpenTelemetry Collector (gRPC + HTTP) and Prometheus', function () {
  this.timeout(600_000)
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

  it('exports a real connection through both transports and serves it for scraping', async function () {
    this.timeout(60_000)
    const promPort = await freePort()
    agent = await startAgent(`
receivers:
  netflow: { interval: 500ms, udp: false }
exporters:
  otlp:
    endpoint: "${collector.grpcEndpoint}"
    tls: { insecure: true }
    interval: 1s
    resource: [{ key: netlens.transport, value: grpc }]
  otlphttp:
    endpoint: "${collector.httpEndpoint}"
    interval: 1s
    resource: [{ key: netlens.transport, value: http }]
  prometheus:
    endpoint: "127.0.0.1:${promPort}"
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [otlp, otlphttp, prometheus] }
  telemetry:
    health_check: { endpoint: "" }
`)

    const port = 7502
    const serverPeer = runPeer(server, ['tcp-server', server.ipv4, port, 1000, 2000])
    await printed(serverPeer, 'ready')
    const clientPeer = runPeer(client, ['tcp-client', server.ipv4, port, 1000, 2000])
    await Promise.all([exited(clientPeer), exited(serverPeer)])

    const toServer = (metric: ReceivedMetric) =>
      metric.points.some((p) => p.attributes['destination.address'] === server.ipv4 && p.attributes['destination.port'] === port &&
        p.attributes['process.pid'] === clientPeer.pid)
    const via = (transport: string) => () =>
      collector.exports().some((e) => e.resource['netlens.transport'] === transport &&
        e.metrics.some((m) => m.name === 'netflow.tcp.connections.established' && toServer(m)))
    await collector.waitFor(via('grpc'), 'the connection over OTLP/gRPC')
    await collector.waitFor(via('http'), 'the connection over OTLP/HTTP')
    for (const transport of ['grpc', 'http']) {
      const established = collector.exports()
        .filter((e) => e.resource['netlens.transport'] === transport)
        .flatMap((e) => e.metrics.filter((m) => m.name === 'netflow.tcp.connections.established' && toServer(m)))
        .at(-1)!
      assert.equal(established.temporality, 'cumulative')
      assert.equal(established.unit, '{connection}')
      assert.equal(established.points.find((p) => p.attributes['process.pid'] === clientPeer.pid)?.value, 1, transport)
    }

    const text = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith('netflow_tcp_connections_established_total{') &&
      l.includes(`destination_address="${server.ipv4}"`) && l.includes(`process_pid="${clientPeer.pid}"`))
    assert.ok(line, `scraped series for the connection:\n${text.slice(0, 3000)}`)
    assert.match(line, / 1$/)
    assert.match(text, /netlens_records_received_total\{[^}]*component="prometheus"/)

    assert.equal(await agent.stop(), 0, agent.stderr())
    assert.doesNotMatch(agent.stderr(), /export failing/)
  })
})
