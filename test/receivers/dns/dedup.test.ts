import assert from 'node:assert/strict'
import { Deduplicator } from '../../../src/receivers/dns/dedup.ts'

const payload = Buffer.from('same bytes on two interfaces')
/** A flow per name: the same source port, another source address. */
const flowOf = (name: string) => ({ sourceAddress: name, sourcePort: 40000, destinationAddress: '10.0.0.53', destinationPort: 53 })

describe('dns datagram dedup', () => {
  it('treats a copy within the window as a duplicate, and one after it as new', () => {
    const dedup = new Deduplicator({ windowNs: 50n, maxEntries: 16 })
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 1000n), false)
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 1040n), true)
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 1030n), true) // stamped earlier by another CPU
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 1051n), false) // a retransmission, not a copy
  })

  it('keys on flow and payload', () => {
    const dedup = new Deduplicator({ windowNs: 50n, maxEntries: 16 })
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 0n), false)
    assert.equal(dedup.isDuplicate(flowOf('other flow'), payload, 0n), false)
    assert.equal(dedup.isDuplicate(flowOf('flow'), Buffer.from('different bytes'), 0n), false)
  })

  it('keys on addresses and ports, not just the payload hash', () => {
    const dedup = new Deduplicator({ windowNs: 50n, maxEntries: 16 })
    const flow = flowOf('10.0.0.1')
    assert.equal(dedup.isDuplicate(flow, payload, 0n), false)
    assert.equal(dedup.isDuplicate({ ...flow, destinationAddress: '10.0.0.54' }, payload, 0n), false)
    assert.equal(dedup.isDuplicate({ ...flow, sourcePort: 40001 }, payload, 0n), false)
    assert.equal(dedup.isDuplicate({ ...flow }, Buffer.from(payload), 10n), true)
    assert.equal(dedup.size, 3)
  })

  it('stays bounded and expires old entries', () => {
    const dedup = new Deduplicator({ windowNs: 1_000n, maxEntries: 100 })
    for (let i = 0; i < 1000; i++) dedup.isDuplicate(flowOf(`flow ${i}`), payload, 0n)
    assert.equal(dedup.size, 100)
    dedup.isDuplicate(flowOf('late'), payload, 5_000n)
    assert.equal(dedup.size, 1)
  })

  it('counts what a full table forgets before its window passed, and nothing when generations end on time', () => {
    const dedup = new Deduplicator({ windowNs: 1_000n, maxEntries: 100 })
    for (let i = 0; i < 150; i++) dedup.isDuplicate(flowOf(`flow ${i}`), payload, 0n)
    // 50 a generation: the third one began full at 100 entries, dropping the first 50 at time 0.
    assert.equal(dedup.forgottenEarly, 50)
    const onTime = new Deduplicator({ windowNs: 1_000n, maxEntries: 100 })
    for (let i = 0; i < 150; i++) onTime.isDuplicate(flowOf(`flow ${i}`), payload, BigInt(i * 100))
    assert.equal(onTime.forgottenEarly, 0)
  })

  it('keeps an entry set again when its older slot expires (out-of-order stamps)', () => {
    const dedup = new Deduplicator({ windowNs: 50n, maxEntries: 16 })
    const other = Buffer.from('other')
    assert.equal(dedup.isDuplicate(flowOf('flow'), other, 60n), false)
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 40n), false) // stamped earlier by another CPU
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 95n), false) // 55 after: a retransmission, set again
    assert.equal(dedup.isDuplicate(flowOf('other flow'), other, 120n), false) // a new generation begins
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 125n), true) // the copy of 95 is still recognised
    assert.equal(dedup.isDuplicate(flowOf('flow'), payload, 180n), false) // 95's generation is gone: 85 after it
    assert.equal(dedup.size, 2, 'the generation of 120 and 180')
  })
})
