// One interval's records, aggregated for the console view: flows by 5-tuple and process, DNS by server,
// type and name, HTTP by side, method, path and status. Each table keeps at most MAX_KEYS rows per interval;
// further keys fold into one "(other)" row, so memory stays bounded under a flood.
import type { AnyRecord, DnsRecord, FlowRecord, HttpRecord, RecordKind } from '../../records.ts'
import { hostPort } from './format.ts'

export const MAX_KEYS = 10_000
export const OTHER = '(other)'

export interface FlowRow {
  source: string
  destination: string
  transport: string
  direction: string
  process: string
  sent: number
  received: number
  established: number
  closed: number
  retransmits: number
  /** Latest smoothed RTT seen in the interval, seconds. */
  rttSeconds: number | undefined
}

export interface DnsRow {
  server: string
  questionType: string
  questionName: string
  count: number
  responseCodes: Map<string, number>
  answered: number
  durationSum: number
  durationMax: number
}

export interface HttpRow {
  side: string
  method: string
  path: string
  status: number
  /** Requests (a record stands for one or more). */
  count: number
  durationSum: number
}

/** The row for `key`, created on first use; once the map is full, new keys share the `(other)` row. */
function upsert<T>(map: Map<string, T>, key: string, create: (other: boolean) => T): T {
  const row = map.get(key)
  if (row) return row
  const other = map.size >= MAX_KEYS
  const target = other ? OTHER : key
  const existing = map.get(target)
  if (existing) return existing
  const created = create(other)
  map.set(target, created)
  return created
}

export class IntervalAggregate {
  /** Records of each kind; for `http`, the requests its records stand for. */
  readonly counts: Record<RecordKind, number> = { flow: 0, dns: 0, 'dns.answer': 0, http: 0 }
  readonly flows = new Map<string, FlowRow>()
  readonly dns = new Map<string, DnsRow>()
  readonly http = new Map<string, HttpRow>()
  /** Records the producers reported lost before their batches. */
  lost = 0

  add(record: AnyRecord): void {
    this.counts[record.kind] += record.kind === 'http' ? record.durationsSeconds.length : 1
    if (record.kind === 'flow') this.addFlow(record)
    else if (record.kind === 'dns') this.addDns(record)
    else if (record.kind === 'http') this.addHttp(record)
  }

  get total(): number {
    return this.counts.flow + this.counts.dns + this.counts['dns.answer'] + this.counts.http
  }

  private addFlow(record: FlowRecord): void {
    const source = hostPort(record.source.address, record.source.port)
    const destination = hostPort(record.destination.address, record.destination.port)
    const process = record.pid === 0 ? record.comm || '-' : `${record.comm || '?'}/${record.pid}`
    const key = [source, destination, record.transport, record.direction, process].join('|')
    const row = upsert(this.flows, key, (other) => ({
      source: other ? OTHER : source,
      destination: other ? '' : destination,
      transport: record.transport,
      direction: record.direction,
      process,
      sent: 0,
      received: 0,
      established: 0,
      closed: 0,
      retransmits: 0,
      rttSeconds: undefined,
    }))
    row.sent += record.bytesSent
    row.received += record.bytesReceived
    row.established += record.established
    row.closed += record.closed
    row.retransmits += record.retransmits
    if (record.rttUs !== undefined) row.rttSeconds = record.rttUs / 1e6
  }

  private addDns(record: DnsRecord): void {
    const server = hostPort(record.server.address, record.server.port)
    const key = [server, record.questionType, record.questionName].join('|')
    const row = upsert(this.dns, key, (other) => ({
      server: other ? OTHER : server,
      questionType: record.questionType,
      questionName: record.questionName,
      count: 0,
      responseCodes: new Map<string, number>(),
      answered: 0,
      durationSum: 0,
      durationMax: 0,
    }))
    row.count++
    row.responseCodes.set(record.responseCode, (row.responseCodes.get(record.responseCode) ?? 0) + 1)
    if (record.durationSeconds !== undefined) {
      row.answered++
      row.durationSum += record.durationSeconds
      row.durationMax = Math.max(row.durationMax, record.durationSeconds)
    }
  }

  private addHttp(record: HttpRecord): void {
    const path = record.pathTruncated ? `${record.path}…` : record.path
    const key = [record.side, record.method, path, record.statusCode].join('|')
    const row = upsert(this.http, key, (other) => ({
      side: record.side,
      method: other ? OTHER : record.method,
      path,
      status: record.statusCode,
      count: 0,
      durationSum: 0,
    }))
    row.count += record.durationsSeconds.length
    for (const duration of record.durationsSeconds) row.durationSum += duration
  }
}
