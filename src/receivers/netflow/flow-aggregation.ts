// One harvest's flow records by identity (flow-identity.ts: numbers read from the raw entry), so kernel entries that
// become the same flow (collapsed client ports, several sockets of one process) add up in one record. A harvest
// looks up every changed entry (100k and more): identities live in typed arrays, looked up by open addressing
// and compared word by word, and a record is made only for an identity not seen yet in the harvest. The arrays
// are kept from one harvest to the next, grown to the largest harvest seen.
import type { FlowRecord } from '../../records.ts'
import { IDENTITY_WORDS } from './flow-identity.ts'
import { hashWords } from './words.ts'

const MIN_CAPACITY = 1024

export class FlowAggregation {
  /** Record index + 1 by slot, 0 for an empty slot. */
  private slots = new Int32Array(MIN_CAPACITY)
  /** The identity of each record, IDENTITY_WORDS words per record, in record order (at most half the slots). */
  private identities = new Uint32Array((MIN_CAPACITY / 2) * IDENTITY_WORDS)
  /** How many sockets' RTT each record's mean holds. */
  private rttSamples = new Uint32Array(MIN_CAPACITY / 2)
  private list: FlowRecord[] = []

  get size(): number {
    return this.list.length
  }

  /** The index of the record with the identity at `words[at..]`, or -1. */
  find(words: Uint32Array, at: number): number {
    const mask = this.slots.length - 1
    for (let slot = hashWords(words, at, IDENTITY_WORDS) & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot]!
      if (held === 0) return -1
      if (this.matches(held - 1, words, at)) return held - 1
    }
  }

  /** Adds the record of an identity find() did not find; returns its index. */
  add(words: Uint32Array, at: number, record: FlowRecord): number {
    const index = this.list.length
    if ((index + 1) * 2 > this.slots.length) this.grow()
    for (let i = 0; i < IDENTITY_WORDS; i++) this.identities[index * IDENTITY_WORDS + i] = words[at + i]!
    this.rttSamples[index] = 0
    this.list.push(record)
    this.place(index)
    return index
  }

  record(index: number): FlowRecord {
    return this.list[index]!
  }

  /** The RTT of a record is the mean over the sockets folded into it. */
  addRtt(index: number, srttUs: number, rttVarUs: number): void {
    const record = this.list[index]!
    const samples = ++this.rttSamples[index]!
    record.rttUs = (record.rttUs ?? 0) + (srttUs - (record.rttUs ?? 0)) / samples
    record.rttVarUs = (record.rttVarUs ?? 0) + (rttVarUs - (record.rttVarUs ?? 0)) / samples
  }

  /** This harvest's records; the aggregation is empty again for the next one. */
  take(): FlowRecord[] {
    const records = this.list
    this.list = []
    this.slots.fill(0)
    return records
  }

  private matches(index: number, words: Uint32Array, at: number): boolean {
    const base = index * IDENTITY_WORDS
    for (let i = 0; i < IDENTITY_WORDS; i++) if (this.identities[base + i] !== words[at + i]) return false
    return true
  }

  private place(index: number): void {
    const mask = this.slots.length - 1
    let slot = hashWords(this.identities, index * IDENTITY_WORDS, IDENTITY_WORDS) & mask
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask
    this.slots[slot] = index + 1
  }

  private grow(): void {
    const capacity = this.slots.length * 2
    this.slots = new Int32Array(capacity)
    const identities = new Uint32Array((capacity / 2) * IDENTITY_WORDS)
    identities.set(this.identities)
    this.identities = identities
    const samples = new Uint32Array(capacity / 2)
    samples.set(this.rttSamples)
    this.rttSamples = samples
    for (let index = 0; index < this.list.length; index++) this.place(index)
  }
}
