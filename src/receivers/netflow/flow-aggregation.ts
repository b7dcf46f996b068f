// One harvest's flow records by identity (netns, pid, comm, transport, family, direction, both endpoints): kernel
// entries that become the same flow (collapsed client ports, several sockets of one process) add up in one record.
// The identity is hashed from numbers (addresses and names get small ids) and confirmed field by field, instead of
// building a key string per entry.
import type { Direction, FlowRecord } from '../../records.ts'

/** What makes two records the same flow. */
type FlowIdentity = Pick<FlowRecord, 'netns' | 'pid' | 'comm' | 'transport' | 'family' | 'direction' | 'source' | 'destination'>

/** Keys stay within V8's small integers, which a Map hashes without allocating a heap number. */
const SMALL_INT = 0x3fffffff
const DIRECTION_CODES: Record<Direction, number> = { unknown: 0, incoming: 1, outgoing: 2 }

export class FlowAggregation {
  /** By hash; a colliding identity probes hash+1, hash+2, ... */
  private readonly byHash = new Map<number, FlowRecord>()
  private readonly rttSamples = new Map<FlowRecord, number>()
  /** Small ids for the strings of this harvest (addresses, process names). */
  private readonly ids = new Map<string, number>()

  /** The record already holding `candidate`'s flow, or `candidate` itself, which then holds it. */
  recordOf(candidate: FlowRecord): FlowRecord {
    let key = this.hash(candidate)
    for (;;) {
      const record = this.byHash.get(key)
      if (record === undefined) break
      if (sameFlow(record, candidate)) return record
      key = (key + 1) & SMALL_INT
    }
    this.byHash.set(key, candidate)
    return candidate
  }

  /** The RTT of a record is the mean over the sockets folded into it. */
  addRtt(record: FlowRecord, srttUs: number, rttVarUs: number): void {
    const samples = (this.rttSamples.get(record) ?? 0) + 1
    this.rttSamples.set(record, samples)
    record.rttUs = (record.rttUs ?? 0) + (srttUs - (record.rttUs ?? 0)) / samples
    record.rttVarUs = (record.rttVarUs ?? 0) + (rttVarUs - (record.rttVarUs ?? 0)) / samples
  }

  records(): FlowRecord[] {
    return [...this.byHash.values()]
  }

  private hash(flow: FlowIdentity): number {
    let h = mix(0x811c9dc5, flow.netns)
    h = mix(h, flow.pid)
    h = mix(h, this.idOf(flow.comm))
    h = mix(h, (flow.transport === 'tcp' ? 1 : 0) | (flow.family === 'ipv6' ? 2 : 0) | (DIRECTION_CODES[flow.direction] << 2))
    h = mix(h, this.idOf(flow.source.address))
    h = mix(h, flow.source.port)
    h = mix(h, this.idOf(flow.destination.address))
    return mix(h, flow.destination.port) & SMALL_INT
  }

  private idOf(text: string): number {
    let id = this.ids.get(text)
    if (id === undefined) {
      id = this.ids.size
      this.ids.set(text, id)
    }
    return id
  }
}

function mix(h: number, value: number): number {
  const m = Math.imul(h ^ value, 0x9e3779b1)
  return m ^ (m >>> 15)
}

function sameFlow(record: FlowRecord, flow: FlowIdentity): boolean {
  return record.pid === flow.pid && record.netns === flow.netns && record.comm === flow.comm &&
    record.transport === flow.transport && record.family === flow.family && record.direction === flow.direction &&
    record.source.port === flow.source.port && record.destination.port === flow.destination.port &&
    record.source.address === flow.source.address && record.destination.address === flow.destination.address
}
