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
  questionName: string
  questionType: number
}

export class QueryMatcher {
  private readonly pending = new Map<string, Pending>()
  private readonly options: MatcherOptions
  private readonly onDrop: (reason: MatcherDropReason) => void
  /** Queries seen again while pending (client retries with the same id): the first one's time is kept. */
  retransmits = 0

  constructor(options: MatcherOptions, onDrop: (reason: MatcherDropReason) => void) {
    this.options = options
    this.onDrop = onDrop
  }

  get size(): number {
    return this.pending.size
  }

  query(message: DnsMessage, exchange: Exchange): void {
    const key = keyOf(message, exchange)
    if (this.pending.has(key)) {
      this.retransmits++
      return
    }
    if (this.pending.size >= this.options.maxPending) {
      this.onDrop('pending_full')
      return
    }
    this.pending.set(key, { exchange, questionName: message.questionName, questionType: message.questionType })
  }

  /** The record for the query this response answers, or undefined (counted) when none is pending. */
  response(message: DnsMessage, exchange: Exchange): DnsRecord | undefined {
    const key = keyOf(message, exchange)
    const query = this.pending.get(key)
    if (!query) {
      this.onDrop('unmatched_response')
      return undefined
    }
    this.pending.delete(key)
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
    for (const [key, query] of this.pending) {
      if (query.exchange.timestampNs > cutoff) return
      this.pending.delete(key)
      out.push(toRecord(query, 'timeout', undefined))
    }
  }

  /** Forgets every pending query (shutdown: they neither timed out nor were answered); returns how many. */
  clear(): number {
    const count = this.pending.size
    this.pending.clear()
    return count
  }
}

function keyOf(message: DnsMessage, e: Exchange): string {
  return `${e.transport}|${e.clientAddress}|${e.clientPort}|${e.serverAddress}|${message.id}|${message.questionName}|${message.questionType}`
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
