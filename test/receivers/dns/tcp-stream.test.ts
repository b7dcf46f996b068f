import assert from 'node:assert/strict'
import { TcpStreams, type TcpDropReason } from '../../../src/receivers/dns/tcp-stream.ts'
import { TcpFlags } from '../../../src/net/packet.ts'
import { prefixed, query } from './builders.ts'

const KEY = '198.18.1.2|40000|198.18.1.1|53'

function setup(options = { maxStreams: 8, maxBytesPerStream: 2 * 65537 }) {
  const drops: TcpDropReason[] = []
  const streams = new TcpStreams(options, (reason) => drops.push(reason))
  const ids: number[] = []
  const push = (seq: number, payload: Buffer, flags = TcpFlags.ACK | TcpFlags.PSH, key = KEY, ts = 0n) => {
    for (const message of streams.push(key, seq, flags, payload, ts)) ids.push(message.data.readUInt16BE(0))
  }
  return { streams, drops, ids, push }
}

const ISN = 0xfffffff0 // close to wrap-around on purpose

describe('dns over tcp reassembly', () => {
  it('delivers one message per segment after the handshake', () => {
    const { push, ids, drops } = setup()
    push(ISN, Buffer.alloc(0), TcpFlags.SYN)
    push(ISN + 1, prefixed(query(1, 'a.test')))
    assert.deepEqual(ids, [1])
    assert.deepEqual(drops, [])
  })

  it('times each message from the segment that brought its first byte', () => {
    const streams = new TcpStreams({ maxStreams: 8, maxBytesPerStream: 2 * 65537 }, () => {})
    const first = prefixed(query(1, 'first.test'))
    const second = prefixed(query(2, 'second.test'))
    const third = prefixed(query(3, 'third.test'))
    const times: Array<[number, bigint]> = []
    const push = (seq: number, payload: Buffer, ts: bigint) => {
      for (const m of streams.push(KEY, seq, TcpFlags.ACK, payload, ts)) times.push([m.data.readUInt16BE(0), m.startNs])
    }
    streams.push(KEY, ISN, TcpFlags.SYN, Buffer.alloc(0), 0n)
    let seq = (ISN + 1) >>> 0
    // The length prefix alone at 100 (kdig writes it apart), the rest of the first message and the start of the
    // second at 250, the rest of the second and all of the third at 400.
    const stream = Buffer.concat([first, second, third])
    const cuts = [2, first.length + 5, stream.length]
    let at = 0
    for (const [i, cut] of cuts.entries()) {
      push(seq, stream.subarray(at, cut), [100n, 250n, 400n][i]!)
      seq = (seq + cut - at) >>> 0
      at = cut
    }
    assert.deepEqual(times, [[1, 100n], [2, 250n], [3, 400n]])
  })

  it('joins a message split across segments, across sequence wrap-around', () => {
    const { push, ids } = setup()
    const bytes = prefixed(query(2, 'split.test'))
    push(ISN, Buffer.alloc(0), TcpFlags.SYN)
    let seq = (ISN + 1) >>> 0
    const pieces = [bytes.subarray(0, 1), bytes.subarray(1, 7), bytes.subarray(7, 20), bytes.subarray(20)]
    for (const piece of pieces) {
      push(seq, piece)
      seq = (seq + piece.length) >>> 0
    }
    assert.deepEqual(ids, [2])
  })

  it('splits several messages coalesced in one segment, keeping a partial tail', () => {
    const { push, ids, streams } = setup()
    const a = prefixed(query(3, 'a.test'))
    const b = prefixed(query(4, 'b.test'))
    const c = prefixed(query(5, 'c.test'))
    push(100, Buffer.alloc(0), TcpFlags.SYN)
    const all = Buffer.concat([a, b, c])
    push(101, all.subarray(0, a.length + b.length + 3))
    assert.deepEqual(ids, [3, 4])
    push(101 + a.length + b.length + 3, all.subarray(a.length + b.length + 3))
    assert.deepEqual(ids, [3, 4, 5])
    assert.equal(streams.size, 1)
  })

  it('reorders out-of-order segments and ignores retransmissions', () => {
    const { push, ids, drops } = setup()
    const all = Buffer.concat([prefixed(query(6, 'one.test')), prefixed(query(7, 'two.test'))])
    const base = 5000
    push(base - 1, Buffer.alloc(0), TcpFlags.SYN)
    const p1 = all.subarray(0, 10)
    const p2 = all.subarray(10, 30)
    const p3 = all.subarray(30)
    push(base + 30, p3)
    push(base + 10, p2)
    assert.deepEqual(ids, [])
    push(base, p1)
    assert.deepEqual(ids, [6, 7])
    // Whole and partial retransmissions (and copies seen on a second interface) add nothing.
    push(base, all)
    push(base + 5, all.subarray(5, 40))
    assert.deepEqual(ids, [6, 7])
    // A retransmission overlapping new data contributes only the new part.
    const next = prefixed(query(8, 'three.test'))
    push(base + all.length - 4, Buffer.concat([all.subarray(all.length - 4), next]))
    assert.deepEqual(ids, [6, 7, 8])
    assert.deepEqual(drops, [])
  })

  it('picks up a connection already open (no SYN seen)', () => {
    const { push, ids } = setup()
    push(777, prefixed(query(9, 'mid.test')))
    assert.deepEqual(ids, [9])
  })

  it('resets on a desynchronised length prefix and counts it', () => {
    const { push, ids, drops, streams } = setup()
    push(1, Buffer.from([0, 3, 1, 2, 3]))
    assert.deepEqual(drops, ['tcp_desync'])
    assert.equal(streams.size, 0)
    push(500, prefixed(query(10, 'again.test')))
    assert.deepEqual(ids, [10])
  })

  it('bounds buffered bytes per connection', () => {
    const { push, drops, streams } = setup({ maxStreams: 8, maxBytesPerStream: 1000 })
    push(0, Buffer.alloc(0), TcpFlags.SYN)
    push(2000, Buffer.alloc(600))
    push(3000, Buffer.alloc(600))
    assert.deepEqual(drops, ['tcp_stream_overflow'])
    assert.equal(streams.size, 0)
  })

  it('evicts the least recently used connection beyond the limit', () => {
    const { push, drops, streams } = setup({ maxStreams: 2, maxBytesPerStream: 1000 })
    const partial = prefixed(query(1, 'p.test')).subarray(0, 5)
    push(0, partial, TcpFlags.ACK, 'a')
    push(0, partial, TcpFlags.ACK, 'b')
    push(5, Buffer.alloc(0), TcpFlags.ACK, 'a') // touches a: b is now the oldest
    push(0, partial, TcpFlags.ACK, 'c')
    assert.equal(streams.size, 2)
    assert.deepEqual(drops, ['tcp_stream_evicted'])
  })

  it('forgets connections on FIN, RST and idleness, counting partial messages', () => {
    const { push, drops, streams } = setup()
    const whole = prefixed(query(11, 'fin.test'))
    push(0, whole, TcpFlags.ACK | TcpFlags.FIN, 'fin')
    assert.equal(streams.size, 0)
    assert.deepEqual(drops, [])
    push(0, whole.subarray(0, 4), TcpFlags.ACK, 'rst')
    push(4, Buffer.alloc(0), TcpFlags.RST, 'rst')
    assert.equal(streams.size, 0)
    push(0, whole.subarray(0, 4), TcpFlags.ACK, 'idle', 10n)
    push(0, whole, TcpFlags.ACK, 'busy', 1000n)
    streams.sweep(500n)
    assert.equal(streams.size, 1)
    assert.deepEqual(drops, ['tcp_stream_incomplete', 'tcp_stream_incomplete'])
  })
})
