// The dns receiver: captures DNS traffic (the configured ports, UDP and/or TCP) through PacketCapture, turns frames
// into records with DnsTracker, and every flush_interval hands the finished ones on as one batch. Capture losses
// (ring full, queue full, filter drops) join the tracker's own drops in self-telemetry.
import type { CreateSettings, Consumer, Host, Receiver } from '../../component/types.ts'
import { PacketCapture } from '../../capture/packet-capture.ts'
import { framesOf } from '../../native/frames.ts'
import type { PacketBatch } from '../../native/types.ts'
import type { DnsConfig } from './config.ts'
import { DnsTelemetry } from './telemetry.ts'
import { DEFAULT_TRACKER_OPTIONS, DnsTracker } from './tracker.ts'

/**
 * Frames reach JS up to a ring block timeout (50 ms) plus a hand-over after the kernel stamped them, so a
 * response may still be on its way when its query's timeout falls due: expire that much later.
 */
const CAPTURE_DELAY_GRACE_NS = 250_000_000n

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
    for (const frame of framesOf(batch)) {
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
    // Under load the ring's batches can hold the event loop for a second or more (measured by bench/dns-load.ts),
    // so the flush timer would fire late and the tracker's buffer overflow (buffer_full): flush on time from here.
    if (Date.now() - this.lastFlushMs >= this.config.flush_interval) this.flushSafely()
  }

  /**
   * Hands on the records finished so far. Queries time out as of now (less the capture delay) when JS has seen
   * every captured frame; while batches still wait for JS (the event loop was held up), as of the newest frame
   * handled, so a response already captured is never beaten by its query's timeout.
   */
  flush(): void {
    this.lastFlushMs = Date.now()
    const behind = (this.capture?.stats().ring.queuedBatches ?? 0) > 0
    const horizonNs = (behind ? this.lastFrameNs : nowNs()) - CAPTURE_DELAY_GRACE_NS
    const records = this.tracker.collect(horizonNs)
    if (this.capture) for (const { reason, count } of this.capture.takeDrops()) this.telemetry.dropped(reason, count)
    if (records.length === 0) return
    this.next.consume({ records })
  }

  private flushSafely(): void {
    try {
      this.flush()
    } catch (error) {
      this.host?.reportFatal(new Error(`"${this.settings.id}" receiver flush failed: ${(error as Error).message}`, { cause: error }))
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    const capture = this.capture
    if (!capture) return
    try {
      capture.close()
      this.flush()
    } finally {
      this.capture = undefined
      this.tracker.clear()
    }
  }
}
