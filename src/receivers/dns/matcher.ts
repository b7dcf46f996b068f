// Pairs responses with their queries. A query waits in a bounded table under (transport, client address and
// port, server address, transaction id, question name and type); its response turns it into a DnsRecord with
// the latency between the two kernel timestamps. Queries unanswered after the timeout become `timeout` records.
import type { DnsRecord, Family, Transport } from '../../records.ts'
import type { DnsMessage } from './parse.ts'
import { typeName } from './parse.ts'
import { rcodeName } from './rcodes.ts'

/** Where a message travelled: for a query the source is the client, for a response the destination. */
export interface Exchange {
  transport: Transport
  family: Family
  clientAddress: string
  clientPort: number
  serverAddress: string
  serverPort: number
  timestampNs: bigint
}

export interface MatcherOptions {
  timeoutNs: bigint
  maxPending: number
}

export type MatcherDropReason = 'pending_full' | 'unmatched_response'

interface Pending {
  exchange: Exchange
  id: number
  questionName: string
  questionType: number
  /** A newer pending query whose key hashes the same (rare): each hash holds a chain, oldest first. */
  next: Pending | undefined
}

/**
 * Pending queries are found by a numeric hash of their key (ports, id, question type and name length) and
 * confirmed by comparing every part of it: the string key this replaced was built and hashed twice per exchange,
 * ~1 µs per packet at 100k packets/s.
 */
export class QueryMatcher {
  /** Hash → the oldest query under it. Insertion order is arrival order (expiry walks it). */
  private readonly pending = new Map<number, Pending>()
  private count = 0
  private readonly options: MatcherOptions
  private readonly onDrop: (reason: MatcherDropReason) => void
  /** Queries seen again while pending (client retries with the same id): the first one's time is kept. */
  retransmits = 0

  constructor(options: MatcherOptions, onDrop: (reason: MatcherDropReason) => void) {
    this.options = options
    this.onDrop = onDrop
  }

  get size(): number {
    return this.count
  }

  query(message: DnsMessage, exchange: Exchange): void {
    const hash = hashOf(message, exchange)
    const oldest = this.pending.get(hash)
    let last: Pending | undefined
    for (let query = oldest; query !== undefined; query = query.next) {
      if (sameKey(query, message, exchange)) {
        this.retransmits++
        return
      }
      last = query
    }
    if (this.count >= this.options.maxPending) {
      this.onDrop('pending_full')
      return
    }
    const query: Pending = {
      exchange, id: message.id, questionName: message.questionName, questionType: message.questionType, next: undefined,
    }
    if (last) last.next = query
    else this.pending.set(hash, query)
    this.count++
  }

  /** The record for the query this response answers, or undefined (counted) when none is pending. */
  response(message: DnsMessage, exchange: Exchange): DnsRecord | undefined {
    const hash = hashOf(message, exchange)
    let previous: Pending | undefined
    let query = this.pending.get(hash)
    while (query !== undefined && !sameKey(query, message, exchange)) {
      previous = query
      query = query.next
    }
    if (!query) {
      this.onDrop('unmatched_response')
      return undefined
    }
    if (previous) previous.next = query.next
    else if (query.next) this.pending.set(hash, query.next)
    else this.pending.delete(hash)
    this.count--
    const elapsedNs = exchange.timestampNs - query.exchange.timestampNs
    // Frames of one exchange can reach the ring from different CPUs slightly out of order: never negative.
    const durationSeconds = elapsedNs > 0n ? Number(elapsedNs) / 1e9 : 0
    return toRecord(query, rcodeName(message.rcode), durationSeconds)
  }

  /** Turns queries sent before `nowNs − timeout` into timeout records. */
  expire(nowNs: bigint, out: DnsRecord[]): void {
    const cutoff = nowNs - this.options.timeoutNs
    // Insertion order is arrival order; a query stamped earlier than its predecessor (another CPU) is rare and
    // at worst waits one more round, so the scan stops at the first query still in time.
    for (const [hash, query] of this.pending) {
      if (query.exchange.timestampNs > cutoff) return
      this.pending.delete(hash)
      this.count--
      out.push(toRecord(query, 'timeout', undefined))
      // The rest of its chain goes to the end, where this loop meets it again.
      if (query.next) this.pending.set(hash, query.next)
    }
  }

  /** Forgets every pending query (shutdown: they neither timed out nor were answered); returns how many. */
  clear(): number {
    const count = this.count
    this.pending.clear()
    this.count = 0
    return count
  }
}

/** Transport, client address and port, server address, transaction id, question name and type. */
function sameKey(query: Pending, message: DnsMessage, e: Exchange): boolean {
  const q = query.exchange
  return query.id === message.id && q.clientPort === e.clientPort && query.questionType === message.questionType &&
    q.transport === e.transport && q.clientAddress === e.clientAddress && q.serverAddress === e.serverAddress &&
    query.questionName === message.questionName
}

/** FNV-1a over the numeric parts of the key, as a small integer for the Map; the rest is left to sameKey. */
function hashOf(message: DnsMessage, e: Exchange): number {
  let h = Math.imul(0x811c9dc5 ^ e.clientPort, 0x01000193)
  h = Math.imul(h ^ message.id, 0x01000193)
  h = Math.imul(h ^ message.questionType, 0x01000193)
  h = Math.imul(h ^ message.questionName.length, 0x01000193)
  return h & 0x3fffffff
}

function toRecord(query: Pending, responseCode: string, durationSeconds: number | undefined): DnsRecord {
  const { exchange } = query
  const record: DnsRecord = {
    kind: 'dns',
    transport: exchange.transport,
    family: exchange.family,
    client: { address: exchange.clientAddress, port: exchange.clientPort },
    server: { address: exchange.serverAddress, port: exchange.serverPort },
    questionName: query.questionName,
    questionType: typeName(query.questionType),
    responseCode,
    attributes: {},
  }
  if (durationSeconds !== undefined) record.durationSeconds = durationSeconds
  return record
}
