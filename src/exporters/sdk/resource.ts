// The resource every SDK-based exporter attaches: who produced the metrics. User attributes are a list of
// { key, value } because resource keys contain dots, which convict cannot hold as map keys.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources'

export interface ResourceAttribute {
  key: string
  value: string | number | boolean
}

const VERSION: string = (() => {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')
  return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown')
})()

export const resourceSchema = {
  resource: {
    doc: 'Extra resource attributes as a list of { key, value }, e.g. [{ key: deployment.environment, value: prod }].',
    default: [] as ResourceAttribute[],
    format: (value: unknown) => {
      parseResourceAttributes(value, 'resource')
    },
  },
}

export function parseResourceAttributes(value: unknown, key: string): ResourceAttribute[] {
  if (!Array.isArray(value)) throw new Error(`${key}: expected a list of { key, value }`)
  return value.map((entry: unknown, index) => {
    const item = entry as Partial<ResourceAttribute> | null
    const ok =
      typeof item === 'object' &&
      item !== null &&
      typeof item.key === 'string' &&
      item.key !== '' &&
      ['string', 'number', 'boolean'].includes(typeof item.value)
    if (!ok) throw new Error(`${key}[${index}]: expected { key: <name>, value: <string|number|boolean> }`)
    return { key: item.key as string, value: item.value as ResourceAttribute['value'] }
  })
}

/** service.name, service.version and host.name, overridden by the user's attributes. */
export function netlensResource(extra: ResourceAttribute[]): Resource {
  const attributes: Record<string, string | number | boolean> = {
    'service.name': 'netlens',
    'service.version': VERSION,
    'host.name': hostname(),
  }
  for (const { key, value } of extra) attributes[key] = value
  return resourceFromAttributes(attributes)
}
