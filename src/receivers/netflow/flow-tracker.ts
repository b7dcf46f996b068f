// Turns the kernel's cumulative per-socket counters into per-interval flow records.
// The kernel keeps one entry per (socket identity, peer); this keeps the last values seen for each entry, reports
// the difference, joins the socket's owner, decides source/destination from the kernel's direction, collapses
// client ports, aggregates entries that become the same flow, and says which entries to delete (closed or idle).
// Entries that did not change since the last harvest are skipped without being decoded. A harvest visits every
// entry of the map (100k and more), so what is kept per entry lives in typed arrays (EntryTable), sockets are
// known by their identity as a number (cookie, or the id classic hooks assign: below 2^53 either way) and records
// aggregate under numeric keys (FlowAggregation): no per-entry strings.
import type { MapEntries } from '../../native/types.ts'
import type { Direction, FlowRecord } from '../../records.ts'
import { EntryTable, Field, wordsOf } from './entry-table.ts'
import { FlowAggregation } from './flow-aggregation.ts'
import {
  AddressFormatter, decodeOwner, FlowDirection, FlowState, IPPROTO_TCP, KEY_SIZE, OWNER_SIZE, readCounter, Stats,
  STATS_SIZE, type Owner,
} from './layout.ts'

export interface TrackerOptions {
  /** Entries with no change for this long are deleted (UDP peers, TCP connections whose close was missed). */
  idleTimeoutMs: number
  /** Whether a client port is collapsed to 0. */
  collapsePort(port: number): boolean
  /** How long a TCP flow waits for its owner before it is reported without one (see AWAITING_SINCE). */
  ownerGraceMs: number
}

export interface HarvestResult {
  records: FlowRecord[]
  /** Packed keys of flow entries to delete, and of owners to delete. */
  staleFlows: Buffer[]
  staleOwners: Buffer[]
}

interface SocketOwner {
  owner: Owner
  key: Buffer
}

export class FlowTracker {
  /**
   * Last counters seen per entry. Accepted TCP sockets get their owner when the process first reads, writes or
   * closes (the handshake completes in softirq, outside any process): an entry first seen without one waits a
   * little (AWAITING_SINCE) with its counters still at the baseline, so its deltas wait with it.
   */
  private readonly entries = new EntryTable()
  /** Owners with no flow entry, by socket cookie, since when (ms): deleted after the idle timeout. */
  private readonly ownerless = new Map<number, number>()
  private readonly addresses = new AddressFormatter()
  private readonly options: TrackerOptions

  constructor(options: TrackerOptions) {
    this.options = options
  }

  get trackedEntries(): number {
    return this.entries.size
  }

  /** `final`: the last harvest before the maps go away, so nothing waits for a later one. */
  harvest(flows: MapEntries, owners: MapEntries, now: number, final = false): HarvestResult {
    const ownerByCookie = new Map<number, SocketOwner>()
    for (let i = 0; i < owners.count; i++) {
      ownerByCookie.set(readCounter(owners.keys, i * 8), {
        owner: decodeOwner(owners.values, i * OWNER_SIZE), key: owners.keys.subarray(i * 8, i * 8 + 8),
      })
    }

    const aggregation = new FlowAggregation()
    const staleFlows: Buffer[] = []
    const staleOwners: Buffer[] = []
    const cookiesWithFlows = new Set<number>()
    const { keys, values } = flows
    // Every field read in this loop is a 32-bit word (offsets multiple of 4; bpf/netflow.h): typed-array reads.
    const keyWords = wordsOf(keys)
    const valueWords = wordsOf(values)
    const table = this.entries

    for (let i = 0; i < flows.count; i++) {
      const ko = i * KEY_SIZE
      const vo = i * STATS_SIZE
      const kw = ko >>> 2
      const vw = vo >>> 2
      const cookie = keyWords[kw]! + keyWords[kw + 1]! * 0x1_0000_0000
      const state = values[vo + Stats.STATE]!
      const established = (state & FlowState.ESTABLISHED) !== 0
      const closed = (state & FlowState.CLOSED) !== 0
      const bytesSent = counterAt(valueWords, vw + Stats.BYTES_SENT / 4)
      const bytesReceived = counterAt(valueWords, vw + Stats.BYTES_RECEIVED / 4)
      const totalRetrans = valueWords[vw + Stats.TOTAL_RETRANS / 4]!
      let slot = table.find(keyWords, kw)
      if (slot < 0) {
        slot = table.insert(keyWords, kw)
        table.set(slot, Field.CHANGED_AT, now)
        // A connection older than netlens: its past retransmits are not news, start counting from here.
        if (!established) table.set(slot, Field.TOTAL_RETRANS, totalRetrans)
      }
      const sent = Math.max(0, bytesSent - table.get(slot, Field.BYTES_SENT))
      const received = Math.max(0, bytesReceived - table.get(slot, Field.BYTES_RECEIVED))
      const retransmits = Math.max(0, totalRetrans - table.get(slot, Field.TOTAL_RETRANS))
      const newlyEstablished = established && !table.get(slot, Field.ESTABLISHED)
      const changed = sent > 0 || received > 0 || retransmits > 0 || newlyEstablished || closed
      const socket = ownerByCookie.get(cookie)
      const tcp = values[vo + Stats.PROTOCOL] === IPPROTO_TCP

      if (changed && !socket && !closed && !final && tcp) {
        const since = table.get(slot, Field.AWAITING_SINCE) || now
        if (now - since < this.options.ownerGraceMs) {
          table.set(slot, Field.AWAITING_SINCE, since)
          continue
        }
      }
      table.set(slot, Field.AWAITING_SINCE, 0)
      if (changed) {
        this.add(aggregation, flows, i, socket?.owner, sent, received, retransmits, newlyEstablished, closed)
        table.set(slot, Field.CHANGED_AT, now)
      }
      if (closed || now - table.get(slot, Field.CHANGED_AT) >= this.options.idleTimeoutMs) {
        table.delete(slot)
        staleFlows.push(keys.subarray(ko, ko + KEY_SIZE))
        if (closed && tcp && socket) {
          staleOwners.push(socket.key)
          ownerByCookie.delete(cookie)
        }
        continue
      }
      cookiesWithFlows.add(cookie)
      table.set(slot, Field.BYTES_SENT, bytesSent)
      table.set(slot, Field.BYTES_RECEIVED, bytesReceived)
      table.set(slot, Field.TOTAL_RETRANS, totalRetrans)
      if (established) table.set(slot, Field.ESTABLISHED, 1)
    }
    this.expireOwnerless(ownerByCookie, cookiesWithFlows, now, staleOwners)

    return { records: aggregation.records(), staleFlows, staleOwners }
  }

  private expireOwnerless(owners: Map<number, SocketOwner>, withFlows: Set<number>, now: number, stale: Buffer[]): void {
    for (const cookie of this.ownerless.keys()) if (!owners.has(cookie) || withFlows.has(cookie)) this.ownerless.delete(cookie)
    for (const [cookie, { key }] of owners) {
      if (withFlows.has(cookie)) continue
      const since = this.ownerless.get(cookie) ?? now
      if (now - since >= this.options.idleTimeoutMs) {
        stale.push(key)
        this.ownerless.delete(cookie)
      } else {
        this.ownerless.set(cookie, since)
      }
    }
  }

  private add(
    aggregation: FlowAggregation, flows: MapEntries, index: number, owner: Owner | undefined,
    sent: number, received: number, retransmits: number, newlyEstablished: boolean, closed: boolean,
  ): void {
    const ko = index * KEY_SIZE
    const vo = index * STATS_SIZE
    const { keys, values } = flows
    const tcp = values[vo + Stats.PROTOCOL] === IPPROTO_TCP
    const direction = directionOf(tcp, values[vo + Stats.DIRECTION]!, owner)
    const { family, localAddress, remoteAddress } = this.addresses.endpoints(keys, ko, values, vo)
    const local = { address: localAddress, port: values.readUInt16LE(vo + Stats.LOCAL_PORT) }
    const remote = { address: remoteAddress, port: keys.readUInt16LE(ko + 24) }
    const source = direction === 'incoming' ? remote : local
    const destination = direction === 'incoming' ? local : remote
    // The client's port is ephemeral by the kernel's own account of who connected; with no such account, only a
    // port inside the local ephemeral range is collapsed.
    if (this.options.collapsePort(source.port)) source.port = 0
    else if (direction === 'unknown' && this.options.collapsePort(destination.port)) destination.port = 0

    const record = aggregation.recordOf({
      kind: 'flow', transport: tcp ? 'tcp' : 'udp', family, direction, source, destination,
      netns: owner?.netns ?? 0, pid: owner?.pid ?? 0, comm: owner?.comm ?? '',
      bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0, attributes: {},
    })
    record.bytesSent += sent
    record.bytesReceived += received
    record.retransmits += retransmits
    if (newlyEstablished) record.established++
    if (closed) record.closed++
    const srttUs = values.readUInt32LE(vo + Stats.SRTT_US)
    if (tcp && srttUs > 0) aggregation.addRtt(record, srttUs, values.readUInt32LE(vo + Stats.RTTVAR_US))
  }
}

/** A u64 counter at word `index` as a Number (exact below 2^53: years of traffic on one flow). */
function counterAt(words: Uint32Array, index: number): number {
  return words[index]! + words[index + 1]! * 0x1_0000_0000
}

/** Direction from kernel facts only: the TCP handshake the kernel saw, or a UDP port chosen by bind(). */
function directionOf(tcp: boolean, kernelDirection: number, owner: Owner | undefined): Direction {
  if (tcp) {
    if (kernelDirection === FlowDirection.OUTGOING) return 'outgoing'
    if (kernelDirection === FlowDirection.INCOMING) return 'incoming'
    return 'unknown'
  }
  if (!owner) return 'unknown'
  return owner.udpBound ? 'incoming' : 'outgoing'
}
