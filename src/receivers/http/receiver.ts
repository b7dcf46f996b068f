// The http receiver: plaintext HTTP/1.x from PacketCapture on the configured ports (PacketTracker), and HTTPS
// plaintext from OpenSSL uprobes (TlsSource → TlsTracker). Every flush_interval the finished exchanges of both go
// on as one batch; capture and kernel losses join the trackers' own drops in self-telemetry.
import type { CreateSettings, Consumer, Host, Receiver } from '../../component/types.ts'
import { PacketCapture } from '../../capture/packet-capture.ts'
import type { PacketBatch } from '../../native/types.ts'
import type { HttpRecord } from '../../records.ts'
import type { HttpConfig } from './config.ts'
import { BodySkips } from './body-skips.ts'
import type { ExchangeOptions } from './exchange.ts'
import { KernelExchanges } from './kernel-exchanges.ts'
import { findLibssl } from './libssl.ts'
import { PacketTracker } from './packet-tracker.ts'
import { RecordBuffer } from './record-buffer.ts'
import { MAX_METHOD_LENGTH } from './start-line.ts'
import { HttpTelemetry } from './telemetry.ts'
import type { TlsEvent } from './tls-event.ts'
import { TlsSource } from './tls-source.ts'
import { TlsTracker } from './tls-tracker.ts'

/** Frames reach JS up to a ring block timeout (50 ms) plus a hand-over after the kernel stamped them. */
const CAPTURE_DELAY_GRACE_NS = 250_000_000
/** A header block beyond this is not HTTP as any common server accepts it (nginx: 32 KiB, Node: 16 KiB). */
const MAX_HEADER_BYTES = 256 * 1024
const MAX_PENDING_PER_CONNECTION = 64
const MAX_EARLY_BYTES = 256 * 1024
const MAX_BUFFERED = 262_144
const MIN_IDLE_NS = 120_000_000_000
/**
 * Bodies with at least this much left are announced to the capture filter, which then hands over their segments
 * without payload (body-skips.ts): a map update saves copying (twice: into the ring, into the batch) that much.
 */
const SKIP_MIN_BODY = 16 * 1024
/** Segments with less payload are not looked up in the filter (no saving worth a hash lookup per frame). */
const SKIP_MIN_PAYLOAD = 1024

/** How often the filter's exchange table is swept for requests past the timeout and silent connections (at most). */
const MAX_SWEEP_INTERVAL_MS = 10_000

/** The filter's exchange counters that count lost requests, by their `netlens.records.dropped` reason. */
const KERNEL_EXCHANGE_LOSSES: Record<string, string> = {
  ringFull: 'exchange_ring_full',
  handoverLost: 'handover_lost',
  unansweredAtClose: 'unanswered_at_close',
  lockBusy: 'exchange_lock_busy',
  queueLost: 'capture_queue_full',
  malformed: 'malformed_batch',
}

const realtimeNs = () => Date.now() * 1_000_000
const monotonicNs = () => Number(process.hrtime.bigint())

export class HttpReceiver implements Receiver {
  private readonly settings: CreateSettings
  private readonly config: HttpConfig
  private readonly next: Consumer
  private readonly telemetry: HttpTelemetry
  private readonly packets: PacketTracker
  private readonly tls: TlsTracker
  /** Exchanges the capture filter read itself (config kernel_exchanges), and where their records wait. */
  private readonly kernel: KernelExchanges
  private readonly kernelRecords: RecordBuffer
  private readonly reportedKernel = new Map<string, number>()
  private nextSweepAt = 0
  private readonly idleNs: number
  private capture: PacketCapture | undefined
  private tlsSource: TlsSource | undefined
  private timer: NodeJS.Timeout | undefined
  private host: Host | undefined
  private failed = false
  private nextFlushAt = 0

  constructor(settings: CreateSettings, config: HttpConfig, next: Consumer) {
    this.settings = settings
    this.config = config
    this.next = next
    this.telemetry = new HttpTelemetry(settings.telemetry, settings.id)
    const exchange: ExchangeOptions = {
      limits: {
        lineCap: Math.max(1024, config.max_path_length + MAX_METHOD_LENGTH + 16),
        maxHeaderBytes: MAX_HEADER_BYTES,
        maxPathLength: config.max_path_length,
        redactQuery: config.redact_query,
      },
      maxPending: MAX_PENDING_PER_CONNECTION,
    }
    const timeoutNs = config.timeout * 1_000_000
    const idleNs = Math.max(2 * timeoutNs, MIN_IDLE_NS)
    this.idleNs = idleNs
    const common = { ...exchange, maxConnections: config.max_connections, timeoutNs, idleNs, maxBuffered: MAX_BUFFERED }
    // The capture opens in start(): until then (and after close) there is nothing to tell.
    const skips = new BodySkips({
      set: (direction, from, until) => this.capture?.skips.set(direction, from, until),
      delete: (direction) => this.capture?.skips.delete(direction),
    }, SKIP_MIN_BODY)
    this.kernelRecords = new RecordBuffer(MAX_BUFFERED, this.telemetry)
    this.kernel = new KernelExchanges(exchange.limits, this.kernelRecords)
    this.packets = new PacketTracker({
      ...common, serverPorts: new Set(config.ports), maxEarlyBytes: MAX_EARLY_BYTES, skips,
      handover: (segment) => this.kernel.handover(this.capture?.exchanges, segment),
    }, this.telemetry)
    this.tls = new TlsTracker(common, this.telemetry)
    settings.telemetry.gauge(
      { name: 'netlens.http.connections', description: 'HTTP connections being decoded, by source (packets, tls).', unit: '{connection}' },
      () => [
        { attributes: { component: settings.id, source: 'packets' }, value: this.packets.connectionCount },
        { attributes: { component: settings.id, source: 'tls' }, value: this.tls.connectionCount },
      ],
    )
  }

  async start(host: Host): Promise<void> {
    this.host = host
    const { ports } = this.config
    try {
      this.capture = PacketCapture.open({
        ports, udp: false, tcp: true, interface: this.config.interface, skipMinPayload: SKIP_MIN_PAYLOAD,
        trackExchanges: this.config.kernel_exchanges, maxExchangeConnections: this.config.max_connections,
        onExchanges: (events) => {
          try {
            this.kernel.handle(events)
          } catch (error) {
            this.onHandlingError(error)
          }
          this.flushIfDue()
        },
      }, (batch) => this.handleCaptured(batch))
      const libssl = this.config.tls.enabled ? this.libssl() : undefined
      if (libssl) {
        const onEvent = (event: TlsEvent) => {
          try {
            this.tls.handleEvent(event)
          } catch (error) {
            this.onHandlingError(error)
          }
        }
        this.tlsSource = TlsSource.open(libssl, onEvent, () => this.flushIfDue())
      }
    } catch (error) {
      this.closeSources()
      throw new Error(`failed to start "${this.settings.id}" receiver: ${(error as Error).message}`, { cause: error })
    }
    this.nextFlushAt = Date.now() + this.config.flush_interval
    this.timer = setInterval(() => this.flushIfDue(), Math.max(10, this.config.flush_interval / 4))
    this.timer.unref()
    // Which libssl functions carry the probes tells the cost of each probed call: the exported ones begin with an
    // instruction the kernel single-steps (libssl-probes.ts).
    const probed = this.tlsSource?.targets.kind === 'internal' ? 'ssl_read_internal/ssl_write_internal' : 'SSL_read/SSL_write'
    this.settings.logger.info('http receiver started', {
      ports: ports.join(','), interface: this.config.interface || 'all', exchanges: this.capture.exchanges ? 'read in the capture filter' : 'from packets', tls: this.tlsSource ? `openssl uprobes on ${probed}` : 'off',
    })
  }

  /** One batch of captured frames (public for bench/http-throughput.ts, which replays batches). */
  handleCaptured(batch: PacketBatch): void {
    this.packets.handleBatch(batch, this.onHandlingError)
    this.flushIfDue()
  }

  /** libssl.so.3 to probe: the configured path (which must exist), or the system's, or none (logged). */
  private libssl(): string | undefined {
    if (this.config.tls.libssl) return this.config.tls.libssl
    const found = findLibssl()
    if (!found) this.settings.logger.warn('http receiver: no libssl.so.3 found, HTTPS is not observed (receivers::http::tls::libssl)')
    return found
  }

  /** A bug, not bad input (that is counted by reason inside): count it and keep going. */
  private readonly onHandlingError = (error: unknown): void => {
    this.telemetry.dropped('internal_error')
    if (!this.failed) this.settings.logger.error('http event handling failed', { error })
    this.failed = true
  }

  /**
   * Under sustained load Node hands native batches to JS up to 1000 in a row before timers run (the N-API
   * thread-safe function's dispatch loop), which can hold the flush timer back for seconds: batches check too.
   */
  private flushIfDue(): void {
    if (this.timer && Date.now() >= this.nextFlushAt) this.flushSafely()
  }

  /** Hands on the exchanges finished so far; request timeouts as of now (less the capture delay). */
  flush(): void {
    this.nextFlushAt = Date.now() + this.config.flush_interval
    const records: HttpRecord[] = this.packets.collect(realtimeNs() - CAPTURE_DELAY_GRACE_NS)
    for (const record of this.tls.collect(monotonicNs())) records.push(record)
    for (const record of this.kernelRecords.take()) records.push(record)
    if (this.capture) for (const { reason, count } of this.capture.takeDrops()) this.telemetry.dropped(reason, count)
    this.reportKernelExchanges()
    if (this.tlsSource) for (const { reason, count } of this.tlsSource.takeDrops()) this.telemetry.dropped(reason, count)
    if (records.length === 0) return
    this.next.consume({ records })
  }

  /**
   * The filter's exchange counters since the last report: losses into `netlens.records.dropped`, the rest (exchanges
   * sent, connections handed over and why) into `netlens.http.kernel_exchanges`. Every so often its table is swept.
   */
  private reportKernelExchanges(): void {
    const exchanges = this.capture?.exchanges
    if (!exchanges) return
    if (Date.now() >= this.nextSweepAt) {
      this.nextSweepAt = Date.now() + Math.min(MAX_SWEEP_INTERVAL_MS, this.config.timeout)
      const now = monotonicNs()
      const { timedOut, idleUnanswered } = exchanges.sweep(now - this.config.timeout * 1_000_000, now - this.idleNs)
      if (timedOut > 0) this.telemetry.dropped('request_timeout', timedOut)
      if (idleUnanswered > 0) this.telemetry.dropped('unanswered_at_close', idleUnanswered)
    }
    const totals: Record<string, number> = {
      ...exchanges.counters(), queueLost: exchanges.queueLost, malformed: exchanges.malformed,
    }
    for (const [name, total] of Object.entries(totals)) {
      const count = total - (this.reportedKernel.get(name) ?? 0)
      this.reportedKernel.set(name, total)
      if (count <= 0) continue
      const loss = KERNEL_EXCHANGE_LOSSES[name]
      if (loss) this.telemetry.dropped(loss, count)
      else this.telemetry.kernelExchanges(name, count)
    }
  }

  private flushSafely(): void {
    try {
      this.flush()
    } catch (error) {
      this.host?.reportFatal(new Error(`"${this.settings.id}" receiver flush failed: ${(error as Error).message}`, { cause: error }))
    }
  }

  private closeSources(): void {
    try {
      this.capture?.close()
    } finally {
      this.tlsSource?.close()
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (!this.capture && !this.tlsSource) return
    try {
      // Stop the sources first so that nothing arrives after the last flush; keep their final loss counts.
      this.capture?.close()
      this.tlsSource?.close()
      this.flush()
    } finally {
      this.capture = undefined
      this.tlsSource = undefined
      this.packets.clear()
      this.tls.clear()
    }
  }
}
