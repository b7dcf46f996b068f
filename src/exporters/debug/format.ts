// Small text helpers for the console view: human-readable numbers and aligned, width-capped tables.

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → `1.5 KB` (binary multiples, as `ls -h` and `ss` print them). */
export function humanBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${BYTE_UNITS[unit]}`
}

/** Seconds → milliseconds with precision that suits the magnitude: `0.25`, `12.3`, `1500`. */
export function millis(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-'
  const ms = seconds * 1000
  if (ms < 10) return ms.toFixed(2)
  if (ms < 100) return ms.toFixed(1)
  return ms.toFixed(0)
}

/** `10.0.0.1`, `10.0.0.2:443`, `[::1]:53`; a collapsed port (0) prints the address alone. */
export function hostPort(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address
  return port === 0 ? (address.includes(':') ? address : host) : `${host}:${port}`
}

export interface Column {
  header: string
  align?: 'left' | 'right'
  /** Longer cells are cut with `…`. */
  max?: number
}

function fit(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text
  return text.slice(0, Math.max(0, max - 1)) + '…'
}

/** Renders rows under a header line, columns separated by two spaces, trailing spaces trimmed. */
export function table(columns: Column[], rows: string[][]): string[] {
  const cells = rows.map((row) => columns.map((c, i) => fit(row[i] ?? '', c.max)))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] as string).length)))
  const line = (row: string[]) =>
    row
      .map((cell, i) => {
        const width = widths[i] as number
        return columns[i]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width)
      })
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.header)), ...cells.map(line)]
}
