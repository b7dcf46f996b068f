// IP reassembly: pieces in any order, copies, overlaps, limits and timeouts, every loss counted by reason.
import assert from 'node:assert/strict'
import { decodeDatagram, decodeFrame, isFragment, type DecodedPacket, type IpDatagram } from '../../src/net/packet.ts'
import { DEFAULT_REASSEMBLY_OPTIONS, IpReassembly, type ReassemblyOptions } from '../../src/net/reassembly.ts'
import { udpSegment, type Endpoints } from '../receivers/dns/builders.ts'
import { fragmentsOf, ipFragment, type FragmentOptions, type Packet } from './fragments.ts'

const T0 = 1_700_000_000_000_000_000n
const ms = (n: number) => BigInt(n) * 1_000_000n
const v4: Endpoints = { src: '198.18.9.1', sport: 53, dst: '198.18.9.2', dport: 41000 }
const v6: Endpoints = { src: 'fd00:198:18:9::1', sport: 53, dst: 'fd00:198:18:9::2', dport: 41001 }

/** A UDP datagram of `size` payload bytes, each byte telling its position, so misplaced pieces show. */
function datagram(e: Endpoints, size: number): { udp: Buffer; payload: Buffer } {
  const payload = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff))
  return { udp: udpSegment(e, payload), payload }
}

function setup(options: Partial<ReassemblyOptions> = {}) {
  const drops = new Map<string, number>()
  const reassembly = new IpReassembly({ ...DEFAULT_REASSEMBLY_OPTIONS, ...options }, (reason, count) => {
    drops.set(reason, (drops.get(reason) ?? 0) + count)
  })
  /** Feeds packets in the given order; returns what completed, decoded. */
  const feed = (packets: Packet[], timestampNs = T0, ifindex = 2): DecodedPacket[] => {
    const out: DecodedPacket[] = []
    for (const packet of packets) {
      const piece = decodeFrame(packet.data, packet.ethertype)
      if (!isFragment(piece)) assert.fail(`not a fragment: ${JSON.stringify(piece)}`)
      const whole = reassembly.push(piece, ifindex, timestampNs)
      if (whole) out.push(decoded(whole))
    }
    return out
  }
  return { reassembly, drops: () => Object.fromEntries(drops), feed }
}

function decoded(datagram: IpDatagram): DecodedPacket {
  const packet = decodeDatagram(datagram)
  if (typeof packet === 'string') assert.fail(`reassembled datagram not decoded: ${packet}`)
  return packet
}

const options: FragmentOptions = { id: 0x1234 }

describe('IP reassembly', () => {
  for (const e of [v4, v6]) {
    const family = e === v4 ? 'ipv4' : 'ipv6'

    it(`puts ${family} pieces in order back together and decodes the UDP datagram`, () => {
      const { udp, payload } = datagram(e, 3000)
      const { reassembly, drops, feed } = setup()
      const packets = fragmentsOf(e, udp, [1480, 2960], options)
      assert.deepEqual(feed(packets.slice(0, 2)), [])
      assert.equal(reassembly.size, 1)
      const [packet] = feed(packets.slice(2))
      assert.equal(packet?.family, family)
      assert.deepEqual([packet?.sourceAddress, packet?.sourcePort, packet?.destinationAddress, packet?.destinationPort],
        [e.src, e.sport, e.dst, e.dport])
      assert.deepEqual(packet?.payload, payload)
      assert.deepEqual([reassembly.size, reassembly.bytes], [0, 0])
      assert.deepEqual(drops(), {})
    })

    it(`takes ${family} pieces in any order`, () => {
      const { udp, payload } = datagram(e, 5000)
      const packets = fragmentsOf(e, udp, [1480, 2960, 4440], options)
      for (const order of [[3, 2, 1, 0], [0, 3, 1, 2], [2, 0, 3, 1]]) {
        const { drops, feed } = setup()
        const out = feed(order.map((i) => packets[i] as Packet))
        assert.equal(out.length, 1, String(order))
        assert.deepEqual(out[0]?.payload, payload)
        assert.deepEqual(drops(), {})
      }
    })
  }

  it('counts a copy of a piece as a duplicate and still completes the datagram once', () => {
    const { udp, payload } = datagram(v4, 2000)
    const [first, last] = fragmentsOf(v4, udp, [1480], options) as [Packet, Packet]
    const { drops, feed } = setup()
    const out = feed([first, first, last, last])
    assert.deepEqual(out.map((p) => p.payload), [payload])
    // The last copy came after completion: it starts a new datagram, which waits (and would time out).
    assert.deepEqual(drops(), { duplicate: 1 })
  })

  it('accepts pieces that overlap with the same bytes (cut differently on two paths)', () => {
    const { udp, payload } = datagram(v6, 3000)
    const { drops, feed } = setup()
    const out = feed([
      ipFragment(v6, udp, 0, 1480, options),
      ipFragment(v6, udp, 1000, 2400, options),
      ipFragment(v6, udp, 8, 1000, options), // inside what came already
      ipFragment(v6, udp, 2400, udp.length, options),
    ])
    assert.deepEqual(out.map((p) => p.payload), [payload])
    assert.deepEqual(drops(), { duplicate: 1 })
  })

  it('gives up a datagram whose pieces overlap with different bytes, and counts its later pieces too', () => {
    const { udp } = datagram(v4, 3000)
    const forged = Buffer.from(udp)
    forged[1500] = (forged[1500] as number) ^ 0xff
    const { reassembly, drops, feed } = setup()
    const out = feed([
      ipFragment(v4, udp, 0, 1480, options),
      ipFragment(v4, udp, 1480, 2000, options),
      ipFragment(v4, forged, 1480, 2960, options),
      ipFragment(v4, udp, 2960, udp.length, options),
    ])
    assert.deepEqual(out, [])
    assert.deepEqual(drops(), { ip_reassembly_invalid: 4 })
    assert.equal(reassembly.bytes, 0)
    // Given up, not pending: its timeout counts nothing more.
    reassembly.expire(T0 + ms(10_000))
    assert.deepEqual(drops(), { ip_reassembly_invalid: 4 })
  })

  it('refuses pieces no sender makes: beyond 65535 bytes, unaligned, empty, two different ends, data past the end', () => {
    const { udp } = datagram(v4, 3000)
    const cases: Array<[string, Packet[]]> = [
      ['beyond 65535 with its header', [ipFragment(v4, Buffer.alloc(65528 + 16), 65528, 65528 + 16, options)]],
      ['a middle piece not in 8-byte units', [ipFragment(v4, udp, 0, 1001, options, false)]],
      ['an empty piece', [ipFragment(v4, udp, 1480, 1480, options, false)]],
      ['two different ends', [ipFragment(v4, udp, 1480, 2000, options, true), ipFragment(v4, udp, 1480, 2960, options, true)]],
      ['data past the end', [ipFragment(v4, udp, 1480, 2960, options, false), ipFragment(v4, udp, 1480, 2000, options, true)]],
      ['a middle piece past the end', [
        ipFragment(v4, udp, 2960, udp.length, options),
        ipFragment(v4, Buffer.concat([udp, Buffer.alloc(80)]), 2960, 3048, options, false),
      ]],
    ]
    for (const [what, packets] of cases) {
      const { drops, feed } = setup()
      assert.deepEqual(feed(packets), [], what)
      assert.deepEqual(drops(), { ip_reassembly_invalid: packets.length }, what)
    }
  })

  it('counts the IPv6 headers in front of the fragment header towards the 65535-byte limit', () => {
    const hopByHop = { first: 0, headers: Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]) }
    const big = Buffer.alloc(65535)
    const fits = setup()
    fits.feed([ipFragment(v6, big, 65520, 65535, { id: 1 })])
    assert.deepEqual(fits.drops(), {})
    const over = setup()
    over.feed([ipFragment(v6, big, 65520, 65535, { id: 1, unfragmentable: hopByHop })])
    assert.deepEqual(over.drops(), { ip_reassembly_invalid: 1 })
  })

  it('walks an IPv6 header chain: options before the fragment header, destination options after it', () => {
    const { udp, payload } = datagram(v6, 2000)
    const destinationOptions = Buffer.from([17, 0, 1, 4, 0, 0, 0, 0])
    const fragmentable = Buffer.concat([destinationOptions, udp])
    const hopByHop = { first: 0, headers: Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]) }
    const { drops, feed } = setup()
    const out = feed(fragmentsOf(v6, fragmentable, [1232], { id: 0xfedcba98, protocol: 60, unfragmentable: hopByHop }))
    assert.equal(out.length, 1)
    assert.deepEqual([out[0]?.sourcePort, out[0]?.payload], [53, payload])
    assert.deepEqual(drops(), {})
  })

  it('keeps datagrams apart by addresses, identification, protocol and interface', () => {
    const { udp, payload } = datagram(v4, 2000)
    const [first, last] = fragmentsOf(v4, udp, [1480], options) as [Packet, Packet]
    const other = fragmentsOf(v4, udp, [1480], { id: 0x1235 })
    const reversed = fragmentsOf({ ...v4, src: v4.dst, dst: v4.src }, udp, [1480], options)
    const { reassembly, feed } = setup()
    assert.deepEqual(feed([first, other[0]!, reversed[0]!]), [])
    assert.deepEqual(feed([first], T0, 3), [])
    assert.equal(reassembly.size, 4)
    assert.deepEqual(feed([last]).map((p) => p.payload), [payload])
    assert.deepEqual(feed([last], T0, 3).map((p) => p.payload), [payload])
    assert.equal(reassembly.size, 2)
  })

  it('gives up a datagram still incomplete after the timeout, by capture time, counting its pieces', () => {
    const { udp } = datagram(v4, 5000)
    const packets = fragmentsOf(v4, udp, [1480, 2960, 4440], options)
    const { reassembly, drops, feed } = setup({ timeoutNs: ms(5000) })
    feed(packets.slice(0, 2), T0)
    feed([packets[3]!], T0 + ms(4999))
    assert.deepEqual(drops(), {})
    // The missing piece comes too late: the three held are lost, and it waits alone.
    assert.deepEqual(feed([packets[2]!], T0 + ms(5000)), [])
    assert.deepEqual(drops(), { ip_reassembly_timeout: 3 })
    reassembly.expire(T0 + ms(5001))
    assert.deepEqual(drops(), { ip_reassembly_timeout: 3 })
    reassembly.expire(T0 + ms(10_001))
    assert.deepEqual(drops(), { ip_reassembly_timeout: 4 })
    assert.deepEqual([reassembly.size, reassembly.bytes], [0, 0])
  })

  it('evicts the oldest datagram when too many are pending', () => {
    const { udp, payload } = datagram(v4, 2000)
    const { reassembly, drops, feed } = setup({ maxDatagrams: 2 })
    const pieces = [1, 2, 3].map((id) => fragmentsOf(v4, udp, [1480], { id }))
    feed([pieces[0]![0]!, pieces[0]![0]!, pieces[1]![0]!, pieces[2]![0]!])
    assert.equal(reassembly.size, 2)
    assert.deepEqual(drops(), { duplicate: 1, ip_reassembly_full: 1 })
    assert.deepEqual(feed([pieces[2]![1]!, pieces[1]![1]!]).map((p) => p.payload), [payload, payload])
  })

  it('evicts the oldest datagrams when their buffers exceed the byte budget', () => {
    const big = datagram(v4, 62_000).udp
    const { reassembly, drops, feed } = setup({ maxBytes: 65535 })
    feed([ipFragment(v4, big, 0, 1480, { id: 1 }), ipFragment(v4, big, 0, 1480, { id: 2 })])
    assert.equal(reassembly.bytes, 8192)
    // The last piece of datagram 2 tells its size: 62008 bytes do not fit beside datagram 1.
    feed([ipFragment(v4, big, 59000, big.length, { id: 2 })])
    assert.deepEqual(drops(), { ip_reassembly_full: 1 })
    assert.equal(reassembly.size, 1)
    assert.ok(reassembly.bytes <= 65535)
  })

  it('gives up a datagram in more pieces than allowed', () => {
    const { udp } = datagram(v4, 100)
    const { drops, feed } = setup({ maxFragments: 4 })
    feed(fragmentsOf(v4, udp, [8, 16, 24, 32, 40], options))
    // Four placed, the fifth too many: all five given up, and the sixth counted with them.
    assert.deepEqual(drops(), { ip_reassembly_invalid: 6 })
  })

  it('counts the pieces still pending at shutdown', () => {
    const { udp } = datagram(v6, 3000)
    const { reassembly, drops, feed } = setup()
    feed(fragmentsOf(v6, udp, [1232, 2464], options).slice(0, 2))
    reassembly.clear()
    assert.deepEqual(drops(), { shutdown_pending: 2 })
    assert.deepEqual([reassembly.size, reassembly.bytes], [0, 0])
  })

  it('leaves a bad transport header of a whole datagram to the decoder', () => {
    const { udp } = datagram(v4, 2000)
    udp.writeUInt16BE(9999, 4) // UDP length beyond the datagram
    const { reassembly } = setup()
    let whole: IpDatagram | undefined
    for (const packet of fragmentsOf(v4, udp, [1480], options)) {
      const piece = decodeFrame(packet.data, packet.ethertype)
      if (isFragment(piece)) whole = reassembly.push(piece, 2, T0) ?? whole
    }
    assert.ok(whole)
    assert.equal(decodeDatagram(whole), 'bad_udp_header')
  })

  it('never throws on random pieces and keeps within its bounds', () => {
    let seed = 42
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const { reassembly } = setup({ maxDatagrams: 8, maxBytes: 65535 * 2, maxFragments: 16 })
    const udp = datagram(v6, 20_000).udp
    for (let i = 0; i < 20_000; i++) {
      const start = random(2600) * 8
      const end = Math.min(udp.length, start + random(3000))
      const packet = ipFragment(random(2) ? v4 : v6, udp, start, end, { id: random(12) }, random(4) === 0)
      const piece = decodeFrame(packet.data, packet.ethertype)
      if (!isFragment(piece)) continue
      const whole = reassembly.push(piece, 2, T0 + ms(i))
      if (whole) decodeDatagram(whole)
      assert.ok(reassembly.size <= 8 && reassembly.bytes <= 65535 * 2)
    }
  })
})
