// Domain rules in a trie of reversed labels (com → example → api), so a lookup costs one step per label of the
// name, however many rules there are. Precedence, most specific first: the rule whose domain is the longest
// suffix of the name wins; for the same domain an exact match beats `*.domain`, which beats the bare domain's
// subtree. Label rules all apply, from the least to the most specific (which overrides a key set by a broader one).
import type { Attributes } from '../../records.ts'
import type { Decision, DomainRule } from './rules.ts'

interface Slot {
  decision?: Decision
  decidedBy?: number
  labels?: Attributes
}

interface TrieNode {
  children: Map<string, TrieNode>
  /** The bare domain ending here: exact for the name itself, subtree for names below. */
  bare?: Slot
  /** `*.domain` ending here: names strictly below. */
  wildcard?: Slot
}

export interface Verdict {
  decision: Decision | undefined
  /** Merged attributes of every matching label rule; undefined when none matched. */
  labels: Attributes | undefined
}

function newNode(): TrieNode {
  return { children: new Map() }
}

export class DomainTrie {
  private readonly root = newNode()
  private count = 0

  get size(): number {
    return this.count
  }

  /** Throws `rules[i]: ...` when the rule contradicts or repeats an earlier one for the same pattern. */
  add(rule: DomainRule): void {
    let node = this.root
    for (let i = rule.labels.length - 1; i >= 0; i--) {
      const label = rule.labels[i] as string
      let child = node.children.get(label)
      if (!child) {
        child = newNode()
        node.children.set(label, child)
      }
      node = child
    }
    const slot = rule.wildcard ? (node.wildcard ??= {}) : (node.bare ??= {})
    if (rule.action === 'label') {
      for (const [key, value] of Object.entries(rule.attributes)) {
        if (slot.labels && key in slot.labels) throw new Error(`rules[${rule.index}]: label "${key}" already set for this domain`)
        ;(slot.labels ??= {})[key] = value
      }
    } else {
      if (slot.decision !== undefined) {
        throw new Error(`rules[${rule.index}]: this domain already has a rule (rules[${slot.decidedBy}]: ${slot.decision})`)
      }
      slot.decision = rule.action
      slot.decidedBy = rule.index
    }
    this.count++
  }

  /** Walks the name's labels from the right; `name` is lower case without a trailing dot. */
  match(name: string): Verdict {
    let decision: Decision | undefined
    let labels: Attributes | undefined
    const apply = (slot: Slot | undefined) => {
      if (!slot) return
      if (slot.decision !== undefined) decision = slot.decision
      if (slot.labels) labels = labels ? { ...labels, ...slot.labels } : slot.labels
    }
    let node = this.root
    let end = name.length
    while (end > 0) {
      const dot = name.lastIndexOf('.', end - 1)
      const child = node.children.get(name.slice(dot + 1, end))
      if (!child) break
      node = child
      if (dot < 0) {
        apply(node.bare) // exact: the most specific of all
        break
      }
      apply(node.bare) // subtree, then wildcard: the wildcard is more specific for the same domain
      apply(node.wildcard)
      end = dot
    }
    return { decision, labels }
  }
}
