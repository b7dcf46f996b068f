import assert from 'node:assert/strict'
import { OWNER_SIZE } from '../../../src/receivers/netflow/layout.ts'
import { SocketOwners } from '../../../src/receivers/netflow/socket-owners.ts'

function ownerDump(list: Array<{ identity: number; pid: number; comm: string }>) {
  const keys = Buffer.alloc(list.length * 8)
  const values = Buffer.alloc(list.length * OWNER_SIZE)
  list.forEach((o, i) => {
    keys.writeBigUInt64LE(BigInt(o.identity), i * 8)
    values.writeUInt32LE(o.pid, i * OWNER_SIZE)
    values.write(o.comm, i * OWNER_SIZE + 16)
  })
  return { keys, values, count: list.length }
}

describe('netflow SocketOwners', () => {
  const dump = ownerDump([
    { identity: 7, pid: 1, comm: 'nginx' }, { identity: 2 ** 40 + 1, pid: 2, comm: 'curl' }, { identity: 9, pid: 3, comm: 'nginx' },
  ])

  it('finds owners by socket identity, above 2^32 too, and decodes them on demand', () => {
    const owners = new SocketOwners(dump)
    assert.equal(owners.count, 3)
    assert.equal(owners.indexOf(2 ** 40 + 1), 1)
    assert.equal(owners.indexOf(8), -1)
    assert.equal(owners.owner(1).comm, 'curl')
    assert.equal(owners.owner(1), owners.owner(1), 'decoded once')
    assert.equal(owners.identity(1), 2 ** 40 + 1)
    assert.deepEqual(owners.key(1), dump.keys.subarray(8, 16))
  })

  it('gives one process name one id, and no name the id 0', () => {
    const owners = new SocketOwners(ownerDump([
      { identity: 1, pid: 1, comm: 'nginx' }, { identity: 2, pid: 2, comm: '' }, { identity: 3, pid: 3, comm: 'nginx' },
    ]))
    const ids = [0, 1, 2].map((i) => (owners.owner(i), owners.commId(i)))
    assert.equal(ids[0], ids[2])
    assert.equal(ids[1], 0)
    assert.notEqual(ids[0], 0)
    assert.deepEqual([owners.commNames[ids[0]!], owners.commNames[0]], ['nginx', ''])
  })

  it('remembers which owners have flows and which were forgotten', () => {
    const owners = new SocketOwners(dump)
    owners.markWithFlows(2)
    assert.deepEqual([0, 1, 2].map((i) => owners.hasFlows(i)), [false, false, true])
    owners.forget(0)
    assert.equal(owners.indexOf(7), -1)
    assert.deepEqual([0, 1, 2].map((i) => owners.isForgotten(i)), [true, false, false])
  })
})
