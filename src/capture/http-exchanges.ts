// The capture filter's HTTP exchange tracking (bpf/http_exchange.bpf.h), seen from user space: the ring of exchanges
// it read whole, the handovers of connections it stopped reading, its counters, and the sweep of its table (a peer
// that vanished without FIN or RST leaves an entry behind). No HTTP here: records are decoded by the http receiver.
// Offsets mirror bpf/http_exchange.h (x86-64 / arm64 little-endian layout, checked by -Wpadded).
import { readCounters } from '../native/counters.ts'
import { recordsOf } from '../native/frames.ts'
import { loadNative, type BpfMap, type BpfObject, type RingReader } from '../native/index.ts'

/** struct http_exchange_request, at the start of an event, a handover and (at STATE.PENDING) a state. */
export const REQUEST = { START_NS: 0, LINE_LENGTH: 8, HEAD: 10, LINE: 16, SIZE: 272 } as const
/** struct http_exchange_event. */
export const EVENT = {
  RESPONSE_NS: 272, STATUS: 280, FAMILY: 282, SIDE: 283, CLIENT_PORT: 284, SERVER_PORT: 286, CLIENT: 288, SERVER: 304,
  SIZE: 320,
} as const
const HANDOVER = { CLIENT_NEXT: 272, SERVER_NEXT: 276, CLIENT_IS_A: 280 } as const
const STATE = { LAST_SEEN_NS: 16, PENDING: 32 } as const
/**
 * The filter sends events without waking the reader (a wake-up per event cost more than reading the exchange):
 * the reader reads the ring this often. 10 ms at 100k exchanges/s is ~3 MiB of the 4 MiB ring... too close; 5 ms.
 */
const POLL_INTERVAL_MS = 5
/** HTTP_EXCHANGE_SIDE_CLIENT */
export const SIDE_CLIENT = 0

/** enum http_exchange_counter, in order. */
const COUNTER_NAMES = [
  'sent', 'ringFull', 'tableFull', 'handoverLost', 'unansweredAtClose', 'handoverRequest', 'handoverResponse',
  'handoverSequence', 'handoverPipelined', 'handoverUnpaired', 'lockBusy',
] as const
export type ExchangeCounterName = (typeof COUNTER_NAMES)[number]
export type ExchangeCounters = Record<ExchangeCounterName, number>

/** One direction of a TCP connection: addresses as 32-bit big-endian words (IPv4: word 0), ports in host order. */
export interface SegmentEndpoints {
  family: 4 | 6
  source0: number
  source1: number
  source2: number
  source3: number
  destination0: number
  destination1: number
  destination2: number
  destination3: number
  sourcePort: number
  destinationPort: number
}

/** Where user space takes over a connection the filter followed from its SYN. */
export interface Handover {
  sourceIsClient: boolean
  /** Sequence numbers of each direction's next message. */
  clientNext: number
  serverNext: number
  /** The request awaiting its response: its line (a copy) and when it was captured (CLOCK_MONOTONIC ns). */
  pending?: { line: Buffer; startNs: number }
}

/** What a sweep removed: entries whose request waited past the timeout, and silent ones with one waiting. */
export interface SweepResult {
  timedOut: number
  idleUnanswered: number
}

export class HttpExchanges {
  private readonly filter: BpfObject
  private readonly table: BpfMap
  private readonly handovers: BpfMap
  private readonly reader: RingReader
  private readonly key = Buffer.alloc(40)
  private closed = false
  /** The counters when the filter's maps were last readable (close). */
  private last: ExchangeCounters | undefined
  private lastQueueLost = 0
  /** Ring records that were not whole events. */
  malformed = 0

  /** Starts reading the filter's exchange ring; `onEvents` gets each batch's events (views, valid during the call). */
  constructor(filter: BpfObject, onEvents: (events: Buffer[]) => void) {
    this.filter = filter
    this.table = filter.map('http_exchanges')
    this.handovers = filter.map('http_exchange_handovers')
    this.reader = new (loadNative().RingReader)(
      filter.map('http_exchange_events'),
      { maxBatchRecords: 4096, maxBatchDelayMs: 20, maxQueuedBatches: 256, pollIntervalMs: POLL_INTERVAL_MS },
      (batch) => {
        const events: Buffer[] = []
        for (const record of recordsOf(batch)) {
          if (record.length >= EVENT.SIZE) events.push(record)
          else this.malformed++
        }
        onEvents(events)
      },
    )
  }

  /** Events JS did not keep up with (the reader's queue was full), since open. */
  get queueLost(): number {
    return this.closed ? this.lastQueueLost : this.reader.stats().lost
  }

  /** The handover of the segment's connection, removed from the filter's map; none when the filter never had it. */
  take(segment: SegmentEndpoints): Handover | undefined {
    if (this.closed) return undefined
    const sourceIsA = this.keyOf(segment)
    const value = this.handovers.lookup(this.key)
    if (!value) return undefined
    this.handovers.delete(this.key)
    const clientIsA = value[HANDOVER.CLIENT_IS_A] === 1
    const lineLength = value.readUInt16LE(REQUEST.LINE_LENGTH)
    return {
      sourceIsClient: clientIsA === sourceIsA,
      clientNext: value.readUInt32LE(HANDOVER.CLIENT_NEXT),
      serverNext: value.readUInt32LE(HANDOVER.SERVER_NEXT),
      pending: lineLength > 0
        ? { line: Buffer.from(value.subarray(REQUEST.LINE, REQUEST.LINE + lineLength)), startNs: Number(value.readBigUInt64LE(REQUEST.START_NS)) }
        : undefined,
    }
  }

  /**
   * Removes entries whose request has waited since before `timeoutBeforeNs`, and those silent since before
   * `idleBeforeNs` (CLOCK_MONOTONIC ns); their later segments, if any, go to user space as a connection joined late.
   */
  sweep(timeoutBeforeNs: number, idleBeforeNs: number): SweepResult {
    const result: SweepResult = { timedOut: 0, idleUnanswered: 0 }
    if (this.closed) return result
    const { keys, values, count } = this.table.dump()
    const size = this.table.valueSize
    const doomed: Buffer[] = []
    for (let i = 0; i < count; i++) {
      const value = values.subarray(i * size, (i + 1) * size)
      const waiting = value.readUInt16LE(STATE.PENDING + REQUEST.LINE_LENGTH) > 0
      if (waiting && Number(value.readBigUInt64LE(STATE.PENDING + REQUEST.START_NS)) < timeoutBeforeNs) result.timedOut++
      else if (Number(value.readBigUInt64LE(STATE.LAST_SEEN_NS)) < idleBeforeNs) result.idleUnanswered += waiting ? 1 : 0
      else continue
      doomed.push(keys.subarray(i * 40, (i + 1) * 40))
    }
    if (doomed.length > 0) this.table.deleteMany(Buffer.concat(doomed), doomed.length)
    return result
  }

  /** The filter's exchange counters, summed over CPUs. */
  counters(): ExchangeCounters {
    return this.last ?? readCounters(this.filter.map('http_exchange_counters'), COUNTER_NAMES)
  }

  /**
   * Stops the reader (events still in the ring are counted in queueLost) and keeps the last counters. Idempotent;
   * the filter is closed by its owner, after this.
   */
  close(): void {
    if (this.closed) return
    this.reader.close()
    this.lastQueueLost = this.reader.stats().lost
    this.last = this.counters()
    this.closed = true
  }

  /** Fills this.key as the filter does (endpoint a: the lower address, then port); returns whether the source is a. */
  private keyOf(s: SegmentEndpoints): boolean {
    const source = [s.source0, s.source1, s.source2, s.source3]
    const destination = [s.destination0, s.destination1, s.destination2, s.destination3]
    const words = s.family === 4 ? 1 : 4
    let sourceIsA = s.sourcePort <= s.destinationPort
    for (let i = 0; i < words; i++) {
      const a = source[i]! >>> 0
      const b = destination[i]! >>> 0
      if (a !== b) {
        sourceIsA = a < b
        break
      }
    }
    const [a, b] = sourceIsA ? [source, destination] : [destination, source]
    const key = this.key
    key.fill(0)
    key[0] = s.family
    key.writeUInt16BE(sourceIsA ? s.sourcePort : s.destinationPort, 4)
    key.writeUInt16BE(sourceIsA ? s.destinationPort : s.sourcePort, 6)
    for (let i = 0; i < words; i++) {
      key.writeUInt32BE(a[i]! >>> 0, 8 + 4 * i)
      key.writeUInt32BE(b[i]! >>> 0, 24 + 4 * i)
    }
    return sourceIsA
  }
}
