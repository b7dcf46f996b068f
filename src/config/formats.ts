// The convict formats every component schema may name, registered in this one place (convict keeps formats in a
// module-global table, so importing this file once is enough). A format's coerce() turns the YAML string into its
// runtime value; validate() then sees that value, so a string reaching validate() is one coerce() could not read.
import convict from 'convict'

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/

/** '10s', '500ms', '1m', '1h', '1.5s' → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim())
  if (!match) return undefined
  const unit = DURATION_UNITS[match[2] as string] as number
  return Math.round(Number(match[1]) * unit)
}

export interface HostPort {
  host: string
  port: number
}

/** 'host:port', '[::1]:4317', ':4317' (any address) → parts; undefined when malformed. */
export function parseEndpoint(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]*)):(\d{1,5})$/.exec(text.trim())
  if (!match) return undefined
  const port = Number(match[3])
  if (port > 65535) return undefined
  return { host: match[1] ?? match[2] ?? '', port }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 }

/** '32MiB', '4KiB', '1000' → bytes; undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)\s*([KMG]i?B|B)?$/i.exec(text.trim())
  if (!match) return undefined
  const unit = SIZE_UNITS[(match[2] ?? '').toLowerCase()]
  return unit === undefined ? undefined : Number(match[1]) * unit
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535
}

function fail(expected: string): never {
  throw new Error(`must be ${expected}`)
}

let registered = false

/** Registers the formats; idempotent. Schemas that name them must be passed to convict after this ran. */
export function registerFormats(): void {
  if (registered) return
  registered = true

  convict.addFormat({
    name: 'duration',
    coerce: (text: string) => parseDuration(text) ?? text,
    validate(value: unknown) {
      // A bare YAML number is taken as milliseconds; a string here is one that did not parse.
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        fail('a duration such as "500ms", "10s", "1m" or "1h"')
      }
    },
  })

  convict.addFormat({
    name: 'endpoint',
    validate(value: unknown) {
      if (typeof value !== 'string' || !parseEndpoint(value)) {
        fail('an endpoint "host:port" (IPv6 in brackets, e.g. "[::1]:4317")')
      }
    },
  })

  convict.addFormat({
    name: 'optional-endpoint',
    validate(value: unknown) {
      if (typeof value !== 'string' || (value !== '' && !parseEndpoint(value))) {
        fail('an endpoint "host:port" (IPv6 in brackets), or "" to disable')
      }
    },
  })

  convict.addFormat({
    name: 'port-list',
    coerce: (text: string) => text.split(',').map((part) => Number(part.trim())),
    validate(value: unknown) {
      if (!Array.isArray(value) || !value.every(isPort)) fail('a list of ports (integers 1..65535)')
    },
  })

  convict.addFormat({
    name: 'positive-int',
    validate(value: unknown) {
      if (!Number.isSafeInteger(value) || (value as number) < 1) fail('a positive integer')
    },
  })

  convict.addFormat({
    name: 'power-of-two',
    validate(value: unknown) {
      const n = value as number
      if (!Number.isSafeInteger(n) || n < 1 || (n & (n - 1)) !== 0) fail('a power of two')
    },
  })

  convict.addFormat({
    name: 'byte-size',
    coerce: (text: string) => parseByteSize(text) ?? text,
    validate(value: unknown) {
      if (!Number.isSafeInteger(value) || (value as number) < 0) fail('a size such as "4096", "64KiB" or "32MiB"')
    },
  })

  convict.addFormat({
    name: 'string-list',
    validate(value: unknown) {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) fail('a list of strings')
    },
  })

  convict.addFormat({
    name: 'string-map',
    validate(value: unknown) {
      const isMap = typeof value === 'object' && value !== null && !Array.isArray(value)
      if (!isMap || !Object.values(value).every((item) => typeof item === 'string')) {
        fail('a map of string keys to string values')
      }
    },
  })
}

registerFormats()
