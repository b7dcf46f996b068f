import assert from 'node:assert/strict'
import { OVERFLOW_ATTRIBUTES, SeriesLimit } from '../../../src/exporters/sdk/series-limit.ts'

describe('SeriesLimit', () => {
  it('admits limit - 1 attribute sets, then sends new ones to the overflow series, old ones still through', () => {
    const limit = new SeriesLimit(4, () => true)
    const sets = [1, 2, 3, 4, 5].map((port) => ({ 'destination.port': port }))
    assert.deepEqual(sets.map((s) => limit.admit(s)), [sets[0], sets[1], sets[2], OVERFLOW_ATTRIBUTES, OVERFLOW_ATTRIBUTES])
    assert.deepEqual(limit.admit({ 'destination.port': 2 }), { 'destination.port': 2 })
  })

  it('keys on the attributes the view keeps only', () => {
    const limit = new SeriesLimit(2, (name) => name !== 'source.port')
    const first = { 'destination.port': 443, 'source.port': 1 }
    assert.equal(limit.admit(first), first)
    const samePort = { 'destination.port': 443, 'source.port': 2 }
    assert.equal(limit.admit(samePort), samePort, 'the same series once source.port is dropped by the view')
    assert.equal(limit.admit({ 'destination.port': 80, 'source.port': 1 }), OVERFLOW_ATTRIBUTES)
  })
})
