// Frames to records: matching, timeouts, retransmissions, duplicates across interfaces, TCP, answers, counters.
import assert from 'node:assert/strict'
import type { AnyRecord, DnsAnswerRecord, DnsRecord } from '../../../src/records.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'
import { DEFAULT_TRACKER_OPTIONS, DnsTracker, type DnsTrackerOptions } from '../../../src/receivers/dns/tracker.ts'
import { DnsTelemetry } from '../../../src/receivers/dns/telemetry.ts'
import { TcpFlags } from '../../../src/net/packet.ts'
import { fragmentsOf } from '../../net/fragments.ts'
import { frameOf, ms, prefixed, query, response, reverse, tcpFrame, udpFrame, udpSegment, type Endpoints } from './builders.ts'

const T0 = 1_700_000_000_000_000_000n
const client4: Endpoints = { src: '198.18.7.2', sport: 41000, dst: '198.18.7.1', dport: 53 }
const client6: Endpoints = { src: 'fd00:198:18:7::2', sport: 41001, dst: 'fd00:198:18:7::1', dport: 53 }

function setup(options: Partial<DnsTrackerOptions> = {}) {
  const telemetry = new SelfTelemetry()
  const tracker = new DnsTracker({ ...DEFAULT_TRACKER_OPTIONS, ...options }, new DnsTelemetry(telemetry, 'dns'))
  const dropped = (reason: string) => (telemetry.get('netlens.records.dropped') as SelfCounter | undefined)?.value({ component: 'dns', reason }) ?? 0
  const parseErrors = (reason: string) => (telemetry.get('netlens.dns.parse_errors') as SelfCounter | undefined)?.value({ reason }) ?? 0
  return { tracker, telemetry, dropped, parseErrors }
}

const dnsRecords = (records: AnyRecord[]) => records.filter((r): r is DnsRecord => r.kind === 'dns')
const answerRecords = (records: AnyRecord[]) => records.filter((r): r is DnsAnswerRecord => r.kind === 'dns.answer')

describe('dns tracker', () => {
  it('pairs a UDP query and response over IPv4 with the latency between kernel timestamps', () => {
    const { tracker } = setup()
    tracker.handleFrame(udpFrame(client4, query(100, 'Host.Example.'), T0))
    tracker.handleFrame(udpFrame(reverse(client4), response(100, 'host.example', 'A', [
      { type: 'A', name: 'host.example', ttl: 30, data: '192.0.2.5' },
    ]), T0 + ms(12)))
    const records = tracker.collect(T0 + ms(20))
    assert.deepEqual(dnsRecords(records), [{
      kind: 'dns', transport: 'udp', family: 'ipv4',
      client: { address: '198.18.7.2', port: 41000 }, server: { address: '198.18.7.1', port: 53 },
      questionName: 'host.example', questionType: 'A', responseCode: 'NOERROR', durationSeconds: 0.012, attributes: {},
    }])
    assert.deepEqual(answerRecords(records), [{
      kind: 'dns.answer', client: '198.18.7.2', questionName: 'host.example',
      addresses: [{ address: '192.0.2.5', ttlSeconds: 30 }], attributes: {},
    }])
    assert.equal(tracker.pendingQueries, 0)
  })

  it('follows the CNAME chain back to the asked name over IPv6, AAAA and A alike', () => {
    const { tracker } = setup()
    tracker.handleFrame(udpFrame(client6, query(5, 'www.svc.test', 'AAAA'), T0))
    tracker.handleFrame(udpFrame(reverse(client6), response(5, 'www.svc.test', 'AAAA', [
      { type: 'CNAME', name: 'edge.cdn.test', ttl: 50, data: 'node.cdn.test' }, // out of order on purpose
      { type: 'CNAME', name: 'www.svc.test', ttl: 300, data: 'edge.cdn.test' },
      { type: 'AAAA', name: 'node.cdn.test', ttl: 20, data: '2001:db8:0:0:0:0:0:7' },
      { type: 'A', name: 'unrelated.test', ttl: 20, data: '192.0.2.99' },
    ]), T0 + ms(3)))
    const records = tracker.collect(T0 + ms(3))
    const [dns] = dnsRecords(records)
    assert.equal(dns?.family, 'ipv6')
    assert.equal(dns?.questionType, 'AAAA')
    assert.deepEqual(dns?.client, { address: 'fd00:198:18:7::2', port: 41001 })
    assert.deepEqual(answerRecords(records), [{
      kind: 'dns.answer', client: 'fd00:198:18:7::2', questionName: 'www.svc.test',
      addresses: [{ address: '2001:db8::7', ttlSeconds: 20 }], attributes: {},
    }])
  })

  it('reports response codes by name and no answers for NXDOMAIN', () => {
    const { tracker } = setup()
    tracker.handleFrame(udpFrame(client4, query(1, 'missing.test'), T0))
    tracker.handleFrame(udpFrame(reverse(client4), response(1, 'missing.test', 'A', [], 3), T0 + ms(1)))
    tracker.handleFrame(udpFrame(client4, query(2, 'other.zone', 'MX'), T0))
    tracker.handleFrame(udpFrame(reverse(client4), response(2, 'other.zone', 'MX', [], 5), T0 + ms(1)))
    const records = tracker.collect(T0 + ms(2))
    assert.deepEqual(records.map((r) => r.kind === 'dns' && [r.questionType, r.responseCode]), [['A', 'NXDOMAIN'], ['MX', 'REFUSED']])
  })

  it('turns unanswered queries into timeout records once the timeout passed', () => {
    const { tracker } = setup({ timeoutNs: ms(5000) })
    tracker.handleFrame(udpFrame(client4, query(9, 'silent.test'), T0))
    assert.deepEqual(tracker.collect(T0 + ms(4999)), [])
    const [record] = dnsRecords(tracker.collect(T0 + ms(5000)))
    assert.equal(record?.responseCode, 'timeout')
    assert.equal(record?.durationSeconds, undefined)
    assert.equal(tracker.pendingQueries, 0)
    // The late response then has nothing to match.
    tracker.handleFrame(udpFrame(reverse(client4), response(9, 'silent.test', 'A'), T0 + ms(6000)))
    assert.deepEqual(tracker.collect(T0 + ms(6000)), [])
  })

  it('measures a retransmitted query from its first transmission and counts the retry', () => {
    const { tracker, telemetry } = setup()
    tracker.handleFrame(udpFrame(client4, query(3, 'retry.test'), T0))
    tracker.handleFrame(udpFrame(client4, query(3, 'retry.test'), T0 + ms(1000)))
    tracker.handleFrame(udpFrame(reverse(client4), response(3, 'retry.test', 'A'), T0 + ms(1010)))
    const records = dnsRecords(tracker.collect(T0 + ms(1010)))
    assert.equal(records.length, 1)
    assert.equal(records[0]?.durationSeconds, 1.01)
    assert.equal((telemetry.get('netlens.dns.retransmitted_queries') as SelfCounter).value(), 1)
  })

  it('counts responses without a query and queries beyond max_pending', () => {
    const { tracker, dropped } = setup({ maxPending: 2 })
    tracker.handleFrame(udpFrame(reverse(client4), response(4, 'orphan.test', 'A'), T0))
    for (let id = 10; id < 13; id++) tracker.handleFrame(udpFrame(client4, query(id, 'many.test'), T0))
    assert.equal(dropped('unmatched_response'), 1)
    assert.equal(dropped('pending_full'), 1)
    assert.equal(tracker.pendingQueries, 2)
  })

  it('does not match a response to a query from another client port or with another question', () => {
    const { tracker, dropped } = setup()
    tracker.handleFrame(udpFrame(client4, query(20, 'a.test'), T0))
    tracker.handleFrame(udpFrame(reverse({ ...client4, sport: 41999 }), response(20, 'a.test', 'A'), T0 + ms(1)))
    tracker.handleFrame(udpFrame(reverse(client4), response(20, 'b.test', 'A'), T0 + ms(1)))
    assert.equal(dropped('unmatched_response'), 2)
    assert.equal(tracker.pendingQueries, 1)
  })

  it('counts a datagram seen on two interfaces once', () => {
    const { tracker, dropped } = setup()
    const q = query(30, 'twice.test')
    tracker.handleFrame(udpFrame(client4, q, T0, 5))
    tracker.handleFrame(udpFrame(client4, q, T0 + 20_000n, 3))
    const r = response(30, 'twice.test', 'A', [{ type: 'A', name: 'twice.test', ttl: 1, data: '192.0.2.1' }])
    tracker.handleFrame(udpFrame(reverse(client4), r, T0 + ms(2), 3))
    tracker.handleFrame(udpFrame(reverse(client4), r, T0 + ms(2) + 15_000n, 5))
    const records = tracker.collect(T0 + ms(3))
    assert.equal(dnsRecords(records).length, 1)
    assert.equal(answerRecords(records).length, 1)
    assert.equal(dropped('duplicate'), 2)
    assert.equal(dropped('unmatched_response'), 0)
  })

  it('reassembles a UDP answer in IP fragments, timed by its last piece, once per interface it was seen on', () => {
    const { tracker, dropped } = setup()
    const addresses = Array.from({ length: 150 }, (_, i) => `198.18.77.${i + 1}`)
    const answer = response(40, 'many.test', 'A', addresses.map((data) => ({ type: 'A', name: 'many.test', ttl: 60, data })))
    for (const [e, cut] of [[client4, 1480], [client6, 1232]] as const) {
      const server = reverse(e)
      const pieces = fragmentsOf(server, udpSegment(server, answer), [cut], { id: 7 })
      tracker.handleFrame(udpFrame(e, query(40, 'many.test'), T0))
      // The last piece first, then the first on two interfaces: the second datagram is a copy.
      tracker.handleFrame(frameOf(pieces[1]!, T0 + ms(2), 5))
      tracker.handleFrame(frameOf(pieces[0]!, T0 + ms(3), 5))
      tracker.handleFrame(frameOf(pieces[1]!, T0 + ms(3), 6))
      tracker.handleFrame(frameOf(pieces[0]!, T0 + ms(3), 6))
    }
    const records = tracker.collect(T0 + ms(10))
    assert.deepEqual(dnsRecords(records).map((r) => `${r.family} ${r.responseCode} ${r.durationSeconds}`), ['ipv4 NOERROR 0.003', 'ipv6 NOERROR 0.003'])
    assert.deepEqual(answerRecords(records).map((r) => r.addresses.length), [150, 150])
    assert.equal(dropped('duplicate'), 2)
    assert.equal(tracker.fragmentedDatagrams, 0)
  })

  it('counts the pieces of a fragmented answer that never completed once their timeout passed', () => {
    const { tracker, dropped } = setup({ ipReassembly: { ...DEFAULT_TRACKER_OPTIONS.ipReassembly, timeoutNs: ms(5000) } })
    const server = reverse(client4)
    const pieces = fragmentsOf(server, udpSegment(server, Buffer.alloc(3000)), [1480, 2960], { id: 8 })
    tracker.handleFrame(frameOf(pieces[0]!, T0))
    tracker.handleFrame(frameOf(pieces[2]!, T0 + ms(1)))
    tracker.collect(T0 + ms(4999))
    assert.equal(tracker.fragmentedDatagrams, 1)
    tracker.collect(T0 + ms(5000))
    assert.equal(dropped('ip_reassembly_timeout'), 2)
    assert.equal(tracker.fragmentedDatagrams, 0)
  })

  it('reassembles TCP: a query split in two segments, two responses coalesced in one', () => {
    const { tracker } = setup()
    const c: Endpoints = { ...client4, sport: 42000 }
    const s = reverse(c)
    tracker.handleFrame(tcpFrame(c, Buffer.alloc(0), { seq: 1000, flags: TcpFlags.SYN }, T0))
    tracker.handleFrame(tcpFrame(s, Buffer.alloc(0), { seq: 9000, flags: TcpFlags.SYN | TcpFlags.ACK }, T0))
    const q1 = prefixed(query(1, 'one.test'))
    const q2 = prefixed(query(2, 'two.test', 'AAAA'))
    tracker.handleFrame(tcpFrame(c, q1.subarray(0, 7), { seq: 1001 }, T0 + ms(1)))
    tracker.handleFrame(tcpFrame(c, Buffer.concat([q1.subarray(7), q2]), { seq: 1008 }, T0 + ms(2)))
    const r1 = prefixed(response(1, 'one.test', 'A', [{ type: 'A', name: 'one.test', ttl: 5, data: '192.0.2.1' }]))
    const r2 = prefixed(response(2, 'two.test', 'AAAA', [], 3))
    tracker.handleFrame(tcpFrame(s, Buffer.concat([r1, r2]), { seq: 9001 }, T0 + ms(4)))
    tracker.handleFrame(tcpFrame(c, Buffer.alloc(0), { seq: 1001 + q1.length + q2.length, flags: TcpFlags.FIN | TcpFlags.ACK }, T0 + ms(5)))
    const records = dnsRecords(tracker.collect(T0 + ms(5)))
    // Each query is timed from its first byte (one.test at 1 ms, two.test at 2 ms), each response to its last.
    assert.deepEqual(records.map((r) => [r.transport, r.questionName, r.responseCode, r.durationSeconds]), [
      ['tcp', 'one.test', 'NOERROR', 0.003],
      ['tcp', 'two.test', 'NXDOMAIN', 0.002],
    ])
    assert.equal(tracker.tcpStreams, 1)
  })

  it('counts undecodable packets and messages by reason', () => {
    const { tracker, dropped, parseErrors } = setup()
    const good = udpFrame(client4, query(1, 'x.test'), T0)
    tracker.handleFrame({ ...good, ethertype: 0x0806 })
    tracker.handleFrame({ ...good, origlen: good.data.length + 100 })
    const looping = query(2, 'y.test')
    looping.writeUInt16BE(0xc00c, 12)
    tracker.handleFrame(udpFrame(client4, looping, T0))
    tracker.handleFrame(udpFrame(client4, Buffer.from('not dns at all'), T0))
    assert.equal(dropped('not_ip'), 1)
    assert.equal(dropped('truncated_capture'), 1)
    assert.equal(parseErrors('pointer_loop'), 1)
    assert.equal(parseErrors('bad_counts'), 1)
    assert.equal(dropped('parse_error'), 2)
  })

  it('bounds records held between flushes', () => {
    const { tracker, dropped } = setup({ maxBuffered: 1 })
    for (const id of [1, 2]) {
      tracker.handleFrame(udpFrame(client4, query(id, 'b.test'), T0))
      tracker.handleFrame(udpFrame(reverse(client4), response(id, 'b.test', 'A'), T0 + ms(1)))
    }
    assert.equal(tracker.collect(T0 + ms(1)).length, 1)
    assert.equal(dropped('buffer_full'), 1)
  })
})
