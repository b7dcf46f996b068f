import assert from 'node:assert/strict'
import { SocketOwners } from '../../../src/receivers/netflow/socket-owners.ts'
import { owners as ownerDump } from './dumps.ts'

/** A socket identity as the two words a flow key starts with. */
const words = (identity: bigint) => Uint32Array.of(Number(identity & 0xffff_ffffn), Number(identity >> 32n))

describe('netflow SocketOwners', () => {
  const dump = ownerDump([
    { cookie: 7n, pid: 1, comm: 'nginx' }, { cookie: 2n ** 40n + 1n, pid: 2, comm: 'curl', udpBound: true, netns: 5 },
    { cookie: 9n, pid: 3, comm: 'nginx' },
  ])

  it('finds owners by the words of their socket identity, above 2^32 too, and reads their fields', () => {
    const owners = new SocketOwners()
    owners.load(dump)
    assert.equal(owners.count, 3)
    assert.equal(owners.indexOf(words(2n ** 40n + 1n), 0), 1)
    assert.equal(owners.indexOf(words(1n), 0), -1)
    assert.equal(owners.indexOf(words(2n ** 32n + 7n), 0), -1)
    assert.deepEqual([owners.pid(1), owners.netns(1), owners.udpBound(1), owners.udpBound(0)], [2, 5, true, false])
    assert.equal(owners.commNames[owners.commId(1)], 'curl')
    assert.equal(owners.identity(1), 2 ** 40 + 1)
    assert.deepEqual(owners.key(1), dump.keys.subarray(8, 16))
  })

  it('finds every owner of a large dump, and only those', () => {
    const many = ownerDump(Array.from({ length: 5000 }, (_, i) => ({ cookie: BigInt(i * 3 + 1), pid: i, comm: `p${i % 10}` })))
    const owners = new SocketOwners()
    owners.load(many)
    for (let i = 0; i < 5000; i++) {
      assert.equal(owners.indexOf(words(BigInt(i * 3 + 1)), 0), i)
      assert.equal(owners.indexOf(words(BigInt(i * 3 + 2)), 0), -1)
    }
    owners.load(dump)
    assert.equal(owners.indexOf(words(4n), 0), -1, 'nothing left of the last harvest')
  })

  it('gives one process name one id, whatever follows its NUL, and no name the id 0', () => {
    const padded = [...Buffer.from('nginx'), 0, 0xaa, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0]
    const sixteen = 'a-very-long-comm'
    const owners = new SocketOwners()
    owners.load(ownerDump([
      { cookie: 1n, pid: 1, comm: 'nginx' }, { cookie: 2n, pid: 2, comm: '' }, { cookie: 3n, pid: 3, comm: padded },
      { cookie: 4n, pid: 4, comm: sixteen },
    ]))
    const ids = [0, 1, 2, 3].map((i) => owners.commId(i))
    assert.equal(ids[0], ids[2])
    assert.equal(ids[1], 0)
    assert.deepEqual([ids[0], ids[3]].map((id) => owners.commNames[id!]), ['nginx', sixteen])
    assert.equal(owners.commNames[0], '')
  })

  it('remembers which owners have flows and which were forgotten, for one harvest', () => {
    const owners = new SocketOwners()
    owners.load(dump)
    owners.markWithFlows(2)
    assert.deepEqual([0, 1, 2].map((i) => owners.hasFlows(i)), [false, false, true])
    owners.forget(0)
    assert.equal(owners.indexOf(words(7n), 0), -1)
    assert.deepEqual([0, 1, 2].map((i) => owners.isForgotten(i)), [true, false, false])
    owners.load(dump)
    assert.deepEqual([owners.hasFlows(2), owners.isForgotten(0), owners.indexOf(words(7n), 0)], [false, false, 0])
  })
})
