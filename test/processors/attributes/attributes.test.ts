// The attributes processor: include / exclude / rename of enrichment, collapse of typed fields and attributes,
// the distinct-values guard, config errors with their key, and records never mutated.
import assert from 'node:assert/strict'
import { attributesProcessorFactory } from '../../../src/processors/attributes/factory.ts'
import type { AttributesConfig } from '../../../src/processors/attributes/config.ts'
import type { AttributesProcessor } from '../../../src/processors/attributes/processor.ts'
import type { FlowRecord } from '../../../src/records.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { answer, dnsQuery, flow } from '../records.ts'

function create(section: Record<string, unknown>) {
  const settings = testSettings('attributes')
  const processor = attributesProcessorFactory.create(settings, configOf(attributesProcessorFactory, section))
  return { processor: processor as AttributesProcessor, telemetry: settings.telemetry }
}

const enriched = () => flow('10.0.0.1', '198.51.100.1', {
  source: { address: '10.0.0.1', port: 51234 },
  attributes: { 'destination.domain': 'a.test', 'source.ip_type': 'private', 'destination.ip_type': 'other', team: 'web' },
})

describe('attributes processor', () => {
  it('does nothing, allocating nothing, by default', () => {
    const batch = { records: [enriched()] }
    assert.equal(create({}).processor.process(batch), batch)
  })

  it('keeps only included enrichment, then renames', () => {
    const { processor } = create({ include: ['destination.domain', 'team'], rename: ['destination.domain=server.domain'] })
    const input = enriched()
    const [out] = processor.process({ records: [input] }).records
    assert.deepEqual(out!.attributes, { 'server.domain': 'a.test', team: 'web' })
    assert.equal(input.attributes['destination.domain'], 'a.test', 'input not mutated')
  })

  it('excludes enrichment', () => {
    const [out] = create({ exclude: ['source.ip_type', 'destination.ip_type', 'absent'] }).processor.process({ records: [enriched()] }).records
    assert.deepEqual(out!.attributes, { 'destination.domain': 'a.test', team: 'web' })
  })

  it('collapses typed ports and addresses of flows, and attribute values', () => {
    const { processor } = create({ collapse: ['source.port=0', 'source.address=client', 'team=any', 'missing=x'] })
    const input = enriched()
    const [out] = processor.process({ records: [input, dnsQuery('10.0.0.1', '10.0.0.53', 'a.test')] }).records as FlowRecord[]
    assert.deepEqual(out!.source, { address: 'client', port: 0 })
    assert.deepEqual(out!.destination, input.destination)
    assert.equal(out!.attributes.team, 'any')
    assert.equal('missing' in out!.attributes, false, 'collapse does not add attributes')
    assert.deepEqual(input.source, { address: '10.0.0.1', port: 51234 }, 'input not mutated')
  })

  it('guards cardinality: the first N distinct values pass, the rest become overflow_value, counted', () => {
    const { processor, telemetry } = create({ max_values: ['destination.domain=3', 'destination.address=2'], overflow_value: 'other' })
    const records = [0, 1, 2, 3, 4, 1, 0].map((i) =>
      flow('10.0.0.1', `198.51.100.${i % 3}`, { attributes: { 'destination.domain': `d${i}.test` } }))
    const out = processor.process({ records }).records as FlowRecord[]
    assert.deepEqual(out.map((r) => r.attributes['destination.domain']), ['d0.test', 'd1.test', 'd2.test', 'other', 'other', 'd1.test', 'd0.test'])
    assert.deepEqual(out.map((r) => r.destination.address),
      ['198.51.100.0', '198.51.100.1', 'other', '198.51.100.0', '198.51.100.1', '198.51.100.1', '198.51.100.0'])
    assert.equal(processor.distinct('destination.domain'), 3)
    const overflowed = telemetry.get('netlens.attributes.overflowed') as SelfCounter
    assert.equal(overflowed.value({ attribute: 'destination.domain' }), 2)
    assert.equal(overflowed.value({ attribute: 'destination.address' }), 1)
  })

  it('passes records without the attributes untouched', () => {
    const batch = { records: [answer('10.0.0.1', 'a.test', [['198.51.100.1', 60]])] }
    assert.equal(create({ exclude: ['x'], max_values: ['destination.domain=1'] }).processor.process(batch).records[0], batch.records[0])
  })

  const BAD: Array<[Record<string, unknown>, RegExp]> = [
    [{ rename: ['nodelimiter'] }, /rename\[0\]: "nodelimiter" is not "key=value"/],
    [{ collapse: ['a=1', 'a=2'] }, /collapse\[1\]: "a" is listed twice/],
    [{ collapse: ['destination.port=http'] }, /collapse\[0\]: a port takes a number/],
    [{ collapse: ['source.port=70000'] }, /collapse\[0\]: a port takes a number/],
    [{ max_values: ['destination.domain=0'] }, /max_values\[0\]: "0" is not a positive integer/],
    [{ max_values: ['destination.port=10'] }, /max_values\[0\]: a port cannot take overflow_value/],
    [{ include: 'destination.domain' }, /processors::attributes::include/],
  ]
  for (const [section, message] of BAD) {
    it(`rejects ${JSON.stringify(section)}`, () => assert.throws(() => configOf(attributesProcessorFactory, section), message))
  }
})
