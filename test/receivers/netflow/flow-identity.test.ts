import assert from 'node:assert/strict'
import { FlowIdentity, type DumpView } from '../../../src/receivers/netflow/flow-identity.ts'
import { FlowDirection, IPPROTO_TCP, IPPROTO_UDP, KEY_SIZE, Stats, STATS_SIZE, type Owner } from '../../../src/receivers/netflow/layout.ts'
import { wordsOf } from '../../../src/receivers/netflow/words.ts'

interface Entry {
  protocol: number; family: 2 | 10; local: number[]; localPort: number; remote: number[]; remotePort: number; direction?: number
}

/** A one-entry dump laid out as bpf/netflow.h says. */
function dumpOf(entry: Entry): DumpView {
  const keys = Buffer.alloc(KEY_SIZE)
  const values = Buffer.alloc(STATS_SIZE)
  Buffer.from(entry.remote).copy(keys, 8)
  keys.writeUInt16LE(entry.remotePort, 24)
  values.writeUInt16LE(entry.localPort, Stats.LOCAL_PORT)
  values[Stats.FAMILY] = entry.family
  values[Stats.PROTOCOL] = entry.protocol
  Buffer.from(entry.local).copy(values, Stats.LOCAL_ADDR)
  values[Stats.DIRECTION] = entry.direction ?? FlowDirection.UNKNOWN
  return { keys, values, keyWords: wordsOf(keys), valueWords: wordsOf(values) }
}

const mapped = (v4: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]
const v6 = (last: number) => [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]
const ephemeral = (port: number) => port >= 32768 && port <= 60999
const owner: Owner = { pid: 42, netns: 4026531840, udpBound: false, comm: 'curl' }

/** The identity words and the record of an entry; `null`: no owner. */
function read(entry: Entry, who: Owner | null = owner, commId = 1) {
  const identity = new FlowIdentity(ephemeral)
  identity.read(dumpOf(entry), 0, who ?? undefined, commId)
  return { words: [...identity.words], record: identity.record(identity.words, 0, ['', who?.comm ?? '']) }
}

describe('netflow FlowIdentity', () => {
  it('makes an outgoing TCP record with the client port collapsed', () => {
    const { record } = read({
      protocol: IPPROTO_TCP, family: 2, local: [10, 0, 0, 1], localPort: 40000, remote: [10, 0, 0, 2], remotePort: 443,
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
      protocol: IPPROTO_TCP, family: 2, local: [10, 0, 0, 2], localPort: 80, remote: [10, 0, 0, 1], remotePort: 50000,
      direction: FlowDirection.INCOMING,
    }).record
    assert.deepEqual([accepted.direction, accepted.source, accepted.destination], [
      'incoming', { address: '10.0.0.1', port: 0 }, { address: '10.0.0.2', port: 80 },
    ])
    const udp = { protocol: IPPROTO_UDP, family: 2 as const, local: [10, 0, 0, 2], localPort: 53, remote: [10, 0, 0, 1], remotePort: 50000 }
    assert.equal(read(udp, { ...owner, udpBound: true }).record.direction, 'incoming')
    assert.equal(read(udp).record.direction, 'outgoing')
    assert.equal(read(udp, null, 0).record.direction, 'unknown')
  })

  it('collapses only an ephemeral port when the direction is unknown', () => {
    const entry = { protocol: IPPROTO_TCP, family: 2 as const, local: [10, 0, 0, 1], localPort: 22, remote: [10, 0, 0, 2], remotePort: 51000 }
    const { record } = read(entry)
    assert.deepEqual([record.source.port, record.destination.port], [22, 0])
  })

  it('gives an IPv4-mapped flow of a dual-stack socket the identity of the same IPv4 flow', () => {
    const v4 = { protocol: IPPROTO_TCP, family: 2 as const, local: [10, 0, 0, 2], localPort: 80, remote: [10, 0, 0, 1], remotePort: 80 }
    const dual = { ...v4, family: 10 as const, local: mapped([10, 0, 0, 2]), remote: mapped([10, 0, 0, 1]) }
    assert.deepEqual(read(dual).words, read(v4).words)
    assert.equal(read(dual).record.family, 'ipv4')
    const unbound = read({ ...dual, local: Array(16).fill(0) }).record
    assert.deepEqual([unbound.family, unbound.source.address, unbound.destination.address], ['ipv4', '0.0.0.0', '10.0.0.1'])
  })

  it('keeps IPv6 flows IPv6, all 16 bytes of each address in the identity', () => {
    const entry = { protocol: IPPROTO_UDP, family: 10 as const, local: v6(1), localPort: 5353, remote: v6(2), remotePort: 5353 }
    const { words, record } = read(entry)
    assert.deepEqual([record.family, record.source.address, record.destination.address], ['ipv6', 'fd00::1', 'fd00::2'])
    assert.notDeepEqual(read({ ...entry, remote: v6(3) }).words, words)
    assert.notDeepEqual(read({ ...entry, remote: mapped([0, 0, 0, 2]) }).words, words, 'an IPv6 peer is not its last word')
  })

  it('tells apart flows of other processes, namespaces and process names', () => {
    const entry = { protocol: IPPROTO_UDP, family: 2 as const, local: [10, 0, 0, 1], localPort: 5000, remote: [10, 0, 0, 2], remotePort: 53 }
    const words = read(entry).words
    assert.notDeepEqual(read(entry, { ...owner, pid: 43 }).words, words)
    assert.notDeepEqual(read(entry, { ...owner, netns: 1 }).words, words)
    assert.notDeepEqual(read(entry, owner, 2).words, words)
    assert.deepEqual(read(entry, { ...owner }, 1).words, words)
  })
})
