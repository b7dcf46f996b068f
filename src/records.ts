// Plain records that flow through pipelines, discriminated on `kind`. Receivers fill the typed fields;
// processors add enrichment to `attributes` (e.g. `destination.domain`, `source.ip_type`).

export type Transport = 'tcp' | 'udp'
export type Family = 'ipv4' | 'ipv6'
/** Who initiated: `outgoing` when a local socket connected out, `incoming` when it accepted. */
export type Direction = 'incoming' | 'outgoing' | 'unknown'

export interface Endpoint {
  address: string
  /** 0 when collapsed (an ephemeral client port). */
  port: number
}

export type Attributes = Record<string, string | number | boolean>

/** A flow's activity during one harvest interval. Source is the initiator (client), destination the server. */
export interface FlowRecord {
  kind: 'flow'
  transport: Transport
  family: Family
  direction: Direction
  source: Endpoint
  destination: Endpoint
  /** Network namespace inode of the local socket. */
  netns: number
  pid: number
  /** Process name (comm) of the local socket's owner. */
  comm: string
  /** Payload bytes sent / received by the local side during the interval. */
  bytesSent: number
  bytesReceived: number
  /** TCP connections established / closed during the interval. */
  established: number
  closed: number
  /** TCP segments retransmitted during the interval. */
  retransmits: number
  /** Latest smoothed RTT and its variance, microseconds (TCP; undefined when not sampled). */
  rttUs?: number
  rttVarUs?: number
  attributes: Attributes
}

/** One DNS query and its outcome (response or timeout). */
export interface DnsRecord {
  kind: 'dns'
  transport: Transport
  family: Family
  client: Endpoint
  server: Endpoint
  questionName: string
  /** Record type name, e.g. `A`, `AAAA`. */
  questionType: string
  /** Response code name (`NOERROR`, `NXDOMAIN`, `SERVFAIL`, ...) or `timeout`. */
  responseCode: string
  /** Response time minus query time from kernel timestamps; undefined on timeout. */
  durationSeconds?: number
  attributes: Attributes
}

/** Addresses a DNS answer gave for the name the client asked (CNAME chain followed back to the question). */
export interface DnsAnswerRecord {
  kind: 'dns.answer'
  /** The client that asked, so a domain can be tied to the flows it opens. */
  client: string
  questionName: string
  addresses: Array<{ address: string; ttlSeconds: number }>
  attributes: Attributes
}

/**
 * HTTP request/response exchanges seen from the client or the server side: one or more requests that share every
 * field but their durations. The http receiver hands on a connection's requests of a flush interval as one record
 * per series (record-buffer.ts); Datakit's httpflow `count` is `durationsSeconds.length`.
 */
export interface HttpRecord {
  kind: 'http'
  side: 'client' | 'server'
  family: Family
  source: Endpoint
  destination: Endpoint
  pid: number
  method: string
  path: string
  pathTruncated: boolean
  statusCode: number
  protocolVersion: string
  /** Request start to first response byte, one per request the record stands for (never empty). */
  durationsSeconds: number[]
  attributes: Attributes
}

export type AnyRecord = FlowRecord | DnsRecord | DnsAnswerRecord | HttpRecord
export type RecordKind = AnyRecord['kind']
