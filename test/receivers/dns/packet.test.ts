import assert from 'node:assert/strict'
import { decodeFrame, decodePacket, isFragment, type DecodedPacket } from '../../../src/net/packet.ts'
import { ipv6ToString } from '../../../src/net/address.ts'
import { fragmentsOf, type Packet } from '../../net/fragments.ts'
import { ipPacket, ipv6Bytes, query, tcpSegment, udpSegment } from './builders.ts'

const v4 = { src: '198.18.1.2', sport: 40000, dst: '198.18.1.1', dport: 53 }
const v6 = { src: 'fd00:198:18:1::2', sport: 40001, dst: 'fd00:198:18:1::1', dport: 53 }

function decoded(data: Buffer, ethertype: number): DecodedPacket {
  const result = decodePacket(data, ethertype)
  if (typeof result === 'string') assert.fail(`expected a packet, got ${result}`)
  return result
}

describe('dns packet decoding', () => {
  it('decodes IPv4/UDP and trims Ethernet padding', () => {
    const dns = query(1, 'example.com')
    const { data, ethertype } = ipPacket(v4, 17, udpSegment(v4, dns))
    const padded = Buffer.concat([data, Buffer.alloc(20)])
    const p = decoded(padded, ethertype)
    assert.equal(p.family, 'ipv4')
    assert.equal(p.transport, 'udp')
    assert.equal(p.sourceAddress, '198.18.1.2')
    assert.equal(p.destinationAddress, '198.18.1.1')
    assert.equal(p.sourcePort, 40000)
    assert.equal(p.destinationPort, 53)
    assert.deepEqual(p.payload, dns)
  })

  it('decodes IPv4 with options (IHL > 5)', () => {
    const { data } = ipPacket(v4, 17, udpSegment(v4, query(1, 'a.b')))
    const withOptions = Buffer.concat([data.subarray(0, 20), Buffer.from([1, 1, 1, 0]), data.subarray(20)])
    withOptions[0] = 0x46
    withOptions.writeUInt16BE(withOptions.length, 2)
    assert.equal(decoded(withOptions, 0x0800).destinationPort, 53)
  })

  it('decodes IPv6/TCP with sequence number and flags', () => {
    const payload = Buffer.from([0, 1, 2])
    const { data, ethertype } = ipPacket(v6, 6, tcpSegment(v6, payload, { seq: 0xfffffff0, flags: 0x19 }))
    const p = decoded(data, ethertype)
    assert.equal(p.family, 'ipv6')
    assert.equal(p.transport, 'tcp')
    assert.equal(p.sourceAddress, 'fd00:198:18:1::2')
    assert.equal(p.tcpSeq, 0xfffffff0)
    assert.equal(p.tcpFlags, 0x19)
    assert.deepEqual(p.payload, payload)
  })

  it('walks IPv6 extension headers and accepts an atomic fragment header', () => {
    const { data } = ipPacket(v6, 17, udpSegment(v6, query(2, 'x.y')))
    const hopByHop = Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]) // next: fragment, PadN
    const fragment = Buffer.from([17, 0, 0, 0, 0, 0, 0, 1]) // offset 0, M=0
    const packet = Buffer.concat([data.subarray(0, 40), hopByHop, fragment, data.subarray(40)])
    packet[6] = 0
    packet.writeUInt16BE(packet.length - 40, 4)
    assert.equal(decoded(packet, 0x86dd).sourcePort, 40001)
    fragment.writeUInt16BE(0x0001, 2) // more fragments
    const fragmented = Buffer.concat([data.subarray(0, 40), hopByHop, fragment, data.subarray(40)])
    fragmented[6] = 0
    fragmented.writeUInt16BE(fragmented.length - 40, 4)
    assert.equal(decodePacket(fragmented, 0x86dd), 'ip_fragment')
  })

  it('bounds the IPv6 extension walk', () => {
    const { data } = ipPacket(v6, 17, udpSegment(v6, query(2, 'x.y')))
    const chain = Buffer.concat(Array.from({ length: 9 }, () => Buffer.from([60, 0, 1, 4, 0, 0, 0, 0])))
    const packet = Buffer.concat([data.subarray(0, 40), chain, data.subarray(40)])
    packet[6] = 60
    packet.writeUInt16BE(packet.length - 40, 4)
    assert.equal(decodePacket(packet, 0x86dd), 'ipv6_extensions')
  })

  it('strips inline VLAN tags, at most two', () => {
    const { data } = ipPacket(v4, 17, udpSegment(v4, query(3, 'v.lan')))
    const tag = (inner: number) => Buffer.from([0, 5, inner >> 8, inner & 0xff])
    assert.equal(decoded(Buffer.concat([tag(0x0800), data]), 0x8100).sourcePort, 40000)
    assert.equal(decoded(Buffer.concat([tag(0x8100), tag(0x0800), data]), 0x88a8).sourcePort, 40000)
    assert.equal(decodePacket(Buffer.concat([tag(0x8100), tag(0x8100), tag(0x0800), data]), 0x8100), 'vlan_too_deep')
  })

  it('counts fragments and malformed headers instead of decoding them', () => {
    const { data } = ipPacket(v4, 17, udpSegment(v4, query(4, 'f.r')))
    const cases: Array<[string, (b: Buffer) => void, string]> = [
      ['non-first fragment', (b) => b.writeUInt16BE(0x0010, 6), 'ip_fragment'],
      ['first fragment', (b) => b.writeUInt16BE(0x2000, 6), 'ip_fragment'],
      ['bad version', (b) => { b[0] = 0x55 }, 'bad_ip_header'],
      ['IHL below 5', (b) => { b[0] = 0x44 }, 'bad_ip_header'],
      ['total length beyond capture', (b) => b.writeUInt16BE(b.length + 1, 2), 'truncated_packet'],
      ['ICMP', (b) => { b[9] = 1 }, 'not_udp_tcp'],
      ['UDP length beyond IP', (b) => b.writeUInt16BE(999, 24), 'bad_udp_header'],
      ['UDP length below 8', (b) => b.writeUInt16BE(7, 24), 'bad_udp_header'],
    ]
    for (const [what, mutate, reason] of cases) {
      const copy = Buffer.from(data)
      mutate(copy)
      assert.equal(decodePacket(copy, 0x0800), reason, what)
    }
    assert.equal(decodePacket(data.subarray(0, 19), 0x0800), 'truncated_packet')
    assert.equal(decodePacket(data, 0x0806), 'not_ip')
    const tcp = ipPacket(v4, 6, tcpSegment(v4, Buffer.alloc(0), { seq: 1 })).data
    tcp[32] = 4 << 4
    assert.equal(decodePacket(tcp, 0x0800), 'bad_tcp_header')
  })

  it('describes IP fragments for reassembly instead of refusing them (decodeFrame)', () => {
    const udp = udpSegment(v4, Buffer.alloc(2000, 1))
    const [first, last] = fragmentsOf(v4, udp, [1480], { id: 0xbeef }) as [Packet, Packet]
    const piece = decodeFrame(last.data, last.ethertype)
    assert.ok(isFragment(piece))
    assert.deepEqual({ ...piece, data: piece.data.length }, {
      family: 'ipv4', sourceAddress: v4.src, destinationAddress: v4.dst, fragmentId: 0xbeef, protocol: 17,
      fragmentOffset: 1480, moreFragments: false, headerLength: 20, data: 528,
    })
    assert.equal(decodePacket(first.data, first.ethertype), 'ip_fragment')
    const hopByHop = { first: 0, headers: Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]) }
    const [first6] = fragmentsOf(v6, udpSegment(v6, Buffer.alloc(2000)), [1232], { id: 0x89abcdef, unfragmentable: hopByHop })
    const piece6 = decodeFrame(first6!.data, first6!.ethertype)
    assert.ok(isFragment(piece6))
    assert.deepEqual({ ...piece6, data: piece6.data.length }, {
      family: 'ipv6', sourceAddress: v6.src, destinationAddress: v6.dst, fragmentId: 0x89abcdef, protocol: 17,
      fragmentOffset: 0, moreFragments: true, headerLength: 8, data: 1232,
    })
  })

  it('writes IPv6 addresses in RFC 5952 form, as URL does', () => {
    const samples = ['::', '::1', '2001:db8::1', '2001:db8:0:0:1:0:0:1', 'fe80::1:0:0:0', '2001:db8:1:2:3:4:5:6',
      '1:0:2:0:3:0:4:0', '::ffff:c000:201', 'fd00:198:18:1::2', '0:0:1::', '2001:DB8::AB']
    for (const sample of samples) {
      const expected = new URL(`http://[${sample}]/`).hostname.slice(1, -1)
      assert.equal(ipv6ToString(ipv6Bytes(sample), 0), expected, sample)
    }
  })
})
