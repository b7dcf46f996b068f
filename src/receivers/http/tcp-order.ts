// Puts one direction of a captured TCP connection back in order by sequence number and hands its bytes on.
// Retransmissions and copies of a segment seen on a second interface fall away as old data; segments ahead of a
// hole wait (bounded), and when the wait outgrows its bound the hole is declared lost and handed on as a gap, which
// the HTTP parser can skip inside a body. Unlike DNS over TCP (src/receivers/dns/tcp-stream.ts) nothing is
// buffered to form messages: in-order bytes go straight to the parser, as a range of the capture batch.
// Payload bytes the capture did not keep (cut by its snap length) follow the captured ones as a gap.
//
// A hole is also declared lost as soon as the receiver acknowledges bytes past it (the ACK number of a segment
// the other way): bytes the receiver has are never sent again, so the capture missed them. Without this a lost
// frame held a busy connection's later segments until the bound, ~5800 small requests, whose responses then found
// no request.
import { seqDiff } from '../../net/packet.ts'

export interface OrderedSink {
  feed(data: Buffer, start: number, end: number, timestampNs: number): void
  gap(length: number): void
}

interface EarlySegment {
  payload: Buffer
  /** Bytes of the segment after `payload` that were not captured. */
  missing: number
  timestampNs: number
}

export class TcpOrder {
  /** Sequence number of the next in-order byte; -1 until the first segment fixes it. */
  private next = -1
  private early = new Map<number, EarlySegment>()
  private earlyBytes = 0
  /** Sequence number of the FIN, once seen: it takes a sequence number but carries no byte. */
  private finSeq = -1
  private readonly maxEarlyBytes: number

  constructor(maxEarlyBytes: number) {
    this.maxEarlyBytes = maxEarlyBytes
  }

  /** Sequence number of the next byte to deliver; -1 before the first segment. */
  get nextSeq(): number {
    return this.next
  }

  /** Bytes held out of order. */
  get heldBytes(): number {
    return this.earlyBytes
  }

  /** A SYN: the first data byte is `isn + 1`. */
  synchronize(isn: number): void {
    this.next = (isn + 1) >>> 0
    this.early.clear()
    this.earlyBytes = 0
    this.finSeq = -1
  }

  /**
   * A segment: `data[start, end)` captured of its payload, then `missing` bytes that were not, from sequence
   * number `seq` on.
   */
  push(seq: number, data: Buffer, start: number, end: number, missing: number, timestampNs: number, sink: OrderedSink): void {
    const length = end - start + missing
    if (length === 0) return
    // Joined mid-connection: take the first segment seen as the start.
    if (this.next < 0) this.next = seq
    let distance = seqDiff(seq, this.next)
    if (distance < 0) {
      if (distance + length <= 0) return
      // Already delivered up to `next`: drop that much, from the captured bytes first.
      const skip = -distance
      const fromCaptured = Math.min(skip, end - start)
      start += fromCaptured
      missing -= skip - fromCaptured
      seq = this.next
      distance = 0
    }
    if (distance > 0) {
      const held = this.early.get(seq)
      if (held && held.payload.length + held.missing >= length) return
      this.earlyBytes += end - start - (held?.payload.length ?? 0)
      // An owned copy: `data` is a capture batch.
      this.early.set(seq, { payload: Buffer.from(data.subarray(start, end)), missing, timestampNs })
      if (this.earlyBytes > this.maxEarlyBytes) this.skipHole(sink)
      return
    }
    this.next = (this.next + length) >>> 0
    if (end > start) sink.feed(data, start, end, timestampNs)
    if (missing > 0) sink.gap(missing)
    if (this.early.size > 0) this.drain(sink)
  }

  /** A FIN at sequence number `seq` (after the segment's payload). */
  finish(seq: number): void {
    this.finSeq = seq >>> 0
  }

  /** The receiver has every byte before `ack`: what was not delivered up to there never will be. */
  acknowledged(ack: number, sink: OrderedSink): void {
    if (this.next < 0) return
    if (this.finSeq >= 0 && seqDiff(ack, this.finSeq) > 0) ack = this.finSeq
    const missed = seqDiff(ack, this.next)
    if (missed <= 0) return
    // Beyond the earliest held segment, the hole ends there (the held bytes are not missing).
    let earliest = -1
    for (const seq of this.early.keys()) if (earliest < 0 || seqDiff(seq, earliest) < 0) earliest = seq
    const hole = earliest >= 0 ? Math.min(missed, seqDiff(earliest, this.next)) : missed
    if (hole <= 0) return
    sink.gap(hole)
    this.next = (this.next + hole) >>> 0
    if (this.early.size > 0) this.drain(sink)
  }

  /** Declares the hole before the earliest held segment lost and delivers what follows it. */
  private skipHole(sink: OrderedSink): void {
    let earliest: number | undefined
    for (const seq of this.early.keys()) {
      if (earliest === undefined || seqDiff(seq, earliest) < 0) earliest = seq
    }
    if (earliest === undefined || this.next < 0) return
    sink.gap(seqDiff(earliest, this.next))
    this.next = earliest
    this.drain(sink)
  }

  private drain(sink: OrderedSink): void {
    for (let advanced = true; advanced && this.early.size > 0; ) {
      advanced = false
      for (const [seq, segment] of this.early) {
        const gap = seqDiff(seq, this.next)
        if (gap > 0) continue
        this.early.delete(seq)
        this.earlyBytes -= segment.payload.length
        const { payload, missing } = segment
        if (gap + payload.length + missing > 0) {
          const skip = -gap
          const fromCaptured = Math.min(skip, payload.length)
          const rest = missing - (skip - fromCaptured)
          this.next = (this.next + payload.length - fromCaptured + rest) >>> 0
          if (payload.length > fromCaptured) sink.feed(payload, fromCaptured, payload.length, segment.timestampNs)
          if (rest > 0) sink.gap(rest)
        }
        advanced = true
      }
    }
  }
}
