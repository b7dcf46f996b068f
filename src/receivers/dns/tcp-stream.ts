// Reassembly of DNS over TCP (RFC 7766): each direction of a connection is a byte stream of messages, each
// behind a 2-byte length. Segments are placed by sequence number, so retransmissions and copies of a segment
// seen on a second interface fall away as old data and out-of-order segments wait for the gap to fill.
// Memory is bounded per connection and in connection count (least recently used evicted); state goes on
// FIN/RST or idleness. Whatever is lost on the way is reported through `onDrop` with its reason.
import { seqDiff, TcpFlags } from '../../net/packet.ts'

export interface TcpStreamOptions {
  /** Connections (one direction each) tracked at once; the least recently used is evicted beyond this. */
  maxStreams: number
  /** Bytes held per direction, in-order and out-of-order together (a full message is at most 65537). */
  maxBytesPerStream: number
}

export type TcpDropReason = 'tcp_stream_overflow' | 'tcp_stream_evicted' | 'tcp_stream_incomplete' | 'tcp_desync'

/** A whole message, and when its first byte was seen: a client times a query from its first byte, however the
 * kernel cut it (kdig writes the length prefix apart, and Nagle may hold the rest until the prefix is acked). */
export interface TcpMessage {
  data: Buffer
  startNs: bigint
}

interface Stream {
  /** Sequence number of the next in-order byte. */
  next: number
  /** In-order bytes not yet forming a whole message (owned copies). */
  buffered: Buffer
  /** When the first of the `buffered` bytes was seen. */
  bufferedSinceNs: bigint
  /** Out-of-order segments by sequence number (owned copies). */
  early: Map<number, Buffer>
  earlyBytes: number
  lastSeenNs: bigint
}

/** DNS needs at least a header; a shorter length prefix means we are not at a message boundary. */
const MIN_MESSAGE = 12

export class TcpStreams {
  private readonly streams = new Map<string, Stream>()
  private readonly options: TcpStreamOptions
  private readonly onDrop: (reason: TcpDropReason) => void

  constructor(options: TcpStreamOptions, onDrop: (reason: TcpDropReason) => void) {
    this.options = options
    this.onDrop = onDrop
  }

  get size(): number {
    return this.streams.size
  }

  /**
   * Feeds one segment of the direction `key` (e.g. "src|sport|dst|dport"). Returns the DNS messages it
   * completed, without their length prefix; they may be views into `payload`, so use them before returning.
   */
  push(key: string, seq: number, flags: number, payload: Buffer, timestampNs: bigint): TcpMessage[] {
    let stream = this.streams.get(key)
    if (flags & TcpFlags.RST) {
      if (stream) this.close(key, stream)
      return []
    }
    if (flags & TcpFlags.SYN) {
      if (stream) this.close(key, stream)
      stream = undefined
      seq = (seq + 1) >>> 0
    }
    if (!stream) {
      // Joined mid-connection (no SYN seen): assume the first data starts a message; a wrong guess desyncs and resets.
      if (payload.length === 0 && !(flags & TcpFlags.SYN)) return []
      stream = { next: seq, buffered: Buffer.alloc(0), bufferedSinceNs: timestampNs, early: new Map(), earlyBytes: 0, lastSeenNs: timestampNs }
      this.streams.set(key, stream)
      this.evictBeyondLimit()
    } else {
      // Refresh the LRU position.
      this.streams.delete(key)
      this.streams.set(key, stream)
    }
    stream.lastSeenNs = timestampNs

    const messages: TcpMessage[] = []
    if (payload.length > 0) this.place(key, stream, seq, payload, timestampNs, messages)
    if (flags & TcpFlags.FIN && this.streams.get(key) === stream) this.close(key, stream)
    return messages
  }

  /** Forgets a direction whose content proved not to be DNS messages (the caller counts why). */
  reset(key: string): void {
    this.streams.delete(key)
  }

  /** Forgets every direction (shutdown), counting those holding a partial message. */
  clear(): void {
    for (const [key, stream] of this.streams) this.close(key, stream)
  }

  /** Drops directions idle since before `cutoffNs`. */
  sweep(cutoffNs: bigint): void {
    for (const [key, stream] of this.streams) {
      if (stream.lastSeenNs < cutoffNs) this.close(key, stream)
    }
  }

  private place(key: string, stream: Stream, seq: number, payload: Buffer, nowNs: bigint, messages: TcpMessage[]): void {
    let distance = seqDiff(seq, stream.next)
    if (distance < 0) {
      // Retransmitted or duplicated bytes: keep only what lies beyond what we already have.
      if (distance + payload.length <= 0) return
      payload = payload.subarray(-distance)
      distance = 0
    }
    if (distance > 0) {
      if (stream.early.has(seq) && (stream.early.get(seq) as Buffer).length >= payload.length) return
      stream.earlyBytes += payload.length - (stream.early.get(seq)?.length ?? 0)
      stream.early.set(seq, Buffer.from(payload))
      if (stream.buffered.length + stream.earlyBytes > this.options.maxBytesPerStream) this.overflow(key)
      return
    }
    // The first message starts in what was buffered, if anything; later ones in this segment (or in out-of-order
    // bytes it joined, which arrived no later than it: timed from now, the later bound).
    let startNs = stream.buffered.length === 0 ? nowNs : stream.bufferedSinceNs
    let data = stream.buffered.length === 0 ? payload : Buffer.concat([stream.buffered, payload])
    stream.next = (stream.next + payload.length) >>> 0
    // Fill from out-of-order segments the new bytes have reached.
    while (stream.early.size > 0) {
      let advanced = false
      for (const [earlySeq, early] of stream.early) {
        const gap = seqDiff(earlySeq, stream.next)
        if (gap > 0) continue
        stream.early.delete(earlySeq)
        stream.earlyBytes -= early.length
        if (gap + early.length > 0) {
          const fresh = early.subarray(-gap)
          data = Buffer.concat([data, fresh])
          stream.next = (stream.next + fresh.length) >>> 0
        }
        advanced = true
      }
      if (!advanced) break
    }
    let offset = 0
    while (data.length - offset >= 2) {
      const length = data.readUInt16BE(offset)
      if (length < MIN_MESSAGE) {
        this.onDrop('tcp_desync')
        this.reset(key)
        return
      }
      if (data.length - offset - 2 < length) break
      messages.push({ data: data.subarray(offset + 2, offset + 2 + length), startNs })
      offset += 2 + length
      startNs = nowNs
    }
    // Keep the remainder as an owned copy: `payload` is a view into a capture batch.
    stream.buffered = offset === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(offset))
    stream.bufferedSinceNs = startNs
    if (stream.buffered.length + stream.earlyBytes > this.options.maxBytesPerStream) this.overflow(key)
  }

  private overflow(key: string): void {
    this.onDrop('tcp_stream_overflow')
    this.reset(key)
  }

  private close(key: string, stream: Stream): void {
    if (stream.buffered.length > 0 || stream.earlyBytes > 0) this.onDrop('tcp_stream_incomplete')
    this.streams.delete(key)
  }

  private evictBeyondLimit(): void {
    while (this.streams.size > this.options.maxStreams) {
      const [key, stream] = this.streams.entries().next().value as [string, Stream]
      if (stream.buffered.length > 0 || stream.earlyBytes > 0) this.onDrop('tcp_stream_evicted')
      this.streams.delete(key)
    }
  }
}
