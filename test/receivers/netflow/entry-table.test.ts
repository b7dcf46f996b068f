import assert from 'node:assert/strict'
import { EntryTable, Field } from '../../../src/receivers/netflow/entry-table.ts'
import { wordsOf } from '../../../src/receivers/netflow/words.ts'

function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 0x1_0000_0000
  }
}

/** Key `id` as 8 words, most of them shared by every key so hash chains form. */
function keyOf(id: number): Uint32Array {
  return Uint32Array.of(id & 3, 0, id >>> 2, 7, 7, 7, 7, id & 1)
}

/** Runs one harvest over `ids` (in that order), checking what is carried against `model`; returns the new model. */
function harvest(table: EntryTable, ids: number[], model: Map<number, number>, random: () => number, step: number): Map<number, number> {
  const next = new Map<number, number>()
  table.begin(ids.length)
  for (const id of ids) {
    const key = keyOf(id)
    let row = table.carry(key, 0)
    assert.equal(row >= 0, model.has(id), `harvest ${step}: entry ${id} carried`)
    if (row >= 0) assert.equal(table.get(row, Field.BYTES_SENT), model.get(id), `harvest ${step}: state of ${id}`)
    else {
      row = table.add(key, 0)
      assert.equal(table.get(row, Field.CHANGED_AT), 0, 'a new entry starts at zero')
    }
    if (random() < 0.1) {
      table.drop(row)
      continue
    }
    const value = step * 1_000_000 + id
    table.set(row, Field.BYTES_SENT, value)
    next.set(id, value)
  }
  table.end()
  assert.equal(table.size, next.size)
  return next
}

describe('netflow EntryTable', () => {
  it('carries each entry’s state to the next harvest, in the dump’s order or out of it, across growth', () => {
    const random = seeded(7)
    const table = new EntryTable()
    let model = new Map<number, number>()
    let order: number[] = []
    let nextId = 0
    for (let step = 1; step <= 30; step++) {
      // The kernel's order: the entries still there in the same order, new ones in between, some gone.
      const ids: number[] = []
      for (const id of order) {
        if (random() < 0.05) ids.push(nextId++)
        if (random() > 0.1) ids.push(id)
      }
      // Growing past the first capacities, then about steady (6000 entries).
      for (let i = 0; i < 600; i++) ids.push(nextId++)
      // Now and then an order the table has never seen, and entries that were dropped coming back.
      if (step % 7 === 0) ids.sort(() => random() - 0.5)
      if (step % 5 === 0) {
        const present = new Set(ids)
        for (let i = 0; i < 20; i++) {
          const id = Math.floor(random() * nextId)
          if (!present.has(id)) ids.push(id)
          present.add(id)
        }
      }
      model = harvest(table, ids, model, random, step)
      order = ids
    }
  })

  it('keeps nothing of the entries a dump no longer holds', () => {
    const table = new EntryTable()
    const random = () => 0.5
    let model = harvest(table, [1, 2, 3], new Map(), random, 1)
    model = harvest(table, [3, 1], model, random, 2)
    assert.equal(table.size, 2)
    harvest(table, [2], model, random, 3)
  })

  it('drops only the row just carried or added', () => {
    const table = new EntryTable()
    table.begin(2)
    const first = table.add(keyOf(1), 0)
    table.add(keyOf(2), 0)
    assert.throws(() => table.drop(first), /only the last row/)
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
