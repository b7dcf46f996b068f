// Configuration of the `domainrules` processor (YAML `processors: domainrules:`).
import type { Schema } from 'convict'
import { parseRule } from './rules.ts'
import { DomainTrie } from './trie.ts'

export interface DomainRulesConfig {
  rules: string[]
  attribute: string
  default: 'allow' | 'deny'
  no_domain: 'keep' | 'drop'
}

export const domainRulesSchema: Schema<DomainRulesConfig> = {
  rules: {
    doc:
      'Rules "allow|deny DOMAIN" and "label DOMAIN key=value ...". DOMAIN is "example.com" (itself and every ' +
      'subdomain) or "*.example.com" (subdomains only). The most specific rule decides: longest matching domain, ' +
      'then exact > *.domain > domain subtree. Every matching label rule adds its attributes.',
    format: 'string-list',
    default: [],
  },
  attribute: {
    doc: 'The record attribute holding the domain (set by rdns). DNS query records are matched on their question name.',
    format: String,
    default: 'destination.domain',
  },
  default: {
    doc: 'What happens to a record with a domain no allow/deny rule matches: "allow" keeps it, "deny" drops it.',
    format: ['allow', 'deny'],
    default: 'allow',
  },
  no_domain: {
    doc: 'What happens to a record without a domain (not named by rdns): "keep" or "drop".',
    format: ['keep', 'drop'],
    default: 'keep',
  },
}

export function validateDomainRules(config: DomainRulesConfig): void {
  if (config.attribute.trim() === '') throw new Error('attribute: must name an attribute')
  buildTrie(config.rules)
}

/** The rules as a trie; throws `rules[i]: ...` on a malformed rule or one contradicting an earlier one. */
export function buildTrie(rules: string[]): DomainTrie {
  const trie = new DomainTrie()
  rules.forEach((text, index) => trie.add(parseRule(text, index)))
  return trie
}
