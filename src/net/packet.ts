// Network-layer decoding of captured frames, shared by the dns and http receivers (SOCK_DGRAM: data starts at the
// IP header, or at an inline VLAN tag when the frame's ethertype says so) down to the UDP or TCP payload. Pure and
// allocation-light: a frame either yields a DecodedPacket or the reason it cannot, which the caller counts.
import type { Family, Transport } from '../records.ts'
import { ipv4ToString as ipv4Text, ipv6ToString as ipv6Text } from './address.ts'

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_IPV6 = 0x86dd
const ETHERTYPE_VLAN = 0x8100
const ETHERTYPE_QINQ = 0x88a8
const MAX_VLAN_TAGS = 2
const MAX_IPV6_EXTENSIONS = 8

const PROTO_TCP = 6
const PROTO_UDP = 17

export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const

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

function decodeIpv4(data: Buffer, start: number): DecodedPacket | PacketDropReason {
  if (start + 20 > data.length) return 'truncated_packet'
  const versionIhl = data[start] as number
  if (versionIhl >> 4 !== 4) return 'bad_ip_header'
  const headerLength = (versionIhl & 0x0f) * 4
  const totalLength = data.readUInt16BE(start + 2)
  if (headerLength < 20 || totalLength < headerLength) return 'bad_ip_header'
  // Total length beyond the captured bytes: the frame was cut; fewer: Ethernet padding, trimmed below.
  if (start + totalLength > data.length) return 'truncated_packet'
  // More-fragments set or a non-zero offset: a message in pieces cannot be decoded from one of them.
  if ((data.readUInt16BE(start + 6) & 0x3fff) !== 0) return 'ip_fragment'
  const protocol = data[start + 9] as number
  const end = start + totalLength
  const source = ipv4Text(data, start + 12)
  const destination = ipv4Text(data, start + 16)
  return decodeTransport(data, start + headerLength, end, protocol, 'ipv4', source, destination)
}

function decodeIpv6(data: Buffer, start: number): DecodedPacket | PacketDropReason {
  if (start + 40 > data.length) return 'truncated_packet'
  if ((data[start] as number) >> 4 !== 6) return 'bad_ip_header'
  const end = start + 40 + data.readUInt16BE(start + 4)
  if (end > data.length) return 'truncated_packet'
  let next = data[start + 6] as number
  let offset = start + 40
  for (let i = 0; next !== PROTO_UDP && next !== PROTO_TCP; i++) {
    if (i === MAX_IPV6_EXTENSIONS) return 'ipv6_extensions'
    if (next === 44) {
      // Fragment header: 8 bytes; any offset or the more-fragments flag means a piece of a datagram.
      if (offset + 8 > end) return 'truncated_packet'
      if ((data.readUInt16BE(offset + 2) & 0xfff9) !== 0) return 'ip_fragment'
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
  return decodeTransport(data, offset, end, next, 'ipv6', ipv6Text(data, start + 8), ipv6Text(data, start + 24))
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
