// Renders one interval for the terminal: a summary line (basic), tables of top flows, DNS and HTTP (normal),
// plus one line per record (detailed). Kept to about 120 columns.
import type { IntervalAggregate, DnsRow, FlowRow, HttpRow } from './aggregate.ts'
import { humanBytes, millis, table, type Column } from './format.ts'

export type Verbosity = 'basic' | 'normal' | 'detailed'

/** A drop counter series: its cumulative value and its increase during the interval. */
export interface DropEntry {
  label: string
  total: number
  delta: number
}

export interface ReportInput {
  at: Date
  /** Length of the interval reported. */
  seconds: number
  aggregate: IntervalAggregate
  drops: DropEntry[]
  verbosity: Verbosity
  top: number
  /** Detailed verbosity: one line per record, and how many more were not kept. */
  recordLines: string[]
  hiddenRecords: number
}

const DIRECTION: Record<string, string> = { outgoing: 'out', incoming: 'in', unknown: '?' }

function summary(input: ReportInput): string {
  const { counts } = input.aggregate
  const kinds = (['flow', 'dns', 'http', 'dns.answer'] as const).map((k) => `${counts[k]} ${k}`).join(' · ')
  const lost = input.aggregate.lost > 0 ? ` · ${input.aggregate.lost} lost upstream` : ''
  const dropTotal = input.drops.reduce((sum, d) => sum + d.delta, 0)
  const drops = input.drops.length > 0 ? ` · drops +${dropTotal}` : ''
  const time = input.at.toISOString().slice(11, 19)
  return `── netlens ${time}Z · last ${Math.round(input.seconds)}s · ${kinds}${lost}${drops} ──`
}

function heading(title: string, shown: number, total: number, by: string): string {
  return total > shown ? `${title} (top ${shown} of ${total} by ${by})` : `${title} (${total})`
}

function flowTable(rows: FlowRow[]): string[] {
  const columns: Column[] = [
    { header: 'FLOW', max: 44 },
    { header: 'PROTO' },
    { header: 'DIR' },
    { header: 'PROCESS', max: 16 },
    { header: 'TX', align: 'right' },
    { header: 'RX', align: 'right' },
    { header: 'EST', align: 'right' },
    { header: 'CLS', align: 'right' },
    { header: 'RETR', align: 'right' },
    { header: 'RTT ms', align: 'right' },
  ]
  return table(
    columns,
    rows.map((r) => [
      r.destination ? `${r.source} → ${r.destination}` : r.source,
      r.transport,
      DIRECTION[r.direction] ?? r.direction,
      r.process,
      humanBytes(r.sent),
      humanBytes(r.received),
      String(r.established),
      String(r.closed),
      String(r.retransmits),
      millis(r.rttSeconds),
    ]),
  )
}

function dnsTable(rows: DnsRow[]): string[] {
  const columns: Column[] = [
    { header: 'SERVER', max: 28 },
    { header: 'TYPE' },
    { header: 'NAME', max: 36 },
    { header: 'QUERIES', align: 'right' },
    { header: 'RCODES', max: 40 },
    { header: 'MEAN ms', align: 'right' },
    { header: 'MAX ms', align: 'right' },
  ]
  return table(
    columns,
    rows.map((r) => [
      r.server,
      r.questionType,
      r.questionName,
      String(r.count),
      [...r.responseCodes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${c} ${n}`).join(', '),
      r.answered > 0 ? millis(r.durationSum / r.answered) : '-',
      r.answered > 0 ? millis(r.durationMax) : '-',
    ]),
  )
}

function httpTable(rows: HttpRow[]): string[] {
  const columns: Column[] = [
    { header: 'SIDE' },
    { header: 'METHOD' },
    { header: 'PATH', max: 48 },
    { header: 'STATUS', align: 'right' },
    { header: 'COUNT', align: 'right' },
    { header: 'MEAN ms', align: 'right' },
  ]
  return table(
    columns,
    rows.map((r) => [r.side, r.method, r.path, String(r.status), String(r.count), millis(r.durationSum / r.count)]),
  )
}

function topBy<T>(rows: Iterable<T>, score: (row: T) => number, top: number): { shown: T[]; total: number } {
  const all = [...rows].sort((a, b) => score(b) - score(a))
  return { shown: all.slice(0, top), total: all.length }
}

function tables(input: ReportInput): string[] {
  const { aggregate, top } = input
  const lines: string[] = []
  if (aggregate.flows.size > 0) {
    const { shown, total } = topBy(aggregate.flows.values(), (r) => r.sent + r.received, top)
    lines.push('', heading('FLOWS', shown.length, total, 'bytes'), ...flowTable(shown))
  }
  if (aggregate.dns.size > 0) {
    const { shown, total } = topBy(aggregate.dns.values(), (r) => r.count, top)
    lines.push('', heading('DNS', shown.length, total, 'queries'), ...dnsTable(shown))
  }
  if (aggregate.http.size > 0) {
    const { shown, total } = topBy(aggregate.http.values(), (r) => r.count, top)
    lines.push('', heading('HTTP', shown.length, total, 'requests'), ...httpTable(shown))
  }
  return lines
}

function dropsLine(drops: DropEntry[]): string[] {
  if (drops.length === 0) return []
  return ['', `DROPS ${drops.map((d) => `${d.label} ${d.total} (+${d.delta})`).join(', ')}`]
}

/** The text printed for one interval, ending with a newline. */
export function renderReport(input: ReportInput): string {
  const lines = [summary(input)]
  if (input.verbosity !== 'basic') {
    lines.push(...tables(input))
    if (input.verbosity === 'detailed' && (input.recordLines.length > 0 || input.hiddenRecords > 0)) {
      lines.push('', 'RECORDS', ...input.recordLines)
      if (input.hiddenRecords > 0) lines.push(`… ${input.hiddenRecords} more records not shown`)
    }
    lines.push(...dropsLine(input.drops))
    lines.push('')
  }
  return lines.join('\n') + '\n'
}
