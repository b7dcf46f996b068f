// The TCP connections the packet tracker follows, found from a decoded segment in either direction. Every segment
// needs this lookup, so it builds no key: a connection is filed under a numeric hash of its two endpoints that is
// the same both ways (the hash of each endpoint, XORed), and confirmed by comparing family, addresses and ports
// (a collision is never taken for a match; colliding connections chain). A string key of the four-tuple cost more
// than the rest of a request's decoding. Connections also stay in the order they were opened, to evict the oldest.
import type { TcpSegment } from '../../net/tcp-segment.ts'

/** The four-tuple part of a tracked connection; the tracker's connection type extends it. */
export interface TupleEntry {
  family: 4 | 6
  client0: number
  client1: number
  client2: number
  client3: number
  server0: number
  server1: number
  server2: number
  server3: number
  clientPort: number
  serverPort: number
  /** Set by ConnectionTable. */
  hash: number
  /** The next connection under the same hash. */
  nextSameHash: TupleEntry | undefined
}

/** Endpoint fields of a new entry, from the segment that opens it. */
export function tupleOf(segment: TcpSegment, sourceIsClient: boolean): Omit<TupleEntry, 'hash' | 'nextSameHash'> {
  const s = segment
  return sourceIsClient
    ? {
        family: s.family, client0: s.source0, client1: s.source1, client2: s.source2, client3: s.source3,
        server0: s.destination0, server1: s.destination1, server2: s.destination2, server3: s.destination3,
        clientPort: s.sourcePort, serverPort: s.destinationPort,
      }
    : {
        family: s.family, client0: s.destination0, client1: s.destination1, client2: s.destination2, client3: s.destination3,
        server0: s.source0, server1: s.source1, server2: s.source2, server3: s.source3,
        clientPort: s.destinationPort, serverPort: s.sourcePort,
      }
}

function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ w1 ^ (h >>> 15), 0xc2b2ae35)
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0x85ebca6b)
  h = Math.imul(h ^ w3 ^ (h >>> 16), 0xc2b2ae35)
  h = Math.imul(h ^ port ^ (h >>> 15), 0x27d4eb2f)
  return h ^ (h >>> 16)
}

/** Same for both directions of a connection. Kept within small integers, which Map keys best. */
function segmentHash(s: TcpSegment): number {
  return (endpointHash(s.source0, s.source1, s.source2, s.source3, s.sourcePort) ^
    endpointHash(s.destination0, s.destination1, s.destination2, s.destination3, s.destinationPort)) & 0x3fffffff
}

const isSource = (s: TcpSegment, e: TupleEntry) =>
  s.sourcePort === e.clientPort && s.destinationPort === e.serverPort &&
  s.source0 === e.client0 && s.destination0 === e.server0 && s.source1 === e.client1 && s.source2 === e.client2 &&
  s.source3 === e.client3 && s.destination1 === e.server1 && s.destination2 === e.server2 && s.destination3 === e.server3

const isDestination = (s: TcpSegment, e: TupleEntry) =>
  s.destinationPort === e.clientPort && s.sourcePort === e.serverPort &&
  s.destination0 === e.client0 && s.source0 === e.server0 && s.destination1 === e.client1 && s.destination2 === e.client2 &&
  s.destination3 === e.client3 && s.source1 === e.server1 && s.source2 === e.server2 && s.source3 === e.server3

export class ConnectionTable<T extends TupleEntry> {
  private readonly byHash = new Map<number, T>()
  /** Every connection, oldest first. */
  private readonly opened = new Set<T>()
  /** Whether the segment of the last successful find() came from the client. */
  fromClient = false

  get size(): number {
    return this.opened.size
  }

  /** The connection of `segment`, either direction (fromClient tells which). */
  find(segment: TcpSegment): T | undefined {
    for (let e = this.byHash.get(segmentHash(segment)); e; e = e.nextSameHash as T | undefined) {
      if (e.family !== segment.family) continue
      if (isSource(segment, e)) {
        this.fromClient = true
        return e
      }
      if (isDestination(segment, e)) {
        this.fromClient = false
        return e
      }
    }
    return undefined
  }

  /** Files a connection opened from `segment` (not already in the table). */
  add(entry: T, segment: TcpSegment): void {
    entry.hash = segmentHash(segment)
    entry.nextSameHash = this.byHash.get(entry.hash)
    this.byHash.set(entry.hash, entry)
    this.opened.add(entry)
  }

  delete(entry: T): void {
    if (!this.opened.delete(entry)) return
    const first = this.byHash.get(entry.hash)
    if (first === entry) {
      if (entry.nextSameHash) this.byHash.set(entry.hash, entry.nextSameHash as T)
      else this.byHash.delete(entry.hash)
    } else {
      for (let e = first; e; e = e.nextSameHash as T | undefined) {
        if (e.nextSameHash === entry) {
          e.nextSameHash = entry.nextSameHash
          break
        }
      }
    }
    entry.nextSameHash = undefined
  }

  oldest(): T | undefined {
    return this.opened.values().next().value
  }

  values(): IterableIterator<T> {
    return this.opened.values()
  }

  clear(): void {
    this.byHash.clear()
    this.opened.clear()
  }
}
