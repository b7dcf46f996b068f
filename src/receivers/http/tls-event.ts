// Decoding of struct http_tls_event (bpf/http_tls.h): one SSL_read/SSL_write call's plaintext head, or an SSL_free.
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import type { Endpoint, Family } from '../../records.ts'

export const TLS_MAX_DATA = 1024
/** offsetof(struct http_tls_event, data). */
const DATA_OFFSET = 88
export const TLS_EVENT_SIZE = DATA_OFFSET + TLS_MAX_DATA

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
  timestampNs: number
  /** `tgid:ssl`: the SSL* address is unique within a process while the connection lives. */
  connection: string
  pid: number
  direction: number
  /** Bytes the call moved; `data` holds the first of them (at most TLS_MAX_DATA). */
  length: number
  data: Buffer
  /** Undefined while no socket I/O inside a call has shown the socket yet, or when it is not an IP socket. */
  socket: TlsSocket | undefined
}

const AF_INET = 2
const AF_INET6 = 10

/** Reads one ring record; undefined when it is not an http_tls_event (counted by the caller). */
export function decodeTlsEvent(record: Buffer): TlsEvent | undefined {
  if (record.length < TLS_EVENT_SIZE) return undefined
  const tgid = record.readUInt32LE(16)
  const captured = record.readUInt32LE(28)
  if (captured > TLS_MAX_DATA) return undefined
  const family = record[80]
  let socket: TlsSocket | undefined
  if (family === AF_INET || family === AF_INET6) {
    const text = family === AF_INET ? ipv4ToString : ipv6ToString
    socket = {
      family: family === AF_INET ? 'ipv4' : 'ipv6',
      local: { address: text(record, 40), port: record.readUInt16LE(76) },
      remote: { address: text(record, 56), port: record.readUInt16LE(78) },
    }
  }
  return {
    timestampNs: record.readUInt32LE(4) * 4294967296 + record.readUInt32LE(0),
    connection: `${tgid}:${record.readBigUInt64LE(8).toString(16)}`,
    pid: tgid,
    direction: record[32] as number,
    length: record.readUInt32LE(24),
    data: record.subarray(DATA_OFFSET, DATA_OFFSET + captured),
    socket,
  }
}
