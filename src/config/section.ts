// Validates one YAML section against a convict schema (strict: unknown keys are errors) and turns convict's
// multi-line error text into one problem per key, in the Collector's `a::b::c` key-path notation.
import convict from 'convict'
import type { Schema } from 'convict'
import './formats.ts'
import type { Problems } from './errors.ts'

const UNDECLARED = /^configuration param '(.+)' not declared in the schema$/
const MISSING = /^configuration param '(.+)' missing from config, did you override its parent\?$/
const INVALID = /^([^\s:]+): (.*?)(?:: value was (.*))?$/s

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Returns the section with defaults filled and formats coerced, or undefined when it has problems (added to
 * `problems` under `path`). An absent or empty section (`netflow:` in YAML) means all defaults.
 */
export function validateSection<C>(schema: Schema<C>, section: unknown, path: string[], problems: Problems): C | undefined {
  const given = section ?? {}
  if (!isMap(given)) {
    problems.add(path, `expected a map of settings, got ${describe(given)}`)
    return undefined
  }
  let config: convict.Config<C>
  try {
    config = convict(schema)
    config.load(given as Partial<C>)
  } catch (error) {
    problems.add(path, (error as Error).message)
    return undefined
  }
  try {
    config.validate({ allowed: 'strict', output: () => {} })
  } catch (error) {
    reportConvictErrors((error as Error).message, path, problems)
    return undefined
  }
  return config.getProperties()
}

function reportConvictErrors(text: string, path: string[], problems: Problems): void {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  // A scalar given where the schema has a nested map shows up twice: as an undeclared key and as its missing
  // children. Report it once, as the map it should have been.
  const overridden = new Set<string>()
  for (const line of lines) {
    const missing = MISSING.exec(line)
    if (missing) overridden.add(parentOf(missing[1] as string))
  }
  for (const line of lines) {
    const undeclared = UNDECLARED.exec(line)
    if (undeclared) {
      const name = undeclared[1] as string
      if (overridden.has(name)) continue
      const keys = name.split('.')
      const key = keys.pop() as string
      problems.add([...path, ...keys], `unknown key "${key}"`)
      continue
    }
    if (MISSING.test(line)) continue
    const invalid = INVALID.exec(line)
    if (invalid) {
      const value = invalid[3] === undefined ? '' : ` (got ${invalid[3]})`
      problems.add([...path, ...(invalid[1] as string).split('.')], `${invalid[2]}${value}`)
    } else {
      problems.add(path, line)
    }
  }
  for (const name of overridden) problems.add([...path, ...name.split('.')], 'expected a map of settings')
}

function parentOf(name: string): string {
  const at = name.lastIndexOf('.')
  return at < 0 ? name : name.slice(0, at)
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  return `${typeof value} ${JSON.stringify(value)}`
}
