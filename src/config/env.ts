// `${env:VAR}` / `${env:VAR:-default}` and `${file:PATH}` substitution in the string values of a parsed config, `$$`
// for a literal `$` (the Collector's confmap syntax; `file:` reads a secret such as a header value from a mounted
// file, without its trailing newline). It runs on values after YAML parsing, so a variable can never inject structure;
// a value that is exactly one reference takes the variable's YAML type (`map_size: ${env:N}` gives a number).
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'

const REFERENCE = /\$\$|\$\{([^}]*)\}/g
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s
const FILE_REFERENCE = /^file:(.+)$/s

export interface SubstitutionProblem {
  path: string[]
  message: string
}

type Env = Record<string, string | undefined>

/**
 * Returns a copy of `value` with references expanded. Problems are collected and the offending value is left out
 * (undefined), so later checks do not report it a second time.
 */
export function substituteEnv(value: unknown, env: Env, problems: SubstitutionProblem[], path: string[] = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, path)
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, [...path, String(i)]))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const substituted = substituteEnv(item, env, problems, [...path, key])
      if (substituted !== undefined) out[key] = substituted
    }
    return out
  }
  return value
}

function substituteString(text: string, env: Env, problems: SubstitutionProblem[], path: string[]): unknown {
  if (!text.includes('$')) return text
  let failed = false
  let references = 0
  const expanded = text.replace(REFERENCE, (whole: string, body: string | undefined) => {
    if (whole === '$$') return '$'
    references++
    const file = FILE_REFERENCE.exec(body ?? '')
    if (file) {
      try {
        return readFileSync(file[1] as string, 'utf8').replace(/\r?\n$/, '')
      } catch (error) {
        failed = true
        problems.push({ path, message: `cannot read ${file[1]} for \${file:...}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` })
        return whole
      }
    }
    const match = ENV_REFERENCE.exec(body ?? '')
    if (!match) {
      failed = true
      problems.push({ path, message: `unsupported reference "${whole}" (expected \${env:NAME}, \${env:NAME:-default} or \${file:PATH}; write $$ for a literal $)` })
      return whole
    }
    const name = match[1] as string
    const fallback = match[2]
    const found = env[name]
    // Shell `:-` semantics: the default also replaces a variable set to the empty string.
    if (found !== undefined && (found !== '' || fallback === undefined)) return found
    if (fallback !== undefined) return fallback
    failed = true
    problems.push({ path, message: `environment variable ${name} is not set (use \${env:${name}:-default} for a default)` })
    return whole
  })
  if (failed) return undefined
  const single = references === 1 && /^\$\{[^}]*\}$/.test(text)
  return single ? typedScalar(expanded) : expanded
}

/** A whole-value reference keeps YAML's scalar typing for numbers and booleans; anything else stays a string. */
function typedScalar(text: string): unknown {
  try {
    const parsed: unknown = parseYaml(text)
    return typeof parsed === 'number' || typeof parsed === 'boolean' ? parsed : text
  } catch {
    return text
  }
}
