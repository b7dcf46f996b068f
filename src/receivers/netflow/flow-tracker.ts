// Turns the kernel's cumulative per-socket counters into per-interval flow records.
// The kernel keeps one entry per (socket cookie, peer); this keeps the last values seen for each entry, reports
// the difference, joins the socket's owner, decides source/destination from the kernel's direction, collapses
// client ports, aggregates entries that become the same flow, and says which entries to delete (closed or idle).
import type { MapEntries } from '../../native/types.ts'
import type { Direction, FlowRecord } from '../../records.ts'
import {
  decodeFlow, decodeOwner, FlowDirection, FlowState, IPPROTO_TCP, OWNER_SIZE,
  type FlowEntry, type Owner,
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
  private readonly seen = new Map<string, Seen>()
  /**
   * Accepted TCP sockets get their owner when the process first reads, writes or closes (the handshake completes
   * in softirq, outside any process): a flow first seen without one waits a little, since when (ms).
   */
  private readonly awaitingOwner = new Map<string, number>()
  /** Owners with no flow entry, since when (ms): deleted after the idle timeout. */
  private readonly ownerless = new Map<bigint, number>()
  private readonly options: TrackerOptions

  constructor(options: TrackerOptions) {
    this.options = options
  }

  get trackedEntries(): number {
    return this.seen.size
  }

  /** `final`: the last harvest before the maps go away, so nothing waits for a later one. */
  harvest(flows: MapEntries, owners: MapEntries, now: number, final = false): HarvestResult {
    const ownerByCookie = new Map<bigint, Owner>()
    const ownerKeys = new Map<bigint, Buffer>()
    for (let i = 0; i < owners.count; i++) {
      const key = owners.keys.subarray(i * 8, i * 8 + 8)
      const cookie = key.readBigUInt64LE(0)
      ownerByCookie.set(cookie, decodeOwner(owners.values, i * OWNER_SIZE))
      ownerKeys.set(cookie, key)
    }

    const aggregated = new Map<string, FlowRecord & { rttSamples: number }>()
    const staleFlows: Buffer[] = []
    const staleOwners: Buffer[] = []
    const cookiesWithFlows = new Set<bigint>()

    for (let i = 0; i < flows.count; i++) {
      const entry = decodeFlow(flows.keys, flows.values, i)
      const id = entry.key.toString('hex')
      const established = (entry.state & FlowState.ESTABLISHED) !== 0
      const closed = (entry.state & FlowState.CLOSED) !== 0
      // A connection older than netlens: its past retransmits are not news, start counting from here.
      const before = this.seen.get(id) ?? {
        bytesSent: 0, bytesReceived: 0, changedAt: now, established: false,
        totalRetrans: established ? 0 : entry.totalRetrans,
      }
      const sent = Math.max(0, entry.bytesSent - before.bytesSent)
      const received = Math.max(0, entry.bytesReceived - before.bytesReceived)
      const retransmits = Math.max(0, entry.totalRetrans - before.totalRetrans)
      const newlyEstablished = established && !before.established
      const changed = sent > 0 || received > 0 || retransmits > 0 || newlyEstablished || closed
      const owner = ownerByCookie.get(entry.cookie)
      if (changed && !owner && !closed && !final && entry.protocol === IPPROTO_TCP) {
        const since = this.awaitingOwner.get(id) ?? now
        if (now - since < this.options.ownerGraceMs) {
          this.awaitingOwner.set(id, since) // not reported, not recorded as seen: the deltas wait with it
          continue
        }
      }
      this.awaitingOwner.delete(id)

      if (changed) this.add(aggregated, entry, owner, { sent, received, retransmits, newlyEstablished, closed })

      const changedAt = changed ? now : before.changedAt
      if (closed || now - changedAt >= this.options.idleTimeoutMs) {
        // Only entries this deletes are forgotten: an entry a dump happened to miss must not be replayed later.
        this.seen.delete(id)
        staleFlows.push(entry.key)
        if (closed && entry.protocol === IPPROTO_TCP) {
          const ownerKey = ownerKeys.get(entry.cookie)
          if (ownerKey) staleOwners.push(ownerKey)
          ownerKeys.delete(entry.cookie)
        }
        continue
      }
      cookiesWithFlows.add(entry.cookie)
      this.seen.set(id, {
        bytesSent: entry.bytesSent, bytesReceived: entry.bytesReceived, totalRetrans: entry.totalRetrans,
        established: established || before.established, changedAt,
      })
    }
    this.expireOwnerless(ownerKeys, cookiesWithFlows, now, staleOwners)

    const records = [...aggregated.values()].map(({ rttSamples, ...record }) => {
      if (rttSamples > 0) {
        record.rttUs = record.rttUs! / rttSamples
        record.rttVarUs = record.rttVarUs! / rttSamples
      }
      return record
    })
    return { records, staleFlows, staleOwners }
  }

  private expireOwnerless(owners: Map<bigint, Buffer>, withFlows: Set<bigint>, now: number, stale: Buffer[]): void {
    for (const cookie of this.ownerless.keys()) if (!owners.has(cookie) || withFlows.has(cookie)) this.ownerless.delete(cookie)
    for (const [cookie, key] of owners) {
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
    aggregated: Map<string, FlowRecord & { rttSamples: number }>,
    entry: FlowEntry,
    owner: Owner | undefined,
    delta: { sent: number; received: number; retransmits: number; newlyEstablished: boolean; closed: boolean },
  ): void {
    const direction = directionOf(entry, owner)
    const local = { address: entry.localAddress, port: entry.localPort }
    const remote = { address: entry.remoteAddress, port: entry.remotePort }
    const [source, destination] = direction === 'incoming' ? [remote, local] : [local, remote]
    // The client's port is ephemeral by the kernel's own account of who connected; with no such account, only a
    // port inside the local ephemeral range is collapsed.
    if (direction !== 'unknown') {
      if (this.options.collapsePort(source.port)) source.port = 0
    } else {
      if (this.options.collapsePort(source.port)) source.port = 0
      else if (this.options.collapsePort(destination.port)) destination.port = 0
    }
    const transport = entry.protocol === IPPROTO_TCP ? 'tcp' : 'udp'
    const pid = owner?.pid ?? 0
    const comm = owner?.comm ?? ''
    const netns = owner?.netns ?? 0
    const id = [netns, pid, comm, transport, entry.family, direction, source.address, source.port,
      destination.address, destination.port].join('|')
    let record = aggregated.get(id)
    if (!record) {
      record = {
        kind: 'flow', transport, family: entry.family, direction, source, destination, netns, pid, comm,
        bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0, attributes: {}, rttSamples: 0,
      }
      aggregated.set(id, record)
    }
    record.bytesSent += delta.sent
    record.bytesReceived += delta.received
    record.retransmits += delta.retransmits
    if (delta.newlyEstablished) record.established++
    if (delta.closed) record.closed++
    if (entry.protocol === IPPROTO_TCP && entry.srttUs > 0) {
      record.rttUs = (record.rttUs ?? 0) + entry.srttUs
      record.rttVarUs = (record.rttVarUs ?? 0) + entry.rttVarUs
      record.rttSamples++
    }
  }
}

/** Direction from kernel facts only: the TCP handshake the kernel saw, or a UDP port chosen by bind(). */
function directionOf(entry: FlowEntry, owner: Owner | undefined): Direction {
  if (entry.protocol === IPPROTO_TCP) {
    if (entry.direction === FlowDirection.OUTGOING) return 'outgoing'
    if (entry.direction === FlowDirection.INCOMING) return 'incoming'
    return 'unknown'
  }
  if (!owner) return 'unknown'
  return owner.udpBound ? 'incoming' : 'outgoing'
}

