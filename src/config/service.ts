// The `service` section: pipelines (which components are wired together) and the agent's own telemetry.
import type { Schema } from 'convict'
import type { LogLevel } from '../telemetry/logger.ts'
import type { Problems } from './errors.ts'
import { describe, isMap, validateSection } from './section.ts'
import { SECTION, type PipelineConfig, type TelemetryConfig } from './types.ts'

interface TelemetrySection {
  logs: { level: LogLevel }
  health_check: { endpoint: string }
}

export const telemetrySchema: Schema<TelemetrySection> = {
  logs: {
    level: {
      doc: 'Minimum level of the agent log lines on stderr.',
      format: ['debug', 'info', 'warn', 'error'],
      default: 'info',
    },
  },
  health_check: {
    endpoint: {
      doc: 'Where GET / answers 200 while the agent runs (Collector health_check); "" disables, port 0 picks a free port.',
      format: 'optional-endpoint',
      default: 'localhost:13133',
    },
  },
}

export function validateTelemetry(section: unknown, problems: Problems): TelemetryConfig {
  const path = ['service', 'telemetry']
  const valid = validateSection<TelemetrySection>(telemetrySchema, section, path, problems)
  return {
    logLevel: valid?.logs.level ?? 'info',
    healthEndpoint: valid?.health_check.endpoint ?? '',
  }
}

const PIPELINE_KEYS = ['receivers', 'processors', 'exporters'] as const
type Defined = Record<(typeof PIPELINE_KEYS)[number], ReadonlySet<string>>

/** Checks each pipeline's lists against the components defined in their sections. */
export function validatePipelines(section: unknown, defined: Defined, problems: Problems): PipelineConfig[] {
  const path = ['service', 'pipelines']
  if (section === undefined || section === null) {
    problems.add(path, 'no pipelines defined (expected at least one, e.g. `netflow: { receivers: [netflow], exporters: [debug] }`)')
    return []
  }
  if (!isMap(section)) {
    problems.add(path, `expected a map of pipelines, got ${describe(section)}`)
    return []
  }
  if (Object.keys(section).length === 0) problems.add(path, 'no pipelines defined (expected at least one)')
  const pipelines: PipelineConfig[] = []
  for (const [name, body] of Object.entries(section)) {
    const here = [...path, name]
    if (!isMap(body)) {
      problems.add(here, `expected a map with receivers, processors and exporters, got ${describe(body)}`)
      continue
    }
    for (const key of Object.keys(body)) {
      if (!(PIPELINE_KEYS as readonly string[]).includes(key)) problems.add(here, `unknown key "${key}" (expected receivers, processors, exporters)`)
    }
    const lists = PIPELINE_KEYS.map((key) => idList(body[key], [...here, key], defined[key], key, problems))
    const [receivers, processors, exporters] = lists as [string[], string[], string[]]
    if (receivers.length === 0 && body.receivers === undefined) problems.add(here, 'must have at least one receiver')
    if (exporters.length === 0 && body.exporters === undefined) problems.add(here, 'must have at least one exporter')
    pipelines.push({ name, receivers, processors, exporters })
  }
  return pipelines
}

function idList(value: unknown, path: string[], defined: ReadonlySet<string>, section: string, problems: Problems): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    problems.add(path, `expected a list of ${section} ids, got ${describe(value)}`)
    return []
  }
  if (value.length === 0 && section !== SECTION.processor) problems.add(path, `must list at least one of the ${section}`)
  const ids: string[] = []
  for (const item of value) {
    if (typeof item !== 'string') {
      problems.add(path, `expected ${section} ids (strings), got ${describe(item)}`)
    } else if (!defined.has(item)) {
      problems.add(path, `"${item}" is not defined in ${section}`)
    } else if (ids.includes(item)) {
      problems.add(path, `"${item}" is listed more than once`)
    } else {
      ids.push(item)
    }
  }
  return ids
}
