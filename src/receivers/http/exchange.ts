// One HTTP/1.x connection: a request parser and a response parser, and the requests awaiting their responses.
// HTTP/1.x answers requests in order (pipelined or not), so a response pairs with the oldest pending request.
// Records come out through the sink; so does everything lost on the way, by reason.
import type { Endpoint, Family, HttpRecord } from '../../records.ts'
import { MessageParser, type HttpParseError, type MessageEvents, type ParserLimits } from './message-parser.ts'
import type { RequestLine } from './start-line.ts'

export interface ExchangeSink {
  record(record: HttpRecord): void
  dropped(reason: string, count?: number): void
  parseError(reason: HttpParseError): void
}

export interface ExchangeOptions {
  limits: ParserLimits
  /** Requests awaiting a response at most; a deeper pipeline stops the connection's decoding (counted). */
  maxPending: number
}

/**
 * Who the record says is client and server, and from which side the exchange was seen. `client` and `server` are
 * the records' `source` and `destination` objects themselves, never copies: the record buffer tells a connection's
 * records by them (record-buffer.ts).
 */
export interface ExchangePeers {
  family: Family
  client: Endpoint
  server: Endpoint
  side: 'client' | 'server'
  pid: number
  scheme: 'http' | 'https'
}

/** Records share these (processors copy attributes before changing them). */
const SCHEME_ATTRIBUTES = {
  http: Object.freeze({ 'url.scheme': 'http' }),
  https: Object.freeze({ 'url.scheme': 'https' }),
}

/** Errors after which the rest of the connection cannot be HTTP/1.x. */
const FATAL: ReadonlySet<HttpParseError> = new Set(['not_http', 'http2_preface', 'unsupported_version'])

export class HttpExchange {
  readonly requests: MessageParser
  readonly responses: MessageParser
  peers: ExchangePeers
  /** When the connection last carried anything (ns, the tracker's clock). */
  lastSeenNs = 0
  /**
   * Requests awaiting their responses: `pending[head, tail)`, oldest first. Emptied by moving the indexes back to
   * 0, never shifted or truncated: Array.shift() on every response re-sized the array's storage, and the next push
   * grew it again.
   */
  private readonly pending: Array<RequestLine | undefined> = []
  private head = 0
  private tail = 0
  private readonly options: ExchangeOptions
  private readonly sink: ExchangeSink

  constructor(peers: ExchangePeers, options: ExchangeOptions, sink: ExchangeSink) {
    this.peers = peers
    this.options = options
    this.sink = sink
    const events: MessageEvents = {
      onRequest: (request) => this.onRequest(request),
      onResponse: (status, firstByteNs) => this.onResponse(status, firstByteNs),
      onTunnel: () => this.stop(),
      onError: (reason) => this.onError(reason),
    }
    this.requests = new MessageParser('request', options.limits, events)
    this.responses = new MessageParser('response', options.limits, events)
  }

  get pendingRequests(): number {
    return this.tail - this.head
  }

  /** Marks requests older than `cutoffNs` as unanswered (counted once each). */
  expire(cutoffNs: number): void {
    for (let i = this.head; i < this.tail; i++) {
      const request = this.pending[i] as RequestLine
      if (request.expired || request.startNs >= cutoffNs) continue
      request.expired = true
      this.sink.dropped('request_timeout')
    }
  }

  /** The connection ended: requests still waiting will never be answered. */
  close(reason: 'unanswered_at_close' | 'connection_evicted' | 'shutdown_pending' = 'unanswered_at_close'): void {
    let waiting = 0
    for (let i = this.head; i < this.tail; i++) {
      if (!(this.pending[i] as RequestLine).expired) waiting++
      this.pending[i] = undefined
    }
    if (waiting > 0) this.sink.dropped(reason, waiting)
    this.head = this.tail = 0
  }

  /** A request read before this exchange began (by the capture filter, kernel-exchanges.ts), awaiting its response. */
  adopt(request: RequestLine): void {
    this.onRequest(request)
  }

  private onRequest(request: RequestLine): void {
    if (this.pendingRequests >= this.options.maxPending) {
      this.sink.dropped('pending_full', 1)
      this.close('connection_evicted')
      this.stop()
      return
    }
    this.pending[this.tail++] = request
  }

  private onResponse(status: number, firstByteNs: number): string {
    const request = this.head < this.tail ? this.pending[this.head] : undefined
    // Interim responses (100 Continue, 103 Early Hints) precede the final one; 101 ends HTTP on the connection.
    if (status < 200 && status !== 101) return request?.method ?? ''
    if (!request) {
      // Joined mid-connection, or the request was lost: nothing to pair with.
      this.sink.dropped('response_without_request')
      return ''
    }
    this.pending[this.head++] = undefined
    if (this.head === this.tail) this.head = this.tail = 0
    // An upgrade or CONNECT request is the last one parsed before its answer: refused, the connection stays HTTP.
    if (this.pendingRequests === 0 && status !== 101) this.requests.resume()
    if (request.expired) return request.method
    const peers = this.peers
    const duration = firstByteNs > request.startNs ? (firstByteNs - request.startNs) / 1e9 : 0
    this.sink.record({
      kind: 'http',
      side: peers.side,
      family: peers.family,
      source: peers.client,
      destination: peers.server,
      pid: peers.pid,
      method: request.method,
      path: request.path,
      pathTruncated: request.pathTruncated,
      statusCode: status,
      protocolVersion: request.version,
      durationsSeconds: [duration],
      attributes: SCHEME_ATTRIBUTES[peers.scheme],
    })
    return request.method
  }

  private onError(reason: HttpParseError): void {
    this.sink.parseError(reason)
    if (FATAL.has(reason)) this.stop()
  }

  /** Both directions stop decoding (a tunnel, or not HTTP/1.x); what was pending is counted. */
  private stop(): void {
    this.requests.stop()
    this.responses.stop()
    this.close('unanswered_at_close')
  }
}
