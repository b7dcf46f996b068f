// What the flow tracker remembers of each kernel flow entry between harvests, keyed by the entry's raw 32-byte
// key and held in typed arrays: a harvest visits every entry (100k and more), and a Map of string keys and objects
// made that visit allocate a key string and garbage per entry per interval. Open addressing with linear probing
// and backward-shift deletion, so there are no tombstones to clean.
import { KEY_SIZE } from './layout.ts'
import { hashWords } from './words.ts'

const KEY_WORDS = KEY_SIZE / 4
/** Columns of the per-slot state, in one Float64Array row per slot (AWAITING_SINCE: 0 when not waiting). */
export const Field = { BYTES_SENT: 0, BYTES_RECEIVED: 1, TOTAL_RETRANS: 2, CHANGED_AT: 3, ESTABLISHED: 4, AWAITING_SINCE: 5 } as const
const FIELDS = 6
const MIN_CAPACITY = 1024

export class EntryTable {
  private capacity = 0
  private keys = new Uint32Array(0)
  private used = new Uint8Array(0)
  private state = new Float64Array(0)
  private count = 0

  constructor() {
    this.resize(MIN_CAPACITY)
  }

  get size(): number {
    return this.count
  }

  /** The slot of the key at `words[at..at+8]`, or -1. */
  find(words: Uint32Array, at: number): number {
    const mask = this.capacity - 1
    for (let slot = hash(words, at) & mask; this.used[slot]; slot = (slot + 1) & mask) {
      if (this.matches(slot, words, at)) return slot
    }
    return -1
  }

  /** Adds a key that is not in the table (find() returned -1); its state starts at zero. Returns its slot. */
  insert(words: Uint32Array, at: number): number {
    if ((this.count + 1) * 2 > this.capacity) this.resize(this.capacity * 2)
    const mask = this.capacity - 1
    let slot = hash(words, at) & mask
    while (this.used[slot]) slot = (slot + 1) & mask
    this.used[slot] = 1
    for (let i = 0; i < KEY_WORDS; i++) this.keys[slot * KEY_WORDS + i] = words[at + i]!
    for (let i = 0; i < FIELDS; i++) this.state[slot * FIELDS + i] = 0
    this.count++
    return slot
  }

  get(slot: number, field: number): number {
    return this.state[slot * FIELDS + field]!
  }

  set(slot: number, field: number, value: number): void {
    this.state[slot * FIELDS + field] = value
  }

  /** Removes a slot; entries displaced past it by probing move back, so every probe chain stays unbroken. */
  delete(slot: number): void {
    const mask = this.capacity - 1
    let hole = slot
    for (let next = (slot + 1) & mask; this.used[next]; next = (next + 1) & mask) {
      const home = hash(this.keys, next * KEY_WORDS) & mask
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (homeAfterHole) continue
      this.keys.copyWithin(hole * KEY_WORDS, next * KEY_WORDS, next * KEY_WORDS + KEY_WORDS)
      this.state.copyWithin(hole * FIELDS, next * FIELDS, next * FIELDS + FIELDS)
      hole = next
    }
    this.used[hole] = 0
    this.count--
  }

  private matches(slot: number, words: Uint32Array, at: number): boolean {
    const base = slot * KEY_WORDS
    for (let i = 0; i < KEY_WORDS; i++) if (this.keys[base + i] !== words[at + i]) return false
    return true
  }

  private resize(capacity: number): void {
    const { keys, used, state, capacity: old } = this
    this.capacity = capacity
    this.keys = new Uint32Array(capacity * KEY_WORDS)
    this.used = new Uint8Array(capacity)
    this.state = new Float64Array(capacity * FIELDS)
    this.count = 0
    for (let slot = 0; slot < old; slot++) {
      if (!used[slot]) continue
      const moved = this.insert(keys, slot * KEY_WORDS)
      this.state.set(state.subarray(slot * FIELDS, slot * FIELDS + FIELDS), moved * FIELDS)
    }
  }
}

function hash(words: Uint32Array, at: number): number {
  return hashWords(words, at, KEY_WORDS)
}
