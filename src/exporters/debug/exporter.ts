// The `debug` exporter: every interval, prints what the pipeline saw (a summary, top tables, or every record) to
// stdout, so a user without a collector sees value at once. Aggregates itself; no SDK involved.
import type { Batch, CreateSettings, Exporter, Host } from '../../component/types.ts'
import { standardCounters, type SelfCounter, type SelfTelemetry } from '../../telemetry/self.ts'
import { standardOutput } from '../../telemetry/output.ts'
import { parseDuration } from '../sdk/values.ts'
import { IntervalAggregate } from './aggregate.ts'
import type { DebugConfig } from './config.ts'
import { recordLine } from './record-line.ts'
import { renderReport, type DropEntry } from './render.ts'

/** Lines kept per interval at `detailed`; the rest are counted, not printed. */
export const MAX_RECORD_LINES = 1000

export interface DebugIo {
  write(text: string): void
  now(): Date
}

const STDOUT: DebugIo = { write: (text) => standardOutput().write(text), now: () => new Date() }

function dropLabel(name: string, attributes: Record<string, unknown>): string {
  if (name === 'netlens.records.dropped' && 'component' in attributes) {
    return `${String(attributes['component'])}:${String(attributes['reason'] ?? '?')}`
  }
  const tags = Object.keys(attributes).sort().map((k) => `${k}=${String(attributes[k])}`)
  return tags.length > 0 ? `${name}{${tags.join(',')}}` : name
}

export class DebugExporter implements Exporter {
  private readonly id: string
  private readonly config: DebugConfig
  private readonly io: DebugIo
  private readonly telemetry: SelfTelemetry
  private readonly received: SelfCounter
  private readonly dropped: SelfCounter
  private readonly intervalMs: number
  private aggregate = new IntervalAggregate()
  private recordLines: string[] = []
  private hiddenRecords = 0
  private lastDrops = new Map<string, number>()
  private intervalStart: Date
  private timer: NodeJS.Timeout | undefined
  private started = false
  private stopped = false
  private writeFailed = false
  private readonly logger: CreateSettings['logger']

  constructor(settings: CreateSettings, config: DebugConfig, io: DebugIo = STDOUT) {
    this.id = settings.id
    this.config = config
    this.io = io
    this.logger = settings.logger
    this.telemetry = settings.telemetry
    const counters = standardCounters(settings.telemetry)
    this.received = counters.received
    this.dropped = counters.dropped
    this.intervalMs = parseDuration(config.interval, 'interval')
    this.intervalStart = io.now()
  }

  async start(_host: Host): Promise<void> {
    if (this.started || this.stopped) return
    this.started = true
    this.intervalStart = this.io.now()
    this.timer = setInterval(() => this.report(), this.intervalMs)
    this.timer.unref()
  }

  consume(batch: Batch): void {
    if (this.stopped) {
      this.dropped.add(batch.records.length, { component: this.id, reason: 'shutdown' })
      return
    }
    this.received.add(batch.records.length, { component: this.id })
    this.aggregate.lost += batch.lost ?? 0
    const detailed = this.config.verbosity === 'detailed'
    for (const record of batch.records) {
      this.aggregate.add(record)
      if (!detailed) continue
      if (this.recordLines.length < MAX_RECORD_LINES) this.recordLines.push(recordLine(record))
      else this.hiddenRecords++
    }
  }

  /** Prints the pending interval now. */
  async flush(): Promise<void> {
    this.report()
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.started && this.aggregate.total > 0) this.report()
  }

  /** Drop counters that are non-zero, with their increase since the previous report. */
  private drops(): DropEntry[] {
    const entries: DropEntry[] = []
    const seen = new Map<string, number>()
    for (const instrument of this.telemetry.list()) {
      if (instrument.type !== 'counter' || !/\.(dropped|lost)$/.test(instrument.name)) continue
      for (const point of instrument.points()) {
        if (point.value <= 0) continue
        const label = dropLabel(instrument.name, point.attributes)
        seen.set(label, point.value)
        entries.push({ label, total: point.value, delta: point.value - (this.lastDrops.get(label) ?? 0) })
      }
    }
    this.lastDrops = seen
    return entries.sort((a, b) => b.total - a.total || a.label.localeCompare(b.label))
  }

  private report(): void {
    const at = this.io.now()
    const text = renderReport({
      at,
      seconds: (at.getTime() - this.intervalStart.getTime()) / 1000,
      aggregate: this.aggregate,
      drops: this.drops(),
      verbosity: this.config.verbosity,
      top: this.config.top,
      recordLines: this.recordLines,
      hiddenRecords: this.hiddenRecords,
    })
    this.aggregate = new IntervalAggregate()
    this.recordLines = []
    this.hiddenRecords = 0
    this.intervalStart = at
    try {
      this.io.write(text)
      this.writeFailed = false
    } catch (error) {
      if (!this.writeFailed) this.logger.warn(`${this.id}: cannot write the console view: ${(error as Error).message}`)
      this.writeFailed = true
    }
  }
}
