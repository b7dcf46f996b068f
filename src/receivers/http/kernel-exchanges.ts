// HTTP exchanges the capture filter read whole (bpf/http_exchange.bpf.h), turned into records, and the handovers of
// connections it stopped reading, turned into what the packet tracker goes on from. The request line is parsed here
// by the same parseRequestLine as the packet parsers', so path truncation and query redaction stay in one place.
// Kernel times are CLOCK_MONOTONIC; the packet tracker's are the capture's CLOCK_REALTIME: a handed-over request's
// start is moved onto that clock.
import { EVENT, REQUEST, SIDE_CLIENT, type HttpExchanges, type SegmentEndpoints } from '../../capture/http-exchanges.ts'
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import type { Endpoint } from '../../records.ts'
import type { ExchangeSink } from './exchange.ts'
import { parseRequestLine, type RequestLine, type StartLineError, type TargetPolicy } from './start-line.ts'

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
  /** The event bytes naming the connection (family, side, ports, addresses), to confirm a match. */
  raw: Buffer
  client: Endpoint
  server: Endpoint
  /** The connection's last request line, and what it parsed to: keep-alive clients repeat theirs. */
  line: Buffer | undefined
  request: RequestLine | undefined
}

const TWO_TO_32 = 4294967296
/** A u64 of CLOCK_MONOTONIC ns as a Number (exact below 2^53 ns, 104 days of uptime; then to a few ns). */
const u64le = (b: Buffer, offset: number) => b.readUInt32LE(offset + 4) * TWO_TO_32 + b.readUInt32LE(offset)

export class KernelExchanges {
  private readonly policy: TargetPolicy
  private readonly sink: ExchangeSink
  /** Recent connections by their ports (client port << 16 | server port), confirmed by their raw bytes. */
  private readonly peers = new Map<number, Peers[]>()
  private remembered = 0
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
    const peers = this.peersOf(event)
    const request = this.requestOf(event, peers)
    if (typeof request === 'string') return this.sink.parseError(request)
    const startNs = u64le(event, REQUEST.START_NS)
    const responseNs = u64le(event, EVENT.RESPONSE_NS)
    this.sink.record({
      kind: 'http',
      side: event[EVENT.SIDE] === SIDE_CLIENT ? 'client' : 'server',
      family: event[EVENT.FAMILY] === 4 ? 'ipv4' : 'ipv6',
      source: peers.client,
      destination: peers.server,
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

  /** The event's request line, parsed; the connection's last one again when the bytes are the same. */
  private requestOf(event: Buffer, peers: Peers): RequestLine | StartLineError {
    const end = REQUEST.LINE + event.readUInt16LE(REQUEST.LINE_LENGTH)
    if (peers.request && peers.line!.length === end - REQUEST.LINE && peers.line!.compare(event, REQUEST.LINE, end) === 0) {
      return peers.request
    }
    const request = parseRequestLine(event, REQUEST.LINE, end, this.policy)
    if (typeof request === 'string') return request
    peers.line = Buffer.from(event.subarray(REQUEST.LINE, end))
    peers.request = request
    return request
  }

  /** The connection's endpoint objects, the same for all its records while it is remembered. */
  private peersOf(event: Buffer): Peers {
    const ports = event.readUInt32BE(EVENT.CLIENT_PORT)
    const known = this.peers.get(ports)
    if (known) {
      for (const peers of known) if (peers.raw.compare(event, EVENT.FAMILY, EVENT.SIZE) === 0) return peers
    }
    if (this.remembered >= MAX_REMEMBERED) {
      this.peers.clear()
      this.remembered = 0
    }
    const text = event[EVENT.FAMILY] === 4 ? ipv4ToString : ipv6ToString
    const peers: Peers = {
      raw: Buffer.from(event.subarray(EVENT.FAMILY, EVENT.SIZE)),
      client: { address: text(event, EVENT.CLIENT), port: event.readUInt16BE(EVENT.CLIENT_PORT) },
      server: { address: text(event, EVENT.SERVER), port: event.readUInt16BE(EVENT.SERVER_PORT) },
      line: undefined,
      request: undefined,
    }
    const list = this.peers.get(ports)
    if (list) list.push(peers)
    else this.peers.set(ports, [peers])
    this.remembered++
    return peers
  }
}
