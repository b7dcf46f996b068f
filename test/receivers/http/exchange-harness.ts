// Drives an HttpExchange the way the trackers do, collecting its records, drops and parse errors.
import { HttpExchange, type ExchangeSink } from '../../../src/receivers/http/exchange.ts'
import type { HttpParseError } from '../../../src/receivers/http/message-parser.ts'
import type { HttpRecord } from '../../../src/records.ts'

export const LIMITS = { lineCap: 1024, maxHeaderBytes: 256 * 1024, maxPathLength: 150, redactQuery: true }

export class Harness implements ExchangeSink {
  readonly records: HttpRecord[] = []
  readonly drops: string[] = []
  readonly errors: HttpParseError[] = []
  readonly exchange: HttpExchange

  constructor(limits = LIMITS, maxPending = 64) {
    this.exchange = new HttpExchange({
      family: 'ipv4', client: { address: '198.18.0.1', port: 40000 }, server: { address: '198.18.0.2', port: 80 },
      side: 'server', pid: 0, scheme: 'http',
    }, { limits, maxPending }, this)
  }

  record(record: HttpRecord): void {
    this.records.push(record)
  }

  dropped(reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.drops.push(reason)
  }

  parseError(reason: HttpParseError): void {
    this.errors.push(reason)
  }

  request(text: string | Buffer, ns: number | bigint = 0): void {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text
    this.exchange.requests.feed(bytes, 0, bytes.length, Number(ns))
  }

  response(text: string | Buffer, ns: number | bigint = 0): void {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text
    this.exchange.responses.feed(bytes, 0, bytes.length, Number(ns))
  }

  /** method path status, one string per record. */
  get summary(): string[] {
    return this.records.map((r) => `${r.method} ${r.path} ${r.statusCode}`)
  }
}

export const ok = (body = 'hello') => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n${body}`
export const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: example.test\r\n${extra}\r\n`

/** `body` in HTTP/1.1 chunked coding, `size` bytes per chunk, with an extension and a trailer. */
export function chunked(body: string, size: number): string {
  let out = ''
  for (let i = 0; i < body.length; i += size) {
    const piece = body.slice(i, i + size)
    out += `${piece.length.toString(16)};ext=1\r\n${piece}\r\n`
  }
  return `${out}0\r\nX-Trailer: yes\r\n\r\n`
}
