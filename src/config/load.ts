// Loads a Collector-style YAML file into a validated AgentConfig, or throws a ConfigError listing every problem.
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import type { ComponentKind, Factory } from '../component/types.ts'
import { substituteEnv } from './env.ts'
import { ConfigError, Problems } from './errors.ts'
import { describe, isMap, validateSection } from './section.ts'
import { validatePipelines, validateTelemetry } from './service.ts'
import { SECTION, type AgentConfig, type ComponentConfig, type TelemetryConfig } from './types.ts'

export interface LoadOptions {
  /** The factories that may be named; normally `factories` from src/components.ts. */
  factories: readonly Factory[]
  env?: Record<string, string | undefined>
}

const TOP_LEVEL = ['receivers', 'processors', 'exporters', 'service'] as const
const SERVICE_KEYS = ['pipelines', 'telemetry']
const ID = /^([a-z][a-z0-9_]*)(?:\/([A-Za-z0-9_.-]+))?$/
const KINDS: ComponentKind[] = ['receiver', 'processor', 'exporter']

export function loadConfigFile(file: string, options: LoadOptions): AgentConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(file, [`${file}: cannot read: ${(error as Error).message}`])
  }
  return parseConfig(text, file, options)
}

export function parseConfig(text: string, source: string, options: LoadOptions): AgentConfig {
  const problems = new Problems(source)
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  // After the first syntax error the parser's view of the structure is unreliable: later errors are echoes of it.
  const syntax = doc.errors[0]
  if (syntax) {
    const message = (syntax.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '')
    const at = syntax.linePos?.[0]
    if (at) problems.addAt(at.line, at.col, message)
    else problems.add([], message)
    problems.throwIfAny()
  }

  const parsed: unknown = doc.toJS({ maxAliasCount: 100 })
  if (parsed === null || parsed === undefined || (isMap(parsed) && Object.keys(parsed).length === 0)) {
    problems.add([], 'the configuration is empty (expected receivers, exporters and service::pipelines)')
    problems.throwIfAny()
  }
  if (!isMap(parsed)) {
    problems.add([], `expected a map at the top level, got ${describe(parsed)}`)
    problems.throwIfAny()
  }

  const envProblems: Array<{ path: string[]; message: string }> = []
  const root = substituteEnv(parsed, options.env ?? process.env, envProblems) as Record<string, unknown>
  for (const { path, message } of envProblems) problems.add(path, message)

  for (const key of Object.keys(root)) {
    if (!(TOP_LEVEL as readonly string[]).includes(key)) {
      problems.add([], `unknown key "${key}" (expected ${TOP_LEVEL.join(', ')})`)
    }
  }

  const sections = Object.fromEntries(
    KINDS.map((kind) => [kind, validateComponents(kind, root[SECTION[kind]], options.factories, problems)]),
  ) as Record<ComponentKind, Map<string, ComponentConfig>>

  const service = root.service ?? {}
  let pipelines: AgentConfig['pipelines'] = []
  let telemetry: TelemetryConfig = { logLevel: 'info', healthEndpoint: '' }
  if (!isMap(service)) {
    problems.add(['service'], `expected a map with pipelines and telemetry, got ${describe(service)}`)
  } else {
    for (const key of Object.keys(service)) {
      if (!SERVICE_KEYS.includes(key)) problems.add(['service'], `unknown key "${key}" (expected ${SERVICE_KEYS.join(', ')})`)
    }
    telemetry = validateTelemetry(service.telemetry, problems)
    pipelines = validatePipelines(
      service.pipelines,
      {
        receivers: idsOf(root.receivers),
        processors: idsOf(root.processors),
        exporters: idsOf(root.exporters),
      },
      problems,
    )
  }
  problems.throwIfAny()

  const warnings: string[] = []
  for (const kind of KINDS) {
    for (const id of sections[kind].keys()) {
      const used = pipelines.some((p) => p[SECTION[kind]].includes(id))
      if (!used) warnings.push(`${source}: ${SECTION[kind]}::${id}: defined but used by no pipeline; it will not be started`)
    }
  }

  return {
    source,
    receivers: sections.receiver,
    processors: sections.processor,
    exporters: sections.exporter,
    pipelines,
    telemetry,
    warnings,
  }
}

/** Ids defined in a section, whether or not their own settings are valid (so pipelines are checked independently). */
function idsOf(section: unknown): Set<string> {
  return new Set(isMap(section) ? Object.keys(section) : [])
}

function validateComponents(
  kind: ComponentKind,
  section: unknown,
  factories: readonly Factory[],
  problems: Problems,
): Map<string, ComponentConfig> {
  const name = SECTION[kind]
  const out = new Map<string, ComponentConfig>()
  if (section === undefined || section === null) return out
  if (!isMap(section)) {
    problems.add([name], `expected a map of ${name} by id, got ${describe(section)}`)
    return out
  }
  const ofKind = factories.filter((f) => f.kind === kind)
  const known = ofKind.map((f) => f.type).sort()
  for (const [id, body] of Object.entries(section)) {
    const match = ID.exec(id)
    if (!match) {
      problems.add([name], `invalid id "${id}" (expected "type" or "type/name", e.g. "otlp/backup")`)
      continue
    }
    const type = match[1] as string
    const factory = ofKind.find((f) => f.type === type)
    if (!factory) {
      const list = known.length > 0 ? known.join(', ') : 'none registered'
      problems.add([name], `unknown type "${type}" (known: ${list})`)
      continue
    }
    const path = [name, id]
    const config = validateSection(factory.schema, body, path, problems)
    if (config === undefined) continue
    try {
      factory.validate?.(config)
    } catch (error) {
      problems.add(path, (error as Error).message)
      continue
    }
    out.set(id, { kind, id, type, factory, config })
  }
  return out
}
