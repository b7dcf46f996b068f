// One direction of an HTTP/1.x connection as a stream of messages: requests (client → server) or responses.
// Start lines and the headers that frame a body (Content-Length, Transfer-Encoding) are read; bodies, chunked or
// not, are skipped by counting bytes, never buffered. Memory per direction is a line of at most `lineCap` bytes.
//
// Bytes the capture could not supply arrive as gap(n): inside a body they are simply skipped; anywhere else the
// framing is lost, which is counted (`capture_gap`), and the direction waits for a piece that starts with a
// plausible message (a method and a space, or `HTTP/1.`) to pick up again.
import { findByte, LineReader } from './line-reader.ts'
import {
  couldStartRequest, couldStartResponse, parseRequestLine, parseStatusLine, MAX_METHOD_LENGTH,
  type RequestLine, type StartLineError, type TargetPolicy,
} from './start-line.ts'

export type HttpParseError =
  | StartLineError
  | 'not_http'
  | 'headers_too_large'
  | 'bad_content_length'
  | 'bad_transfer_encoding'
  | 'bad_chunk'
  | 'capture_gap'

export interface MessageEvents {
  /** A request line was read; its `startNs` is when its first byte was captured. */
  onRequest(request: RequestLine): void
  /** A status line was read. Returns the method of the request it answers ('' when unknown) to frame the body. */
  onResponse(status: number, firstByteNs: number): string
  /** The connection stopped speaking HTTP/1.x (101 Switching Protocols, or a CONNECT tunnel). */
  onTunnel(): void
  onError(reason: HttpParseError): void
}

export interface ParserLimits extends TargetPolicy {
  /** Bytes of a start line or header line kept; the rest of a longer line is skipped. */
  lineCap: number
  /** A header block (start line included) beyond this many bytes is not HTTP as netlens reads it. */
  maxHeaderBytes: number
}

const State = {
  IDLE: 0, START_LINE: 1, HEADERS: 2, BODY: 3, CHUNK_SIZE: 4, CHUNK_DATA: 5, CHUNK_END: 6, TRAILERS: 7,
  /** Until the connection ends: a response framed by close, a tunnel, or a direction that is not HTTP. */
  TO_END: 8,
  RESYNC: 9,
  /** After an upgrade or CONNECT request, until its response says whether HTTP/1.x goes on. */
  AWAIT_RESPONSE: 10,
} as const
type State = (typeof State)[keyof typeof State]

/** Header lines that frame a body start with these letters (c, t, u in either case); others are skipped unparsed. */
const isFramingFirst = (c: number) => c === 0x63 || c === 0x43 || c === 0x74 || c === 0x54 || c === 0x75 || c === 0x55
/** What String.prototype.trim() removes, in latin1. */
const isTrimmed = (c: number) => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0

/** Whether `line[start, end)` is `name` (lower case ASCII) in either case. */
function nameIs(line: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false
  for (let i = 0; i < name.length; i++) {
    let c = line[start + i] as number
    if (c >= 0x41 && c <= 0x5a) c |= 0x20
    if (c !== name.charCodeAt(i)) return false
  }
  return true
}

/** The value of `line[start, end)` as 1 to `maxDigits` digits of `radix` (10 or 16) after trimming, else -1. */
function numberIn(line: Buffer, start: number, end: number, radix: 10 | 16, maxDigits: number): number {
  while (start < end && isTrimmed(line[start] as number)) start++
  while (end > start && isTrimmed(line[end - 1] as number)) end--
  if (end === start || end - start > maxDigits) return -1
  let value = 0
  for (let i = start; i < end; i++) {
    const c = line[i] as number
    let digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : -1
    if (radix === 16 && digit < 0) {
      const lower = c | 0x20
      if (lower >= 0x61 && lower <= 0x66) digit = lower - 0x61 + 10
    }
    if (digit < 0) return -1
    value = value * radix + digit
  }
  return value
}

export class MessageParser {
  readonly role: 'request' | 'response'
  private readonly limits: ParserLimits
  private readonly events: MessageEvents
  private readonly lines = new LineReader()
  private state: State = State.IDLE
  private startNs = 0
  private headerBytes = 0
  private remaining = 0
  private contentLength = -1
  private chunked = false
  private otherEncoding = false
  private status = 0
  private requestMethod = ''
  private upgrade = false
  private awaitAfterBody = false

  constructor(role: 'request' | 'response', limits: ParserLimits, events: MessageEvents) {
    this.role = role
    this.limits = limits
    this.events = events
  }

  /** True once the direction reads nothing more (not HTTP, a tunnel, or a body framed by the connection's end). */
  get finished(): boolean {
    return this.state === State.TO_END
  }

  /** Bytes of the current body (or chunk) still to come: bytes the parser will only count. */
  get bodyRemaining(): number {
    return this.state === State.BODY || this.state === State.CHUNK_DATA ? this.remaining : 0
  }

  /** Joined mid-stream: wait for a piece that starts like a message before reading (nothing is counted). */
  resync(): void {
    this.state = State.RESYNC
    this.lines.reset()
  }

  /** Stops reading: what follows is not HTTP/1.x messages. */
  stop(): void {
    this.state = State.TO_END
    this.lines.reset()
  }

  /** The next bytes of the direction: `data[start, end)`, whose first byte was captured at `timestampNs`. */
  feed(data: Buffer, start: number, end: number, timestampNs: number): void {
    let i = start
    if (this.state === State.RESYNC) {
      if (!this.plausibleStart(data, start, end)) return
      this.state = State.IDLE
    }
    while (i < end) {
      switch (this.state) {
        case State.IDLE: {
          const c = data[i] as number
          // Empty lines between messages are allowed (RFC 9112 §2.2).
          if (c === 0x0d || c === 0x0a) { i++; continue }
          this.startNs = timestampNs
          this.headerBytes = 0
          this.state = State.START_LINE
          const sniff = Math.min(end, i + MAX_METHOD_LENGTH + 1)
          if (!(this.role === 'request' ? couldStartRequest(data, i, sniff) : couldStartResponse(data, i, sniff))) {
            this.fail('not_http', State.TO_END)
            return
          }
          continue
        }
        case State.START_LINE:
        case State.HEADERS:
        case State.TRAILERS: {
          const next = this.lines.take(data, i, end, this.limits.lineCap)
          this.headerBytes += (next < 0 ? end : next) - i
          if (this.headerBytes > this.limits.maxHeaderBytes) return this.fail('headers_too_large', State.RESYNC)
          if (next < 0) return
          i = next
          if (this.state === State.START_LINE) this.startLine()
          else if (this.state === State.HEADERS) this.headerLine()
          else if (this.lines.length === 0) this.messageEnd()
          continue
        }
        case State.BODY:
        case State.CHUNK_DATA: {
          const n = Math.min(this.remaining, end - i)
          i += n
          this.remaining -= n
          if (this.remaining === 0) {
            if (this.state === State.BODY) this.messageEnd()
            else this.state = State.CHUNK_END
          }
          continue
        }
        case State.CHUNK_SIZE:
        case State.CHUNK_END: {
          const next = this.lines.take(data, i, end, this.limits.lineCap)
          if (next < 0) return
          i = next
          if (this.state === State.CHUNK_END) {
            if (this.lines.length !== 0) return this.fail('bad_chunk', State.RESYNC)
            this.state = State.CHUNK_SIZE
          } else {
            this.chunkSize()
          }
          continue
        }
        default:
          return
      }
    }
  }

  /** `length` bytes the capture missed at this point of the stream. */
  gap(length: number): void {
    if (this.state === State.BODY || this.state === State.CHUNK_DATA) {
      const n = Math.min(this.remaining, length)
      this.remaining -= n
      length -= n
      if (this.remaining === 0) {
        if (this.state === State.BODY) this.messageEnd()
        else this.state = State.CHUNK_END
      }
    }
    const reading = this.state !== State.TO_END && this.state !== State.RESYNC && this.state !== State.AWAIT_RESPONSE
    if (length > 0 && reading) this.fail('capture_gap', State.RESYNC)
  }

  private fail(reason: HttpParseError, next: State): void {
    this.events.onError(reason)
    this.state = next
    this.lines.reset()
  }

  private plausibleStart(data: Buffer, start: number, end: number): boolean {
    if (this.role === 'response') return end - start >= 12 && couldStartResponse(data, start, start + 12)
    const space = findByte(data, 0x20, start, Math.min(end, start + MAX_METHOD_LENGTH + 1))
    return space > start && couldStartRequest(data, start, space + 1)
  }

  private startLine(): void {
    const { bytes, start, end, cut } = this.lines
    this.contentLength = -1
    this.chunked = false
    this.otherEncoding = false
    this.upgrade = false
    // Set before the callback, which may stop() this parser.
    this.state = State.HEADERS
    if (this.role === 'request') {
      const request = parseRequestLine(bytes, start, end, this.limits, cut)
      if (typeof request === 'string') return this.fail(request, request === 'bad_request_line' ? State.RESYNC : State.TO_END)
      this.requestMethod = request.method
      request.startNs = this.startNs
      this.events.onRequest(request)
    } else {
      const status = parseStatusLine(bytes, start, end)
      if (typeof status === 'string') return this.fail(status, State.RESYNC)
      this.status = status
      this.requestMethod = this.events.onResponse(status, this.startNs)
    }
  }

  /** The response to an upgrade or CONNECT request came, and the connection goes on as HTTP/1.x. */
  resume(): void {
    if (this.state === State.AWAIT_RESPONSE) this.state = State.RESYNC
  }

  private headerLine(): void {
    const { bytes, start, end } = this.lines
    if (end === start) return this.endOfHeaders()
    if (!isFramingFirst(bytes[start] as number)) return
    const colon = findByte(bytes, 0x3a, start, end)
    if (colon < 0) return
    if (nameIs(bytes, start, colon, 'content-length')) {
      const length = numberIn(bytes, colon + 1, end, 10, 15)
      if (length < 0 || (this.contentLength >= 0 && this.contentLength !== length)) {
        return this.fail('bad_content_length', State.RESYNC)
      }
      this.contentLength = length
    } else if (nameIs(bytes, start, colon, 'upgrade')) {
      this.upgrade = true
    } else if (nameIs(bytes, start, colon, 'transfer-encoding')) {
      const codings = this.lines.text(colon + 1, end).split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '')
      // Only the last coding frames the message (RFC 9112 §6.3); later headers extend the list.
      if (codings.length > 0) {
        this.chunked = codings[codings.length - 1] === 'chunked'
        this.otherEncoding = !this.chunked
      }
    }
  }

  private endOfHeaders(): void {
    if (this.role === 'request') {
      if (this.otherEncoding) return this.fail('bad_transfer_encoding', State.RESYNC)
      // After an upgrade or CONNECT request the client may speak another protocol once answered: wait for the answer.
      this.awaitAfterBody = this.upgrade || this.requestMethod === 'CONNECT'
      this.beginBody(this.chunked ? -2 : Math.max(this.contentLength, 0))
      return
    }
    const status = this.status
    if (status === 101 || (this.requestMethod === 'CONNECT' && status >= 200 && status < 300)) {
      this.state = State.TO_END
      this.events.onTunnel()
      return
    }
    // Interim responses, HEAD, 204 and 304 have no body whatever the headers say (RFC 9112 §6.3).
    if (status < 200 || status === 204 || status === 304 || this.requestMethod === 'HEAD') return this.beginBody(0)
    if (this.chunked) return this.beginBody(-2)
    if (this.otherEncoding || this.contentLength < 0) return this.beginBody(-1)
    this.beginBody(this.contentLength)
  }

  private messageEnd(): void {
    this.state = this.awaitAfterBody ? State.AWAIT_RESPONSE : State.IDLE
    this.awaitAfterBody = false
  }

  /** `length` bytes of body; -2 chunked, -1 until the connection ends. */
  private beginBody(length: number): void {
    if (length === -2) this.state = State.CHUNK_SIZE
    else if (length === -1) this.state = State.TO_END
    else if (length === 0) this.messageEnd()
    else {
      this.remaining = length
      this.state = State.BODY
    }
  }

  private chunkSize(): void {
    const { bytes, start, end } = this.lines
    const semicolon = findByte(bytes, 0x3b, start, end)
    const size = numberIn(bytes, start, semicolon >= 0 ? semicolon : end, 16, 12)
    if (size < 0) return this.fail('bad_chunk', State.RESYNC)
    if (size === 0) {
      this.headerBytes = 0
      this.state = State.TRAILERS
    } else {
      this.remaining = size
      this.state = State.CHUNK_DATA
    }
  }
}
