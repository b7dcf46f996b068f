// HTTP exchanges the capture filter read whole (bpf/http_exchange.bpf.h), turned into records, and the handovers of
// connections it stopped reading, turned into what the packet tracker goes on from. The request line is parsed here
// by the same parseRequestLine as the packet parsers', so path truncation and query redaction stay in one place.
// Kernel times are CLOCK_MONOTONIC; the packet tracker's are the capture's CLOCK_REALTIME: a handed-over request's
// start is moved onto that clock.
import { EVENT, REQUEST, SIDE_CLIENT, type HttpExchanges, type SegmentEndpoints } from '../../capture/http-exchanges.ts'
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import type { Endpoint } from '../../records.ts'
import type { ExchangeSink } from './exchange.ts'
import { parseRequestLine, type RequestLine, type TargetPolicy } from './start-line.ts'

/** Records share it (processors copy attributes before changing them). */
const HTTP_SCHEME = Object.freeze({ 'url.scheme': 'http' })
/** Connections whose endpoints are remembered, so that a connection's records share them (record-buffer.ts). */
const MAX_REMEMBERED = 65_536

/** What the packet tracker goes on from: the handover with its pending request parsed. */
export interface TrackerHandover {
  sourceIsClient: boolean
  clientNext: number
  serverNext: number
  pending: RequestLine | undefined
}

interface Peers {
  client: Endpoint
  server: Endpoint
}

export class KernelExchanges {
  private readonly policy: TargetPolicy
  private readonly sink: ExchangeSink
  /** Endpoint objects of recent connections, by their raw 4-tuple. */
  private readonly peers = new Map<string, Peers>()
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC (ns), to the microsecond. */
  private readonly realtimeOffsetNs: number

  constructor(policy: TargetPolicy, sink: ExchangeSink) {
    this.policy = policy
    this.sink = sink
    this.realtimeOffsetNs = Math.round((performance.timeOrigin + performance.now()) * 1e6) - Number(process.hrtime.bigint())
  }

  /** One batch of events from the filter's ring. */
  handle(events: Buffer[]): void {
    for (const event of events) this.handleEvent(event)
  }

  /** The packet tracker's view of the filter's handover of the segment's connection, if it made one. */
  handover(exchanges: HttpExchanges | undefined, segment: SegmentEndpoints): TrackerHandover | undefined {
    const handover = exchanges?.take(segment)
    if (!handover) return undefined
    let pending: RequestLine | undefined
    if (handover.pending) {
      const parsed = parseRequestLine(handover.pending.line, 0, handover.pending.line.length, this.policy)
      if (typeof parsed === 'string') this.sink.parseError(parsed)
      else pending = { ...parsed, startNs: handover.pending.startNs + this.realtimeOffsetNs }
    }
    return { sourceIsClient: handover.sourceIsClient, clientNext: handover.clientNext, serverNext: handover.serverNext, pending }
  }

  private handleEvent(event: Buffer): void {
    const lineLength = event.readUInt16LE(REQUEST.LINE_LENGTH)
    const request = parseRequestLine(event, REQUEST.LINE, REQUEST.LINE + lineLength, this.policy)
    if (typeof request === 'string') return this.sink.parseError(request)
    const startNs = Number(event.readBigUInt64LE(REQUEST.START_NS))
    const responseNs = Number(event.readBigUInt64LE(EVENT.RESPONSE_NS))
    const family = event[EVENT.FAMILY] === 4 ? 'ipv4' : 'ipv6'
    const { client, server } = this.peersOf(event, family)
    this.sink.record({
      kind: 'http',
      side: event[EVENT.SIDE] === SIDE_CLIENT ? 'client' : 'server',
      family,
      source: client,
      destination: server,
      pid: 0,
      method: request.method,
      path: request.path,
      pathTruncated: request.pathTruncated,
      statusCode: event.readUInt16LE(EVENT.STATUS),
      protocolVersion: request.version,
      durationsSeconds: [responseNs > startNs ? (responseNs - startNs) / 1e9 : 0],
      attributes: HTTP_SCHEME,
    })
  }

  /** The connection's endpoint objects, the same for all its records while it is remembered. */
  private peersOf(event: Buffer, family: 'ipv4' | 'ipv6'): Peers {
    // Family, side, ports and addresses: one connection (a short latin1 string is the cheapest Map key).
    const key = event.toString('latin1', EVENT.FAMILY, EVENT.SIZE)
    const known = this.peers.get(key)
    if (known) return known
    if (this.peers.size >= MAX_REMEMBERED) this.peers.clear()
    const text = family === 'ipv4' ? ipv4ToString : ipv6ToString
    const peers: Peers = {
      client: { address: text(event, EVENT.CLIENT), port: event.readUInt16BE(EVENT.CLIENT_PORT) },
      server: { address: text(event, EVENT.SERVER), port: event.readUInt16BE(EVENT.SERVER_PORT) },
    }
    this.peers.set(key, peers)
    return peers
  }
}
