import assert from 'node:assert/strict'
import { ipTypeProcessorFactory } from '../../../src/processors/iptype/factory.ts'
import type { IpTypeConfig } from '../../../src/processors/iptype/config.ts'
import type { Processor } from '../../../src/component/types.ts'
import type { FlowRecord } from '../../../src/records.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { answer, dnsQuery, flow, http } from '../records.ts'

function create(section: Record<string, unknown> = {}): Processor {
  return ipTypeProcessorFactory.create(testSettings('iptype'), configOf(ipTypeProcessorFactory, section))
}

describe('iptype processor', () => {
  it('labels both ends of flows, HTTP exchanges and DNS queries, without touching the records it was given', () => {
    const original = flow('10.0.0.5', '8.8.8.8', { attributes: { 'destination.domain': 'dns.google' } })
    const records = [original, http('fe80::1', 'ff02::fb'), dnsQuery('127.0.0.1', '100.64.0.53', 'a.test')]
    const out = create().process({ records, lost: 2 })
    assert.equal(out.lost, 2)
    assert.deepEqual(out.records.map((r) => r.attributes), [
      { 'destination.domain': 'dns.google', 'source.ip_type': 'private', 'destination.ip_type': 'other' },
      { 'source.ip_type': 'link_local', 'destination.ip_type': 'multicast' },
      { 'source.ip_type': 'loopback', 'destination.ip_type': 'cgnat' },
    ])
    assert.deepEqual(original.attributes, { 'destination.domain': 'dns.google' }, 'the input record is unchanged')
    assert.equal((out.records[0] as FlowRecord).bytesSent, original.bytesSent)
  })

  it('uses Datakit\'s values in datakit mode', () => {
    const out = create({ mode: 'datakit' }).process({ records: [flow('192.168.1.2', '239.1.1.1'), flow('::1', '2001:db8::1')] })
    assert.deepEqual(out.records.map((r) => [r.attributes['source.ip_type'], r.attributes['destination.ip_type']]), [
      ['private', 'multicast'],
      ['private', 'other'],
    ])
  })

  it('answers the same for an address met again, in one batch or the next, and past the memo of 65,536 addresses', () => {
    const processor = create()
    const expected = [['private', 'other'], ['loopback', 'private']]
    const pairs = [['10.0.0.5', '8.8.8.8'], ['127.0.0.1', '192.168.1.1']] as const
    for (let round = 0; round < 2; round++) {
      const out = processor.process({ records: pairs.map(([s, d]) => flow(s, d)) })
      assert.deepEqual(out.records.map((r) => [r.attributes['source.ip_type'], r.attributes['destination.ip_type']]), expected)
      // Many other addresses in between: the memo starts over, and the answers stay.
      const others = Array.from({ length: 40_000 }, (_, i) => flow(`10.${i >> 8}.${i & 255}.1`, `100.64.${i >> 8}.${i & 255}`))
      assert.ok(processor.process({ records: others }).records.every((r) => r.attributes['destination.ip_type'] === 'cgnat'))
    }
    assert.ok(processor.process({ records: [flow('not-an-ip', 'also-not'), flow('not-an-ip', 'also-not')] }).records
      .every((r) => r.attributes['source.ip_type'] === undefined))
  })

  it('passes DNS answers and unparsable addresses through as they are', () => {
    const batch = { records: [answer('10.0.0.1', 'a.test', [['1.2.3.4', 60]]), flow('not-an-ip', 'also-not')] }
    assert.equal(create().process(batch), batch)
  })

  it('rejects an unknown mode with its key', () => {
    assert.throws(() => configOf(ipTypeProcessorFactory, { mode: 'fancy' }), /processors::iptype::mode/)
  })
})
