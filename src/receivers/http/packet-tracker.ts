// From captured frames to HttpRecords: decode the packet, find its TCP connection, put each direction in order
// and feed the request and response parsers. Pure (no I/O, no timers): the receiver drives it, tests feed it frames.
//
// Who is the client: the sender of a SYN without ACK (or the receiver of a SYN-ACK). For a connection already open
// when capture began, the first data decides — bytes starting with `HTTP/1.` come from the server, a method and a
// space from the client — and failing that the configured ports (the endpoint on one of them is the server; both
// on one: the lower port). Such a connection is read from the first message start seen in each direction.
// Side: `client` when this host sent the client's packets (PACKET_OUTGOING), `server` when it received them; on
// loopback both ends are local and the capture keeps the received copy, so loopback exchanges read as `server`.
import type { Frame } from '../../native/frames.ts'
import { PacketType } from '../../native/frames.ts'
import { decodePacket, TcpFlags, type DecodedPacket } from '../../net/packet.ts'
import type { HttpRecord } from '../../records.ts'
import { HttpExchange, type ExchangeOptions } from './exchange.ts'
import { couldStartRequest, couldStartResponse } from './start-line.ts'
import { TcpOrder, type OrderedSink } from './tcp-order.ts'
import { RecordBuffer } from './record-buffer.ts'
import type { HttpTelemetry } from './telemetry.ts'

export interface PacketTrackerOptions extends ExchangeOptions {
  serverPorts: ReadonlySet<number>
  /** Connections tracked at once; the oldest is forgotten beyond it (its waiting requests counted). */
  maxConnections: number
  /** Out-of-order bytes held per direction before the hole they wait for is declared lost. */
  maxEarlyBytes: number
  /** Requests unanswered this long are counted as `request_timeout`. */
  timeoutNs: bigint
  /** Connections silent this long are forgotten. */
  idleNs: bigint
  /** Records held between collections; beyond it new ones are dropped (`buffer_full`). */
  maxBuffered: number
}

interface Connection {
  exchange: HttpExchange
  /** `address|port` of the client. */
  clientKey: string
  toServer: TcpOrder
  toClient: TcpOrder
  toServerSink: OrderedSink
  toClientSink: OrderedSink
  keys: [string, string]
  finFromClient: boolean
  finFromServer: boolean
  dataSeen: boolean
}

export class PacketTracker {
  private readonly options: PacketTrackerOptions
  private readonly telemetry: HttpTelemetry
  /** Every connection under both of its direction keys. */
  private readonly connections = new Map<string, Connection>()
  private readonly sink: RecordBuffer

  constructor(options: PacketTrackerOptions, telemetry: HttpTelemetry) {
    this.options = options
    this.telemetry = telemetry
    this.sink = new RecordBuffer(options.maxBuffered, telemetry)
  }

  get connectionCount(): number {
    return this.connections.size / 2
  }

  handleFrame(frame: Frame): void {
    const packet = decodePacket(frame.data, frame.ethertype)
    if (typeof packet === 'string') return this.telemetry.dropped(packet)
    if (packet.transport !== 'tcp') return
    const key = `${packet.sourceAddress}|${packet.sourcePort}|${packet.destinationAddress}|${packet.destinationPort}`
    const flags = packet.tcpFlags
    let connection = this.connections.get(key)
    if (connection && flags & TcpFlags.SYN && !(flags & TcpFlags.ACK) && connection.dataSeen) {
      // The same four-tuple opened again after a close netlens did not see complete (not a retransmitted SYN).
      this.remove(connection, 'unanswered_at_close')
      connection = undefined
    }
    if (!connection) {
      connection = this.open(key, packet, frame)
      if (!connection) return
    }
    const fromClient = connection.clientKey === `${packet.sourceAddress}|${packet.sourcePort}`
    const order = fromClient ? connection.toServer : connection.toClient
    if (flags & TcpFlags.SYN) order.synchronize(packet.tcpSeq)
    connection.exchange.lastSeenNs = frame.timestampNs
    if (packet.payload.length > 0) {
      connection.dataSeen = true
      order.push(packet.tcpSeq, packet.payload, frame.timestampNs, fromClient ? connection.toServerSink : connection.toClientSink)
    }
    if (flags & TcpFlags.RST) return this.remove(connection, 'unanswered_at_close')
    if (flags & TcpFlags.FIN) {
      if (fromClient) connection.finFromClient = true
      else connection.finFromServer = true
      if (connection.finFromClient && connection.finFromServer) this.remove(connection, 'unanswered_at_close')
    }
  }

  /** Records ready now; requests older than the timeout and idle connections as of `nowNs` (CLOCK_REALTIME). */
  collect(nowNs: bigint): HttpRecord[] {
    const requestCutoff = nowNs - this.options.timeoutNs
    const idleCutoff = nowNs - this.options.idleNs
    for (const [key, connection] of this.connections) {
      if (key !== connection.keys[0]) continue
      connection.exchange.expire(requestCutoff)
      if (connection.exchange.lastSeenNs < idleCutoff) this.remove(connection, 'unanswered_at_close')
    }
    return this.sink.take()
  }

  /** Forgets every connection (shutdown), counting requests still waiting. */
  clear(): void {
    for (const [key, connection] of this.connections) if (key === connection.keys[0]) connection.exchange.close('shutdown_pending')
    this.connections.clear()
  }

  private open(key: string, packet: DecodedPacket, frame: Frame): Connection | undefined {
    const flags = packet.tcpFlags
    // Nothing to learn from a lone ACK, FIN or RST of a connection netlens never saw.
    if (!(flags & TcpFlags.SYN) && packet.payload.length === 0) return undefined
    if (flags & TcpFlags.RST) return undefined
    const synchronized = (flags & TcpFlags.SYN) !== 0
    const sourceIsClient = synchronized ? !(flags & TcpFlags.ACK) : this.guessSourceIsClient(packet)
    const source = { address: packet.sourceAddress, port: packet.sourcePort }
    const destination = { address: packet.destinationAddress, port: packet.destinationPort }
    const client = sourceIsClient ? source : destination
    const server = sourceIsClient ? destination : source
    const sentHere = frame.pktType === PacketType.OUTGOING
    const exchange = new HttpExchange({
      family: packet.family, client, server, side: sourceIsClient === sentHere ? 'client' : 'server', pid: 0, scheme: 'http',
    }, this.options, this.sink)
    if (!synchronized) {
      exchange.requests.resync()
      exchange.responses.resync()
    }
    const reverse = `${packet.destinationAddress}|${packet.destinationPort}|${packet.sourceAddress}|${packet.sourcePort}`
    const connection: Connection = {
      exchange,
      clientKey: `${client.address}|${client.port}`,
      toServer: new TcpOrder(this.options.maxEarlyBytes),
      toClient: new TcpOrder(this.options.maxEarlyBytes),
      toServerSink: { data: (data, ts) => exchange.requests.feed(data, ts), gap: (n) => exchange.requests.gap(n) },
      toClientSink: { data: (data, ts) => exchange.responses.feed(data, ts), gap: (n) => exchange.responses.gap(n) },
      keys: [key, reverse],
      finFromClient: false,
      finFromServer: false,
      dataSeen: false,
    }
    if (this.connections.size / 2 >= this.options.maxConnections) this.evictOldest()
    this.connections.set(key, connection)
    this.connections.set(reverse, connection)
    return connection
  }

  private guessSourceIsClient(packet: DecodedPacket): boolean {
    const { payload } = packet
    const head = Math.min(payload.length, 21)
    if (couldStartResponse(payload, 0, head)) return false
    if (payload.subarray(0, head).includes(0x20) && couldStartRequest(payload, 0, head)) return true
    const ports = this.options.serverPorts
    const sourceIsServer = ports.has(packet.sourcePort)
    const destinationIsServer = ports.has(packet.destinationPort)
    if (sourceIsServer !== destinationIsServer) return destinationIsServer
    return packet.destinationPort < packet.sourcePort
  }

  private evictOldest(): void {
    const oldest = this.connections.values().next().value
    if (oldest) this.remove(oldest, 'connection_evicted')
  }

  private remove(connection: Connection, reason: 'unanswered_at_close' | 'connection_evicted'): void {
    connection.exchange.close(reason)
    this.connections.delete(connection.keys[0])
    this.connections.delete(connection.keys[1])
  }
}
