// Where a tracker's exchanges put finished records until the receiver collects them, and through which they count
// what they drop. Requests of one connection that differ only in their durations become one record between two
// take()s (Datakit's httpflow records are aggregated the same way): the pipeline after the receiver (processors,
// the exporters' measurements) then works per series, not per request. Bounded: past maxBuffered durations held
// (the receiver flushing late) a record's requests are counted `buffer_full`.
import type { Endpoint, HttpRecord } from '../../records.ts'
import type { ExchangeSink } from './exchange.ts'
import type { HttpParseError } from './message-parser.ts'
import type { HttpTelemetry } from './telemetry.ts'

/**
 * Records of one connection compared with each new one, the latest first. A connection whose requests keep changing
 * (a path per item) makes a record per request at this cost, not at a cost that grows with the interval.
 */
const RECENT_PER_CONNECTION = 8

export class RecordBuffer implements ExchangeSink {
  private records: HttpRecord[] = []
  /**
   * The latest records of each connection, by their `source` object: an exchange gives all its records the same
   * `source` and `destination` objects (exchange.ts), so same objects mean same addresses and ports.
   */
  private recent = new Map<Endpoint, HttpRecord[]>()
  /** Durations held by `records`: what maxBuffered bounds (a record holds at least one). */
  private held = 0
  private readonly maxBuffered: number
  private readonly telemetry: HttpTelemetry

  constructor(maxBuffered: number, telemetry: HttpTelemetry) {
    this.maxBuffered = maxBuffered
    this.telemetry = telemetry
  }

  /** Takes `record` and its durations array: later requests of the same series may be added to it until take(). */
  record(record: HttpRecord): void {
    const durations = record.durationsSeconds
    if (this.held + durations.length > this.maxBuffered) return this.telemetry.dropped('buffer_full', durations.length)
    this.held += durations.length
    const recent = this.recent.get(record.source)
    if (recent === undefined) {
      this.recent.set(record.source, [record])
      this.records.push(record)
      return
    }
    for (let i = recent.length - 1; i >= 0; i--) {
      const same = recent[i]!
      if (!sameSeries(same, record)) continue
      for (const duration of durations) same.durationsSeconds.push(duration)
      return
    }
    if (recent.length === RECENT_PER_CONNECTION) recent.shift()
    recent.push(record)
    this.records.push(record)
  }

  dropped(reason: string, count = 1): void {
    this.telemetry.dropped(reason, count)
  }

  parseError(reason: HttpParseError): void {
    this.telemetry.parseError(reason)
  }

  /** The records so far; the buffer starts empty again (records handed on are never added to). */
  take(): HttpRecord[] {
    const records = this.records
    this.records = []
    this.recent = new Map()
    this.held = 0
    return records
  }
}

/** Whether `b`'s requests belong in `a`: the same connection (by identity) and every field but the durations. */
function sameSeries(a: HttpRecord, b: HttpRecord): boolean {
  return a.destination === b.destination && a.statusCode === b.statusCode && a.path === b.path &&
    a.method === b.method && a.side === b.side && a.pathTruncated === b.pathTruncated &&
    a.protocolVersion === b.protocolVersion && a.attributes === b.attributes && a.pid === b.pid &&
    a.family === b.family
}
