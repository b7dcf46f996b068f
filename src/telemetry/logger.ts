// Line-oriented logs on stderr: `2026-11-23T10:00:00.000Z info [dns] message key=value`.
// stdout stays free for the debug exporter's tables.
import { standardError } from './output.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger whose lines carry `[component]`. */
  child(component: string): Logger
}

export type LogSink = (line: string) => void

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message)
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return /[\s"=]/.test(text ?? '') ? JSON.stringify(text) : String(text)
}

/** With stderr gone there is nowhere to say so: lines are dropped. */
function writeToStderr(line: string): void {
  try {
    standardError().write(line + '\n')
  } catch {
    // closed
  }
}

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = writeToStderr,
  component?: string,
): Logger {
  const emit = (at: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[at] < ORDER[level]) return
    const scope = component ? ` [${component}]` : ''
    const tail = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${formatValue(v)}`)
          .join('')
      : ''
    sink(`${new Date().toISOString()} ${at}${scope} ${message}${tail}`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (name) => createLogger(level, sink, component ? `${component}/${name}` : name),
  }
}
