// The agent process's own health, as OpenTelemetry's semantic conventions name it: resident memory, CPU time, and
// event-loop delay (how late timers and I/O callbacks run: the figure that says whether batches are too big). The
// delay statistics cover the last window (10 s), so a stall shows in the exports that follow it and then clears.
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks'
import type { SelfCounter, SelfTelemetry } from './self.ts'

const WINDOW_MS = 10_000
/** Resolution of the event-loop delay sampling, ms. */
const RESOLUTION_MS = 10

interface DelayWindow {
  p50: number
  p99: number
  max: number
}

export class ProcessTelemetry {
  private readonly histogram: ELDHistogram
  private readonly cpuTime: SelfCounter
  private timer: NodeJS.Timeout | undefined
  private lastWindow: DelayWindow | undefined
  private lastCpu = process.cpuUsage()

  constructor(telemetry: SelfTelemetry) {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    telemetry.gauge(
      { name: 'process.memory.usage', description: 'Resident memory of the netlens process.', unit: 'By' },
      () => [{ attributes: {}, value: process.memoryUsage.rss() }],
    )
    this.cpuTime = telemetry.counter({ name: 'process.cpu.time', description: 'CPU time of the netlens process, by mode.', unit: 's' })
    for (const [name, pick] of [['p50', (w: DelayWindow) => w.p50], ['p99', (w: DelayWindow) => w.p99], ['max', (w: DelayWindow) => w.max]] as const) {
      telemetry.gauge(
        { name: `nodejs.eventloop.delay.${name}`, description: `Event-loop delay, ${name} over the last ${WINDOW_MS / 1000} s.`, unit: 's' },
        () => (this.lastWindow ? [{ attributes: {}, value: pick(this.lastWindow) }] : []),
      )
    }
  }

  start(): void {
    if (this.timer) return
    this.histogram.enable()
    this.timer = setInterval(() => this.closeWindow(), WINDOW_MS).unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.histogram.disable()
  }

  /** Ends the current window: its delay statistics become the reported ones, CPU time since the last is added. */
  private closeWindow(): void {
    const { histogram } = this
    // The histogram counts in nanoseconds; a window without samples (only at start) is not reported.
    this.lastWindow = histogram.count > 0
      ? { p50: histogram.percentile(50) / 1e9, p99: histogram.percentile(99) / 1e9, max: histogram.max / 1e9 }
      : undefined
    histogram.reset()
    const cpu = process.cpuUsage()
    this.cpuTime.add((cpu.user - this.lastCpu.user) / 1e6, { 'cpu.mode': 'user' })
    this.cpuTime.add((cpu.system - this.lastCpu.system) / 1e6, { 'cpu.mode': 'system' })
    this.lastCpu = cpu
  }
}
