// Parsing of config values at create(): durations and endpoints. Accepts what the shared convict formats
// (src/config/formats.ts) produce, milliseconds as a number, as well as the raw YAML strings, so a factory
// also works with a config built without those formats (tests, other loaders).

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `'10s'`, `'500ms'`, `'1m'`, `'1.5s'` or a number of milliseconds → milliseconds. */
export function parseDuration(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value)
    if (match) {
      const ms = Number(match[1]) * (UNITS_MS[match[2] as string] as number)
      if (ms > 0) return ms
    }
  }
  throw new Error(`${key}: expected a positive duration such as "10s" or "500ms", got ${JSON.stringify(value)}`)
}

export interface HostPort {
  host: string
  port: number
}

/** `host:port`, `[v6]:port`; an optional `http://` / `https://` scheme is tolerated and stripped. */
export function parseEndpoint(value: unknown, key: string): HostPort {
  if (typeof value === 'string') {
    const text = value.trim().replace(/^https?:\/\//, '').replace(/\/$/, '')
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]/]+):(\d{1,5})$/.exec(text)
    const port = Number(match?.[2])
    if (match && port > 0 && port < 65536) return { host: match[1] as string, port }
  }
  throw new Error(`${key}: expected host:port, got ${JSON.stringify(value)}`)
}
