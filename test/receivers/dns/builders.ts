// Hand-made packets for the dns receiver's tests: DNS messages from dns-packet, wrapped in IPv4/IPv6 and
// UDP/TCP headers written here, as the capture ring would deliver them (network header first).
import dnsPacket from 'dns-packet'
import { isIPv4 } from 'node:net'
import { FRAME_HEADER_SIZE, type Frame } from '../../../src/native/frames.ts'
import type { PacketBatch } from '../../../src/native/types.ts'

export interface Endpoints {
  src: string
  sport: number
  dst: string
  dport: number
}

export function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number))
}

/** Any IPv6 text form to its 16 bytes. */
export function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::') as [string, string | undefined]
  const parts = (text: string) => (text === '' ? [] : text.split(':').map((g) => parseInt(g, 16)))
  const left = parts(head)
  const right = tail === undefined ? [] : parts(tail)
  const groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2))
  return out
}

export function udpSegment(e: Endpoints, payload: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt16BE(e.sport, 0)
  header.writeUInt16BE(e.dport, 2)
  header.writeUInt16BE(8 + payload.length, 4)
  // Checksums stay zero: the receiver never verifies them (the kernel already did for received packets).
  return Buffer.concat([header, payload])
}

export interface TcpOptions {
  seq: number
  flags?: number
  ack?: number
}

export function tcpSegment(e: Endpoints, payload: Buffer, options: TcpOptions): Buffer {
  const header = Buffer.alloc(20)
  header.writeUInt16BE(e.sport, 0)
  header.writeUInt16BE(e.dport, 2)
  header.writeUInt32BE(options.seq >>> 0, 4)
  header.writeUInt32BE(options.ack ?? 0, 8)
  header[12] = 5 << 4
  header[13] = options.flags ?? 0x18
  header.writeUInt16BE(65535, 14)
  return Buffer.concat([header, payload])
}

export function ipPacket(e: Endpoints, protocol: 6 | 17, transport: Buffer): { data: Buffer; ethertype: number } {
  if (isIPv4(e.src)) {
    const header = Buffer.alloc(20)
    header[0] = 0x45
    header.writeUInt16BE(20 + transport.length, 2)
    header[8] = 64
    header[9] = protocol
    ipv4Bytes(e.src).copy(header, 12)
    ipv4Bytes(e.dst).copy(header, 16)
    return { data: Buffer.concat([header, transport]), ethertype: 0x0800 }
  }
  const header = Buffer.alloc(40)
  header[0] = 0x60
  header.writeUInt16BE(transport.length, 4)
  header[6] = protocol
  header[7] = 64
  ipv6Bytes(e.src).copy(header, 8)
  ipv6Bytes(e.dst).copy(header, 24)
  return { data: Buffer.concat([header, transport]), ethertype: 0x86dd }
}

export function frameOf(packet: { data: Buffer; ethertype: number }, timestampNs: bigint, ifindex = 2): Frame {
  return { timestampNs, ifindex, ethertype: packet.ethertype, pktType: 0, origlen: packet.data.length, data: packet.data }
}

export function udpFrame(e: Endpoints, dns: Buffer, timestampNs: bigint, ifindex = 2): Frame {
  return frameOf(ipPacket(e, 17, udpSegment(e, dns)), timestampNs, ifindex)
}

export function tcpFrame(e: Endpoints, payload: Buffer, options: TcpOptions, timestampNs: bigint): Frame {
  return frameOf(ipPacket(e, 6, tcpSegment(e, payload, options)), timestampNs)
}

export const reverse = (e: Endpoints): Endpoints => ({ src: e.dst, sport: e.dport, dst: e.src, dport: e.sport })

export function query(id: number, name: string, type: dnsPacket.RecordType = 'A'): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] })
}

export function response(
  id: number,
  name: string,
  type: dnsPacket.RecordType,
  answers: dnsPacket.Answer[] = [],
  rcode = 0,
): Buffer {
  const buf = dnsPacket.encode({
    type: 'response', id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name, type, class: 'IN' }], answers,
  })
  buf[3] = ((buf[3] as number) & 0xf0) | (rcode & 0x0f)
  return buf
}

/** A 2-byte length prefix, as DNS over TCP frames each message. */
export function prefixed(message: Buffer): Buffer {
  const length = Buffer.alloc(2)
  length.writeUInt16BE(message.length)
  return Buffer.concat([length, message])
}

export const ms = (n: number) => BigInt(n) * 1_000_000n

/** Frames in the native layout (src/native/types.ts PacketBatch). */
export function batchOf(frames: Frame[]): PacketBatch {
  const size = frames.reduce((sum, f) => sum + FRAME_HEADER_SIZE + ((f.data.length + 7) & ~7), 0)
  const data = Buffer.alloc(size)
  let offset = 0
  for (const f of frames) {
    data.writeBigUInt64LE(f.timestampNs, offset)
    data.writeUInt32LE(f.ifindex, offset + 8)
    data.writeUInt32LE(f.data.length, offset + 12)
    data.writeUInt32LE(f.origlen, offset + 16)
    data.writeUInt16LE(f.ethertype, offset + 20)
    data[offset + 22] = f.pktType
    f.data.copy(data, offset + FRAME_HEADER_SIZE)
    offset += FRAME_HEADER_SIZE + ((f.data.length + 7) & ~7)
  }
  return { data, count: frames.length, lost: 0 }
}
