// Domain rules as written in YAML: `allow *.pypi.org`, `deny ads.example.com`, `label api.example.com team=payments`.
// A bare name matches itself and its whole subtree; `*.name` matches strict subdomains only (any depth).
import type { Attributes } from '../../records.ts'

export type Decision = 'allow' | 'deny'

export interface DomainRule {
  /** Position in the YAML list, for messages. */
  index: number
  action: Decision | 'label'
  /** Labels of the pattern, lower case, without the `*` (e.g. ['sub', 'example', 'com']). */
  labels: string[]
  wildcard: boolean
  /** For `label` rules: the attributes to add. */
  attributes: Attributes
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/** Parses one rule; throws with `rules[i]: ...` on anything malformed. */
export function parseRule(text: string, index: number): DomainRule {
  const at = `rules[${index}]`
  const words = text.trim().split(/\s+/)
  const [action, pattern, ...pairs] = words
  if (action !== 'allow' && action !== 'deny' && action !== 'label') {
    throw new Error(`${at}: "${text}" must start with allow, deny or label`)
  }
  if (!pattern) throw new Error(`${at}: "${text}" names no domain`)
  let name = pattern.toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  const wildcard = name.startsWith('*.')
  if (wildcard) name = name.slice(2)
  const labels = name.split('.')
  if (name === '' || !labels.every((label) => LABEL.test(label))) {
    throw new Error(`${at}: "${pattern}" is not a domain name or *.domain (a wildcard only as the whole first label)`)
  }
  const attributes: Attributes = {}
  if (action === 'label') {
    if (pairs.length === 0) throw new Error(`${at}: "${text}" needs at least one key=value`)
    for (const pair of pairs) {
      const eq = pair.indexOf('=')
      if (eq <= 0 || eq === pair.length - 1) throw new Error(`${at}: "${pair}" is not key=value`)
      const key = pair.slice(0, eq)
      if (key in attributes) throw new Error(`${at}: key "${key}" given twice`)
      attributes[key] = pair.slice(eq + 1)
    }
  } else if (pairs.length > 0) {
    throw new Error(`${at}: "${text}": ${action} takes only a domain`)
  }
  return { index, action, labels, wildcard, attributes }
}
