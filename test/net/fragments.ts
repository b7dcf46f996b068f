// Hand-made IP fragments for the reassembly and capture tests: a datagram's fragmentable part (UDP header and
// payload, or IPv6 extension headers first) cut into pieces, each behind its own IPv4 header or IPv6 header and
// fragment header, as the capture ring would deliver them.
import { isIPv4 } from 'node:net'
import { ipv4Bytes, ipv6Bytes, type Endpoints } from '../receivers/dns/builders.ts'

export interface FragmentOptions {
  /** Transport protocol of the datagram (IPv6: the fragment header's next header). 17 by default. */
  protocol?: number
  id: number
  /** IPv6 extension headers in front of the fragment header (unfragmentable part); its first must say 44 next. */
  unfragmentable?: { first: number; headers: Buffer }
}

export interface Packet {
  data: Buffer
  ethertype: number
}

/** One piece: `datagram[start, end)` at offset `start`; more fragments follow unless `last` says otherwise. */
export function ipFragment(e: Endpoints, datagram: Buffer, start: number, end: number, options: FragmentOptions, last = end >= datagram.length): Packet {
  const piece = datagram.subarray(start, end)
  const protocol = options.protocol ?? 17
  if (isIPv4(e.src)) {
    const header = Buffer.alloc(20)
    header[0] = 0x45
    header.writeUInt16BE(20 + piece.length, 2)
    header.writeUInt16BE(options.id & 0xffff, 4)
    header.writeUInt16BE((last ? 0 : 0x2000) | (start / 8), 6)
    header[8] = 64
    header[9] = protocol
    ipv4Bytes(e.src).copy(header, 12)
    ipv4Bytes(e.dst).copy(header, 16)
    return { data: Buffer.concat([header, piece]), ethertype: 0x0800 }
  }
  const before = options.unfragmentable?.headers ?? Buffer.alloc(0)
  const header = Buffer.alloc(40)
  header[0] = 0x60
  header.writeUInt16BE(before.length + 8 + piece.length, 4)
  header[6] = options.unfragmentable?.first ?? 44
  header[7] = 64
  ipv6Bytes(e.src).copy(header, 8)
  ipv6Bytes(e.dst).copy(header, 24)
  const fragment = Buffer.alloc(8)
  fragment[0] = protocol
  fragment.writeUInt16BE(start | (last ? 0 : 1), 2)
  fragment.writeUInt32BE(options.id >>> 0, 4)
  return { data: Buffer.concat([header, before, fragment, piece]), ethertype: 0x86dd }
}

/** The datagram cut at `cuts` (offsets, multiples of 8), pieces in datagram order. */
export function fragmentsOf(e: Endpoints, datagram: Buffer, cuts: number[], options: FragmentOptions): Packet[] {
  const bounds = [0, ...cuts, datagram.length]
  return bounds.slice(1).map((end, i) => ipFragment(e, datagram, bounds[i] as number, end, options))
}
