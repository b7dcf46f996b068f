// Decoding of struct http_tls_event (bpf/http_tls.h): one SSL_read/SSL_write call's plaintext head, or an SSL_free.
// A record is the event's header and its `captured` data bytes (the BPF side sends no more). Every probed libssl
// call makes one, so the decoded form builds no strings: the connection is its process and SSL* as numbers, and
// the socket's address text is made only when the tracker asks for it (once per connection).
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import type { Endpoint, Family } from '../../records.ts'

export const TLS_MAX_DATA = 1024
/** offsetof(struct http_tls_event, data): the header before the data. */
export const TLS_EVENT_HEADER_SIZE = 88

export const TlsDirection = { WRITE: 0, READ: 1, FREE: 2 } as const

/** enum http_tls_counter, in order, as `netlens.records.dropped` reasons. */
export const TLS_KERNEL_COUNTERS = ['tls_ringbuf_full', 'tls_calls_full'] as const

export interface TlsSocket {
  family: Family
  local: Endpoint
  remote: Endpoint
}

export interface TlsEvent {
  /** CLOCK_MONOTONIC, nanoseconds. */
  readonly timestampNs: number
  /** The process (tgid) and its SSL* (a user-space address, exact as a Number on 48-bit address spaces): the connection. */
  readonly pid: number
  readonly ssl: number
  readonly direction: number
  /** Bytes the call moved; `data` holds the first of them (at most TLS_MAX_DATA). */
  readonly length: number
  readonly data: Buffer
  /** Undefined while no socket I/O inside a call has shown the socket yet, or when it is not an IP socket. */
  readonly socket: TlsSocket | undefined
}

const AF_INET = 2
const AF_INET6 = 10
const TWO_TO_32 = 4294967296

/** One record read in place; `socket` is decoded when asked for. Valid while the record's batch is handled. */
class TlsRecordEvent implements TlsEvent {
  readonly timestampNs: number
  readonly pid: number
  readonly ssl: number
  readonly direction: number
  readonly length: number
  readonly data: Buffer
  private readonly record: Buffer

  constructor(record: Buffer, captured: number) {
    this.record = record
    this.timestampNs = record.readUInt32LE(4) * TWO_TO_32 + record.readUInt32LE(0)
    this.ssl = record.readUInt32LE(12) * TWO_TO_32 + record.readUInt32LE(8)
    this.pid = record.readUInt32LE(16)
    this.length = record.readUInt32LE(24)
    this.direction = record[32] as number
    this.data = record.subarray(TLS_EVENT_HEADER_SIZE, TLS_EVENT_HEADER_SIZE + captured)
  }

  get socket(): TlsSocket | undefined {
    const record = this.record
    const family = record[80]
    if (family !== AF_INET && family !== AF_INET6) return undefined
    const text = family === AF_INET ? ipv4ToString : ipv6ToString
    return {
      family: family === AF_INET ? 'ipv4' : 'ipv6',
      local: { address: text(record, 40), port: record.readUInt16LE(76) },
      remote: { address: text(record, 56), port: record.readUInt16LE(78) },
    }
  }
}

/** Reads one ring record; undefined when it is not an http_tls_event (counted by the caller). */
export function decodeTlsEvent(record: Buffer): TlsEvent | undefined {
  if (record.length < TLS_EVENT_HEADER_SIZE) return undefined
  const captured = record.readUInt32LE(28)
  if (captured > TLS_MAX_DATA || record.length < TLS_EVENT_HEADER_SIZE + captured) return undefined
  return new TlsRecordEvent(record, captured)
}
