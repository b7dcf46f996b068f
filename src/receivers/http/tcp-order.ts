// Puts one direction of a captured TCP connection back in order by sequence number and hands its bytes on.
// Retransmissions and copies of a segment seen on a second interface fall away as old data; segments ahead of a
// hole wait (bounded), and when the wait outgrows its bound the hole is declared lost and handed on as a gap, which
// the HTTP parser can skip inside a body. Unlike DNS over TCP (src/receivers/dns/tcp-stream.ts) nothing is
// buffered to form messages: in-order bytes go straight to the parser.

export interface OrderedSink {
  data(payload: Buffer, timestampNs: bigint): void
  gap(length: number): void
}

interface EarlySegment {
  payload: Buffer
  timestampNs: bigint
}

/** Signed distance a − b in sequence space (RFC 1982 arithmetic on 32 bits). */
const seqDiff = (a: number, b: number) => (a - b) | 0

export class TcpOrder {
  /** Sequence number of the next in-order byte; undefined until the first segment fixes it. */
  private next: number | undefined
  private early = new Map<number, EarlySegment>()
  private earlyBytes = 0
  private readonly maxEarlyBytes: number

  constructor(maxEarlyBytes: number) {
    this.maxEarlyBytes = maxEarlyBytes
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
  }

  push(seq: number, payload: Buffer, timestampNs: bigint, sink: OrderedSink): void {
    if (payload.length === 0) return
    // Joined mid-connection: take the first segment seen as the start.
    if (this.next === undefined) this.next = seq
    let distance = seqDiff(seq, this.next)
    if (distance < 0) {
      if (distance + payload.length <= 0) return
      payload = payload.subarray(-distance)
      seq = this.next
      distance = 0
    }
    if (distance > 0) {
      const held = this.early.get(seq)
      if (held && held.payload.length >= payload.length) return
      this.earlyBytes += payload.length - (held?.payload.length ?? 0)
      // An owned copy: `payload` is a view into a capture batch.
      this.early.set(seq, { payload: Buffer.from(payload), timestampNs })
      if (this.earlyBytes > this.maxEarlyBytes) this.skipHole(sink)
      return
    }
    this.next = (this.next + payload.length) >>> 0
    sink.data(payload, timestampNs)
    if (this.early.size > 0) this.drain(sink)
  }

  /** Declares the hole before the earliest held segment lost and delivers what follows it. */
  private skipHole(sink: OrderedSink): void {
    let earliest: number | undefined
    for (const seq of this.early.keys()) {
      if (earliest === undefined || seqDiff(seq, earliest) < 0) earliest = seq
    }
    if (earliest === undefined || this.next === undefined) return
    sink.gap(seqDiff(earliest, this.next))
    this.next = earliest
    this.drain(sink)
  }

  private drain(sink: OrderedSink): void {
    for (let advanced = true; advanced && this.early.size > 0; ) {
      advanced = false
      for (const [seq, segment] of this.early) {
        const gap = seqDiff(seq, this.next as number)
        if (gap > 0) continue
        this.early.delete(seq)
        this.earlyBytes -= segment.payload.length
        if (gap + segment.payload.length > 0) {
          const fresh = segment.payload.subarray(-gap)
          this.next = ((this.next as number) + fresh.length) >>> 0
          sink.data(fresh, segment.timestampNs)
        }
        advanced = true
      }
    }
  }
}
