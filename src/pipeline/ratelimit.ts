// Errors on the data path can repeat per batch; log the first, then at most one summary per interval.
import type { Logger } from '../telemetry/logger.ts'

export class RateLimitedLog {
  private readonly logger: Logger
  private readonly intervalMs: number
  private readonly now: () => number
  private lastAt = -Infinity
  private suppressed = 0

  constructor(logger: Logger, intervalMs = 10_000, now: () => number = Date.now) {
    this.logger = logger
    this.intervalMs = intervalMs
    this.now = now
  }

  error(message: string, error: unknown): void {
    const at = this.now()
    if (at - this.lastAt < this.intervalMs) {
      this.suppressed++
      return
    }
    const fields: Record<string, unknown> = { error: error instanceof Error ? error.message : String(error) }
    if (this.suppressed > 0) fields.suppressed = this.suppressed
    this.logger.error(message, fields)
    this.lastAt = at
    this.suppressed = 0
  }
}
