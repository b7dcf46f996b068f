// From captured frames to records: decode the packet (reassembling IP fragments), drop copies seen on another
// interface, reassemble TCP, parse DNS, pair queries with responses, and collect DnsRecord / DnsAnswerRecord until the receiver flushes.
// Pure (no I/O, no timers): the receiver drives it, and tests feed it hand-made frames.
import type { AnyRecord, DnsRecord } from '../../records.ts'
import type { Frame } from '../../native/frames.ts'
import { answerRecord } from './answers.ts'
import { Deduplicator } from './dedup.ts'
import { QueryMatcher, type Exchange } from './matcher.ts'
import { decodeDatagram, decodeFrame, isFragment, type DecodedPacket, type PacketDropReason } from '../../net/packet.ts'
import { DEFAULT_REASSEMBLY_OPTIONS, IpReassembly, type ReassemblyOptions } from '../../net/reassembly.ts'
import { parseDns } from './parse.ts'
import { TcpStreams } from './tcp-stream.ts'
import type { DnsTelemetry } from './telemetry.ts'

export interface DnsTrackerOptions {
  timeoutNs: bigint
  maxPending: number
  /** Records held between flushes; beyond it new ones are dropped (`buffer_full`). */
  maxBuffered: number
  dedupWindowNs: bigint
  dedupMaxEntries: number
  tcpMaxStreams: number
  tcpMaxBytesPerStream: number
  tcpIdleNs: bigint
  /** IP fragments of large UDP answers, put back together before decoding. */
  ipReassembly: ReassemblyOptions
}

export const DEFAULT_TRACKER_OPTIONS: DnsTrackerOptions = {
  timeoutNs: 5_000_000_000n,
  maxPending: 65536,
  maxBuffered: 262_144,
  dedupWindowNs: 50_000_000n,
  dedupMaxEntries: 65536,
  tcpMaxStreams: 16384,
  tcpMaxBytesPerStream: 2 * 65537,
  tcpIdleNs: 60_000_000_000n,
  ipReassembly: DEFAULT_REASSEMBLY_OPTIONS,
}

export class DnsTracker {
  private readonly options: DnsTrackerOptions
  private readonly telemetry: DnsTelemetry
  private readonly dedup: Deduplicator
  private readonly streams: TcpStreams
  private readonly fragments: IpReassembly
  private readonly matcher: QueryMatcher
  private buffered: AnyRecord[] = []

  constructor(options: DnsTrackerOptions, telemetry: DnsTelemetry) {
    this.options = options
    this.telemetry = telemetry
    this.dedup = new Deduplicator({ windowNs: options.dedupWindowNs, maxEntries: options.dedupMaxEntries })
    this.streams = new TcpStreams(
      { maxStreams: options.tcpMaxStreams, maxBytesPerStream: options.tcpMaxBytesPerStream },
      (reason) => telemetry.dropped(reason),
    )
    this.fragments = new IpReassembly(options.ipReassembly, (reason, count) => telemetry.dropped(reason, count))
    this.matcher = new QueryMatcher(
      { timeoutNs: options.timeoutNs, maxPending: options.maxPending },
      (reason) => telemetry.dropped(reason),
    )
  }

  get pendingQueries(): number {
    return this.matcher.size
  }

  get tcpStreams(): number {
    return this.streams.size
  }

  /** IP datagrams waiting for more of their fragments. */
  get fragmentedDatagrams(): number {
    return this.fragments.size
  }

  handleFrame(frame: Frame): void {
    if (frame.data.length < frame.origlen) {
      // Cut to the ring's frame size: the tail of the message is missing.
      this.telemetry.dropped('truncated_capture')
      return
    }
    const packet = this.decode(frame)
    if (packet === undefined) return
    if (typeof packet === 'string') {
      this.telemetry.dropped(packet)
      return
    }
    if (packet.transport === 'udp') {
      if (this.dedup.isDuplicate(packet, packet.payload, frame.timestampNs)) {
        this.telemetry.dropped('duplicate')
        return
      }
      this.handleMessage(packet.payload, packet, frame.timestampNs, frame.timestampNs)
      return
    }
    const flowKey = `${packet.sourceAddress}|${packet.sourcePort}|${packet.destinationAddress}|${packet.destinationPort}`
    const messages = this.streams.push(flowKey, packet.tcpSeq, packet.tcpFlags, packet.payload, frame.timestampNs)
    for (const message of messages) this.handleMessage(message.data, packet, message.startNs, frame.timestampNs)
  }

  /** Records ready now, timeouts included as of `nowNs` (CLOCK_REALTIME, like frame timestamps). */
  collect(nowNs: bigint): AnyRecord[] {
    const timeouts: DnsRecord[] = []
    this.matcher.expire(nowNs, timeouts)
    this.streams.sweep(nowNs - this.options.tcpIdleNs)
    this.fragments.expire(nowNs)
    for (const record of timeouts) this.add(record)
    const retransmits = this.matcher.retransmits
    if (retransmits > 0) {
      this.telemetry.retransmitted(retransmits)
      this.matcher.retransmits = 0
    }
    if (this.dedup.forgottenEarly > 0) {
      this.telemetry.dedupForgotten(this.dedup.forgottenEarly)
      this.dedup.forgottenEarly = 0
    }
    const records = this.buffered
    this.buffered = []
    return records
  }

  /** Forgets pending queries, partial streams and datagrams (shutdown); queries and fragments are counted as dropped. */
  clear(): void {
    this.telemetry.dropped('shutdown_pending', this.matcher.clear())
    this.streams.clear()
    this.fragments.clear()
  }

  /** The frame's packet; a fragment either completes its datagram or waits for the rest of it (undefined). */
  private decode(frame: Frame): DecodedPacket | PacketDropReason | undefined {
    const decoded = decodeFrame(frame.data, frame.ethertype)
    if (!isFragment(decoded)) return decoded
    const datagram = this.fragments.push(decoded, frame.ifindex, frame.timestampNs)
    return datagram && decodeDatagram(datagram)
  }

  /**
   * `startNs`: when the message's first byte was seen; `endNs`: when its last was (the same for a datagram). A query
   * is timed from its start, a response to its end, as the client times the exchange.
   */
  private handleMessage(payload: Buffer, packet: DecodedPacket, startNs: bigint, endNs: bigint): void {
    const message = parseDns(payload)
    if (typeof message === 'string') {
      this.telemetry.parseError(message)
      return
    }
    if (!message.response) {
      this.matcher.query(message, exchangeOf(packet, startNs, true))
      return
    }
    const record = this.matcher.response(message, exchangeOf(packet, endNs, false))
    if (record) this.add(record)
    // Answers count even without their query (missed, or timed out): the addresses are still true.
    const answers = answerRecord(message, packet.destinationAddress)
    if (answers) this.add(answers)
  }

  private add(record: AnyRecord): void {
    if (this.buffered.length >= this.options.maxBuffered) {
      this.telemetry.dropped('buffer_full')
      return
    }
    this.buffered.push(record)
  }
}

function exchangeOf(packet: DecodedPacket, timestampNs: bigint, fromClient: boolean): Exchange {
  return {
    transport: packet.transport,
    family: packet.family,
    clientAddress: fromClient ? packet.sourceAddress : packet.destinationAddress,
    clientPort: fromClient ? packet.sourcePort : packet.destinationPort,
    serverAddress: fromClient ? packet.destinationAddress : packet.sourceAddress,
    serverPort: fromClient ? packet.destinationPort : packet.sourcePort,
    timestampNs,
  }
}
