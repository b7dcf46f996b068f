import assert from 'node:assert/strict'
import { FlowAggregation, type RecordMaker } from '../../../src/receivers/netflow/flow-aggregation.ts'
import { IDENTITY_WORDS } from '../../../src/receivers/netflow/flow-identity.ts'

/** Identities whose words come from a small alphabet, so hash chains form. */
function identity(i: number): Uint32Array {
  return Uint32Array.from({ length: IDENTITY_WORDS }, (_, word) => Math.floor(i / 4 ** (word % 8)) % 4)
}

/** Records that say which identity they were made of (in `pid`). */
const byFirstWord: RecordMaker = (identities, at) => ({
  kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing', source: { address: '10.0.0.1', port: 0 },
  destination: { address: '10.0.0.2', port: 80 }, netns: 0, pid: identityNumber(identities, at), comm: '',
  bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0, attributes: {},
})

function identityNumber(identities: Uint32Array, at: number): number {
  let n = 0
  for (let word = 7; word >= 0; word--) n = n * 4 + identities[at + word]!
  return n
}

describe('netflow FlowAggregation', () => {
  it('makes one record per identity, in order of first entry, many identities sharing hash chains, across growth', () => {
    const aggregation = new FlowAggregation()
    const order = Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 30_000)
    for (const round of [0, 1]) {
      for (const i of [...order, ...order]) aggregation.add(identity(i), 0, 1, 2, 3, true, i % 2 === 0, 0, 0)
      const records = aggregation.take(byFirstWord)
      assert.deepEqual(records.map((r) => r.pid), order, `round ${round}`)
      for (const record of records) {
        assert.deepEqual(
          [record.bytesSent, record.bytesReceived, record.retransmits, record.established, record.closed],
          [2, 4, 6, 2, record.pid % 2 === 0 ? 2 : 0],
        )
      }
      assert.equal(aggregation.size, 0, 'empty again for the next harvest')
    }
  })

  it('tells apart identities that differ in one word only, read at any offset', () => {
    const aggregation = new FlowAggregation()
    const base = identity(7)
    for (let word = 0; word < IDENTITY_WORDS; word++) {
      const variant = new Uint32Array(IDENTITY_WORDS + 3)
      variant.set(base, 3)
      variant[3 + word]! ^= 0x8000_0000
      aggregation.add(variant, 3, 1, 0, 0, false, false, 0, 0)
    }
    aggregation.add(base, 0, 1, 0, 0, false, false, 0, 0)
    assert.equal(aggregation.take(byFirstWord).length, IDENTITY_WORDS + 1)
  })

  it('averages RTT over the entries that have one', () => {
    const aggregation = new FlowAggregation()
    aggregation.add(identity(1), 0, 0, 0, 0, false, false, 100, 10)
    aggregation.add(identity(1), 0, 0, 0, 0, false, false, 0, 0)
    aggregation.add(identity(1), 0, 0, 0, 0, false, false, 300, 30)
    aggregation.add(identity(2), 0, 0, 0, 0, false, false, 0, 0)
    const [sampled, unsampled] = aggregation.take(byFirstWord)
    assert.deepEqual([sampled!.rttUs, sampled!.rttVarUs], [200, 20])
    assert.equal('rttUs' in unsampled!, false, 'no RTT without a sample')
  })
})
