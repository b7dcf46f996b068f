// From TLS plaintext events (bpf/http_tls.bpf.c) to HttpRecords. A connection is a process's SSL*; each direction
// arrives in call order, so no reassembly is needed, only the gap left by bytes beyond the copied head of a call.
// Which direction carries requests is read from the first bytes seen: a process writing requests is the client.
// Pure (no I/O, no timers): the receiver drives it, tests feed it events.
import type { HttpRecord } from '../../records.ts'
import { HttpExchange, type ExchangeOptions, type ExchangePeers } from './exchange.ts'
import { couldStartRequest, couldStartResponse, MAX_METHOD_LENGTH } from './start-line.ts'
import { RecordBuffer } from './record-buffer.ts'
import type { HttpTelemetry } from './telemetry.ts'
import { TlsDirection, type TlsEvent, type TlsSocket } from './tls-event.ts'

export interface TlsTrackerOptions extends ExchangeOptions {
  maxConnections: number
  /** ns */
  timeoutNs: number
  idleNs: number
  maxBuffered: number
}

interface TlsConnection {
  /** Undefined while no data has told the roles, or when the connection is not HTTP/1.x. */
  exchange: HttpExchange | undefined
  writesAreRequests: boolean
  notHttp: boolean
  lastSeenNs: number
}

const UNKNOWN_ENDPOINT = { address: '', port: 0 }

export class TlsTracker {
  private readonly options: TlsTrackerOptions
  private readonly telemetry: HttpTelemetry
  private readonly connections = new Map<string, TlsConnection>()
  private readonly sink: RecordBuffer

  constructor(options: TlsTrackerOptions, telemetry: HttpTelemetry) {
    this.options = options
    this.telemetry = telemetry
    this.sink = new RecordBuffer(options.maxBuffered, telemetry)
  }

  get connectionCount(): number {
    return this.connections.size
  }

  handleEvent(event: TlsEvent): void {
    if (event.direction === TlsDirection.FREE) {
      const ended = this.connections.get(event.connection)
      if (ended) this.remove(event.connection, ended, 'unanswered_at_close')
      return
    }
    let connection = this.connections.get(event.connection)
    if (!connection) {
      if (this.connections.size >= this.options.maxConnections) this.evictOldest()
      connection = { exchange: undefined, writesAreRequests: false, notHttp: false, lastSeenNs: event.timestampNs }
      this.connections.set(event.connection, connection)
    }
    connection.lastSeenNs = event.timestampNs
    if (connection.notHttp) return
    const writing = event.direction === TlsDirection.WRITE
    if (!connection.exchange) {
      // Nothing copied (the user buffer was unreadable): the roles must wait for the next call.
      if (event.data.length === 0) return this.telemetry.parseError('capture_gap')
      const role = roleOf(event.data)
      if (role === 'unknown') {
        connection.notHttp = true
        return this.telemetry.parseError('not_http')
      }
      connection.writesAreRequests = writing === (role === 'request')
      connection.exchange = new HttpExchange(peersOf(event, connection.writesAreRequests), this.options, this.sink)
    }
    const exchange = connection.exchange
    if (event.socket && exchange.peers.server.address === '') exchange.peers = peersOf(event, connection.writesAreRequests)
    exchange.lastSeenNs = event.timestampNs
    const parser = writing === connection.writesAreRequests ? exchange.requests : exchange.responses
    if (event.data.length > 0) parser.feed(event.data, 0, event.data.length, event.timestampNs)
    if (event.length > event.data.length) parser.gap(event.length - event.data.length)
  }

  /** Records ready now; timeouts and idleness as of `nowNs` (CLOCK_MONOTONIC, like the events). */
  collect(nowNs: number): HttpRecord[] {
    const requestCutoff = nowNs - this.options.timeoutNs
    const idleCutoff = nowNs - this.options.idleNs
    for (const [key, connection] of this.connections) {
      connection.exchange?.expire(requestCutoff)
      if (connection.lastSeenNs < idleCutoff) this.remove(key, connection, 'unanswered_at_close')
    }
    return this.sink.take()
  }

  clear(): void {
    for (const connection of this.connections.values()) connection.exchange?.close('shutdown_pending')
    this.connections.clear()
  }

  private evictOldest(): void {
    const [key, oldest] = this.connections.entries().next().value as [string, TlsConnection]
    this.remove(key, oldest, 'connection_evicted')
  }

  private remove(key: string, connection: TlsConnection, reason: 'unanswered_at_close' | 'connection_evicted'): void {
    connection.exchange?.close(reason)
    this.connections.delete(key)
  }
}

/** What the first bytes of a direction say it carries. */
function roleOf(data: Buffer): 'request' | 'response' | 'unknown' {
  const head = Math.min(data.length, MAX_METHOD_LENGTH + 1)
  if (head >= 7 && couldStartResponse(data, 0, head)) return 'response'
  if (data.subarray(0, head).includes(0x20) && couldStartRequest(data, 0, head)) return 'request'
  return 'unknown'
}

function peersOf(event: TlsEvent, isClient: boolean): ExchangePeers {
  const socket: TlsSocket | undefined = event.socket
  const local = socket?.local ?? UNKNOWN_ENDPOINT
  const remote = socket?.remote ?? UNKNOWN_ENDPOINT
  return {
    family: socket?.family ?? 'ipv4',
    client: isClient ? local : remote,
    server: isClient ? remote : local,
    side: isClient ? 'client' : 'server',
    pid: event.pid,
    scheme: 'https',
  }
}
