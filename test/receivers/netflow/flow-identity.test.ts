import assert from 'node:assert/strict'
import { FlowIdentity } from '../../../src/receivers/netflow/flow-identity.ts'
import { FlowDirection, IPPROTO_TCP, IPPROTO_UDP } from '../../../src/receivers/netflow/layout.ts'
import { SocketOwners } from '../../../src/receivers/netflow/socket-owners.ts'
import { wordsOf } from '../../../src/receivers/netflow/words.ts'
import { flows, owners as ownerDumpOf, type FakeOwner } from './dumps.ts'

interface Entry {
  protocol: number; local: number[]; localPort: number; remote: number[]; remotePort: number; direction?: number
}

const mapped = (v4: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]
const v6 = (last: number) => [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]
const ephemeral = (port: number) => port >= 32768 && port <= 60999
const curl: FakeOwner = { cookie: 1n, pid: 42, netns: 4026531840, comm: 'curl' }

/** The identity words and the record of an entry of socket 1; `null`: its owner is unknown. */
function read(entry: Entry, owner: FakeOwner | null = curl) {
  const { keys, values } = flows([{ ...entry, cookie: 1n }])
  const owners = new SocketOwners()
  owners.load(ownerDumpOf(owner === null ? [] : [owner]))
  const identity = new FlowIdentity(ephemeral)
  identity.read({ keys, values, keyWords: wordsOf(keys), valueWords: wordsOf(values) }, 0, owners, owner === null ? -1 : 0)
  return { words: [...identity.words], record: identity.record(identity.words, 0, owners.commNames) }
}

describe('netflow FlowIdentity', () => {
  it('makes an outgoing TCP record with the client port collapsed', () => {
    const { record } = read({
      protocol: IPPROTO_TCP, local: [10, 0, 0, 1], localPort: 40000, remote: [10, 0, 0, 2], remotePort: 443,
      direction: FlowDirection.OUTGOING,
    })
    assert.deepEqual(record, {
      kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing',
      source: { address: '10.0.0.1', port: 0 }, destination: { address: '10.0.0.2', port: 443 },
      netns: 4026531840, pid: 42, comm: 'curl', bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0,
      attributes: {},
    })
  })

  it('puts the remote client first for accepted connections and bound UDP sockets', () => {
    const accepted = read({
      protocol: IPPROTO_TCP, local: [10, 0, 0, 2], localPort: 80, remote: [10, 0, 0, 1], remotePort: 50000,
      direction: FlowDirection.INCOMING,
    }).record
    assert.deepEqual([accepted.direction, accepted.source, accepted.destination], [
      'incoming', { address: '10.0.0.1', port: 0 }, { address: '10.0.0.2', port: 80 },
    ])
    const udp = { protocol: IPPROTO_UDP, local: [10, 0, 0, 2], localPort: 53, remote: [10, 0, 0, 1], remotePort: 50000 }
    assert.equal(read(udp, { ...curl, udpBound: true }).record.direction, 'incoming')
    assert.equal(read(udp).record.direction, 'outgoing')
    assert.equal(read(udp, null).record.direction, 'unknown')
  })

  it('collapses only an ephemeral port when the direction is unknown', () => {
    const entry = { protocol: IPPROTO_TCP, local: [10, 0, 0, 1], localPort: 22, remote: [10, 0, 0, 2], remotePort: 51000 }
    const { record } = read(entry)
    assert.deepEqual([record.source.port, record.destination.port], [22, 0])
  })

  it('gives an IPv4-mapped flow of a dual-stack socket the identity of the same IPv4 flow', () => {
    const v4 = { protocol: IPPROTO_TCP, local: [10, 0, 0, 2], localPort: 80, remote: [10, 0, 0, 1], remotePort: 80 }
    const dual = { ...v4, local: mapped([10, 0, 0, 2]), remote: mapped([10, 0, 0, 1]) }
    assert.deepEqual(read(dual).words, read(v4).words)
    assert.equal(read(dual).record.family, 'ipv4')
    const unbound = read({ ...dual, local: Array(16).fill(0) }).record
    assert.deepEqual([unbound.family, unbound.source.address, unbound.destination.address], ['ipv4', '0.0.0.0', '10.0.0.1'])
  })

  it('keeps IPv6 flows IPv6, all 16 bytes of each address in the identity', () => {
    const entry = { protocol: IPPROTO_UDP, local: v6(1), localPort: 5353, remote: v6(2), remotePort: 5353 }
    const { words, record } = read(entry)
    assert.deepEqual([record.family, record.source.address, record.destination.address], ['ipv6', 'fd00::1', 'fd00::2'])
    assert.notDeepEqual(read({ ...entry, remote: v6(3) }).words, words)
    assert.notDeepEqual(read({ ...entry, remote: mapped([0, 0, 0, 2]) }).words, words, 'an IPv6 peer is not its last word')
  })

  it('tells apart flows of other processes and namespaces, and of sockets without a known owner', () => {
    const entry = { protocol: IPPROTO_UDP, local: [10, 0, 0, 1], localPort: 5000, remote: [10, 0, 0, 2], remotePort: 53 }
    const words = read(entry).words
    assert.notDeepEqual(read(entry, { ...curl, pid: 43 }).words, words)
    assert.notDeepEqual(read(entry, { ...curl, netns: 1 }).words, words)
    assert.notDeepEqual(read(entry, null).words, words)
    assert.deepEqual(read(entry, { ...curl, cookie: 1n }).words, words)
  })
})
