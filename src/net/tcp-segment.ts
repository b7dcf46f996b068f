// TCP segments decoded in place, for a per-packet hot path (the http receiver sees two or more segments per
// request): the headers of an IPv4 or IPv6 frame are read into one reused TcpSegment, addresses as 32-bit words and
// the payload as offsets into the frame, so decoding allocates nothing. decodePacket (packet.ts) is the allocating
// form with address text; the header checks and drop reasons are the same.
//
// A frame the capture cut short (its snap length: fewer bytes captured than the packet had, as `origlen` tells)
// still decodes when its headers were captured: the payload ends at the captured end and `payloadMissing` counts
// the payload bytes that were not captured. A frame shorter than its own IP header says is `truncated_packet`.
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN, ipv6Stop, MAX_VLAN_TAGS, PROTO_TCP, PROTO_UDP,
  skipIpv6Extensions, type PacketDropReason,
} from './packet.ts'

// Byte arithmetic instead of Buffer.readUInt16BE/readUInt32BE, which TurboFan did not inline here (their bounds
// checks): callers check the bounds.
const u16 = (d: Buffer, o: number) => ((d[o] as number) << 8) | (d[o + 1] as number)
const u32 = (d: Buffer, o: number) =>
  (((d[o] as number) << 24) | ((d[o + 1] as number) << 16) | ((d[o + 2] as number) << 8) | (d[o + 3] as number)) >>> 0

export class TcpSegment {
  family: 4 | 6 = 4
  /** Source and destination addresses as big-endian 32-bit words (IPv4: word 0, the others 0). */
  source0 = 0
  source1 = 0
  source2 = 0
  source3 = 0
  destination0 = 0
  destination1 = 0
  destination2 = 0
  destination3 = 0
  /** Where the source address starts in the frame; the destination follows it (4 or 16 bytes later). */
  addressOffset = 0
  sourcePort = 0
  destinationPort = 0
  /** Sequence number of the first payload byte. */
  seq = 0
  /** Acknowledgment number (meaningful with the ACK flag). */
  ack = 0
  flags = 0
  /** The captured payload: `data[payloadStart, payloadEnd)`. */
  payloadStart = 0
  payloadEnd = 0
  /** Payload bytes the packet had beyond payloadEnd that the capture did not keep. */
  payloadMissing = 0
}

/** What decodeTcpSegment returns when the frame is a well-formed packet, just not TCP (nothing to count). */
export const NOT_TCP = 'not_tcp'

/**
 * Reads the TCP segment in `data[start, end)` (a frame at the network layer, `origlen` bytes on the wire) into
 * `out`. Returns undefined when it did, NOT_TCP for UDP, or why the frame cannot be decoded.
 */
export function decodeTcpSegment(
  data: Buffer,
  start: number,
  end: number,
  origlen: number,
  frameEthertype: number,
  out: TcpSegment,
): PacketDropReason | typeof NOT_TCP | undefined {
  let ethertype = frameEthertype
  let offset = start
  for (let tags = 0; ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ; tags++) {
    if (tags === MAX_VLAN_TAGS) return 'vlan_too_deep'
    if (offset + 4 > end) return 'truncated_packet'
    ethertype = u16(data, offset + 2)
    offset += 4
  }
  // The packet's end by its own length fields, then checked against what was captured and what was on the wire.
  const wireEnd = start + origlen
  let ipEnd: number
  let protocol: number
  if (ethertype === ETHERTYPE_IPV4) {
    if (offset + 20 > end) return 'truncated_packet'
    const versionIhl = data[offset] as number
    if (versionIhl >> 4 !== 4) return 'bad_ip_header'
    const headerLength = (versionIhl & 0x0f) * 4
    const totalLength = u16(data, offset + 2)
    if (headerLength < 20 || totalLength < headerLength) return 'bad_ip_header'
    ipEnd = offset + totalLength
    if (ipEnd > wireEnd || offset + headerLength > end) return 'truncated_packet'
    if ((u16(data, offset + 6) & 0x3fff) !== 0) return 'ip_fragment'
    protocol = data[offset + 9] as number
    out.family = 4
    out.addressOffset = offset + 12
    out.source0 = u32(data, offset + 12)
    out.destination0 = u32(data, offset + 16)
    out.source1 = out.source2 = out.source3 = 0
    out.destination1 = out.destination2 = out.destination3 = 0
    offset += headerLength
  } else if (ethertype === ETHERTYPE_IPV6) {
    if (offset + 40 > end) return 'truncated_packet'
    if ((data[offset] as number) >> 4 !== 6) return 'bad_ip_header'
    ipEnd = offset + 40 + u16(data, offset + 4)
    if (ipEnd > wireEnd) return 'truncated_packet'
    out.family = 6
    out.addressOffset = offset + 8
    out.source0 = u32(data, offset + 8)
    out.source1 = u32(data, offset + 12)
    out.source2 = u32(data, offset + 16)
    out.source3 = u32(data, offset + 20)
    out.destination0 = u32(data, offset + 24)
    out.destination1 = u32(data, offset + 28)
    out.destination2 = u32(data, offset + 32)
    out.destination3 = u32(data, offset + 36)
    protocol = data[offset + 6] as number
    offset += 40
    // Extension headers, as decodePacket walks them; they must have been captured whole.
    const transport = skipIpv6Extensions(data, offset, Math.min(ipEnd, end), protocol)
    if (typeof transport === 'string') return transport
    if (ipv6Stop.fragmentHeader >= 0) return 'ip_fragment'
    protocol = ipv6Stop.protocol
    offset = transport
  } else {
    return 'not_ip'
  }
  if (protocol === PROTO_UDP) return NOT_TCP
  if (protocol !== PROTO_TCP) return 'not_udp_tcp'
  if (offset + 20 > ipEnd) return 'bad_tcp_header'
  if (offset + 20 > end) return 'truncated_packet'
  const headerLength = ((data[offset + 12] as number) >> 4) * 4
  if (headerLength < 20 || offset + headerLength > ipEnd) return 'bad_tcp_header'
  if (offset + headerLength > end) return 'truncated_packet'
  out.sourcePort = u16(data, offset)
  out.destinationPort = u16(data, offset + 2)
  out.seq = u32(data, offset + 4)
  out.ack = u32(data, offset + 8)
  out.flags = data[offset + 13] as number
  out.payloadStart = offset + headerLength
  // Ethernet padding beyond the IP packet is not payload; bytes of it beyond the capture are missing.
  out.payloadEnd = Math.min(ipEnd, end)
  out.payloadMissing = ipEnd - out.payloadEnd
  return undefined
}
