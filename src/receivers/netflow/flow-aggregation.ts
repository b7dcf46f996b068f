// One harvest's flow records: kernel entries that become the same flow (collapsed client ports, several sockets of
// one process) add up in one record. A harvest can change 100k entries; each is added as its identity
// (flow-identity.ts: numbers read from the raw entry) and its counters, in typed arrays, and take() then finds
// the entries of each flow in one tight pass over a hash table (its cache misses overlap there; interleaved with
// the rest of a harvest's work they cost ~3x as much) and makes one record per flow, in the order of each flow's
// first entry. The arrays are kept from one harvest to the next, grown to the largest harvest seen.
import type { FlowRecord } from '../../records.ts'
import { IDENTITY_WORDS } from './flow-identity.ts'
import { hashWords } from './words.ts'

/** Counters of an entry, one Float64Array row per entry. */
const Counter = { SENT: 0, RECEIVED: 1, RETRANSMITS: 2, ESTABLISHED: 3, CLOSED: 4, SRTT_US: 5, RTTVAR_US: 6 } as const
const COUNTERS = 7
const MIN_CAPACITY = 1024

/** Makes the record of the identity at `identities[at..]`, counters at zero. */
export type RecordMaker = (identities: Uint32Array, at: number) => FlowRecord

export class FlowAggregation {
  private identities = new Uint32Array(MIN_CAPACITY * IDENTITY_WORDS)
  private counters = new Float64Array(MIN_CAPACITY * COUNTERS)
  private count = 0
  /** Per entry, the index of its flow's record (take()). */
  private flows = new Int32Array(MIN_CAPACITY)
  /** Entry + 1 of each flow's first entry by hash slot, 0 for an empty slot (take()). */
  private slots = new Int32Array(MIN_CAPACITY * 2)

  /** Entries added since the last take(). */
  get size(): number {
    return this.count
  }

  /** Forgets the entries added since the last take() (a harvest that failed half way). */
  clear(): void {
    this.count = 0
  }

  /** An entry's identity (`IDENTITY_WORDS` words at `words[at..]`) and what it adds to its flow. */
  add(
    words: Uint32Array, at: number, sent: number, received: number, retransmits: number, established: boolean,
    closed: boolean, srttUs: number, rttVarUs: number,
  ): void {
    if (this.count === this.flows.length) this.grow()
    const entry = this.count++
    for (let i = 0; i < IDENTITY_WORDS; i++) this.identities[entry * IDENTITY_WORDS + i] = words[at + i]!
    const c = entry * COUNTERS
    this.counters[c + Counter.SENT] = sent
    this.counters[c + Counter.RECEIVED] = received
    this.counters[c + Counter.RETRANSMITS] = retransmits
    this.counters[c + Counter.ESTABLISHED] = established ? 1 : 0
    this.counters[c + Counter.CLOSED] = closed ? 1 : 0
    this.counters[c + Counter.SRTT_US] = srttUs
    this.counters[c + Counter.RTTVAR_US] = rttVarUs
  }

  /**
   * One record per flow of the entries added, in the order of each flow's first entry; the aggregation is empty
   * again for the next harvest. A record's RTT is the mean over its entries that have one (srttUs > 0).
   */
  take(makeRecord: RecordMaker): FlowRecord[] {
    const flowCount = this.assignFlows()
    const records: FlowRecord[] = []
    const rttSamples = new Uint32Array(flowCount)
    const { identities, counters, flows } = this
    for (let entry = 0; entry < this.count; entry++) {
      const flow = flows[entry]!
      if (flow === records.length) records.push(makeRecord(identities, entry * IDENTITY_WORDS))
      const record = records[flow]!
      const c = entry * COUNTERS
      record.bytesSent += counters[c + Counter.SENT]!
      record.bytesReceived += counters[c + Counter.RECEIVED]!
      record.retransmits += counters[c + Counter.RETRANSMITS]!
      record.established += counters[c + Counter.ESTABLISHED]!
      record.closed += counters[c + Counter.CLOSED]!
      const srttUs = counters[c + Counter.SRTT_US]!
      if (srttUs > 0) {
        const samples = ++rttSamples[flow]!
        record.rttUs = (record.rttUs ?? 0) + (srttUs - (record.rttUs ?? 0)) / samples
        const rttVarUs = counters[c + Counter.RTTVAR_US]!
        record.rttVarUs = (record.rttVarUs ?? 0) + (rttVarUs - (record.rttVarUs ?? 0)) / samples
      }
    }
    this.count = 0
    return records
  }

  /** Numbers the flows of the added entries in order of first entry (flows[]); returns how many there are. */
  private assignFlows(): number {
    let capacity = this.slots.length
    while (capacity < this.count * 2) capacity *= 2
    if (capacity !== this.slots.length) this.slots = new Int32Array(capacity)
    else this.slots.fill(0)
    const { slots, identities, flows } = this
    const mask = capacity - 1
    let flowCount = 0
    for (let entry = 0; entry < this.count; entry++) {
      const at = entry * IDENTITY_WORDS
      for (let slot = hashWords(identities, at, IDENTITY_WORDS) & mask; ; slot = (slot + 1) & mask) {
        const first = slots[slot]! - 1
        if (first < 0) {
          slots[slot] = entry + 1
          flows[entry] = flowCount++
          break
        }
        if (sameIdentity(identities, first * IDENTITY_WORDS, at)) {
          flows[entry] = flows[first]!
          break
        }
      }
    }
    return flowCount
  }

  private grow(): void {
    const capacity = this.flows.length * 2
    const identities = new Uint32Array(capacity * IDENTITY_WORDS)
    identities.set(this.identities)
    this.identities = identities
    const counters = new Float64Array(capacity * COUNTERS)
    counters.set(this.counters)
    this.counters = counters
    this.flows = new Int32Array(capacity)
  }
}

function sameIdentity(identities: Uint32Array, a: number, b: number): boolean {
  for (let i = 0; i < IDENTITY_WORDS; i++) if (identities[a + i] !== identities[b + i]) return false
  return true
}
