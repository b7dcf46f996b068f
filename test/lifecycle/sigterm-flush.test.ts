// SIGTERM flushes: with harvest and export intervals of an hour, nothing leaves netlens before the signal, so the
// flow that reaches the real OTLP/gRPC server can only have come from the final harvest and flush; and the agent
// exits 0 within the 5 s the shutdown promises.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OtlpTestServer } from '../helpers/otlp-server.ts'
import { AgentProcess } from './agent-process.ts'

/** One loopback TCP connection: `bytes` sent by the client, echoed back, then closed. Returns the server's port. */
async function loopbackExchange(bytes: number): Promise<number> {
  const server = createServer((socket) => socket.pipe(socket))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  let received = 0
  const echoed = new Promise<void>((resolve) => client.on('data', (chunk: Buffer) => { received += chunk.length; if (received >= bytes) resolve() }))
  client.write(Buffer.alloc(bytes, 1))
  await echoed
  client.end()
  await once(client, 'close')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('lifecycle: SIGTERM flushes the last interval (real OTLP/gRPC endpoint)', function () {
  this.timeout(60_000)
  let otlp: OtlpTestServer
  let agent: AgentProcess | undefined
  let dir: string

  before(async () => {
    otlp = await OtlpTestServer.start()
    dir = mkdtempSync(join(tmpdir(), 'netlens-flush-'))
  })

  after(async () => {
    await agent?.stop('SIGKILL')
    await otlp?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('exports the flows of the unfinished interval on SIGTERM and exits 0 within 5 s', async () => {
    const config = join(dir, 'netlens.yaml')
    writeFileSync(config, `
receivers:
  netflow: { interval: 1h, udp: false }
exporters:
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 1h }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [otlp] }
  telemetry:
    health_check: { endpoint: "" }
`)
    agent = new AgentProcess(['run', '--config', config])
    await agent.waitForLog(/started receivers=1/)
    const port = await loopbackExchange(10_000)
    assert.equal(otlp.exports.length, 0, 'nothing exported before the signal')

    const signalled = Date.now()
    const code = await agent.stop('SIGTERM')
    const elapsedMs = Date.now() - signalled
    assert.equal(code, 0, agent.stderr)
    assert.ok(elapsedMs < 5000, `shutdown took ${elapsedMs} ms`)
    console.log(`      SIGTERM to exit, final harvest and export included: ${elapsedMs} ms`)

    // Client and server are both this process: the connection is seen from each side. Cumulative sums: the
    // last export holds the total (the exporter's shutdown may export once more after the flush).
    const established = otlp.metricsNamed('netflow.tcp.connections.established').at(-1)
    assert.ok(established, 'the final export carried the flow metrics')
    const ours = established.points.filter((p) => p.attributes['destination.port'] === port && p.attributes['process.pid'] === process.pid)
    assert.deepEqual(ours.map((p) => [p.attributes['flow.direction'], p.value]).sort(), [['incoming', 1], ['outgoing', 1]])
    agent = undefined
  })
})
