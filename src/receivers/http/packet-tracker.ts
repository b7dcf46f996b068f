// From captured frames to HttpRecords: decode the packet, find its TCP connection, put each direction in order
// and feed the request and response parsers. Pure (no I/O, no timers): the receiver drives it, tests feed it frames.
// Two or more frames per request make this the agent's hot path: frames are read in place from the capture batch
// (decodeTcpSegment into one reused TcpSegment, payloads as ranges of the batch), connections are found without a
// string key (ConnectionTable), and times are Numbers of nanoseconds (CLOCK_REALTIME, exact to 256 ns).
//
// Who is the client: the sender of a SYN without ACK (or the receiver of a SYN-ACK). For a connection already open
// when capture began, the first data decides — bytes starting with `HTTP/1.` come from the server, a method and a
// space from the client — and failing that the configured ports (the endpoint on one of them is the server; both
// on one: the lower port). Such a connection is read from the first message start seen in each direction.
// Side: `client` when this host sent the client's packets (PACKET_OUTGOING), `server` when it received them; on
// loopback both ends are local and the capture keeps the received copy, so loopback exchanges read as `server`.
import { align8, FRAME_HEADER_SIZE, FrameField, PacketType, type Frame } from '../../native/frames.ts'
import type { PacketBatch } from '../../native/types.ts'
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import { TcpFlags } from '../../net/packet.ts'
import { decodeTcpSegment, NOT_TCP, TcpSegment } from '../../net/tcp-segment.ts'
import type { Endpoint, HttpRecord } from '../../records.ts'
import type { BodySkips, SkipState } from './body-skips.ts'
import type { TrackerHandover } from './kernel-exchanges.ts'
import { ConnectionTable, tupleOf, type TupleEntry } from './connection-table.ts'
import { HttpExchange, type ExchangeOptions } from './exchange.ts'
import { findByte } from './line-reader.ts'
import { couldStartRequest, couldStartResponse } from './start-line.ts'
import { TcpOrder } from './tcp-order.ts'
import { RecordBuffer } from './record-buffer.ts'
import type { HttpTelemetry } from './telemetry.ts'

export interface PacketTrackerOptions extends ExchangeOptions {
  serverPorts: ReadonlySet<number>
  /** Connections tracked at once; the oldest is forgotten beyond it (its waiting requests counted). */
  maxConnections: number
  /** Out-of-order bytes held per direction before the hole they wait for is declared lost. */
  maxEarlyBytes: number
  /** Requests unanswered this long are counted as `request_timeout` (ns). */
  timeoutNs: number
  /** Connections silent this long are forgotten (ns). */
  idleNs: number
  /** Records held between collections; beyond it new ones are dropped (`buffer_full`). */
  maxBuffered: number
  /** Where long bodies are announced to the capture filter, which then leaves their payload out; none: all captured. */
  skips?: BodySkips
  /**
   * The state the capture filter handed over for a connection it read until now (kernel-exchanges.ts), asked for
   * when a connection opens without its SYN; none: the filter does not read exchanges.
   */
  handover?: (segment: TcpSegment) => TrackerHandover | undefined
}

interface Connection extends TupleEntry, SkipState {
  exchange: HttpExchange
  toServer: TcpOrder
  toClient: TcpOrder
  finFromClient: boolean
  finFromServer: boolean
  dataSeen: boolean
}

const TWO_TO_32 = 4294967296
/** Little-endian fields of a frame header, by byte arithmetic (inlined, unlike Buffer.readUInt32LE). */
const u16le = (d: Buffer, o: number) => (d[o] as number) | ((d[o + 1] as number) << 8)
const u32le = (d: Buffer, o: number) =>
  ((d[o] as number) | ((d[o + 1] as number) << 8) | ((d[o + 2] as number) << 16) | ((d[o + 3] as number) << 24)) >>> 0

export class PacketTracker {
  private readonly options: PacketTrackerOptions
  private readonly telemetry: HttpTelemetry
  private readonly connections = new ConnectionTable<Connection>()
  private readonly sink: RecordBuffer
  private readonly segment = new TcpSegment()

  constructor(options: PacketTrackerOptions, telemetry: HttpTelemetry) {
    this.options = options
    this.telemetry = telemetry
    this.sink = new RecordBuffer(options.maxBuffered, telemetry)
  }

  get connectionCount(): number {
    return this.connections.size
  }

  /**
   * Every frame of a capture batch (layout in src/native/types.ts), read in place. `onError` gets what a frame
   * threw (a bug, not bad input, which is counted by reason), and the next frame is handled. Frames the batch
   * counts but does not hold whole are counted as `malformed_batch`.
   */
  handleBatch(batch: PacketBatch, onError: (error: unknown) => void): void {
    const data = batch.data
    let offset = 0
    for (let i = 0; i < batch.count; i++) {
      const start = offset + FRAME_HEADER_SIZE
      const caplen = start <= data.length ? u32le(data, offset + FrameField.CAPLEN) : -1
      if (caplen < 0 || start + caplen > data.length) {
        this.telemetry.dropped('malformed_batch', batch.count - i)
        return
      }
      try {
        const timestamp = offset + FrameField.TIMESTAMP
        this.handle(
          data, start, start + caplen, u32le(data, offset + FrameField.ORIGLEN), u16le(data, offset + FrameField.ETHERTYPE),
          data[offset + FrameField.PKT_TYPE] as number, u32le(data, timestamp + 4) * TWO_TO_32 + u32le(data, timestamp),
        )
      } catch (error) {
        onError(error)
      }
      offset = start + align8(caplen)
    }
  }

  /** One frame (tests, and callers that hold Frames). */
  handleFrame(frame: Frame): void {
    const { data } = frame
    this.handle(data, 0, data.length, frame.origlen, frame.ethertype, frame.pktType, Number(frame.timestampNs))
  }

  private handle(data: Buffer, start: number, end: number, origlen: number, ethertype: number, pktType: number, timestampNs: number): void {
    const segment = this.segment
    const failure = decodeTcpSegment(data, start, end, origlen, ethertype, segment)
    if (failure !== undefined) {
      if (failure !== NOT_TCP) this.telemetry.dropped(failure)
      return
    }
    const flags = segment.flags
    let connection = this.connections.find(segment)
    if (connection && flags & TcpFlags.SYN && !(flags & TcpFlags.ACK) && connection.dataSeen) {
      // The same four-tuple opened again after a close netlens did not see complete (not a retransmitted SYN).
      this.remove(connection, 'unanswered_at_close')
      connection = undefined
    }
    let fromClient: boolean
    if (connection) {
      fromClient = this.connections.fromClient
    } else {
      const sourceIsClient = this.open(data, pktType)
      if (sourceIsClient === undefined) return
      connection = this.connections.find(segment) as Connection
      fromClient = sourceIsClient
    }
    const order = fromClient ? connection.toServer : connection.toClient
    if (flags & TcpFlags.SYN) order.synchronize(segment.seq)
    connection.exchange.lastSeenNs = timestampNs
    if (segment.payloadEnd > segment.payloadStart || segment.payloadMissing > 0) {
      connection.dataSeen = true
      const parser = fromClient ? connection.exchange.requests : connection.exchange.responses
      order.push(segment.seq, data, segment.payloadStart, segment.payloadEnd, segment.payloadMissing, timestampNs, parser)
      this.options.skips?.update(connection, fromClient, order, parser)
    }
    // After this segment's data: a response whose request was lost pairs with nothing rather than with the next request.
    if (flags & TcpFlags.ACK) {
      const parser = fromClient ? connection.exchange.responses : connection.exchange.requests
      ;(fromClient ? connection.toClient : connection.toServer).acknowledged(segment.ack, parser)
    }
    if (flags & TcpFlags.RST) return this.remove(connection, 'unanswered_at_close')
    if (flags & TcpFlags.FIN) {
      order.finish(segment.seq + segment.payloadEnd - segment.payloadStart + segment.payloadMissing)
      if (fromClient) connection.finFromClient = true
      else connection.finFromServer = true
      if (connection.finFromClient && connection.finFromServer) this.remove(connection, 'unanswered_at_close')
    }
  }

  /** Records ready now; requests older than the timeout and idle connections as of `nowNs` (CLOCK_REALTIME). */
  collect(nowNs: number): HttpRecord[] {
    const requestCutoff = nowNs - this.options.timeoutNs
    const idleCutoff = nowNs - this.options.idleNs
    for (const connection of this.connections.values()) {
      connection.exchange.expire(requestCutoff)
      if (connection.exchange.lastSeenNs < idleCutoff) this.remove(connection, 'unanswered_at_close')
    }
    return this.sink.take()
  }

  /** Forgets every connection (shutdown), counting requests still waiting. */
  clear(): void {
    for (const connection of this.connections.values()) {
      connection.exchange.close('shutdown_pending')
      this.options.skips?.forget(connection)
    }
    this.connections.clear()
  }

  /** Starts following the segment's connection; returns whether its source is the client (undefined: not opened). */
  private open(data: Buffer, pktType: number): boolean | undefined {
    const segment = this.segment
    const flags = segment.flags
    const empty = segment.payloadEnd === segment.payloadStart && segment.payloadMissing === 0
    // Nothing to learn from a lone ACK, FIN or RST of a connection netlens never saw.
    if (!(flags & TcpFlags.SYN) && empty) return undefined
    if (flags & TcpFlags.RST) return undefined
    const synchronized = (flags & TcpFlags.SYN) !== 0
    const handover = synchronized ? undefined : this.options.handover?.(segment)
    const sourceIsClient = synchronized ? !(flags & TcpFlags.ACK) : handover ? handover.sourceIsClient : this.guessSourceIsClient(data)
    const addressLength = segment.family === 4 ? 4 : 16
    const text = segment.family === 4 ? ipv4ToString : ipv6ToString
    const source: Endpoint = { address: text(data, segment.addressOffset), port: segment.sourcePort }
    const destination: Endpoint = { address: text(data, segment.addressOffset + addressLength), port: segment.destinationPort }
    const sentHere = pktType === PacketType.OUTGOING
    const exchange = new HttpExchange({
      family: segment.family === 4 ? 'ipv4' : 'ipv6',
      client: sourceIsClient ? source : destination,
      server: sourceIsClient ? destination : source,
      side: sourceIsClient === sentHere ? 'client' : 'server', pid: 0, scheme: 'http',
    }, this.options, this.sink)
    if (!synchronized && !handover) {
      exchange.requests.resync()
      exchange.responses.resync()
    }
    if (handover?.pending) exchange.adopt(handover.pending)
    const connection: Connection = {
      ...tupleOf(segment, sourceIsClient),
      hash: 0,
      nextSameHash: undefined,
      exchange,
      toServer: new TcpOrder(this.options.maxEarlyBytes),
      toClient: new TcpOrder(this.options.maxEarlyBytes),
      finFromClient: false,
      finFromServer: false,
      dataSeen: false,
      skipToServerUntil: -1,
      skipToClientUntil: -1,
    }
    if (handover) {
      // Each direction's next message starts where the filter stopped; what it read before is old data here.
      connection.toServer.synchronize(handover.clientNext - 1)
      connection.toClient.synchronize(handover.serverNext - 1)
    }
    if (this.connections.size >= this.options.maxConnections) this.evictOldest()
    this.connections.add(connection, segment)
    return sourceIsClient
  }

  private guessSourceIsClient(data: Buffer): boolean {
    const { payloadStart, payloadEnd, sourcePort, destinationPort } = this.segment
    const head = Math.min(payloadEnd, payloadStart + 21)
    if (couldStartResponse(data, payloadStart, head)) return false
    if (findByte(data, 0x20, payloadStart, head) >= 0 && couldStartRequest(data, payloadStart, head)) return true
    const ports = this.options.serverPorts
    const sourceIsServer = ports.has(sourcePort)
    const destinationIsServer = ports.has(destinationPort)
    if (sourceIsServer !== destinationIsServer) return destinationIsServer
    return destinationPort < sourcePort
  }

  private evictOldest(): void {
    const oldest = this.connections.oldest()
    if (oldest) this.remove(oldest, 'connection_evicted')
  }

  private remove(connection: Connection, reason: 'unanswered_at_close' | 'connection_evicted'): void {
    connection.exchange.close(reason)
    this.options.skips?.forget(connection)
    this.connections.delete(connection)
  }
}
