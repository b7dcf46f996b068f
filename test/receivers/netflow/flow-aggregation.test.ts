import assert from 'node:assert/strict'
import { FlowAggregation } from '../../../src/receivers/netflow/flow-aggregation.ts'
import { IDENTITY_WORDS } from '../../../src/receivers/netflow/flow-identity.ts'
import type { FlowRecord } from '../../../src/records.ts'

/** Identities whose words come from a small alphabet, so hash chains form. */
function identity(i: number): Uint32Array {
  return Uint32Array.from({ length: IDENTITY_WORDS }, (_, word) => Math.floor(i / 4 ** (word % 8)) % 4)
}

function record(): FlowRecord {
  return {
    kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing', source: { address: '10.0.0.1', port: 0 },
    destination: { address: '10.0.0.2', port: 80 }, netns: 1, pid: 1, comm: 'p', bytesSent: 0, bytesReceived: 0,
    established: 0, closed: 0, retransmits: 0, attributes: {},
  }
}

describe('netflow FlowAggregation', () => {
  it('keeps one record per identity, many identities sharing hash chains, across growth', () => {
    const aggregation = new FlowAggregation()
    const records = Array.from({ length: 60_000 }, record)
    for (let i = 0; i < 60_000; i++) {
      assert.equal(aggregation.find(identity(i), 0), -1)
      assert.equal(aggregation.add(identity(i), 0, records[i]!), i)
    }
    for (let i = 0; i < 60_000; i++) assert.equal(aggregation.record(aggregation.find(identity(i), 0)), records[i])
    assert.equal(aggregation.take().length, 60_000)
  })

  it('tells apart identities that differ in one word only, read at any offset', () => {
    const aggregation = new FlowAggregation()
    const base = identity(7)
    aggregation.add(base, 0, record())
    for (let word = 0; word < IDENTITY_WORDS; word++) {
      const variant = new Uint32Array(IDENTITY_WORDS + 3)
      variant.set(base, 3)
      variant[3 + word]! ^= 0x8000_0000
      assert.equal(aggregation.find(variant, 3), -1, `word ${word}`)
      variant[3 + word]! ^= 0x8000_0000
      assert.equal(aggregation.find(variant, 3), 0)
    }
  })

  it('starts empty after take(), for the next harvest', () => {
    const aggregation = new FlowAggregation()
    aggregation.add(identity(1), 0, record())
    const first = aggregation.take()
    assert.equal(first.length, 1)
    assert.equal(aggregation.find(identity(1), 0), -1)
    assert.equal(aggregation.take().length, 0)
    assert.equal(first.length, 1, 'the records handed out stay as they were')
  })

  it('averages RTT over the sockets folded into a record, counting afresh each harvest', () => {
    const aggregation = new FlowAggregation()
    for (const harvest of [0, 1]) {
      const index = aggregation.add(identity(1), 0, record())
      aggregation.addRtt(index, 100, 10)
      aggregation.addRtt(index, 300, 30)
      const [taken] = aggregation.take()
      assert.equal(taken!.rttUs, 200, `harvest ${harvest}`)
      assert.equal(taken!.rttVarUs, 20)
    }
  })
})
