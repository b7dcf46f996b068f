// `debug` exporter configuration: the Collector's `verbosity`, plus the console view's period and table size.
import { parseDuration } from '../sdk/values.ts'
import type { Verbosity } from './render.ts'

export interface DebugConfig {
  verbosity: Verbosity
  interval: string | number
  top: number
}

export const debugSchema = {
  verbosity: {
    doc: 'basic: one summary line per interval; normal: tables of top flows, DNS and HTTP; detailed: tables and every record.',
    default: 'normal',
    format: ['basic', 'normal', 'detailed'],
  },
  interval: { doc: 'How often the view is printed.', default: '10s', format: 'duration' },
  top: {
    doc: 'Rows per table.',
    default: 10,
    format: (value: unknown) => {
      if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) throw new Error('top: expected a positive integer')
    },
  },
}

export function validateDebugConfig(config: DebugConfig): void {
  parseDuration(config.interval, 'interval')
}
