// PacketCapture: frames of the given UDP/TCP ports, at the network layer, in batches (see src/native/frames.ts to
// walk them). The port filter runs in the kernel on the packet socket, so nothing else reaches user space; loopback
// frames are delivered once (the incoming copy). The dns receiver is its first user:
//
//   const capture = PacketCapture.open({ ports: [53] }, (batch) => { for (const frame of framesOf(batch)) ... })
//   for (const { reason, count } of capture.takeDrops()) telemetry.dropped(reason, count)   // periodically
//   capture.close()                                                                          // in shutdown()
import { loadNative, type BpfObject, type PacketBatch, type PacketRing, type PacketRingStats } from '../native/index.ts'
import { HttpExchanges } from './http-exchanges.ts'
import {
  loadPortFilter, PayloadSkips, readPortFilterCounters, type PortFilterCounters, type PortFilterOptions,
} from './port-filter.ts'

export interface PacketCaptureOptions extends PortFilterOptions {
  /** One interface; every interface of the current network namespace when absent or empty. */
  interface?: string
  /** TPACKET_V3 ring geometry and hand-over (defaults: 1 MiB x 32 blocks, 2048-byte frames, 50 ms, 64 batches). */
  blockSize?: number
  blockCount?: number
  frameSize?: number
  blockTimeoutMs?: number
  maxQueuedBatches?: number
  /**
   * With trackExchanges: where the HTTP exchanges the filter read whole arrive (http-exchanges.ts decodes nothing
   * HTTP; the events are views valid during the call).
   */
  onExchanges?: (events: Buffer[]) => void
}

/**
 * Reasons under which captured traffic can be lost, as `netlens.records.dropped{reason}` values. `ip_fragment`:
 * later IP fragments the filter dropped because their first fragment was not kept, mostly other ports' traffic.
 */
export type CaptureDropReason = 'capture_ring_full' | 'capture_queue_full' | 'ip_fragment' | 'malformed_packet'

export interface CaptureStats {
  ring: PacketRingStats
  filter: PortFilterCounters
}

export class PacketCapture {
  private readonly filter: BpfObject
  private readonly ring: PacketRing
  private readonly reported = new Map<CaptureDropReason, number>()
  private closed = false
  private last: CaptureStats | undefined
  /** Payload ranges the filter leaves out (with PacketCaptureOptions.skipMinPayload). */
  readonly skips: PayloadSkips
  /** The filter's HTTP exchange tracking, with PacketCaptureOptions.trackExchanges. */
  readonly exchanges: HttpExchanges | undefined

  private constructor(filter: BpfObject, ring: PacketRing, exchanges: HttpExchanges | undefined) {
    this.filter = filter
    this.ring = ring
    this.skips = new PayloadSkips(filter)
    this.exchanges = exchanges
  }

  /** Loads the filter and opens the ring; `onBatch` runs on the event loop until close(). */
  static open(options: PacketCaptureOptions, onBatch: (batch: PacketBatch) => void): PacketCapture {
    const filter = loadPortFilter(options)
    let exchanges: HttpExchanges | undefined
    try {
      if (options.trackExchanges) exchanges = new HttpExchanges(filter, options.onExchanges ?? (() => {}))
      const ring = new (loadNative().PacketRing)({
        ...(options.interface ? { interface: options.interface } : {}),
        filterProgramFd: filter.programFd('port_filter'),
        blockSize: options.blockSize,
        blockCount: options.blockCount,
        frameSize: options.frameSize,
        blockTimeoutMs: options.blockTimeoutMs,
        maxQueuedBatches: options.maxQueuedBatches,
      }, onBatch)
      return new PacketCapture(filter, ring, exchanges)
    } catch (error) {
      exchanges?.close()
      filter.close()
      throw error
    }
  }

  /** Counters since open; after close(), their last values. */
  stats(): CaptureStats {
    if (this.closed) {
      if (!this.last) throw new Error('capture: closed')
      return this.last
    }
    return { ring: this.ring.stats(), filter: readPortFilterCounters(this.filter) }
  }

  /** Cumulative losses by reason. Loopback duplicates and frames of other ports are not losses. */
  drops(): Record<CaptureDropReason, number> {
    const { ring, filter } = this.stats()
    return {
      capture_ring_full: ring.drops,
      capture_queue_full: ring.queueDrops,
      ip_fragment: filter.fragment,
      malformed_packet: filter.malformed,
    }
  }

  /** Losses since the previous call, non-zero ones only: what to add to `netlens.records.dropped`. */
  takeDrops(): Array<{ reason: CaptureDropReason; count: number }> {
    const deltas: Array<{ reason: CaptureDropReason; count: number }> = []
    for (const [reason, total] of Object.entries(this.drops()) as Array<[CaptureDropReason, number]>) {
      const count = total - (this.reported.get(reason) ?? 0)
      if (count > 0) deltas.push({ reason, count })
      this.reported.set(reason, total)
    }
    return deltas
  }

  /** Stops the capture thread, closes the socket and unloads the filter. Idempotent; no callback runs after it. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.skips.close()
    try {
      this.ring.close()
      this.exchanges?.close()
      this.last = { ring: this.ring.stats(), filter: readPortFilterCounters(this.filter) }
    } finally {
      this.filter.close()
    }
  }
}
