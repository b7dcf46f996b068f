// netflow against the real kernel: peers in two network namespaces move exact byte counts; the receiver must
// report exactly those bytes, connections, directions and processes, on either set of hooks.
import assert from 'node:assert/strict'
import type { FlowRecord } from '../../../src/records.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { exited, printed, runPeer } from '../../helpers/peers.ts'
import { HOOK_MODES, startNetflow, type NetflowHarness } from './harness.ts'

/** Sums the records of one process (several harvests may split its activity). */
function sumFor(records: FlowRecord[], pid: number) {
  const mine = records.filter((r) => r.pid === pid)
  assert.ok(mine.length > 0, `no flow for pid ${pid}`)
  const total = mine.reduce((a, r) => ({
    bytesSent: a.bytesSent + r.bytesSent, bytesReceived: a.bytesReceived + r.bytesReceived,
    established: a.established + r.established, closed: a.closed + r.closed,
  }), { bytesSent: 0, bytesReceived: 0, established: 0, closed: 0 })
  return { ...total, first: mine[0]! }
}

for (const hooks of HOOK_MODES) describe(`netflow receiver on ${hooks} hooks (real kernel, network namespaces)`, function () {
  let client: TestHost
  let server: TestHost
  let netflow: NetflowHarness

  before(async () => {
    client = createTestHost()
    server = createTestHost()
    netflow = await startNetflow({ interval: '1h', hooks })
    assert.equal(netflow.receiver.hooks, hooks)
    assert.ok(netflow.settings.logs.some((line) => line.includes(`netflow receiver started hooks=${hooks}`)), netflow.settings.logs.join('\n'))
  })

  after(async () => {
    await netflow?.receiver.shutdown()
    client?.destroy()
    server?.destroy()
  })

  const flows = () => netflow.flows()

  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`TCP over ${family}: exact payload bytes, connections, direction and processes`, async () => {
      const sent = 123_457
      const answered = 654_321
      const port = family === 'ipv4' ? 7001 : 7002
      const serverAddress = family === 'ipv4' ? server.ipv4 : server.ipv6
      const clientAddress = family === 'ipv4' ? client.ipv4 : client.ipv6
      netflow.receiver.harvest()
      netflow.consumer.batches.length = 0

      const serverPeer = runPeer(server, ['tcp-server', serverAddress, port, sent, answered])
      await printed(serverPeer, 'ready')
      const clientPeer = runPeer(client, ['tcp-client', serverAddress, port, sent, answered])
      await Promise.all([exited(clientPeer), exited(serverPeer)])
      await new Promise((r) => setTimeout(r, 200)) // the last FIN/ACK exchange after both processes exited
      netflow.receiver.harvest()

      const c = sumFor(flows(), clientPeer.pid!)
      assert.deepEqual([c.bytesSent, c.bytesReceived, c.established, c.closed], [sent, answered, 1, 1])
      assert.equal(c.first.direction, 'outgoing')
      assert.equal(c.first.comm, 'python3')
      assert.equal(c.first.family, family)
      assert.equal(c.first.transport, 'tcp')
      assert.deepEqual(c.first.source, { address: clientAddress, port: 0 })
      assert.deepEqual(c.first.destination, { address: serverAddress, port })

      const s = sumFor(flows(), serverPeer.pid!)
      assert.deepEqual([s.bytesSent, s.bytesReceived, s.established, s.closed], [answered, sent, 1, 1])
      assert.equal(s.first.direction, 'incoming')
      assert.deepEqual(s.first.source, { address: clientAddress, port: 0 })
      assert.deepEqual(s.first.destination, { address: serverAddress, port })
      assert.ok(s.first.rttUs! > 0, 'an RTT sample')
    })

    for (const mode of ['udp-client', 'udp-connected-client'] as const) {
      const kind = mode === 'udp-client' ? 'unconnected' : 'connected'
      it(`UDP over ${family}, ${kind} client: exact bytes and peers`, async () => {
        const sent = 5_500
        const answered = 2_300
        const port = (family === 'ipv4' ? 7003 : 7004) + (mode === 'udp-client' ? 0 : 10)
        const serverAddress = family === 'ipv4' ? server.ipv4 : server.ipv6
        const clientAddress = family === 'ipv4' ? client.ipv4 : client.ipv6
        netflow.receiver.harvest()
        netflow.consumer.batches.length = 0

        const serverPeer = runPeer(server, ['udp-server', serverAddress, port, sent, answered])
        await printed(serverPeer, 'ready')
        const clientPeer = runPeer(client, [mode, serverAddress, port, sent, answered])
        await Promise.all([exited(clientPeer), exited(serverPeer)])
        netflow.receiver.harvest()

        const c = sumFor(flows(), clientPeer.pid!)
        assert.deepEqual([c.bytesSent, c.bytesReceived], [sent, answered])
        assert.equal(c.first.direction, 'outgoing')
        assert.equal(c.first.transport, 'udp')
        assert.deepEqual(c.first.destination, { address: serverAddress, port })
        assert.equal(c.first.source.address, clientAddress)

        const s = sumFor(flows(), serverPeer.pid!)
        assert.deepEqual([s.bytesSent, s.bytesReceived], [answered, sent])
        assert.equal(s.first.direction, 'incoming', 'a bound UDP port is the server side')
        assert.deepEqual(s.first.destination, { address: serverAddress, port })
        assert.equal(s.first.source.address, clientAddress)
      })
    }
  }

  it('harvests in the background as harvest() does, and a harvest() made meanwhile wins: nothing twice', async () => {
    const port = 7005
    netflow.receiver.harvest()
    netflow.consumer.batches.length = 0
    const serverPeer = runPeer(server, ['tcp-server', server.ipv4, port, 1000, 2000])
    await printed(serverPeer, 'ready')
    const clientPeer = runPeer(client, ['tcp-client', server.ipv4, port, 1000, 2000])
    await Promise.all([exited(clientPeer), exited(serverPeer)])
    await new Promise((r) => setTimeout(r, 200))
    // The background read and a harvest() before it is processed: the harvest reports and deletes the closed
    // entries, and the older copy the background read still holds is dropped.
    const background = netflow.receiver.harvestInBackground()
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100) // its read done, its result not yet taken
    netflow.receiver.harvest()
    await background
    await netflow.receiver.harvestInBackground()
    for (const [peer, sent] of [[clientPeer, 1000], [serverPeer, 2000]] as const) {
      const total = sumFor(flows(), peer.pid!)
      assert.deepEqual([total.bytesSent, total.established, total.closed], [sent, 1, 1])
    }
    // Counted again, the connection's entries would come without their owners (deleted with them): by port.
    const toPort = flows().filter((r) => r.transport === 'tcp' && r.destination.port === port)
    assert.deepEqual([toPort.reduce((n, r) => n + r.established, 0), toPort.reduce((n, r) => n + r.closed, 0)], [2, 2])
  })
})
