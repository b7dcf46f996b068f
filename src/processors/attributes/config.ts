// Configuration of the `attributes` processor (YAML `processors: attributes:`). Pairs are written "key=value" in
// lists, not as YAML maps: attribute names contain dots, which convict would read as nested keys.
import type { Schema } from 'convict'

export interface AttributesConfig {
  include: string[]
  exclude: string[]
  rename: string[]
  collapse: string[]
  max_values: string[]
  overflow_value: string
}

/** Record fields `collapse` and `max_values` may name besides enrichment attributes (flow and HTTP records). */
export const TYPED_KEYS = ['source.address', 'source.port', 'destination.address', 'destination.port'] as const

export const attributesSchema: Schema<AttributesConfig> = {
  include: {
    doc:
      'When not empty, only these enrichment attributes (record.attributes, e.g. destination.domain) are kept. ' +
      'The fields every record has (addresses, ports, ...) are chosen per metric by the exporters\' `metrics` key.',
    format: 'string-list',
    default: [],
  },
  exclude: {
    doc: 'Enrichment attributes to remove.',
    format: 'string-list',
    default: [],
  },
  rename: {
    doc: 'Enrichment attributes to rename, "old=new" (applied after include/exclude).',
    format: 'string-list',
    default: [],
  },
  collapse: {
    doc:
      `Attributes whose value is replaced by a constant, "key=value", e.g. "destination.port=0". Besides enrichment ` +
      `attributes (named after rename), ${TYPED_KEYS.join(', ')} of flow and HTTP records; ports take a number.`,
    format: 'string-list',
    default: [],
  },
  max_values: {
    doc:
      'Cardinality guard, "key=N": at most N distinct values of the attribute (same keys as collapse, ports ' +
      'excepted); values beyond the first N seen become overflow_value, counted in netlens.attributes.overflowed.',
    format: 'string-list',
    default: [],
  },
  overflow_value: {
    doc: 'The value max_values puts in place of values beyond the limit.',
    format: String,
    default: '_other',
  },
}

export interface ParsedAttributesConfig {
  include: Set<string>
  exclude: Set<string>
  rename: Map<string, string>
  collapse: Map<string, string | number>
  maxValues: Map<string, number>
  overflowValue: string
}

function isPortKey(key: string): boolean {
  return key === 'source.port' || key === 'destination.port'
}

function pairs(list: string[], key: string): Array<[string, string]> {
  return list.map((text, index) => {
    const eq = text.indexOf('=')
    if (eq <= 0 || eq === text.length - 1) throw new Error(`${key}[${index}]: "${text}" is not "key=value"`)
    return [text.slice(0, eq).trim(), text.slice(eq + 1).trim()]
  })
}

function unique<V>(entries: Array<[string, V]>, key: string): Map<string, V> {
  const map = new Map<string, V>()
  entries.forEach(([name, value], index) => {
    if (map.has(name)) throw new Error(`${key}[${index}]: "${name}" is listed twice`)
    map.set(name, value)
  })
  return map
}

/** Checks and parses the lists; errors name the entry, e.g. `collapse[1]: a port takes a number 0..65535`. */
export function parseAttributesConfig(config: AttributesConfig): ParsedAttributesConfig {
  const collapse = unique(
    pairs(config.collapse, 'collapse').map(([name, value], index): [string, string | number] => {
      if (!isPortKey(name)) return [name, value]
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`collapse[${index}]: a port takes a number 0..65535`)
      return [name, Number(value)]
    }),
    'collapse',
  )
  const maxValues = unique(
    pairs(config.max_values, 'max_values').map(([name, value], index): [string, number] => {
      if (isPortKey(name)) throw new Error(`max_values[${index}]: a port cannot take overflow_value; collapse it instead`)
      const limit = Number(value)
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(limit) || limit < 1) {
        throw new Error(`max_values[${index}]: "${value}" is not a positive integer`)
      }
      return [name, limit]
    }),
    'max_values',
  )
  return {
    include: new Set(config.include),
    exclude: new Set(config.exclude),
    rename: unique(pairs(config.rename, 'rename'), 'rename'),
    collapse,
    maxValues,
    overflowValue: config.overflow_value,
  }
}

export function validateAttributes(config: AttributesConfig): void {
  parseAttributesConfig(config)
}
