// Where a tracker's exchanges put finished records until the receiver collects them, and through which they count
// what they drop. Bounded: past maxBuffered records (the receiver flushing late) a record is counted `buffer_full`.
import type { HttpRecord } from '../../records.ts'
import type { ExchangeSink } from './exchange.ts'
import type { HttpParseError } from './message-parser.ts'
import type { HttpTelemetry } from './telemetry.ts'

export class RecordBuffer implements ExchangeSink {
  private records: HttpRecord[] = []
  private readonly maxBuffered: number
  private readonly telemetry: HttpTelemetry

  constructor(maxBuffered: number, telemetry: HttpTelemetry) {
    this.maxBuffered = maxBuffered
    this.telemetry = telemetry
  }

  record(record: HttpRecord): void {
    if (this.records.length >= this.maxBuffered) return this.telemetry.dropped('buffer_full')
    this.records.push(record)
  }

  dropped(reason: string, count = 1): void {
    this.telemetry.dropped(reason, count)
  }

  parseError(reason: HttpParseError): void {
    this.telemetry.parseError(reason)
  }

  /** The records so far; the buffer starts empty again. */
  take(): HttpRecord[] {
    const records = this.records
    this.records = []
    return records
  }
}
