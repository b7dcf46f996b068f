import assert from 'node:assert/strict'
import { EntryTable, Field } from '../../../src/receivers/netflow/entry-table.ts'
import { wordsOf } from '../../../src/receivers/netflow/words.ts'

/** A key of 8 words whose words come from a small alphabet, so probe chains form and deletions move entries. */
function randomKey(random: () => number): Uint32Array {
  return Uint32Array.from({ length: 8 }, () => Math.floor(random() * 4))
}

function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 0x1_0000_0000
  }
}

describe('netflow EntryTable', () => {
  it('agrees with a Map under random inserts, updates and deletes, across growth', () => {
    const random = seeded(7)
    const table = new EntryTable()
    const model = new Map<string, number>()
    for (let step = 0; step < 60_000; step++) {
      const key = randomKey(random)
      const id = key.join(',')
      const slot = table.find(key, 0)
      assert.equal(slot >= 0, model.has(id), `step ${step}: presence of ${id}`)
      if (slot >= 0) {
        assert.equal(table.get(slot, Field.BYTES_SENT), model.get(id))
        if (random() < 0.5) {
          table.delete(slot)
          model.delete(id)
        } else {
          table.set(slot, Field.BYTES_SENT, step)
          model.set(id, step)
        }
      } else {
        const inserted = table.insert(key, 0)
        assert.equal(table.get(inserted, Field.BYTES_SENT), 0, 'a new slot starts at zero')
        table.set(inserted, Field.BYTES_SENT, step)
        model.set(id, step)
      }
      assert.equal(table.size, model.size)
    }
    for (const [id, value] of model) {
      const slot = table.find(Uint32Array.from(id.split(',').map(Number)), 0)
      assert.ok(slot >= 0, id)
      assert.equal(table.get(slot, Field.BYTES_SENT), value)
    }
  })

  it('reads keys in place from an aligned dump and from a copy when misaligned', () => {
    const keys = Buffer.alloc(33)
    keys.writeUInt32LE(0xdeadbeef, 1)
    const misaligned = keys.subarray(1)
    assert.equal(wordsOf(misaligned)[0], 0xdeadbeef)
    const aligned = Buffer.alloc(32)
    assert.equal(wordsOf(aligned).buffer, aligned.buffer)
  })
})
