// Turns the kernel's cumulative per-socket counters into per-interval flow records.
// The kernel keeps one entry per (socket cookie, peer); this keeps the last values seen for each entry, reports
// the difference, joins the socket's owner, decides source/destination from the kernel's direction, collapses
// client ports, aggregates entries that become the same flow, and says which entries to delete (closed or idle).
// Entries that did not change since the last harvest are skipped without being decoded.
import type { MapEntries } from '../../native/types.ts'
import type { Direction, FlowRecord } from '../../records.ts'
import {
  AddressFormatter, decodeOwner, FlowDirection, FlowState, IPPROTO_TCP, KEY_SIZE, OWNER_SIZE, readCounter, Stats,
  STATS_SIZE, type Owner,
} from './layout.ts'

interface Seen {
  bytesSent: number
  bytesReceived: number
  totalRetrans: number
  established: boolean
  /** When the entry last changed, ms. */
  changedAt: number
}

export interface TrackerOptions {
  /** Entries with no change for this long are deleted (UDP peers, TCP connections whose close was missed). */
  idleTimeoutMs: number
  /** Whether a client port is collapsed to 0. */
  collapsePort(port: number): boolean
  /** How long a TCP flow waits for its owner before it is reported without one (see `awaitingOwner`). */
  ownerGraceMs: number
}

export interface HarvestResult {
  records: FlowRecord[]
  /** Packed keys of flow entries to delete, and of owners to delete. */
  staleFlows: Buffer[]
  staleOwners: Buffer[]
}

export class FlowTracker {
  /** By the entry's raw key (latin1). */
  private readonly seen = new Map<string, Seen>()
  /**
   * Accepted TCP sockets get their owner when the process first reads, writes or closes (the handshake completes
   * in softirq, outside any process): a flow first seen without one waits a little, since when (ms).
   */
  private readonly awaitingOwner = new Map<string, number>()
  /** Owners with no flow entry, since when (ms): deleted after the idle timeout. */
  private readonly ownerless = new Map<string, number>()
  private readonly addresses = new AddressFormatter()
  private readonly options: TrackerOptions

  constructor(options: TrackerOptions) {
    this.options = options
  }

  get trackedEntries(): number {
    return this.seen.size
  }

  /** `final`: the last harvest before the maps go away, so nothing waits for a later one. */
  harvest(flows: MapEntries, owners: MapEntries, now: number, final = false): HarvestResult {
    const ownerByCookie = new Map<string, { owner: Owner; key: Buffer }>()
    for (let i = 0; i < owners.count; i++) {
      const key = owners.keys.subarray(i * 8, i * 8 + 8)
      ownerByCookie.set(key.toString('latin1'), { owner: decodeOwner(owners.values, i * OWNER_SIZE), key })
    }

    const aggregated = new Aggregation()
    const staleFlows: Buffer[] = []
    const staleOwners: Buffer[] = []
    const cookiesWithFlows = new Set<string>()
    const { keys, values } = flows

    for (let i = 0; i < flows.count; i++) {
      const ko = i * KEY_SIZE
      const vo = i * STATS_SIZE
      const id = keys.toString('latin1', ko, ko + KEY_SIZE)
      const cookie = id.slice(0, 8)
      const state = values[vo + Stats.STATE]!
      const established = (state & FlowState.ESTABLISHED) !== 0
      const closed = (state & FlowState.CLOSED) !== 0
      const bytesSent = readCounter(values, vo + Stats.BYTES_SENT)
      const bytesReceived = readCounter(values, vo + Stats.BYTES_RECEIVED)
      const totalRetrans = values.readUInt32LE(vo + Stats.TOTAL_RETRANS)
      let seen = this.seen.get(id)
      const known = seen !== undefined
      // A connection older than netlens: its past retransmits are not news, start counting from here.
      seen ??= { bytesSent: 0, bytesReceived: 0, changedAt: now, established: false, totalRetrans: established ? 0 : totalRetrans }
      const sent = Math.max(0, bytesSent - seen.bytesSent)
      const received = Math.max(0, bytesReceived - seen.bytesReceived)
      const retransmits = Math.max(0, totalRetrans - seen.totalRetrans)
      const newlyEstablished = established && !seen.established
      const changed = sent > 0 || received > 0 || retransmits > 0 || newlyEstablished || closed
      const entry = ownerByCookie.get(cookie)
      const tcp = values[vo + Stats.PROTOCOL] === IPPROTO_TCP

      if (changed && !entry && !closed && !final && tcp) {
        const since = this.awaitingOwner.get(id) ?? now
        if (now - since < this.options.ownerGraceMs) {
          this.awaitingOwner.set(id, since) // not reported, not recorded as seen: the deltas wait with it
          continue
        }
      }
      if (this.awaitingOwner.size > 0) this.awaitingOwner.delete(id)
      if (changed) this.add(aggregated, flows, i, entry?.owner, sent, received, retransmits, newlyEstablished, closed)

      if (changed) seen.changedAt = now
      if (closed || now - seen.changedAt >= this.options.idleTimeoutMs) {
        // Only entries this deletes are forgotten: an entry a dump happened to miss must not be replayed later.
        if (known) this.seen.delete(id)
        staleFlows.push(keys.subarray(ko, ko + KEY_SIZE))
        if (closed && tcp && entry) {
          staleOwners.push(entry.key)
          ownerByCookie.delete(cookie)
        }
        continue
      }
      cookiesWithFlows.add(cookie)
      seen.bytesSent = bytesSent
      seen.bytesReceived = bytesReceived
      seen.totalRetrans = totalRetrans
      seen.established ||= established
      if (!known) this.seen.set(id, seen)
    }
    this.expireOwnerless(ownerByCookie, cookiesWithFlows, now, staleOwners)

    return { records: aggregated.records(), staleFlows, staleOwners }
  }

  private expireOwnerless(
    owners: Map<string, { key: Buffer }>, withFlows: Set<string>, now: number, stale: Buffer[],
  ): void {
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
    aggregated: Aggregation, flows: MapEntries, index: number, owner: Owner | undefined,
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
    const [source, destination] = direction === 'incoming' ? [remote, local] : [local, remote]
    // The client's port is ephemeral by the kernel's own account of who connected; with no such account, only a
    // port inside the local ephemeral range is collapsed.
    if (this.options.collapsePort(source.port)) source.port = 0
    else if (direction === 'unknown' && this.options.collapsePort(destination.port)) destination.port = 0

    const transport = tcp ? 'tcp' : 'udp'
    const pid = owner?.pid ?? 0
    const comm = owner?.comm ?? ''
    const netns = owner?.netns ?? 0
    const id = `${netns}|${pid}|${comm}|${transport}|${family}|${direction}|${source.address}|${source.port}|${destination.address}|${destination.port}`
    let record = aggregated.get(id)
    if (!record) {
      record = {
        kind: 'flow', transport, family, direction, source, destination, netns, pid, comm,
        bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0, attributes: {},
      }
      aggregated.set(id, record)
    }
    record.bytesSent += sent
    record.bytesReceived += received
    record.retransmits += retransmits
    if (newlyEstablished) record.established++
    if (closed) record.closed++
    const srttUs = values.readUInt32LE(vo + Stats.SRTT_US)
    if (tcp && srttUs > 0) aggregated.addRtt(id, record, srttUs, values.readUInt32LE(vo + Stats.RTTVAR_US))
  }
}

/** Flow records by identity; the RTT of a record is the mean over the sockets folded into it. */
class Aggregation {
  private readonly byId = new Map<string, FlowRecord>()
  private readonly rttSamples = new Map<string, number>()

  get(id: string): FlowRecord | undefined {
    return this.byId.get(id)
  }

  set(id: string, record: FlowRecord): void {
    this.byId.set(id, record)
  }

  addRtt(id: string, record: FlowRecord, srttUs: number, rttVarUs: number): void {
    const samples = (this.rttSamples.get(id) ?? 0) + 1
    this.rttSamples.set(id, samples)
    record.rttUs = (record.rttUs ?? 0) + (srttUs - (record.rttUs ?? 0)) / samples
    record.rttVarUs = (record.rttVarUs ?? 0) + (rttVarUs - (record.rttVarUs ?? 0)) / samples
  }

  records(): FlowRecord[] {
    return [...this.byId.values()]
  }
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
