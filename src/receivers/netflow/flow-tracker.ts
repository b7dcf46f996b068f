// Turns the kernel's cumulative per-socket counters into per-interval flow records.
// The kernel keeps one entry per (socket identity, peer); this keeps the last values seen for each entry, reports
// the difference, joins the socket's owner, decides source/destination from the kernel's direction, collapses
// client ports, aggregates entries that become the same flow, and says which entries to delete (closed or idle).
// Idle entries are removed with what the removal read (settleIdle): traffic resuming between the dump and the removal
// is reported, not lost with the entry.
// Entries that did not change since the last harvest are skipped without being decoded. A harvest visits every
// entry of the map (100k and more), so what is kept per entry lives in typed arrays (EntryTable), owners are
// found by the socket identity's raw words (cookie, or the id classic hooks assign) and read in place
// (SocketOwners), and an entry's flow is an identity of numbers read from its raw fields (FlowIdentity) that the
// FlowTable keeps across harvests: an entry whose identity cannot have changed (Field.STAMP) adds to the flow it had
// without being decoded again. No per-entry strings or objects, a record per flow.
import type { MapEntries } from '../../native/types.ts'
import type { FlowRecord } from '../../records.ts'
import { EntryTable, Field } from './entry-table.ts'
import { FlowIdentity, type DumpView } from './flow-identity.ts'
import { FlowTable, type RecordMaker } from './flow-table.ts'
import { FlowState, IPPROTO_TCP, KEY_SIZE, Stats, STATS_SIZE } from './layout.ts'
import { SocketOwners } from './socket-owners.ts'
import { u64At, wordsOf } from './words.ts'

export interface TrackerOptions {
  /** UDP entries with no change for this long are deleted, and owners with no entry left. */
  idleTimeoutMs: number
  /**
   * TCP entries with no change for this long are deleted (a close the kernel skipped). Far longer than idleTimeoutMs:
   * the entry of an idle connection must still be there when it closes, or its close goes unreported.
   */
  tcpIdleTimeoutMs: number
  /** Whether a client port is collapsed to 0. */
  collapsePort(port: number): boolean
  /** How long a TCP flow waits for its owner before it is reported without one (see AWAITING_SINCE). */
  ownerGraceMs: number
}

/**
 * An entry's flow as Field.FLOW holds it: flow + 1 + the FlowTable's epoch times EPOCH_SPAN, so a flow of an
 * earlier epoch (the table was cleared) reads as none.
 */
const EPOCH_SPAN = 0x1_0000_0000

export interface HarvestResult {
  records: FlowRecord[]
  /** Packed keys of closed flow entries (nothing is added to them any more) to delete, and of owners to delete. */
  staleFlows: Buffer[]
  staleOwners: Buffer[]
  /** Packed keys of entries idle past their timeout: to be taken (BpfMap.takeMany) and handed to settleIdle(). */
  idleFlows: Buffer[]
}

export class FlowTracker {
  /**
   * Last counters seen per entry. Accepted TCP sockets get their owner when the process first reads, writes or
   * closes (the handshake completes in softirq, outside any process): an entry first seen without one waits a
   * little (AWAITING_SINCE) with its counters still at the baseline, so its deltas wait with it.
   */
  private readonly entries = new EntryTable()
  /** Owners with no flow entry, by socket identity, since when (ms): deleted after the idle timeout. */
  private ownerless = new Map<number, number>()
  private readonly owners = new SocketOwners()
  private readonly identity: FlowIdentity
  private readonly flows = new FlowTable()
  /** The process-name ids the flows' identities hold: when SocketOwners starts its names over, flows start over. */
  private namesGeneration = 0
  /** One function for every harvest: a new closure each time would make take()'s optimized code deoptimize. */
  private readonly makeRecord: RecordMaker
  /** Gives a pending entry's row its flow (FlowTable.resolve()). */
  private readonly assignFlow: (row: number, flow: number) => void
  private readonly options: TrackerOptions
  /** The counters the last harvest read of its idleFlows (sent, received, retransmits), by key bytes (latin1). */
  private idleBaselines = new Map<string, [number, number, number]>()

  constructor(options: TrackerOptions) {
    this.options = options
    this.identity = new FlowIdentity(options.collapsePort)
    this.makeRecord = (identities, at) => this.identity.record(identities, at, this.owners.commNames)
    this.assignFlow = (row, flow) => this.entries.set(row, Field.FLOW, this.flows.epoch * EPOCH_SPAN + flow + 1)
  }

  get trackedEntries(): number {
    return this.entries.size
  }

  /** `final`: the last harvest before the maps go away, so nothing waits for a later one. */
  harvest(flows: MapEntries, ownerDump: MapEntries, now: number, final = false): HarvestResult {
    const owners = this.owners
    owners.load(ownerDump)
    if (owners.namesGeneration !== this.namesGeneration) {
      this.namesGeneration = owners.namesGeneration
      this.flows.clear()
    }
    this.flows.begin(flows.count)
    this.idleBaselines.clear()
    const result: HarvestResult = { records: [], staleFlows: [], staleOwners: [], idleFlows: [] }
    this.visit(flows, owners, now, final, result)
    this.expireOwnerless(owners, now, result.staleOwners)
    result.records = this.flows.take(this.makeRecord)
    this.sweepFlows()
    return result
  }

  /**
   * The last harvest's idleFlows as their removal read them (BpfMap.takeMany): records of what the kernel added to
   * them after the dump (a peer back at that very moment). The owners are those that harvest loaded.
   */
  settleIdle(taken: MapEntries): FlowRecord[] {
    const { keys, values } = taken
    const dump: DumpView = { keys, values, keyWords: wordsOf(keys), valueWords: wordsOf(values) }
    const { valueWords } = dump
    this.flows.begin(taken.count)
    for (let i = 0; i < taken.count; i++) {
      const ko = i * KEY_SIZE
      const vo = i * STATS_SIZE
      const vw = vo >>> 2
      const baseline = this.idleBaselines.get(keys.toString('latin1', ko, ko + KEY_SIZE))
      if (!baseline) continue
      const sent = Math.max(0, u64At(valueWords, vw + Stats.BYTES_SENT / 4) - baseline[0])
      const received = Math.max(0, u64At(valueWords, vw + Stats.BYTES_RECEIVED / 4) - baseline[1])
      const retransmits = Math.max(0, valueWords[vw + Stats.TOTAL_RETRANS / 4]! - baseline[2])
      // Idle entries were not closed when read: a close since is news too.
      const closed = (values[vo + Stats.STATE]! & FlowState.CLOSED) !== 0
      if (sent === 0 && received === 0 && retransmits === 0 && !closed) continue
      const tcp = values[vo + Stats.PROTOCOL] === IPPROTO_TCP
      this.identity.read(dump, i, this.owners, this.owners.indexOf(dump.keyWords, ko >>> 2))
      this.flows.addPending(this.identity.words, 0, -1, sent, received, retransmits, false, closed,
        tcp ? valueWords[vw + Stats.SRTT_US / 4]! : 0, valueWords[vw + Stats.RTTVAR_US / 4]!)
    }
    this.idleBaselines.clear()
    this.flows.resolve(this.assignFlow)
    // The flows made here are held by no entry: the next harvest's sweep forgets them.
    return this.flows.take(this.makeRecord)
  }

  /** Every flow entry: what changed goes to its flow, what is kept to the entry table, the rest is stale. */
  private visit(flows: MapEntries, owners: SocketOwners, now: number, final: boolean, result: HarvestResult): void {
    const { keys, values } = flows
    // Every field read in this loop is a 32-bit word (offsets multiple of 4; bpf/netflow.h): typed-array reads.
    const dump: DumpView = { keys, values, keyWords: wordsOf(keys), valueWords: wordsOf(values) }
    const { keyWords, valueWords } = dump
    const table = this.entries
    table.begin(flows.count)
    const entryFlows = this.flows
    const epochBase = entryFlows.epoch * EPOCH_SPAN

    for (let i = 0; i < flows.count; i++) {
      const ko = i * KEY_SIZE
      const vo = i * STATS_SIZE
      const kw = ko >>> 2
      const vw = vo >>> 2
      const state = values[vo + Stats.STATE]!
      const established = (state & FlowState.ESTABLISHED) !== 0
      const closed = (state & FlowState.CLOSED) !== 0
      const bytesSent = u64At(valueWords, vw + Stats.BYTES_SENT / 4)
      const bytesReceived = u64At(valueWords, vw + Stats.BYTES_RECEIVED / 4)
      const totalRetrans = valueWords[vw + Stats.TOTAL_RETRANS / 4]!
      let row = table.carry(keyWords, kw)
      if (row < 0) {
        row = table.add(keyWords, kw)
        table.set(row, Field.CHANGED_AT, now)
        // A connection older than netlens: its past retransmits are not news, start counting from here.
        if (!established) table.set(row, Field.TOTAL_RETRANS, totalRetrans)
      }
      const sent = Math.max(0, bytesSent - table.get(row, Field.BYTES_SENT))
      const received = Math.max(0, bytesReceived - table.get(row, Field.BYTES_RECEIVED))
      const retransmits = Math.max(0, totalRetrans - table.get(row, Field.TOTAL_RETRANS))
      const newlyEstablished = established && !table.get(row, Field.ESTABLISHED)
      const changed = sent > 0 || received > 0 || retransmits > 0 || newlyEstablished || closed
      // The key starts with the socket's identity (cookie or classic id), as the owner map's key.
      const owner = owners.indexOf(keyWords, kw)
      const tcp = values[vo + Stats.PROTOCOL] === IPPROTO_TCP

      if (changed && owner < 0 && !closed && !final && tcp) {
        const since = table.get(row, Field.AWAITING_SINCE) || now
        if (now - since < this.options.ownerGraceMs) {
          table.set(row, Field.AWAITING_SINCE, since)
          continue
        }
      }
      table.set(row, Field.AWAITING_SINCE, 0)
      if (changed) {
        const srttUs = tcp ? valueWords[vw + Stats.SRTT_US / 4]! : 0
        const rttVarUs = valueWords[vw + Stats.RTTVAR_US / 4]!
        // What the identity is read from that can change: the kernel's direction (TCP, until established), the
        // owner (found, with its pid and bound port). The rest is the entry's own (key, local address and port).
        const direction = values[vo + Stats.DIRECTION]!
        const stamp = owner < 0 ? direction : direction + 4 + (owners.udpBound(owner) ? 8 : 0) + 16 * owners.pid(owner)
        const flow = table.get(row, Field.FLOW) - epochBase
        if (flow > 0 && flow <= EPOCH_SPAN && table.get(row, Field.STAMP) === stamp) {
          entryFlows.add(flow - 1, sent, received, retransmits, newlyEstablished, closed, srttUs, rttVarUs)
        } else {
          this.identity.read(dump, i, owners, owner)
          // A closed entry's row is dropped below: nothing to give its flow back to.
          entryFlows.addPending(this.identity.words, 0, closed ? -1 : row, sent, received, retransmits, newlyEstablished, closed, srttUs, rttVarUs)
          table.set(row, Field.STAMP, stamp)
          table.set(row, Field.FLOW, 0)
        }
        table.set(row, Field.CHANGED_AT, now)
      }
      const idleTimeoutMs = tcp ? this.options.tcpIdleTimeoutMs : this.options.idleTimeoutMs
      if (closed) {
        table.drop(row)
        result.staleFlows.push(keys.subarray(ko, ko + KEY_SIZE))
        if (tcp && owner >= 0) {
          result.staleOwners.push(owners.key(owner))
          owners.forget(owner)
        }
        continue
      }
      if (now - table.get(row, Field.CHANGED_AT) >= idleTimeoutMs) {
        table.drop(row)
        result.idleFlows.push(keys.subarray(ko, ko + KEY_SIZE))
        this.idleBaselines.set(keys.toString('latin1', ko, ko + KEY_SIZE), [bytesSent, bytesReceived, totalRetrans])
        continue
      }
      if (owner >= 0) owners.markWithFlows(owner)
      table.set(row, Field.BYTES_SENT, bytesSent)
      table.set(row, Field.BYTES_RECEIVED, bytesReceived)
      table.set(row, Field.TOTAL_RETRANS, totalRetrans)
      if (established) table.set(row, Field.ESTABLISHED, 1)
    }
    entryFlows.resolve(this.assignFlow)
    table.end()
  }

  /** Flows that no entry kept holds any more are forgotten (after take(): this harvest's records are made). */
  private sweepFlows(): void {
    const table = this.entries
    const flows = this.flows
    const epochBase = flows.epoch * EPOCH_SPAN
    for (let row = 0; row < table.size; row++) {
      const flow = table.keptField(row, Field.FLOW) - epochBase
      if (flow > 0 && flow <= EPOCH_SPAN) flows.retain(flow - 1)
    }
    flows.sweep()
  }

  /** Owners left without flow entries go after the idle timeout (a UDP socket between bursts keeps its owner). */
  private expireOwnerless(owners: SocketOwners, now: number, stale: Buffer[]): void {
    const before = this.ownerless
    this.ownerless = new Map()
    for (let owner = 0; owner < owners.count; owner++) {
      if (owners.hasFlows(owner) || owners.isForgotten(owner)) continue
      const identity = owners.identity(owner)
      const since = before.get(identity) ?? now
      if (now - since >= this.options.idleTimeoutMs) stale.push(owners.key(owner))
      else this.ownerless.set(identity, since)
    }
  }
}
