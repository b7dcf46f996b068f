import assert from 'node:assert/strict'
import { IDENTITY_WORDS } from '../../../src/receivers/netflow/flow-identity.ts'
import { FlowTable, type RecordMaker } from '../../../src/receivers/netflow/flow-table.ts'

/** Identities whose words come from a small alphabet, so hash chains form. */
function identity(i: number): Uint32Array {
  return Uint32Array.from({ length: IDENTITY_WORDS }, (_, word) => Math.floor(i / 4 ** (word % 8)) % 4)
}

/** Records that say which identity they were made of (in `pid`). */
const maker: RecordMaker = (identities, at) => ({
  kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing', source: { address: '10.0.0.1', port: 0 },
  destination: { address: '10.0.0.2', port: 80 }, netns: 0, pid: identityNumber(identities, at), comm: '',
  bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0, attributes: {},
})

function identityNumber(identities: Uint32Array, at: number): number {
  let n = 0
  for (let word = 7; word >= 0; word--) n = n * 4 + identities[at + word]!
  return n
}

describe('netflow FlowTable', () => {
  it('makes one record per identity, in order of first entry, many identities sharing hash chains, across growth', () => {
    const flows = new FlowTable()
    const order = Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 30_000)
    for (const round of [0, 1]) {
      flows.begin()
      for (const i of [...order, ...order]) flows.addPending(identity(i), 0, -1, 1, 2, 3, true, i % 2 === 0, 0, 0)
      flows.resolve(() => assert.fail('no row wants its flow'))
      const records = flows.take(maker)
      assert.deepEqual(records.map((r) => r.pid), order, `round ${round}`)
      for (const record of records) {
        assert.deepEqual(
          [record.bytesSent, record.bytesReceived, record.retransmits, record.established, record.closed],
          [2, 4, 6, 2, record.pid % 2 === 0 ? 2 : 0],
        )
      }
      flows.sweep()
      assert.equal(flows.size, 0, 'no entry holds them: forgotten')
    }
  })

  it('adds to a known flow by slot, in later harvests', () => {
    const flows = new FlowTable()
    flows.begin()
    const assigned: Array<[number, number]> = []
    flows.addPending(identity(5), 0, 17, 10, 0, 0, true, false, 0, 0)
    flows.addPending(identity(6), 0, 18, 1, 0, 0, false, false, 0, 0)
    flows.addPending(identity(5), 0, 19, 5, 0, 0, false, false, 0, 0)
    flows.resolve((row, flow) => assigned.push([row, flow]))
    assert.equal(assigned[0]![1], assigned[2]![1], 'one flow for one identity')
    assert.notEqual(assigned[0]![1], assigned[1]![1])
    const first = flows.take(maker)
    assert.deepEqual(first.map((r) => [r.pid, r.bytesSent, r.established]), [[5, 15, 1], [6, 1, 0]])
    for (const [, flow] of assigned) flows.retain(flow)
    flows.sweep()

    flows.begin()
    flows.add(assigned[1]![1], 7, 0, 0, false, true, 0, 0)
    flows.add(assigned[0]![1], 3, 0, 0, false, false, 0, 0)
    const second = flows.take(maker)
    assert.deepEqual(second.map((r) => [r.pid, r.bytesSent, r.closed]), [[6, 7, 1], [5, 3, 0]], 'in order of first addition')
    assert.notEqual(second[1], first[0], 'each harvest has records of its own')
  })

  it('forgets the flows no entry holds, and reuses their slots and index places', () => {
    const flows = new FlowTable()
    let held: number[] = []
    for (let harvest = 0; harvest < 40; harvest++) {
      flows.begin()
      const flowsOfRows: number[] = []
      // 2000 identities per harvest, half of them new: the old half is let go.
      for (let i = 0; i < 2000; i++) flows.addPending(identity(harvest * 1000 + i), 0, i, 1, 0, 0, false, false, 0, 0)
      flows.resolve((row, flow) => {
        flowsOfRows[row] = flow
      })
      const records = flows.take(maker)
      assert.deepEqual(records.map((r) => r.pid), Array.from({ length: 2000 }, (_, i) => harvest * 1000 + i))
      held = flowsOfRows.slice(1000)
      for (const flow of held) flows.retain(flow)
      flows.sweep()
      assert.equal(flows.size, 1000)
    }
    assert.ok(Math.max(...held) < 4000, 'slots are reused')
  })

  it('starts over on clear(): a new epoch, no flow known', () => {
    const flows = new FlowTable()
    flows.begin()
    flows.addPending(identity(1), 0, 0, 1, 0, 0, false, false, 0, 0)
    flows.resolve(() => {})
    flows.take(maker)
    const epoch = flows.epoch
    flows.clear()
    assert.equal(flows.epoch, epoch + 1)
    assert.equal(flows.size, 0)
    flows.begin()
    flows.addPending(identity(1), 0, 0, 1, 0, 0, false, false, 0, 0)
    flows.resolve(() => {})
    assert.equal(flows.take(maker).length, 1)
    assert.equal(flows.size, 1, 'the identity is a flow again')
  })

  it('averages RTT over the entries that have one', () => {
    const flows = new FlowTable()
    flows.begin()
    flows.addPending(identity(1), 0, -1, 0, 0, 0, false, false, 100, 10)
    flows.addPending(identity(1), 0, -1, 0, 0, 0, false, false, 0, 0)
    flows.addPending(identity(1), 0, -1, 0, 0, 0, false, false, 300, 30)
    flows.addPending(identity(2), 0, -1, 0, 0, 0, false, false, 0, 0)
    flows.resolve(() => {})
    const [sampled, unsampled] = flows.take(maker)
    assert.deepEqual([sampled!.rttUs, sampled!.rttVarUs], [200, 20])
    assert.equal('rttUs' in unsampled!, false, 'no RTT without a sample')
  })

  it('tells apart identities that differ in one word only, read at any offset', () => {
    const flows = new FlowTable()
    flows.begin()
    const base = identity(7)
    for (let word = 0; word < IDENTITY_WORDS; word++) {
      const variant = new Uint32Array(IDENTITY_WORDS + 3)
      variant.set(base, 3)
      variant[3 + word]! ^= 0x8000_0000
      flows.addPending(variant, 3, -1, 1, 0, 0, false, false, 0, 0)
    }
    flows.addPending(base, 0, -1, 1, 0, 0, false, false, 0, 0)
    flows.resolve(() => {})
    assert.equal(flows.take(maker).length, IDENTITY_WORDS + 1)
  })
})
