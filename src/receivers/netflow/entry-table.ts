// What the flow tracker remembers of each kernel flow entry between harvests, keyed by the entry's raw 32-byte key
// and held in typed arrays, in the order of the last dump. A harvest visits every entry (100k and more), and a
// table in hash order made each visit a few cache misses (~20 ms per 100k entries). The kernel's hash map is
// dumped bucket by bucket and its buckets never move, so entries come in the same order harvest after harvest
// (new ones in between, gone ones missing): the entry at hand is almost always the one after the last one found,
// and its state is read and rewritten in sequence. An index by hash, built when an entry is not where expected,
// finds the others. Each harvest writes what it keeps in its own order (two generations of arrays, swapped), so
// entries the dump no longer holds are dropped with it.
import { KEY_SIZE } from './layout.ts'
import { hashWords } from './words.ts'

const KEY_WORDS = KEY_SIZE / 4
/**
 * Columns of the per-entry state, in one Float64Array row per entry (AWAITING_SINCE: 0 when not waiting; FLOW: the
 * entry's flow in the FlowTable as the tracker packs it, 0 for none; STAMP: what the flow's identity was read from).
 */
export const Field = {
  BYTES_SENT: 0, BYTES_RECEIVED: 1, TOTAL_RETRANS: 2, CHANGED_AT: 3, ESTABLISHED: 4, AWAITING_SINCE: 5, FLOW: 6, STAMP: 7,
} as const
const FIELDS = 8
const MIN_CAPACITY = 1024

/** Entries' keys and state, row by row. */
class Rows {
  keys: Uint32Array
  state: Float64Array
  count = 0

  constructor(capacity: number) {
    this.keys = new Uint32Array(capacity * KEY_WORDS)
    this.state = new Float64Array(capacity * FIELDS)
  }

  get capacity(): number {
    return this.state.length / FIELDS
  }

  matches(row: number, words: Uint32Array, at: number): boolean {
    const base = row * KEY_WORDS
    for (let i = 0; i < KEY_WORDS; i++) if (this.keys[base + i] !== words[at + i]) return false
    return true
  }
}

export class EntryTable {
  /** What the last harvest kept, in its dump's order. */
  private kept = new Rows(MIN_CAPACITY)
  /** What this harvest keeps. */
  private next = new Rows(MIN_CAPACITY)
  /** The kept row expected next: the one after the last one found. */
  private cursor = 0
  /** Kept row + 1 by hash slot (0: empty); built on the first entry of a harvest not found at the cursor. */
  private index = new Int32Array(0)
  private indexed = false

  /** Entries kept by the last harvest. */
  get size(): number {
    return this.kept.count
  }

  /** A harvest of up to `count` entries begins. */
  begin(count: number): void {
    if (this.next.capacity < count) this.next = new Rows(Math.max(count, this.next.capacity * 2))
    this.next.count = 0
    this.cursor = 0
  }

  /**
   * The row in this harvest of the entry whose key is at `words[at..at+8]`, holding the state the last harvest
   * kept of it; -1 when it kept none (add() it).
   */
  carry(words: Uint32Array, at: number): number {
    const kept = this.kept
    let row = this.cursor
    if (row >= kept.count || !kept.matches(row, words, at)) {
      row = this.find(words, at)
      if (row < 0) return -1
    }
    this.cursor = row + 1
    const taken = this.take(words, at)
    for (let i = 0; i < FIELDS; i++) this.next.state[taken * FIELDS + i] = kept.state[row * FIELDS + i]!
    return taken
  }

  /** The row in this harvest of an entry carry() did not know, its state at zero. */
  add(words: Uint32Array, at: number): number {
    const row = this.take(words, at)
    this.next.state.fill(0, row * FIELDS, row * FIELDS + FIELDS)
    return row
  }

  /** A field of row `row` of the entries the last harvest kept (after end(): rows 0 to size - 1). */
  keptField(row: number, field: number): number {
    return this.kept.state[row * FIELDS + field]!
  }

  get(row: number, field: number): number {
    return this.next.state[row * FIELDS + field]!
  }

  set(row: number, field: number, value: number): void {
    this.next.state[row * FIELDS + field] = value
  }

  /** Keeps nothing of the entry of `row`, the last one carried or added, after this harvest. */
  drop(row: number): void {
    if (row !== this.next.count - 1) throw new Error(`EntryTable.drop(${row}): only the last row (${this.next.count - 1}) can be dropped`)
    this.next.count--
  }

  /** The harvest is over: what it keeps is what the next one carries. */
  end(): void {
    const kept = this.kept
    this.kept = this.next
    this.next = kept
    this.indexed = false
  }

  private take(words: Uint32Array, at: number): number {
    const next = this.next
    const row = next.count++
    for (let i = 0; i < KEY_WORDS; i++) next.keys[row * KEY_WORDS + i] = words[at + i]!
    return row
  }

  /** The kept row of a key, or -1, by the index. */
  private find(words: Uint32Array, at: number): number {
    if (!this.indexed) this.buildIndex()
    const mask = this.index.length - 1
    for (let slot = hashWords(words, at, KEY_WORDS) & mask; ; slot = (slot + 1) & mask) {
      const held = this.index[slot]!
      if (held === 0) return -1
      if (this.kept.matches(held - 1, words, at)) return held - 1
    }
  }

  private buildIndex(): void {
    const kept = this.kept
    let capacity = MIN_CAPACITY
    while (capacity < kept.count * 2) capacity *= 2
    if (this.index.length !== capacity) this.index = new Int32Array(capacity)
    else this.index.fill(0)
    const mask = capacity - 1
    for (let row = 0; row < kept.count; row++) {
      let slot = hashWords(kept.keys, row * KEY_WORDS, KEY_WORDS) & mask
      while (this.index[slot] !== 0) slot = (slot + 1) & mask
      this.index[slot] = row + 1
    }
    this.indexed = true
  }
}
