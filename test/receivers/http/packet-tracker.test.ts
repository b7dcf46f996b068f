import assert from 'node:assert/strict'
import type { SkipDirection } from '../../../src/capture/port-filter.ts'
import { PacketType, type Frame } from '../../../src/native/frames.ts'
import { TcpFlags } from '../../../src/net/packet.ts'
import { BodySkips } from '../../../src/receivers/http/body-skips.ts'
import { PacketTracker } from '../../../src/receivers/http/packet-tracker.ts'
import { HttpTelemetry } from '../../../src/receivers/http/telemetry.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'
import { batchOf, ms, reverse, tcpFrame, type Endpoints } from '../dns/builders.ts'
import { get, LIMITS, ok } from './exchange-harness.ts'

const { SYN, ACK, FIN, RST, PSH } = TcpFlags
const client: Endpoints = { src: '198.18.7.1', sport: 41000, dst: '198.18.7.2', dport: 8080 }
const server = reverse(client)

function tracker(overrides: Partial<ConstructorParameters<typeof PacketTracker>[0]> = {}) {
  const telemetry = new SelfTelemetry()
  const t = new PacketTracker({
    limits: LIMITS, maxPending: 64, serverPorts: new Set([8080]), maxConnections: 100, maxEarlyBytes: 64 * 1024,
    timeoutNs: 1e9, idleNs: 60e9, maxBuffered: 1000, ...overrides,
  }, new HttpTelemetry(telemetry, 'http'))
  const dropped = (reason: string) => (telemetry.get('netlens.records.dropped') as SelfCounter).value({ reason })
  return { t, dropped, telemetry }
}

/** A connection's segments with running sequence numbers. */
function connection(e: Endpoints, isn: number) {
  let seq = isn
  return {
    syn: (t: bigint, flags: number = SYN) => { const f = tcpFrame(e, Buffer.alloc(0), { seq, flags }, t); seq++; return f },
    data: (text: string, t: bigint, flags: number = PSH | ACK) => {
      const f = tcpFrame(e, Buffer.from(text), { seq, flags }, t)
      seq += text.length
      return f
    },
    at: (offset: number, text: string, t: bigint) => tcpFrame(e, Buffer.from(text), { seq: isn + 1 + offset, flags: PSH | ACK }, t),
    fin: (t: bigint) => { const f = tcpFrame(e, Buffer.alloc(0), { seq, flags: FIN | ACK }, t); seq++; return f },
  }
}

describe('http PacketTracker', () => {
  it('follows a connection from SYN to FIN: client and server, side from the packet direction, latency', () => {
    const { t } = tracker()
    const c = connection(client, 1000)
    const s = connection(server, 900_000)
    const synFrame = c.syn(ms(1))
    synFrame.pktType = PacketType.OUTGOING
    t.handleFrame(synFrame)
    t.handleFrame(s.syn(ms(2), SYN | ACK))
    t.handleFrame(c.data(get('/a'), ms(10)))
    t.handleFrame(s.data(ok(), ms(13)))
    t.handleFrame(c.fin(ms(20)))
    t.handleFrame(s.fin(ms(21)))
    const [record, ...rest] = t.collect(Number(ms(30)))
    assert.equal(rest.length, 0)
    assert.deepEqual(
      [record!.side, record!.source, record!.destination, record!.method, record!.statusCode, record!.durationsSeconds],
      ['client', { address: client.src, port: client.sport }, { address: client.dst, port: client.dport }, 'GET', 200, [0.003]],
    )
    assert.equal(t.connectionCount, 0)
  })

  it('hands on the requests of a keep-alive connection per series: one record each, with every duration', () => {
    const { t } = tracker()
    const c = connection(client, 1000)
    const s = connection(server, 5000)
    t.handleFrame(c.syn(ms(1)))
    t.handleFrame(s.syn(ms(1), SYN | ACK))
    for (let i = 0; i < 5; i++) {
      t.handleFrame(c.data(get('/a'), ms(10 + 10 * i)))
      t.handleFrame(s.data(i === 2 ? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' : ok(), ms(11 + 10 * i + i)))
    }
    const other = connection({ ...client, sport: client.sport + 1 }, 9000)
    t.handleFrame(other.syn(ms(60)))
    t.handleFrame(other.data(get('/a'), ms(61)))
    t.handleFrame(connection(reverse({ ...client, sport: client.sport + 1 }), 7000).at(0, ok(), ms(62)))
    const records = t.collect(Number(ms(100)))
    assert.deepEqual(records.map((r) => `${r.source.port} ${r.path} ${r.statusCode} ${r.durationsSeconds.map((d) => d * 1000)}`), [
      `${client.sport} /a 200 1,2,4,5`, `${client.sport} /a 404 3`, `${client.sport + 1} /a 200 1`,
    ])
    t.handleFrame(c.data(get('/a'), ms(110)))
    t.handleFrame(s.data(ok(), ms(111)))
    assert.deepEqual(t.collect(Number(ms(200))).map((r) => r.durationsSeconds.length), [1], 'a collect starts afresh')
  })

  it('reorders segments, ignores retransmissions and copies, and answers a half-closed client', () => {
    const { t, dropped } = tracker()
    const c = connection(client, 5000)
    const s = connection(server, 7000)
    t.handleFrame(c.syn(ms(1)))
    t.handleFrame(s.syn(ms(1), SYN | ACK))
    const request = get('/one') + get('/two')
    t.handleFrame(c.at(10, request.slice(10), ms(3)))
    t.handleFrame(c.at(0, request.slice(0, 10), ms(2)))
    t.handleFrame(c.at(0, request.slice(0, 10), ms(2))) // retransmitted
    t.handleFrame(tcpFrame(client, Buffer.alloc(0), { seq: 5001 + request.length, flags: FIN | ACK }, ms(4))) // half-close
    t.handleFrame(s.data(ok('first'), ms(5)))
    t.handleFrame(s.at(0, ok('first'), ms(5))) // the same segment seen on another interface
    t.handleFrame(s.data(ok('second'), ms(6)))
    assert.equal(t.connectionCount, 1, 'half-closed: the server may still answer')
    t.handleFrame(s.fin(ms(7)))
    assert.deepEqual(t.collect(Number(ms(8))).map((r) => `${r.path} ${r.statusCode}`), ['/one 200', '/two 200'])
    assert.equal(dropped('unanswered_at_close'), 0)
    assert.equal(t.connectionCount, 0)
  })

  it('joins a connection open before capture at its next message, by content, then by port', () => {
    const { t, dropped } = tracker()
    // A body in flight first: nothing is read from it, nothing counted.
    t.handleFrame(tcpFrame(server, Buffer.from('...rest of an earlier body'), { seq: 300, flags: PSH | ACK }, ms(1)))
    t.handleFrame(tcpFrame(client, Buffer.from(get('/next')), { seq: 100, flags: PSH | ACK }, ms(2)))
    t.handleFrame(tcpFrame(server, Buffer.from(ok()), { seq: 326, flags: PSH | ACK }, ms(3)))
    const [record] = t.collect(Number(ms(4)))
    assert.deepEqual([record?.path, record?.source.port, record?.destination.port], ['/next', client.sport, 8080])
    assert.equal(dropped('parse_error'), 0)
  })

  it('gives up a lost frame once the other side acknowledges it: one exchange lost, not the connection', () => {
    const { t, dropped } = tracker()
    const path = (n: number) => `/${String(n).padStart(2, '0')}`
    const request = (n: number) => get(path(n))
    const response = ok('x')
    const clientSeq = (n: number) => 1001 + n * request(0).length
    const serverSeq = (n: number) => 5001 + n * response.length
    t.handleFrame(tcpFrame(client, Buffer.alloc(0), { seq: 1000, flags: SYN }, ms(1)))
    t.handleFrame(tcpFrame(server, Buffer.alloc(0), { seq: 5000, ack: 1001, flags: SYN | ACK }, ms(1)))
    for (let n = 0; n < 20; n++) {
      // Request 3 is never captured; the server's answer to it acknowledges it.
      if (n !== 3) t.handleFrame(tcpFrame(client, Buffer.from(request(n)), { seq: clientSeq(n), ack: serverSeq(n), flags: PSH | ACK }, ms(10 + n)))
      t.handleFrame(tcpFrame(server, Buffer.from(response), { seq: serverSeq(n), ack: clientSeq(n + 1), flags: PSH | ACK }, ms(10 + n)))
    }
    // The FIN takes a sequence number without carrying a byte: its acknowledgment is no loss.
    t.handleFrame(tcpFrame(client, Buffer.alloc(0), { seq: clientSeq(20), ack: serverSeq(20), flags: FIN | ACK }, ms(40)))
    t.handleFrame(tcpFrame(server, Buffer.alloc(0), { seq: serverSeq(20), ack: clientSeq(20) + 1, flags: FIN | ACK }, ms(41)))
    const paths = t.collect(Number(ms(100))).map((r) => r.path)
    assert.deepEqual(paths, Array.from({ length: 20 }, (_, n) => path(n)).filter((p) => p !== '/03'))
    assert.deepEqual([dropped('response_without_request'), dropped('parse_error'), dropped('pending_full')], [1, 1, 0])
    assert.equal(t.connectionCount, 0)
  })

  it('reads frames the capture cut short (snap length): the missing payload is skipped inside a body', () => {
    const { t, dropped } = tracker()
    const c = connection(client, 1000)
    const s = connection(server, 5000)
    /** The frame as the filter keeps it without payload: IP and TCP headers only, its original length intact. */
    const cut = (frame: Frame) => ({ ...frame, data: frame.data.subarray(0, 40) })
    t.handleFrame(c.syn(ms(1)))
    t.handleFrame(s.syn(ms(1), SYN | ACK))
    // A Content-Length body of 30000 bytes, its middle segment captured without payload.
    t.handleFrame(c.data(get('/big'), ms(2)))
    t.handleFrame(s.data('HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n' + 'a'.repeat(10_000), ms(3)))
    t.handleFrame(cut(s.data('b'.repeat(10_000), ms(4))))
    t.handleFrame(s.data('c'.repeat(10_000), ms(5)))
    // A chunked body whose second chunk-size line was in a segment captured without payload: the framing is lost
    // there (capture_gap), the record was made at the status line, and the next response is read again.
    t.handleFrame(c.data(get('/chunked'), ms(6)))
    t.handleFrame(s.data('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n' + 'd'.repeat(256) + '\r\n', ms(7)))
    t.handleFrame(cut(s.data('100\r\n' + 'e'.repeat(256) + '\r\n', ms(8))))
    t.handleFrame(s.data('0\r\n\r\n', ms(9)))
    t.handleFrame(c.data(get('/after'), ms(10)))
    t.handleFrame(s.data(ok(), ms(11)))
    assert.deepEqual(t.collect(Number(ms(20))).map((r) => `${r.path} ${r.statusCode}`), ['/big 200', '/chunked 200', '/after 200'])
    assert.deepEqual([dropped('parse_error'), dropped('response_without_request'), dropped('truncated_packet')], [1, 0, 0])
  })

  it('tells the capture which payload of a long body it need not copy, and forgets it once passed', () => {
    const calls: string[] = []
    const skipper = {
      set: (d: SkipDirection, from: number, until: number) => calls.push(`set ${d.sourcePort}->${d.destinationPort} ${from} ${until}`),
      delete: (d: SkipDirection) => calls.push(`delete ${d.sourcePort}->${d.destinationPort}`),
    }
    const { t } = tracker({ skips: new BodySkips(skipper, 16_384) })
    const c = connection(client, 1000)
    const s = connection(server, 5000)
    t.handleFrame(c.syn(ms(1)))
    t.handleFrame(s.syn(ms(1), SYN | ACK))
    t.handleFrame(c.data(get('/small'), ms(2)))
    t.handleFrame(s.data(ok('x'.repeat(10_000)), ms(3)))
    assert.deepEqual(calls, [], 'a body under the minimum is not announced')
    t.handleFrame(c.data(get('/big'), ms(4)))
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n'
    t.handleFrame(s.data(head + 'a'.repeat(1000), ms(5)))
    // The body's next byte is server sequence 5001 + (the first response) + head + 1000.
    const from = 5001 + ok('x'.repeat(10_000)).length + head.length + 1000
    assert.deepEqual(calls, [`set 8080->${client.sport} ${from} ${from + 99_000}`])
    for (let i = 0; i < 3; i++) t.handleFrame(s.data('b'.repeat(33_000), ms(6)))
    t.handleFrame(c.data(get('/next'), ms(7)))
    t.handleFrame(s.data(ok(), ms(8)))
    assert.deepEqual(calls.slice(1), [`delete 8080->${client.sport}`])
    assert.equal(t.collect(Number(ms(20))).length, 3)
  })

  it('counts requests lost to RST, to the timeout and to eviction', () => {
    const { t, dropped } = tracker({ maxConnections: 1 })
    const c = connection(client, 1)
    t.handleFrame(c.syn(ms(1)))
    t.handleFrame(c.data(get('/reset'), ms(2)))
    t.handleFrame(tcpFrame(server, Buffer.alloc(0), { seq: 9, flags: RST }, ms(3)))
    assert.equal(dropped('unanswered_at_close'), 1)

    const late = connection(client, 100)
    t.handleFrame(late.syn(ms(10)))
    t.handleFrame(late.data(get('/late'), ms(11)))
    t.collect(Number(ms(2000)))
    assert.equal(dropped('request_timeout'), 1)

    const other = connection({ ...client, sport: 41001 }, 500)
    t.handleFrame(other.syn(ms(2001)))
    t.handleFrame(other.data(get('/evictor'), ms(2002)))
    const third = connection({ ...client, sport: 41002 }, 700)
    t.handleFrame(third.syn(ms(2003)))
    assert.equal(dropped('connection_evicted'), 1)
    assert.equal(t.connectionCount, 1)
  })

  it('counts frames it cannot decode', () => {
    const { t, dropped } = tracker()
    const frame = tcpFrame(client, Buffer.from(get('/x')), { seq: 1 }, ms(1))
    t.handleFrame({ ...frame, data: frame.data.subarray(0, 30) })
    assert.equal(dropped('truncated_packet'), 1)
  })

  it('counts the frames of a batch that does not hold what it says', () => {
    const { t, dropped } = tracker()
    const c = connection(client, 1000)
    const batch = batchOf([c.syn(ms(1)), c.data(get('/a'), ms(2)), c.data(get('/b'), ms(3))])
    const cut = { ...batch, data: batch.data.subarray(0, batch.data.length - 24), count: 4 }
    t.handleBatch(cut, (error) => assert.fail(String(error)))
    assert.equal(dropped('malformed_batch'), 2, 'the cut frame and the one counted but absent')
    assert.equal(t.connectionCount, 1, 'the frames before them were handled')
  })
})
