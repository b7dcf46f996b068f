// Retransmits and RTT as netlens reports them, against the kernel's own accounting (nstat, ss) for the same traffic.
import assert from 'node:assert/strict'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { exited, printed, runPeer } from '../../helpers/peers.ts'
import { HOOK_MODES, startNetflow, type NetflowHarness } from './harness.ts'

for (const hooks of HOOK_MODES) describe(`netflow TCP quality on ${hooks} hooks (real kernel)`, function () {
  let client: TestHost
  let server: TestHost
  let netflow: NetflowHarness

  before(async () => {
    client = createTestHost()
    server = createTestHost()
    netflow = await startNetflow({ interval: '1h', hooks })
  })

  after(async () => {
    await netflow?.receiver.shutdown()
    client?.destroy()
    server?.destroy()
  })

  const flowsOf = (pid: number) => netflow.flows().filter((r) => r.pid === pid)

  it('counts retransmitted segments as the kernel does (3 % loss on the receiver ingress)', async () => {
    const port = 7005
    // Loss on the receiving side's ingress: the sender then retransmits (egress drops would be resent as ordinary
    // transmissions and barely show as retransmits).
    server.exec('nft', ['add', 'table', 'inet', 'loss'])
    server.exec('nft', ['add chain inet loss in { type filter hook input priority 0; }'])
    server.exec('nft', ['add', 'rule', 'inet', 'loss', 'in', 'tcp', 'dport', String(port), 'numgen', 'random', 'mod', '100', '<', '3', 'drop'])
    const retransSegs = () => {
      const line = client.exec('nstat', ['-asz', 'TcpRetransSegs']).split('\n').find((l) => l.startsWith('TcpRetransSegs'))
      return Number(line?.split(/\s+/)[1] ?? 0)
    }
    const before = retransSegs()
    const bytes = 20_000_000
    const serverPeer = runPeer(server, ['tcp-server', server.ipv4, port, bytes, 0])
    await printed(serverPeer, 'ready')
    const clientPeer = runPeer(client, ['tcp-client', server.ipv4, port, bytes, 0])
    await Promise.all([exited(clientPeer), exited(serverPeer)])
    await new Promise((r) => setTimeout(r, 300))
    netflow.receiver.harvest()
    const kernel = retransSegs() - before
    const reported = flowsOf(clientPeer.pid!).reduce((sum, r) => sum + r.retransmits, 0)
    assert.ok(kernel > 50, `the loss rule caused retransmits (kernel counted ${kernel})`)
    assert.ok(Math.abs(reported - kernel) <= kernel * 0.1, `netlens ${reported} vs kernel ${kernel}`)
    assert.equal(flowsOf(clientPeer.pid!).reduce((sum, r) => sum + r.bytesSent, 0), bytes)
  })

  it('reports the smoothed RTT and variance that ss shows for the same connection', async () => {
    const port = 7006
    const serverPeer = runPeer(server, ['tcp-echo-server', server.ipv4, port, 0, 0])
    await printed(serverPeer, 'ready')
    const pinger = runPeer(client, ['tcp-pinger', server.ipv4, port, 100, 0])
    await printed(pinger, 'paused') // idle from here: srtt no longer moves
    await new Promise((r) => setTimeout(r, 50))
    const ss = client.exec('ss', ['-tinH', 'dst', `${server.ipv4}:${port}`])
    const match = /\brtt:([\d.]+)\/([\d.]+)/.exec(ss)
    assert.ok(match, `ss output has rtt: ${ss}`)
    const [ssRttUs, ssVarUs] = [Number(match[1]) * 1000, Number(match[2]) * 1000]
    netflow.receiver.harvest()
    const sample = flowsOf(pinger.pid!).at(-1)
    assert.ok(sample?.rttUs, 'netlens has an RTT sample')
    assert.ok(Math.abs(sample.rttUs - ssRttUs) <= ssRttUs * 0.1, `rtt netlens ${sample.rttUs}µs vs ss ${ssRttUs}µs`)
    assert.ok(Math.abs(sample.rttVarUs! - ssVarUs) <= Math.max(ssVarUs * 0.1, 1), `rttvar netlens ${sample.rttVarUs}µs vs ss ${ssVarUs}µs`)
    pinger.stdin!.end()
    await Promise.all([exited(pinger), exited(serverPeer)])
  })
})
