// The flows a harvest reports, known across harvests. Kernel entries that become the same flow (collapsed client
// ports, several sockets of one process) add up in one flow, and a flow keeps its slot for as long as entries hold
// it: an entry whose identity has not changed since the last harvest adds to its flow by slot (add()), without its
// identity being read again or hashed. Entries seen for the first time, or whose identity may have changed, wait as
// identities (addPending()) and are then found in one tight pass over the index (resolve(): interleaved with the
// rest of a harvest's work, its cache misses cost ~3x as much).
// A harvest can report 100k flows; everything per flow lives in typed arrays, grown to the largest number seen.
import type { FlowRecord } from '../../records.ts'
import { IDENTITY_WORDS } from './flow-identity.ts'
import { hashWords } from './words.ts'

/** What an entry adds to its flow, in one Float64Array row per flow (pending entries: the first seven). */
const Counter = {
  SENT: 0, RECEIVED: 1, RETRANSMITS: 2, ESTABLISHED: 3, CLOSED: 4, SRTT_SUM: 5, RTTVAR_SUM: 6, RTT_SAMPLES: 7,
} as const
const COUNTERS = 8
const MIN_CAPACITY = 1024
/** Index slots: 0 empty, TOMBSTONE a forgotten flow's, else flow + 1. */
const TOMBSTONE = -1

/** Makes the record of the identity at `identities[at..]`, counters at zero. */
export type RecordMaker = (identities: Uint32Array, at: number) => FlowRecord

export class FlowTable {
  /** Bumped by clear(): a flow a caller holds is valid only in the epoch it was given in. */
  epoch = 0
  private identities = new Uint32Array(MIN_CAPACITY * IDENTITY_WORDS)
  /** 1 for a flow in use, 0 for a free one. */
  private used = new Uint8Array(MIN_CAPACITY)
  /** Flows from 0 to `high` have been used; the free ones are on `free`. */
  private high = 0
  private free: number[] = []
  private live = 0
  private tombstones = 0
  /** Flow + 1 by hash slot of its identity. */
  private index = new Int32Array(MIN_CAPACITY * 2)
  /** This harvest's counters per flow, valid where touchedIn is the harvest. */
  private counters = new Float64Array(MIN_CAPACITY * COUNTERS)
  private touchedIn = new Uint32Array(MIN_CAPACITY)
  /** Flows added to in this harvest, in order of first addition. */
  private touched = new Int32Array(MIN_CAPACITY)
  private touchedCount = 0
  /** Per flow, the harvest in which an entry last held it (retain()). */
  private retainedIn = new Uint32Array(MIN_CAPACITY)
  private harvest = 1
  /** Entries waiting for resolve(): identity, counters (the first seven), and the caller's row. */
  private pendingIdentities = new Uint32Array(MIN_CAPACITY * IDENTITY_WORDS)
  private pendingCounters = new Float64Array(MIN_CAPACITY * COUNTERS)
  private pendingRows = new Int32Array(MIN_CAPACITY)
  private pendingCount = 0

  /** Flows known. */
  get size(): number {
    return this.live
  }

  /**
   * A harvest of up to `entries` entries begins: no flow has been added to yet, none waits (what a harvest that
   * failed half way left is dropped).
   */
  begin(entries = 0): void {
    if (entries > this.pendingRows.length) this.growPending(entries)
    this.harvest++
    this.touchedCount = 0
    this.pendingCount = 0
  }

  /** Forgets every flow (their identities no longer mean what they meant): flows held by callers are stale. */
  clear(): void {
    this.epoch++
    this.high = 0
    this.free = []
    this.live = 0
    this.tombstones = 0
    this.index.fill(0)
    this.used.fill(0)
    this.touchedCount = 0
    this.pendingCount = 0
  }

  /** What an entry of flow `flow` (given by resolve() in this epoch) moved since the last harvest. */
  add(
    flow: number, sent: number, received: number, retransmits: number, established: boolean, closed: boolean,
    srttUs: number, rttVarUs: number,
  ): void {
    const c = this.touch(flow) * COUNTERS
    const counters = this.counters
    counters[c + Counter.SENT]! += sent
    counters[c + Counter.RECEIVED]! += received
    counters[c + Counter.RETRANSMITS]! += retransmits
    if (established) counters[c + Counter.ESTABLISHED]!++
    if (closed) counters[c + Counter.CLOSED]!++
    if (srttUs > 0) {
      counters[c + Counter.SRTT_SUM]! += srttUs
      counters[c + Counter.RTTVAR_SUM]! += rttVarUs
      counters[c + Counter.RTT_SAMPLES]!++
    }
  }

  /**
   * An entry whose flow is not known, by its identity (`IDENTITY_WORDS` words at `words[at..]`), and what it moved;
   * resolve() gives `row` back with its flow (-1: the caller does not need it).
   */
  addPending(
    words: Uint32Array, at: number, row: number, sent: number, received: number, retransmits: number,
    established: boolean, closed: boolean, srttUs: number, rttVarUs: number,
  ): void {
    if (this.pendingCount === this.pendingRows.length) this.growPending(this.pendingCount + 1)
    const entry = this.pendingCount++
    for (let i = 0; i < IDENTITY_WORDS; i++) this.pendingIdentities[entry * IDENTITY_WORDS + i] = words[at + i]!
    const c = entry * COUNTERS
    const counters = this.pendingCounters
    counters[c + Counter.SENT] = sent
    counters[c + Counter.RECEIVED] = received
    counters[c + Counter.RETRANSMITS] = retransmits
    counters[c + Counter.ESTABLISHED] = established ? 1 : 0
    counters[c + Counter.CLOSED] = closed ? 1 : 0
    counters[c + Counter.SRTT_SUM] = srttUs
    counters[c + Counter.RTTVAR_SUM] = rttVarUs
    this.pendingRows[entry] = row
  }

  /** Finds or makes the flow of each pending entry and adds what it moved; `assigned(row, flow)` for each row >= 0. */
  resolve(assigned: (row: number, flow: number) => void): void {
    // Room for all of them being new, made once: a first harvest of 100k flows would otherwise grow the arrays and
    // rebuild the index at every doubling.
    const most = this.live + this.pendingCount
    if (this.high + this.pendingCount > this.touchedIn.length) this.growFlows(this.high + this.pendingCount)
    if ((most + this.tombstones + 1) * 2 > this.index.length) this.rebuildIndex(most)
    const { pendingIdentities, pendingCounters: c, pendingRows } = this
    for (let entry = 0; entry < this.pendingCount; entry++) {
      const flow = this.flowOf(pendingIdentities, entry * IDENTITY_WORDS)
      const at = entry * COUNTERS
      this.add(flow, c[at + Counter.SENT]!, c[at + Counter.RECEIVED]!, c[at + Counter.RETRANSMITS]!,
        c[at + Counter.ESTABLISHED] === 1, c[at + Counter.CLOSED] === 1, c[at + Counter.SRTT_SUM]!, c[at + Counter.RTTVAR_SUM]!)
      const row = pendingRows[entry]!
      if (row >= 0) assigned(row, flow)
    }
    this.pendingCount = 0
  }

  /**
   * One record per flow added to in this harvest, in order of first addition. A record's RTT is the mean over its
   * entries that have one (srttUs > 0). Records are made anew each harvest: templates kept across harvests would
   * save allocations but make every major collection mark 100k more objects, which cost more in its pauses.
   */
  take(makeRecord: RecordMaker): FlowRecord[] {
    const records: FlowRecord[] = []
    const { counters, touched } = this
    for (let i = 0; i < this.touchedCount; i++) {
      const flow = touched[i]!
      const record = makeRecord(this.identities, flow * IDENTITY_WORDS)
      const c = flow * COUNTERS
      const samples = counters[c + Counter.RTT_SAMPLES]!
      record.bytesSent = counters[c + Counter.SENT]!
      record.bytesReceived = counters[c + Counter.RECEIVED]!
      record.established = counters[c + Counter.ESTABLISHED]!
      record.closed = counters[c + Counter.CLOSED]!
      record.retransmits = counters[c + Counter.RETRANSMITS]!
      if (samples > 0) {
        record.rttUs = counters[c + Counter.SRTT_SUM]! / samples
        record.rttVarUs = counters[c + Counter.RTTVAR_SUM]! / samples
      }
      records.push(record)
    }
    this.touchedCount = 0
    return records
  }

  /** An entry kept after this harvest still holds `flow`. */
  retain(flow: number): void {
    this.retainedIn[flow] = this.harvest
  }

  /** Forgets the flows no entry kept after this harvest holds (call after take(), once every holder is retained). */
  sweep(): void {
    for (let flow = 0; flow < this.high; flow++) {
      if (this.used[flow] === 1 && this.retainedIn[flow] !== this.harvest) this.forget(flow)
    }
  }

  /** The flow of the identity at `words[at..]`, made if new. */
  private flowOf(words: Uint32Array, at: number): number {
    if ((this.live + this.tombstones + 1) * 2 > this.index.length) this.rebuildIndex()
    const { index, identities } = this
    const mask = index.length - 1
    let reuse = -1
    for (let slot = hashWords(words, at, IDENTITY_WORDS) & mask; ; slot = (slot + 1) & mask) {
      const held = index[slot]!
      if (held === 0) {
        const flow = this.newFlow(words, at)
        if (reuse >= 0) {
          index[reuse] = flow + 1
          this.tombstones--
        } else {
          index[slot] = flow + 1
        }
        return flow
      }
      if (held === TOMBSTONE) {
        if (reuse < 0) reuse = slot
      } else if (sameIdentity(identities, (held - 1) * IDENTITY_WORDS, words, at)) {
        return held - 1
      }
    }
  }

  private newFlow(words: Uint32Array, at: number): number {
    const flow = this.free.length > 0 ? this.free.pop()! : this.high++
    if (flow >= this.touchedIn.length) this.growFlows(flow + 1)
    for (let i = 0; i < IDENTITY_WORDS; i++) this.identities[flow * IDENTITY_WORDS + i] = words[at + i]!
    this.used[flow] = 1
    this.retainedIn[flow] = 0
    this.live++
    return flow
  }

  /** Removes `flow` from the index and frees its slot. */
  private forget(flow: number): void {
    const { index, identities } = this
    const mask = index.length - 1
    for (let slot = hashWords(identities, flow * IDENTITY_WORDS, IDENTITY_WORDS) & mask; ; slot = (slot + 1) & mask) {
      const held = index[slot]!
      if (held === 0) break
      if (held === flow + 1) {
        index[slot] = TOMBSTONE
        this.tombstones++
        break
      }
    }
    this.used[flow] = 0
    this.free.push(flow)
    this.live--
  }

  private touch(flow: number): number {
    if (this.touchedIn[flow] !== this.harvest) {
      this.touchedIn[flow] = this.harvest
      const counters = this.counters
      for (let i = flow * COUNTERS, end = i + COUNTERS; i < end; i++) counters[i] = 0
      this.touched[this.touchedCount++] = flow
    }
    return flow
  }

  /** Rebuilds the index without tombstones, with room for `flows` flows at half load at most. */
  private rebuildIndex(flows = this.live): void {
    let capacity = MIN_CAPACITY * 2
    while (capacity < (flows + 1) * 4) capacity *= 2
    const index = new Int32Array(capacity)
    const mask = capacity - 1
    for (let flow = 0; flow < this.high; flow++) {
      if (this.used[flow] === 0) continue
      let slot = hashWords(this.identities, flow * IDENTITY_WORDS, IDENTITY_WORDS) & mask
      while (index[slot] !== 0) slot = (slot + 1) & mask
      index[slot] = flow + 1
    }
    this.index = index
    this.tombstones = 0
  }

  private growFlows(atLeast: number): void {
    let capacity = this.touchedIn.length * 2
    while (capacity < atLeast) capacity *= 2
    const identities = new Uint32Array(capacity * IDENTITY_WORDS)
    identities.set(this.identities)
    this.identities = identities
    const counters = new Float64Array(capacity * COUNTERS)
    counters.set(this.counters)
    this.counters = counters
    for (const name of ['touchedIn', 'retainedIn'] as const) {
      const grown = new Uint32Array(capacity)
      grown.set(this[name])
      this[name] = grown
    }
    const used = new Uint8Array(capacity)
    used.set(this.used)
    this.used = used
    const touched = new Int32Array(capacity)
    touched.set(this.touched)
    this.touched = touched
  }

  private growPending(atLeast: number): void {
    let capacity = this.pendingRows.length * 2
    while (capacity < atLeast) capacity *= 2
    const identities = new Uint32Array(capacity * IDENTITY_WORDS)
    identities.set(this.pendingIdentities)
    this.pendingIdentities = identities
    const counters = new Float64Array(capacity * COUNTERS)
    counters.set(this.pendingCounters)
    this.pendingCounters = counters
    const rows = new Int32Array(capacity)
    rows.set(this.pendingRows)
    this.pendingRows = rows
  }
}

function sameIdentity(identities: Uint32Array, a: number, words: Uint32Array, b: number): boolean {
  for (let i = 0; i < IDENTITY_WORDS; i++) if (identities[a + i] !== words[b + i]) return false
  return true
}
