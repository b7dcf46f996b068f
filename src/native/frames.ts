// Walks the batches the native threads hand over. Layouts are defined in native/src and documented in types.ts.
import type { PacketBatch, RingBatch } from './types.ts'

export const FRAME_HEADER_SIZE = 24
/** Where each field of a frame header lies (little-endian): for readers that take them in place, as frameAt does. */
export const FrameField = { TIMESTAMP: 0, IFINDEX: 8, CAPLEN: 12, ORIGLEN: 16, ETHERTYPE: 20, PKT_TYPE: 22 } as const

/** PACKET_* values of sockaddr_ll.sll_pkttype. */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const

export interface Frame {
  /** CLOCK_REALTIME, nanoseconds. */
  timestampNs: bigint
  ifindex: number
  /** EtherType of the network-layer payload (0x0800 IPv4, 0x86dd IPv6, 0x8100 VLAN tag still inline). */
  ethertype: number
  pktType: number
  /** Length on the wire; `data.length` is less only when the frame was larger than a ring block. */
  origlen: number
  /** The captured bytes, starting at the network header; a view into the batch, not a copy. */
  data: Buffer
}

/** Frames and ring records start on 8-byte boundaries. */
export const align8 = (n: number) => (n + 7) & ~7

/** Frames of a batch in capture order. */
export function* framesOf(batch: PacketBatch): Generator<Frame> {
  let offset = 0
  for (let i = 0; i < batch.count && hasFrameAt(batch, offset); i++) {
    yield frameAt(batch, offset)
    offset = nextFrameOffset(batch, offset)
  }
}

/** Whether a frame header starts at `offset` (the batch may end early). */
export const hasFrameAt = (batch: PacketBatch, offset: number): boolean => offset + FRAME_HEADER_SIZE <= batch.data.length

/** The frame whose header starts at `offset`. */
export function frameAt(batch: PacketBatch, offset: number): Frame {
  const { data } = batch
  const caplen = data.readUInt32LE(offset + FrameField.CAPLEN)
  const start = offset + FRAME_HEADER_SIZE
  return {
    timestampNs: data.readBigUInt64LE(offset + FrameField.TIMESTAMP),
    ifindex: data.readUInt32LE(offset + FrameField.IFINDEX),
    ethertype: data.readUInt16LE(offset + FrameField.ETHERTYPE),
    pktType: data.readUInt8(offset + FrameField.PKT_TYPE),
    origlen: data.readUInt32LE(offset + FrameField.ORIGLEN),
    data: data.subarray(start, start + caplen),
  }
}

/** Where the frame after the one at `offset` starts. */
export const nextFrameOffset = (batch: PacketBatch, offset: number): number =>
  offset + FRAME_HEADER_SIZE + align8(batch.data.readUInt32LE(offset + FrameField.CAPLEN))

/** Records of a ring-buffer batch, each as the BPF program submitted it (a view, not a copy). */
export function* recordsOf(batch: RingBatch): Generator<Buffer> {
  const { data } = batch
  let offset = 0
  for (let i = 0; i < batch.count && offset + 4 <= data.length; i++) {
    const length = data.readUInt32LE(offset)
    yield data.subarray(offset + 4, offset + 4 + length)
    offset = align8(offset + 4 + length)
  }
}
