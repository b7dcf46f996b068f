// The dns receiver: captures DNS traffic (the configured ports, UDP and/or TCP) through PacketCapture, turns frames
// into records with DnsTracker, and every flush_interval hands the finished ones on in batches. Capture losses
// (ring full, queue full, filter drops) join the tracker's own drops in self-telemetry.
import type { CreateSettings, Consumer, Host, Receiver } from '../../component/types.ts'
import { PacketCapture } from '../../capture/packet-capture.ts'
import { FrameQueue } from '../../capture/frame-queue.ts'
import type { Frame } from '../../native/frames.ts'
import type { PacketBatch } from '../../native/types.ts'
import type { AnyRecord } from '../../records.ts'
import type { DnsConfig } from './config.ts'
import { DnsTelemetry } from './telemetry.ts'
import { DEFAULT_TRACKER_OPTIONS, DnsTracker } from './tracker.ts'

/**
 * Frames reach JS up to a ring block timeout (50 ms) plus a hand-over after the kernel stamped them, so a
 * response may still be on its way when its query's timeout falls due: expire that much later.
 */
const CAPTURE_DELAY_GRACE_NS = 250_000_000n

/**
 * Frames handled before yielding to the event loop: ~10 ms of work at ~10 µs per frame, so timers stay on time
 * (flushes, exports, health) while a backlog drains.
 */
const FRAMES_PER_SLICE = 1024
/**
 * Records per batch handed on. Each consume call runs the pipeline and exporters synchronously (~5 µs a record with
 * two SDK exporters), so a flush at 30k queries/s (~150 ms of work) goes on in parts, the event loop free between.
 */
const RECORDS_PER_BATCH = 2048
/**
 * Frames waiting for JS at most: ~1.3 s at 200k packets/s, ~35 MiB of batches, so a GC pause or a slow export is
 * absorbed; and batches (each pins a native buffer). A batch beyond either is counted `capture_queue_full`.
 */
const WAITING_LIMITS = { maxFrames: 262_144, maxBatches: 1024 }

const nowNs = () => BigInt(Date.now()) * 1_000_000n

export class DnsReceiver implements Receiver {
  private readonly settings: CreateSettings
  private readonly config: DnsConfig
  private readonly next: Consumer
  private readonly telemetry: DnsTelemetry
  private readonly tracker: DnsTracker
  private capture: PacketCapture | undefined
  private timer: NodeJS.Timeout | undefined
  private host: Host | undefined
  private failed = false
  private readonly waiting = new FrameQueue(WAITING_LIMITS)
  private sliceScheduled = false
  /** Parts of flushed records not yet handed on, oldest first. */
  private readonly outgoing: AnyRecord[][] = []
  private handOnScheduled = false
  private lastFlushMs = 0
  /** Capture time of the newest frame handled (CLOCK_REALTIME ns). */
  private lastFrameNs = 0n

  constructor(settings: CreateSettings, config: DnsConfig, next: Consumer) {
    this.settings = settings
    this.config = config
    this.next = next
    this.telemetry = new DnsTelemetry(settings.telemetry, settings.id)
    this.tracker = new DnsTracker(
      { ...DEFAULT_TRACKER_OPTIONS, timeoutNs: BigInt(config.timeout) * 1_000_000n, maxPending: config.max_pending },
      this.telemetry,
    )
    settings.telemetry.gauge(
      { name: 'netlens.dns.pending_queries', description: 'DNS queries awaiting their response.', unit: '{query}' },
      () => [{ attributes: { component: settings.id }, value: this.tracker.pendingQueries }],
    )
    settings.telemetry.gauge(
      { name: 'netlens.dns.tcp_streams', description: 'DNS-over-TCP connection directions being reassembled.', unit: '{stream}' },
      () => [{ attributes: { component: settings.id }, value: this.tracker.tcpStreams }],
    )
    settings.telemetry.gauge(
      { name: 'netlens.dns.fragmented_datagrams', description: 'IP datagrams waiting for the rest of their fragments.', unit: '{datagram}' },
      () => [{ attributes: { component: settings.id }, value: this.tracker.fragmentedDatagrams }],
    )
  }

  async start(host: Host): Promise<void> {
    this.host = host
    const { ports, transports } = this.config
    try {
      this.capture = PacketCapture.open(
        { ports, udp: transports.includes('udp'), tcp: transports.includes('tcp'), interface: this.config.interface },
        (batch) => this.onBatch(batch),
      )
    } catch (error) {
      throw new Error(`failed to start "${this.settings.id}" receiver: ${(error as Error).message}`, { cause: error })
    }
    this.timer = setInterval(() => this.flushSafely(), this.config.flush_interval)
    this.timer.unref()
    this.settings.logger.info('dns receiver started', {
      ports: ports.join(','), transports: transports.join(','), interface: this.config.interface || 'all',
    })
  }

  private onBatch(batch: PacketBatch): void {
    if (!this.waiting.push(batch)) {
      this.telemetry.dropped('capture_queue_full', batch.count)
      return
    }
    this.scheduleSlice()
  }

  private scheduleSlice(): void {
    if (this.sliceScheduled) return
    this.sliceScheduled = true
    setImmediate(() => this.handleSlice())
  }

  /** Handles the next slice of waiting frames, and schedules the one after it while frames remain. */
  private handleSlice(): void {
    this.sliceScheduled = false
    if (!this.capture) return // shut down: shutdown() handled what was waiting
    this.waiting.take(FRAMES_PER_SLICE, (frame) => this.handleFrame(frame))
    // The flush timer runs between slices; this keeps flushes on time should slices follow each other closely.
    if (Date.now() - this.lastFlushMs >= this.config.flush_interval) this.flushSafely()
    if (this.waiting.size > 0) this.scheduleSlice()
  }

  private handleFrame(frame: Frame): void {
    if (frame.timestampNs > this.lastFrameNs) this.lastFrameNs = frame.timestampNs
    try {
      this.tracker.handleFrame(frame)
    } catch (error) {
      // A bug, not bad input (that is counted by reason inside): count it and keep capturing.
      this.telemetry.dropped('internal_error')
      if (!this.failed) this.settings.logger.error('dns frame handling failed', { error })
      this.failed = true
    }
  }

  /**
   * Hands on the records finished so far. Queries time out as of now (less the capture delay) when JS has seen
   * every captured frame; while frames still wait for JS (in the native queue or between slices), as of the newest
   * frame handled, so a response already captured is never beaten by its query's timeout.
   */
  flush(): void {
    this.lastFlushMs = Date.now()
    const behind = this.waiting.size > 0 || (this.capture?.stats().ring.queuedBatches ?? 0) > 0
    const horizonNs = (behind ? this.lastFrameNs : nowNs()) - CAPTURE_DELAY_GRACE_NS
    const records = this.tracker.collect(horizonNs)
    if (this.capture) for (const { reason, count } of this.capture.takeDrops()) this.telemetry.dropped(reason, count)
    for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) this.outgoing.push(records.slice(i, i + RECORDS_PER_BATCH))
    this.handOnNext()
  }

  /** Hands on the oldest waiting part, and schedules the next one while parts remain. */
  private handOnNext(): void {
    const records = this.outgoing.shift()
    if (records) this.next.consume({ records })
    if (this.outgoing.length === 0 || this.handOnScheduled) return
    this.handOnScheduled = true
    setImmediate(() => {
      this.handOnScheduled = false
      this.guardFatal('hand-over', () => this.handOnNext())
    })
  }

  private flushSafely(): void {
    this.guardFatal('flush', () => this.flush())
  }

  private guardFatal(what: string, run: () => void): void {
    try {
      run()
    } catch (error) {
      this.host?.reportFatal(new Error(`"${this.settings.id}" receiver ${what} failed: ${(error as Error).message}`, { cause: error }))
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    const capture = this.capture
    if (!capture) return
    try {
      capture.close()
      // Frames captured before close are handled, not lost: the rest of the backlog in one go.
      this.waiting.take(Infinity, (frame) => this.handleFrame(frame))
      this.flush()
      while (this.outgoing.length > 0) this.handOnNext()
    } finally {
      this.capture = undefined
      this.tracker.clear()
    }
  }
}
