// Domain rules: parsing, precedence (longest domain, then exact > *.domain > domain subtree), labels, and the
// processor's keep / drop / label on records, table-driven.
import assert from 'node:assert/strict'
import { domainRulesProcessorFactory } from '../../../src/processors/domainrules/factory.ts'
import type { DomainRulesConfig } from '../../../src/processors/domainrules/config.ts'
import { DomainRulesProcessor } from '../../../src/processors/domainrules/processor.ts'
import { parseRule } from '../../../src/processors/domainrules/rules.ts'
import { DomainTrie } from '../../../src/processors/domainrules/trie.ts'
import { pipelineConsumer } from '../../../src/pipeline/consumers.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { standardCounters } from '../../../src/telemetry/self.ts'
import type { AnyRecord } from '../../../src/records.ts'
import { CollectingConsumer, configOf, testSettings } from '../../helpers/components.ts'
import { answer, dnsQuery, flow } from '../records.ts'

function trieOf(rules: string[]): DomainTrie {
  const trie = new DomainTrie()
  rules.forEach((text, index) => trie.add(parseRule(text, index)))
  return trie
}

const RULES = [
  'deny example.com',
  'allow *.example.com',
  'deny ads.example.com',
  'allow api.example.com',
  'deny *.api.example.com',
  'allow sub.example.com',
  'deny *.sub.example.com',
  'allow ok.sub.example.com',
  'allow *.pypi.org',
  'deny *.cdn.test',
  'allow cdn.test',
  'allow deep.a.cdn.test',
]

/** [name, decision]: undefined when no allow/deny rule matches. */
const PRECEDENCE: Array<[string, string | undefined, string]> = [
  ['example.com', 'deny', 'exact bare domain'],
  ['www.example.com', 'allow', '*.example.com beats the example.com subtree'],
  ['a.b.example.com', 'allow', 'wildcards match any depth'],
  ['ads.example.com', 'deny', 'exact beats the wildcard above it'],
  ['x.ads.example.com', 'deny', 'ads.example.com subtree is longer than *.example.com'],
  ['api.example.com', 'allow', 'exact beats *.example.com'],
  ['v1.api.example.com', 'deny', '*.api.example.com'],
  ['sub.example.com', 'allow', 'exact'],
  ['x.sub.example.com', 'deny', '*.sub.example.com beats the sub.example.com subtree'],
  ['ok.sub.example.com', 'allow', 'exact beats *.sub.example.com'],
  ['y.ok.sub.example.com', 'allow', 'ok.sub.example.com subtree is the longest domain'],
  ['pypi.org', undefined, '*.pypi.org does not match pypi.org itself'],
  ['files.pypi.org', 'allow', '*.pypi.org'],
  ['cdn.test', 'allow', 'exact'],
  ['a.cdn.test', 'deny', '*.cdn.test'],
  ['deep.a.cdn.test', 'allow', 'exact, below a denied wildcard'],
  ['x.deep.a.cdn.test', 'allow', 'subtree of the longest domain'],
  ['notexample.com', undefined, 'label boundaries, not string suffixes'],
  ['com', undefined, 'a parent of every rule matches none'],
  ['unrelated.org', undefined, 'no rule'],
]

describe('domainrules trie', () => {
  const trie = trieOf(RULES)
  for (const [name, decision, why] of PRECEDENCE) {
    it(`${name} → ${decision ?? 'no decision'} (${why})`, () => assert.equal(trie.match(name).decision, decision))
  }

  it('applies every matching label rule, the more specific overriding a key', () => {
    const labelled = trieOf([
      'label example.com team=web tier=public',
      'label *.example.com tier=edge',
      'label api.example.com team=payments',
      'deny ads.example.com',
    ])
    assert.deepEqual(labelled.match('example.com').labels, { team: 'web', tier: 'public' })
    assert.deepEqual(labelled.match('www.example.com').labels, { team: 'web', tier: 'edge' })
    assert.deepEqual(labelled.match('api.example.com').labels, { team: 'payments', tier: 'edge' })
    assert.deepEqual(labelled.match('v2.api.example.com').labels, { team: 'payments', tier: 'edge' })
    assert.deepEqual(labelled.match('ads.example.com'), { decision: 'deny', labels: { team: 'web', tier: 'edge' } })
    assert.deepEqual(labelled.match('other.org'), { decision: undefined, labels: undefined })
  })

  const BAD: Array<[string[], RegExp]> = [
    [['block example.com'], /rules\[0\]: .* must start with allow, deny or label/],
    [['allow'], /rules\[0\]: .* names no domain/],
    [['allow ex*ample.com'], /rules\[0\]: "ex\*ample.com" is not a domain name/],
    [['allow *.*.example.com'], /not a domain name/],
    [['allow a..b'], /not a domain name/],
    [['deny example.com extra'], /deny takes only a domain/],
    [['label example.com'], /needs at least one key=value/],
    [['label example.com team'], /"team" is not key=value/],
    [['label example.com a=1 a=2'], /key "a" given twice/],
    [['allow example.com', 'deny example.com'], /rules\[1\]: this domain already has a rule \(rules\[0\]: allow\)/],
    [['label x.com a=1', 'label x.com a=2'], /rules\[1\]: label "a" already set/],
  ]
  for (const [rules, message] of BAD) {
    it(`rejects ${JSON.stringify(rules)}`, () => {
      assert.throws(() => configOf(domainRulesProcessorFactory, { rules }), message)
    })
  }

  it('accepts trailing dots, upper case and *.name next to name', () => {
    const trie2 = trieOf(['allow Example.COM.', 'deny *.example.com'])
    assert.equal(trie2.match('example.com').decision, 'allow')
    assert.equal(trie2.match('www.example.com').decision, 'deny')
  })
})

describe('domainrules processor', () => {
  function create(section: Partial<DomainRulesConfig>): DomainRulesProcessor {
    return domainRulesProcessorFactory.create(testSettings('domainrules'), configOf(domainRulesProcessorFactory, section)) as DomainRulesProcessor
  }
  const named = (domain: string) => flow('10.0.0.1', '198.51.100.1', { attributes: { 'destination.domain': domain } })
  const domains = (records: AnyRecord[]) => records.map((r) => r.attributes['destination.domain'] ?? (r.kind === 'dns' ? r.questionName : '-'))

  it('keeps, drops and labels flows by destination.domain; DNS queries by their question', () => {
    const processor = create({ rules: ['deny ads.example.com', 'label api.example.com team=payments', 'deny *.tracker.test'] })
    const records = [
      named('www.example.com'), named('ads.example.com'), named('API.example.com.'), flow('10.0.0.1', '198.51.100.2'),
      dnsQuery('10.0.0.1', '10.0.0.53', 'x.tracker.test'), dnsQuery('10.0.0.1', '10.0.0.53', 'ok.test'),
      answer('10.0.0.1', 'x.tracker.test', [['198.51.100.9', 60]]),
    ]
    const out = processor.process({ records }).records
    assert.deepEqual(domains(out), ['www.example.com', 'API.example.com.', '-', 'ok.test', '-'])
    assert.deepEqual(out[1]!.attributes, { 'destination.domain': 'API.example.com.', team: 'payments' })
    assert.deepEqual(records[2]!.attributes, { 'destination.domain': 'API.example.com.' }, 'input not mutated')
    assert.equal(out[4]!.kind, 'dns.answer', 'answers always pass (they feed rdns)')
  })

  it('default deny keeps only allowed domains; no_domain decides for unnamed records', () => {
    const processor = create({ rules: ['allow *.pypi.org', 'allow pythonhosted.org'], default: 'deny', no_domain: 'drop' })
    const out = processor.process({ records: [named('files.pypi.org'), named('pypi.org'), named('x.pythonhosted.org'),
      named('evil.test'), flow('10.0.0.1', '198.51.100.2')] }).records
    assert.deepEqual(domains(out), ['files.pypi.org', 'x.pythonhosted.org'])
  })

  it('matches another attribute when told to', () => {
    const processor = create({ rules: ['deny bad.test'], attribute: 'source.domain' })
    const bad = flow('198.51.100.1', '10.0.0.1', { attributes: { 'source.domain': 'bad.test' } })
    assert.deepEqual(processor.process({ records: [bad, named('bad.test')] }).records.length, 1)
  })

  it('drops are counted by the pipeline as filtered', () => {
    const telemetry = testSettings('x').telemetry
    const counters = standardCounters(telemetry)
    const out = new CollectingConsumer()
    const pipeline = pipelineConsumer([{ id: 'domainrules', processor: create({ rules: ['deny ads.test'] }) }], [out], counters, createLogger('error'))
    pipeline.consume({ records: [named('ads.test'), named('a.ads.test'), named('ok.test')] })
    assert.equal(out.records.length, 1)
    assert.equal(counters.dropped.value({ component: 'domainrules', reason: 'filtered' }), 2)
  })

  it('returns the batch itself when nothing changes', () => {
    const batch = { records: [named('a.test'), flow('10.0.0.1', '198.51.100.2')] }
    assert.equal(create({ rules: ['deny b.test'] }).process(batch), batch)
  })
})
