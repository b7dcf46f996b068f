import assert from 'node:assert/strict'
import { FlowTracker } from '../../../src/receivers/netflow/flow-tracker.ts'
import { FlowDirection, FlowState, IPPROTO_TCP, IPPROTO_UDP } from '../../../src/receivers/netflow/layout.ts'
import { flows, owners, type FakeFlow } from './dumps.ts'

const client = [10, 0, 0, 1]
const server = [10, 0, 0, 2]
const ephemeral = (port: number) => port >= 32768 && port <= 60999
const tracker = () => new FlowTracker({ idleTimeoutMs: 60_000, tcpIdleTimeoutMs: 600_000, collapsePort: ephemeral, ownerGraceMs: 1000 })

describe('netflow FlowTracker', () => {
  it('reports deltas of cumulative counters, with the kernel direction deciding source and destination', () => {
    const t = tracker()
    const own = owners([{ cookie: 1n, pid: 42, comm: 'curl' }])
    const base: FakeFlow = {
      cookie: 1n, protocol: IPPROTO_TCP, local: client, localPort: 40000, remote: server, remotePort: 80,
      direction: FlowDirection.OUTGOING, state: FlowState.ESTABLISHED, sent: 100, received: 1000, srtt: 250, rttvar: 50,
    }
    const first = t.harvest(flows([base]), own, 0)
    assert.equal(first.records.length, 1)
    const r = first.records[0]!
    assert.deepEqual(r.source, { address: '10.0.0.1', port: 0 })
    assert.deepEqual(r.destination, { address: '10.0.0.2', port: 80 })
    assert.equal(r.direction, 'outgoing')
    assert.equal(r.pid, 42)
    assert.equal(r.comm, 'curl')
    assert.equal(r.bytesSent, 100)
    assert.equal(r.bytesReceived, 1000)
    assert.equal(r.established, 1)
    assert.equal(r.rttUs, 250)

    const second = t.harvest(flows([{ ...base, sent: 150, received: 1000, retrans: 2 }]), own, 1000)
    assert.equal(second.records[0]!.bytesSent, 50)
    assert.equal(second.records[0]!.bytesReceived, 0)
    assert.equal(second.records[0]!.established, 0)
    assert.equal(second.records[0]!.retransmits, 2)

    const unchanged = t.harvest(flows([{ ...base, sent: 150, received: 1000, retrans: 2 }]), own, 2000)
    assert.equal(unchanged.records.length, 0)

    const closed = t.harvest(flows([{ ...base, sent: 150, received: 1000, retrans: 2, state: FlowState.ESTABLISHED | FlowState.CLOSED }]), own, 3000)
    assert.equal(closed.records[0]!.closed, 1)
    assert.equal(closed.staleFlows.length, 1, 'a closed flow is deleted once reported')
    assert.equal(closed.staleOwners.length, 1, 'and so is its owner')
  })

  it('puts the remote client first for accepted connections and aggregates connections into one flow', () => {
    const t = tracker()
    const conns = [1n, 2n, 3n].map((cookie, i): FakeFlow => ({
      cookie, protocol: IPPROTO_TCP, local: server, localPort: 80, remote: client, remotePort: 40000 + i,
      direction: FlowDirection.INCOMING, state: FlowState.ESTABLISHED | FlowState.CLOSED, sent: 10, received: 5,
    }))
    const { records } = t.harvest(flows(conns), owners([1n, 2n, 3n].map((cookie) => ({ cookie, pid: 7, comm: 'nginx' }))), 0)
    assert.equal(records.length, 1)
    assert.deepEqual(records[0]!.source, { address: '10.0.0.1', port: 0 })
    assert.deepEqual(records[0]!.destination, { address: '10.0.0.2', port: 80 })
    assert.equal(records[0]!.established, 3)
    assert.equal(records[0]!.closed, 3)
    assert.equal(records[0]!.bytesSent, 30)
  })

  it('folds the sockets of one process into one flow, and keeps another process name apart', () => {
    const peer = (cookie: bigint): FakeFlow => ({
      cookie, protocol: IPPROTO_UDP, local: client, localPort: 40000 + Number(cookie), remote: server, remotePort: 53, sent: 10,
    })
    const { records } = tracker().harvest(flows([peer(1n), peer(2n), peer(3n)]), owners([
      { cookie: 1n, pid: 7, comm: 'resolver' }, { cookie: 2n, pid: 7, comm: 'resolver' }, { cookie: 3n, pid: 7, comm: 'resolver-2' },
    ]), 0)
    assert.deepEqual(records.map((r) => [r.comm, r.bytesSent]), [['resolver', 20], ['resolver-2', 10]])
  })

  it('counts nothing twice after a harvest that failed half way', () => {
    let failures = 1
    const t = new FlowTracker({
      idleTimeoutMs: 60_000, tcpIdleTimeoutMs: 600_000, ownerGraceMs: 1000,
      collapsePort: (port) => {
        if (port === 2000 && failures-- > 0) throw new Error('half way')
        return ephemeral(port)
      },
    })
    const dump = flows([1000, 2000].map((port, i): FakeFlow => ({
      cookie: BigInt(i + 1), protocol: IPPROTO_UDP, local: client, localPort: port, remote: server, remotePort: 53, sent: 10,
    })))
    assert.throws(() => t.harvest(dump, owners([]), 0), /half way/)
    assert.deepEqual(t.harvest(dump, owners([]), 1000).records.map((r) => r.bytesSent), [10, 10])
  })

  it('takes UDP direction from a bound port and expires idle peers and their owner', () => {
    const t = tracker()
    const own = owners([{ cookie: 9n, pid: 5, comm: 'knotd', udpBound: true }])
    const entry: FakeFlow = { cookie: 9n, protocol: IPPROTO_UDP, local: server, localPort: 53, remote: client, remotePort: 50000, sent: 80, received: 40 }
    const first = t.harvest(flows([entry]), own, 0)
    assert.equal(first.records[0]!.direction, 'incoming')
    assert.deepEqual(first.records[0]!.destination, { address: '10.0.0.2', port: 53 })
    assert.equal(t.harvest(flows([entry]), own, 30_000).idleFlows.length, 0)
    const idle = t.harvest(flows([entry]), own, 60_000)
    assert.deepEqual([idle.idleFlows.length, idle.staleFlows.length], [1, 0])
    assert.deepEqual(t.settleIdle(flows([entry])), [], 'unchanged when taken: nothing more to report')
    const later = t.harvest(flows([]), own, 61_000)
    assert.equal(later.staleOwners.length, 0, 'owner kept for the idle timeout after its last flow')
    assert.equal(t.harvest(flows([]), own, 121_000).staleOwners.length, 1)
  })

  it('keeps an idle TCP connection until it closes, removing it unclosed only after the TCP idle timeout', () => {
    const t = tracker()
    const own = owners([{ cookie: 6n, pid: 7, comm: 'psql' }])
    const idle: FakeFlow = { cookie: 6n, protocol: IPPROTO_TCP, local: client, localPort: 40000, remote: server, remotePort: 5432, sent: 10, direction: FlowDirection.OUTGOING, state: FlowState.ESTABLISHED }
    t.harvest(flows([idle]), own, 0)
    assert.equal(t.harvest(flows([idle]), own, 300_000).staleFlows.length, 0, 'past the UDP idle timeout')
    const closing = t.harvest(flows([{ ...idle, state: FlowState.ESTABLISHED | FlowState.CLOSED }]), own, 400_000)
    assert.deepEqual([closing.records[0]!.closed, closing.staleFlows.length], [1, 1])
    const unclosed = { ...idle, cookie: 8n }
    const itsOwner = owners([{ cookie: 8n, pid: 7, comm: 'psql' }])
    t.harvest(flows([unclosed]), itsOwner, 0)
    assert.equal(t.harvest(flows([unclosed]), itsOwner, 599_999).idleFlows.length, 0)
    assert.equal(t.harvest(flows([unclosed]), itsOwner, 600_000).idleFlows.length, 1)
  })

  it('reports what came in between the dump and the removal of an idle entry (settleIdle), once', () => {
    const t = tracker()
    const own = owners([{ cookie: 9n, pid: 5, comm: 'knotd', udpBound: true }])
    const entry: FakeFlow = { cookie: 9n, protocol: IPPROTO_UDP, local: server, localPort: 53, remote: client, remotePort: 50000, sent: 80, received: 40 }
    t.harvest(flows([entry]), own, 0)
    assert.equal(t.harvest(flows([entry]), own, 60_000).idleFlows.length, 1)
    // The peer came back as the entry was being removed: the removal read 2 more queries and answers.
    const late = t.settleIdle(flows([{ ...entry, sent: 200, received: 100 }]))
    assert.equal(late.length, 1)
    assert.deepEqual([late[0]!.bytesSent, late[0]!.bytesReceived, late[0]!.direction], [120, 60, 'incoming'])
    assert.deepEqual(late[0]!.destination, { address: '10.0.0.2', port: 53 })
    assert.equal(late[0]!.pid, 5)
    assert.deepEqual(t.settleIdle(flows([{ ...entry, sent: 200, received: 100 }])), [], 'taken once')
    // What the kernel counts after the removal is a new entry: reported whole.
    const again = t.harvest(flows([{ ...entry, sent: 30, received: 15 }]), own, 61_000)
    assert.deepEqual(again.records.map((r) => [r.bytesSent, r.bytesReceived]), [[30, 15]])
  })

  it('does not replay the retransmit history of connections older than netlens', () => {
    const t = tracker()
    const old: FakeFlow = { cookie: 4n, protocol: IPPROTO_TCP, local: client, localPort: 22, remote: server, remotePort: 51000, sent: 10, retrans: 900 }
    const sshd = owners([{ cookie: 4n, pid: 1, comm: 'sshd' }])
    const first = t.harvest(flows([old]), sshd, 0)
    assert.equal(first.records[0]!.retransmits, 0)
    assert.equal(first.records[0]!.direction, 'unknown')
    assert.equal(first.records[0]!.destination.port, 0, 'unknown direction: only an ephemeral port is collapsed')
    assert.equal(first.records[0]!.source.port, 22)
    assert.equal(t.harvest(flows([{ ...old, retrans: 903 }]), sshd, 1000).records[0]!.retransmits, 3)
  })

  it('holds an accepted connection back one harvest until its owner is known', () => {
    const t = tracker()
    const accepted: FakeFlow = {
      cookie: 5n, protocol: IPPROTO_TCP, local: server, localPort: 80, remote: client, remotePort: 40000,
      direction: FlowDirection.INCOMING, state: FlowState.ESTABLISHED,
    }
    assert.equal(t.harvest(flows([accepted]), owners([]), 0).records.length, 0)
    const later = t.harvest(flows([{ ...accepted, received: 10 }]), owners([{ cookie: 5n, pid: 9, comm: 'nginx' }]), 500)
    assert.deepEqual([later.records[0]!.pid, later.records[0]!.established, later.records[0]!.bytesReceived], [9, 1, 10])
    const orphan: FakeFlow = { ...accepted, cookie: 6n }
    assert.equal(t.harvest(flows([orphan]), owners([]), 1000).records.length, 0)
    assert.equal(t.harvest(flows([orphan]), owners([]), 2000).records[0]!.pid, 0, 'reported without an owner after the grace')
    assert.equal(tracker().harvest(flows([orphan]), owners([]), 0, true).records.length, 1, 'a final harvest waits for nothing')
  })

  it('reports IPv4-mapped peers of dual-stack sockets as IPv4', () => {
    const mapped = (v4: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]
    const { records } = tracker().harvest(flows([{
      cookie: 1n, protocol: IPPROTO_TCP, local: mapped(server), localPort: 80, remote: mapped(client), remotePort: 40001,
      direction: FlowDirection.INCOMING, state: FlowState.ESTABLISHED,
    }]), owners([]), 0, true)
    assert.equal(records[0]!.family, 'ipv4')
    assert.equal(records[0]!.source.address, '10.0.0.1')
  })

  it('moves an entry to another flow when what its identity is read from changes: its owner, its direction', () => {
    const t = tracker()
    const entry: FakeFlow = { cookie: 3n, protocol: IPPROTO_TCP, local: client, localPort: 40000, remote: server, remotePort: 443, sent: 10 }
    const first = t.harvest(flows([entry]), owners([]), 0, true)
    assert.deepEqual([first.records[0]!.pid, first.records[0]!.direction], [0, 'unknown'])
    const owned = owners([{ cookie: 3n, pid: 77, comm: 'curl' }])
    const second = t.harvest(flows([{ ...entry, sent: 20 }]), owned, 1000)
    assert.deepEqual([second.records[0]!.pid, second.records[0]!.comm, second.records[0]!.bytesSent], [77, 'curl', 10])
    const third = t.harvest(flows([{ ...entry, sent: 25, direction: FlowDirection.OUTGOING, state: FlowState.ESTABLISHED }]), owned, 2000)
    assert.deepEqual([third.records[0]!.direction, third.records[0]!.source.port, third.records[0]!.bytesSent], ['outgoing', 0, 5])
    const steady = t.harvest(flows([{ ...entry, sent: 26, direction: FlowDirection.OUTGOING, state: FlowState.ESTABLISHED }]), owned, 3000)
    assert.deepEqual(steady.records.map((r) => [r.direction, r.pid, r.bytesSent]), [['outgoing', 77, 1]])
  })

  it('keeps process names right when the names table starts over, steady flows included', () => {
    const t = tracker()
    const steady: FakeFlow = { cookie: 1n, protocol: IPPROTO_UDP, local: client, localPort: 5000, remote: server, remotePort: 53, sent: 1 }
    // 4100 other processes: past the table's 4096 names, so it starts over at the next harvest.
    const others = Array.from({ length: 4100 }, (_, i) => ({ cookie: BigInt(i + 2), pid: i + 2, comm: `p${i}` }))
    const many = owners([{ cookie: 1n, pid: 1, comm: 'resolver' }, ...others])
    const otherFlows = others.map((o, i): FakeFlow => ({ ...steady, cookie: o.cookie, localPort: 6000 + i }))
    t.harvest(flows([steady, ...otherFlows]), many, 0)
    // The same process (after an exec) on a second socket to the same peer: the same identity but for the name,
    // whose new id is the one 'resolver' had before the table started over.
    const after = t.harvest(flows([{ ...steady, sent: 2 }, { ...steady, cookie: 100_000n, sent: 5 }]), owners([
      { cookie: 1n, pid: 1, comm: 'resolver' }, { cookie: 100_000n, pid: 1, comm: 'newcomer' },
    ]), 1000)
    assert.deepEqual(after.records.map((r) => [r.comm, r.bytesSent]).sort(), [['newcomer', 5], ['resolver', 1]])
  })
})

