// Network-layer decoding of captured frames, shared by the dns and http receivers (SOCK_DGRAM: data starts at the
// IP header, or at an inline VLAN tag when the frame's ethertype says so) down to the UDP or TCP payload. Pure and
// allocation-light: a frame either yields a DecodedPacket or the reason it cannot, which the caller counts.
// decodeFrame also describes IP fragments (IpFragment), for a caller that reassembles them (src/net/reassembly.ts)
// and decodes the whole datagram with decodeDatagram; decodePacket refuses them as `ip_fragment`.
import type { Family, Transport } from '../records.ts'
import { ipv4ToString, ipv6ToString as ipv6Text } from './address.ts'

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_IPV6 = 0x86dd
export const ETHERTYPE_VLAN = 0x8100
export const ETHERTYPE_QINQ = 0x88a8
export const MAX_VLAN_TAGS = 2
const MAX_IPV6_EXTENSIONS = 8

export const PROTO_TCP = 6
export const PROTO_UDP = 17

export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const

/** Signed distance a − b between TCP sequence numbers (RFC 1982 arithmetic on 32 bits). */
export const seqDiff = (a: number, b: number): number => (a - b) | 0

export interface DecodedPacket {
  family: Family
  transport: Transport
  sourceAddress: string
  sourcePort: number
  destinationAddress: string
  destinationPort: number
  /** TCP sequence number of the first payload byte (0 for UDP). */
  tcpSeq: number
  /** TCP flags byte (0 for UDP). */
  tcpFlags: number
  /** The transport payload: a view into the frame, not a copy. */
  payload: Buffer
}

/** One piece of a fragmented IPv4 or IPv6 datagram. */
export interface IpFragment {
  family: Family
  sourceAddress: string
  destinationAddress: string
  /** The identification (IPv4: 16 bits, IPv6: 32 bits from the fragment header). */
  fragmentId: number
  /** The datagram's transport protocol (IPv6: the fragment header's next header). */
  protocol: number
  /** Where `data` starts in the reassembled datagram's fragmentable part, in bytes. */
  fragmentOffset: number
  moreFragments: boolean
  /**
   * Header bytes in front of the fragmentable part that count towards the 65535-byte limit of the reassembled
   * datagram (IPv4: the header, within the total length; IPv6: extension headers before the fragment header,
   * within the payload length).
   */
  headerLength: number
  /** The piece: a view into the frame, not a copy. */
  data: Buffer
}

/** A reassembled datagram: its fragmentable part (transport header first, or IPv6 extension headers). */
export interface IpDatagram {
  family: Family
  sourceAddress: string
  destinationAddress: string
  protocol: number
  data: Buffer
}

export const isFragment = (decoded: DecodedPacket | IpFragment | string): decoded is IpFragment =>
  typeof decoded === 'object' && 'fragmentOffset' in decoded

/** Why a frame was not decoded; each is counted as `netlens.records.dropped{reason}`. */
export type PacketDropReason =
  | 'not_ip'
  | 'vlan_too_deep'
  | 'truncated_packet'
  | 'bad_ip_header'
  | 'ip_fragment'
  | 'ipv6_extensions'
  | 'not_udp_tcp'
  | 'bad_udp_header'
  | 'bad_tcp_header'

/** Decodes a frame's network and transport headers; malformed or unsupported input returns its reason. */
export function decodePacket(data: Buffer, frameEthertype: number): DecodedPacket | PacketDropReason {
  const decoded = decodeFrame(data, frameEthertype)
  return isFragment(decoded) ? 'ip_fragment' : decoded
}

/** The transport headers of a reassembled datagram (reassembly.ts checked its size and pieces). */
export function decodeDatagram(datagram: IpDatagram): DecodedPacket | PacketDropReason {
  const { data, family, protocol, sourceAddress, destinationAddress } = datagram
  if (family === 'ipv4') return decodeTransport(data, 0, data.length, protocol, family, sourceAddress, destinationAddress)
  const decoded = decodeIpv6Chain(data, 0, data.length, protocol, 0, sourceAddress, destinationAddress)
  // A fragment header inside a reassembled datagram: fragments of fragments, which no sender makes.
  return isFragment(decoded) ? 'ip_fragment' : decoded
}

/** decodePacket, except that an IP fragment is described for reassembly instead of refused. */
export function decodeFrame(data: Buffer, frameEthertype: number): DecodedPacket | IpFragment | PacketDropReason {
  let ethertype = frameEthertype
  let offset = 0
  for (let tags = 0; ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ; tags++) {
    if (tags === MAX_VLAN_TAGS) return 'vlan_too_deep'
    if (offset + 4 > data.length) return 'truncated_packet'
    ethertype = data.readUInt16BE(offset + 2)
    offset += 4
  }
  if (ethertype === ETHERTYPE_IPV4) return decodeIpv4(data, offset)
  if (ethertype === ETHERTYPE_IPV6) return decodeIpv6(data, offset)
  return 'not_ip'
}

/**
 * Text of the IPv4 addresses seen, by value: a busy node talks to few addresses, and every packet needs two of
 * them. Reusing the strings saves building them (two per packet) and makes later comparisons of the same
 * address (dedup, query matching) pointer-equal. Bounded: cleared when full.
 */
const ipv4Texts = new Map<number, string>()
const IPV4_TEXTS_MAX = 65_536

function ipv4Text(data: Buffer, offset: number): string {
  const value = data.readUInt32BE(offset)
  let text = ipv4Texts.get(value)
  if (text === undefined) {
    text = ipv4ToString(data, offset)
    if (ipv4Texts.size >= IPV4_TEXTS_MAX) ipv4Texts.clear()
    ipv4Texts.set(value, text)
  }
  return text
}

function decodeIpv4(data: Buffer, start: number): DecodedPacket | IpFragment | PacketDropReason {
  if (start + 20 > data.length) return 'truncated_packet'
  const versionIhl = data[start] as number
  if (versionIhl >> 4 !== 4) return 'bad_ip_header'
  const headerLength = (versionIhl & 0x0f) * 4
  const totalLength = data.readUInt16BE(start + 2)
  if (headerLength < 20 || totalLength < headerLength) return 'bad_ip_header'
  // Total length beyond the captured bytes: the frame was cut; fewer: Ethernet padding, trimmed below.
  if (start + totalLength > data.length) return 'truncated_packet'
  const protocol = data[start + 9] as number
  const end = start + totalLength
  const source = ipv4Text(data, start + 12)
  const destination = ipv4Text(data, start + 16)
  const flags = data.readUInt16BE(start + 6)
  // More-fragments set or a non-zero offset: a piece of a datagram, for reassembly.
  if ((flags & 0x3fff) !== 0) {
    return {
      family: 'ipv4', sourceAddress: source, destinationAddress: destination,
      fragmentId: data.readUInt16BE(start + 4), protocol,
      fragmentOffset: (flags & 0x1fff) * 8, moreFragments: (flags & 0x2000) !== 0,
      headerLength, data: data.subarray(start + headerLength, end),
    }
  }
  return decodeTransport(data, start + headerLength, end, protocol, 'ipv4', source, destination)
}

function decodeIpv6(data: Buffer, start: number): DecodedPacket | IpFragment | PacketDropReason {
  if (start + 40 > data.length) return 'truncated_packet'
  if ((data[start] as number) >> 4 !== 6) return 'bad_ip_header'
  const end = start + 40 + data.readUInt16BE(start + 4)
  if (end > data.length) return 'truncated_packet'
  const source = ipv6Text(data, start + 8)
  const destination = ipv6Text(data, start + 24)
  return decodeIpv6Chain(data, start + 40, end, data[start + 6] as number, start + 40, source, destination)
}

/**
 * Decodes from the first IPv6 extension header (`offset`, of type `next`) on. A fragment header that makes this a
 * piece of a datagram yields the IpFragment; `payloadStart` is where the IPv6 payload begins, to measure the headers
 * in front of the fragment header.
 */
function decodeIpv6Chain(
  data: Buffer,
  offset: number,
  end: number,
  next: number,
  payloadStart: number,
  source: string,
  destination: string,
): DecodedPacket | IpFragment | PacketDropReason {
  const transport = skipIpv6Extensions(data, offset, end, next)
  if (typeof transport === 'string') return transport
  const fragment = ipv6Stop.fragmentHeader
  if (fragment >= 0) {
    const flags = data.readUInt16BE(fragment + 2)
    return {
      family: 'ipv6', sourceAddress: source, destinationAddress: destination,
      fragmentId: data.readUInt32BE(fragment + 4), protocol: data[fragment] as number,
      fragmentOffset: flags & 0xfff8, moreFragments: (flags & 1) !== 0,
      headerLength: fragment - payloadStart, data: data.subarray(fragment + 8, end),
    }
  }
  return decodeTransport(data, transport, end, ipv6Stop.protocol, 'ipv6', source, destination)
}

/** Where the last skipIpv6Extensions stopped: the transport protocol, and a fragment header's offset (else -1). */
export const ipv6Stop = { protocol: 0, fragmentHeader: -1 }

/**
 * Walks IPv6 extension headers from `offset` (the first of type `next`) within `end` to the transport header: its
 * offset, or why not. A fragment header that makes this a piece of a datagram (any offset, or more fragments)
 * stops the walk there. Allocates nothing, for the http receiver's in-place decoding (tcp-segment.ts).
 */
export function skipIpv6Extensions(data: Buffer, offset: number, end: number, next: number): number | PacketDropReason {
  ipv6Stop.fragmentHeader = -1
  for (let i = 0; next !== PROTO_UDP && next !== PROTO_TCP; i++) {
    if (i === MAX_IPV6_EXTENSIONS) return 'ipv6_extensions'
    if (next === 44) {
      if (offset + 8 > end) return 'truncated_packet'
      if (((((data[offset + 2] as number) << 8) | (data[offset + 3] as number)) & 0xfff9) !== 0) {
        ipv6Stop.fragmentHeader = offset
        return offset
      }
      next = data[offset] as number
      offset += 8
    } else if (next === 0 || next === 43 || next === 60 || next === 51) {
      if (offset + 8 > end) return 'truncated_packet'
      const units = data[offset + 1] as number
      // AH counts its length in 4-byte units minus 2; the others in 8-byte units minus 1.
      const length = next === 51 ? (units + 2) * 4 : (units + 1) * 8
      next = data[offset] as number
      offset += length
      if (offset > end) return 'truncated_packet'
    } else {
      return 'not_udp_tcp'
    }
  }
  ipv6Stop.protocol = next
  return offset
}

function decodeTransport(
  data: Buffer,
  offset: number,
  end: number,
  protocol: number,
  family: Family,
  sourceAddress: string,
  destinationAddress: string,
): DecodedPacket | PacketDropReason {
  if (protocol === PROTO_UDP) {
    if (offset + 8 > end) return 'bad_udp_header'
    const length = data.readUInt16BE(offset + 4)
    if (length < 8 || offset + length > end) return 'bad_udp_header'
    return {
      family, transport: 'udp', sourceAddress, destinationAddress,
      sourcePort: data.readUInt16BE(offset),
      destinationPort: data.readUInt16BE(offset + 2),
      tcpSeq: 0, tcpFlags: 0,
      payload: data.subarray(offset + 8, offset + length),
    }
  }
  if (protocol === PROTO_TCP) {
    if (offset + 20 > end) return 'bad_tcp_header'
    const headerLength = ((data[offset + 12] as number) >> 4) * 4
    if (headerLength < 20 || offset + headerLength > end) return 'bad_tcp_header'
    return {
      family, transport: 'tcp', sourceAddress, destinationAddress,
      sourcePort: data.readUInt16BE(offset),
      destinationPort: data.readUInt16BE(offset + 2),
      tcpSeq: data.readUInt32BE(offset + 4),
      tcpFlags: data[offset + 13] as number,
      payload: data.subarray(offset + headerLength, end),
    }
  }
  return 'not_udp_tcp'
}
