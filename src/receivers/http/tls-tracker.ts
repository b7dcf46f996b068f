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
  pid: number
  ssl: number
  hash: number
  /** The next connection under the same hash. */
  nextSameHash: TlsConnection | undefined
  /** Undefined while no data has told the roles, or when the connection is not HTTP/1.x. */
  exchange: HttpExchange | undefined
  writesAreRequests: boolean
  notHttp: boolean
  lastSeenNs: number
}

const UNKNOWN_ENDPOINT = { address: '', port: 0 }

/** Of a process and an SSL* (user-space addresses, below 2^53). Kept within small integers, which Map keys best. */
function connectionHash(pid: number, ssl: number): number {
  const low = ssl >>> 0
  const high = Math.floor(ssl / 4294967296)
  let h = Math.imul(low ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ high ^ (h >>> 13), 0xc2b2ae35)
  h = Math.imul(h ^ pid ^ (h >>> 16), 0x27d4eb2f)
  return (h ^ (h >>> 15)) & 0x3fffffff
}

export class TlsTracker {
  private readonly options: TlsTrackerOptions
  private readonly telemetry: HttpTelemetry
  /**
   * Connections under a numeric hash of process and SSL*, confirmed by both (colliding ones chain): a string key
   * cost more than decoding the event. `opened` keeps them oldest first, for eviction.
   */
  private readonly byHash = new Map<number, TlsConnection>()
  private readonly opened = new Set<TlsConnection>()
  private readonly sink: RecordBuffer

  constructor(options: TlsTrackerOptions, telemetry: HttpTelemetry) {
    this.options = options
    this.telemetry = telemetry
    this.sink = new RecordBuffer(options.maxBuffered, telemetry)
  }

  get connectionCount(): number {
    return this.opened.size
  }

  handleEvent(event: TlsEvent): void {
    const hash = connectionHash(event.pid, event.ssl)
    let connection = this.byHash.get(hash)
    while (connection && (connection.ssl !== event.ssl || connection.pid !== event.pid)) connection = connection.nextSameHash
    if (event.direction === TlsDirection.FREE) {
      if (connection) this.remove(connection, 'unanswered_at_close')
      return
    }
    if (!connection) {
      if (this.opened.size >= this.options.maxConnections) this.evictOldest()
      connection = {
        pid: event.pid, ssl: event.ssl, hash, nextSameHash: this.byHash.get(hash),
        exchange: undefined, writesAreRequests: false, notHttp: false, lastSeenNs: event.timestampNs,
      }
      this.byHash.set(hash, connection)
      this.opened.add(connection)
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
      connection.exchange = new HttpExchange(peersOf(event.socket, event.pid, connection.writesAreRequests), this.options, this.sink)
    }
    const exchange = connection.exchange
    // The socket's text is made once (event.socket decodes it): when the exchange starts, or at the first event that
    // knows it.
    if (exchange.peers.server.address === '') {
      const socket = event.socket
      if (socket) exchange.peers = peersOf(socket, event.pid, connection.writesAreRequests)
    }
    exchange.lastSeenNs = event.timestampNs
    const parser = writing === connection.writesAreRequests ? exchange.requests : exchange.responses
    if (event.data.length > 0) parser.feed(event.data, 0, event.data.length, event.timestampNs)
    if (event.length > event.data.length) parser.gap(event.length - event.data.length)
  }

  /** Records ready now; timeouts and idleness as of `nowNs` (CLOCK_MONOTONIC, like the events). */
  collect(nowNs: number): HttpRecord[] {
    const requestCutoff = nowNs - this.options.timeoutNs
    const idleCutoff = nowNs - this.options.idleNs
    for (const connection of this.opened) {
      connection.exchange?.expire(requestCutoff)
      if (connection.lastSeenNs < idleCutoff) this.remove(connection, 'unanswered_at_close')
    }
    return this.sink.take()
  }

  clear(): void {
    for (const connection of this.opened) connection.exchange?.close('shutdown_pending')
    this.byHash.clear()
    this.opened.clear()
  }

  private evictOldest(): void {
    const oldest = this.opened.values().next().value
    if (oldest) this.remove(oldest, 'connection_evicted')
  }

  private remove(connection: TlsConnection, reason: 'unanswered_at_close' | 'connection_evicted'): void {
    connection.exchange?.close(reason)
    this.opened.delete(connection)
    const first = this.byHash.get(connection.hash)
    if (first === connection) {
      if (connection.nextSameHash) this.byHash.set(connection.hash, connection.nextSameHash)
      else this.byHash.delete(connection.hash)
    } else {
      for (let c = first; c; c = c.nextSameHash) {
        if (c.nextSameHash === connection) {
          c.nextSameHash = connection.nextSameHash
          break
        }
      }
    }
  }
}

/** What the first bytes of a direction say it carries. */
function roleOf(data: Buffer): 'request' | 'response' | 'unknown' {
  const head = Math.min(data.length, MAX_METHOD_LENGTH + 1)
  if (head >= 7 && couldStartResponse(data, 0, head)) return 'response'
  if (data.subarray(0, head).includes(0x20) && couldStartRequest(data, 0, head)) return 'request'
  return 'unknown'
}

function peersOf(socket: TlsSocket | undefined, pid: number, isClient: boolean): ExchangePeers {
  const local = socket?.local ?? UNKNOWN_ENDPOINT
  const remote = socket?.remote ?? UNKNOWN_ENDPOINT
  return {
    family: socket?.family ?? 'ipv4',
    client: isClient ? local : remote,
    server: isClient ? remote : local,
    side: isClient ? 'client' : 'server',
    pid,
    scheme: 'https',
  }
}
