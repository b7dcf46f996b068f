// The HTTPS source: loads bpf/http_tls.bpf.c, puts its uprobes on libssl's read and write functions (where
// libssl-probes.ts says) and SSL_free for every process (pid -1, so processes started later are covered too), its
// socket tracepoints on, and hands decoded events to `onEvent` from a RingReader (then calls `afterBatch`). The
// BPF side sends events without waking the reader, which reads the ring every POLL_INTERVAL_MS. Kernel-side losses
// are read as counter deltas.
import { readCounters } from '../../native/counters.ts'
import { recordsOf } from '../../native/frames.ts'
import { bpfObjectPath, loadNative, type BpfObject, type RingReader } from '../../native/index.ts'
import { probeTargetsOf, type ProbeTargets } from './libssl-probes.ts'
import { decodeTlsEvent, TLS_KERNEL_COUNTERS, type TlsEvent } from './tls-event.ts'

interface Uprobe {
  program: string
  /** By symbol, or by file offset. */
  functionName?: string
  offset?: number
  retprobe: boolean
}

/** The probes for the targets libssl-probes.ts found (SSL_free always by name: once per connection). */
function uprobesFor(targets: ProbeTargets): Uprobe[] {
  const free: Uprobe = { program: 'http_tls_free', functionName: 'SSL_free', retprobe: false }
  if (targets.kind === 'internal') {
    return [
      { program: 'http_tls_write_ex_enter', offset: targets.write, retprobe: false },
      { program: 'http_tls_return', offset: targets.write, retprobe: true },
      { program: 'http_tls_read_ex_enter', offset: targets.read, retprobe: false },
      { program: 'http_tls_return', offset: targets.read, retprobe: true },
      free,
    ]
  }
  return [
    { program: 'http_tls_write_enter', functionName: 'SSL_write', retprobe: false },
    { program: 'http_tls_return', functionName: 'SSL_write', retprobe: true },
    { program: 'http_tls_write_ex_enter', functionName: 'SSL_write_ex', retprobe: false },
    { program: 'http_tls_return', functionName: 'SSL_write_ex', retprobe: true },
    { program: 'http_tls_read_enter', functionName: 'SSL_read', retprobe: false },
    { program: 'http_tls_return', functionName: 'SSL_read', retprobe: true },
    { program: 'http_tls_read_ex_enter', functionName: 'SSL_read_ex', retprobe: false },
    { program: 'http_tls_return', functionName: 'SSL_read_ex', retprobe: true },
    free,
  ]
}
/**
 * How often the reader reads the ring. A wake-up per event (the default) showed as 2.6-10 us of run time of the
 * return probe (kernel.bpf_stats_enabled), ~290 ns without; 10 ms of events at 100k calls/s is ~250 KiB of the
 * 8 MiB ring (an event is sent at its size: header and copied bytes).
 */
const POLL_INTERVAL_MS = 10
/** Socket I/O inside an SSL call names the connection's socket (tp_btf: no program on other syscalls). */
const TRACEPOINTS = ['http_tls_sock_send', 'http_tls_sock_recv']

export class TlsSource {
  private readonly object: BpfObject
  private reader: RingReader | undefined
  private readonly kernelTotals = TLS_KERNEL_COUNTERS.map(() => 0)
  private readonly reported = TLS_KERNEL_COUNTERS.map(() => 0)
  private closed = false
  /** Where the read/write probes went (the receiver logs it). */
  targets: ProbeTargets = { kind: 'exported' }
  /** Ring records that were not http_tls_events, not yet reported. */
  private malformed = 0
  /** RingReader losses (JS not keeping up, or still in the ring at close): total, and how many were reported. */
  private queueLost = 0
  private queueReported = 0

  private constructor(object: BpfObject) {
    this.object = object
  }

  /** Loads and attaches everything, or throws with nothing left attached. */
  static open(
    libsslPath: string, onEvent: (event: TlsEvent) => void, afterBatch: () => void,
    /** Where to probe; found in libsslPath by default (tests and benches choose). */
    targets?: ProbeTargets,
  ): TlsSource {
    const source = new TlsSource(new (loadNative().BpfObject)(bpfObjectPath('http_tls')))
    try {
      source.targets = targets ?? probeTargetsOf(libsslPath)
      for (const { program, functionName, offset, retprobe } of uprobesFor(source.targets)) {
        source.object.attachUprobe(program, { binaryPath: libsslPath, functionName, offset, retprobe, pid: -1 })
      }
      for (const program of TRACEPOINTS) source.object.attach(program)
      source.reader = new (loadNative().RingReader)(
        source.object.map('http_tls_events'),
        { maxBatchRecords: 1024, maxBatchDelayMs: 20, maxQueuedBatches: 256, pollIntervalMs: POLL_INTERVAL_MS },
        (batch) => {
          for (const record of recordsOf(batch)) {
            const event = decodeTlsEvent(record)
            if (event) onEvent(event)
            else source.malformed++
          }
          afterBatch()
        },
      )
    } catch (error) {
      source.close()
      throw error
    }
    return source
  }

  /** The kernel ids of the loaded programs (for benches reading their run statistics). */
  programIds(): number[] {
    return this.object.programs().map((program) => program.id)
  }

  /** Losses since the previous call, by `netlens.records.dropped` reason; non-zero ones only. Works after close(). */
  takeDrops(): Array<{ reason: string; count: number }> {
    if (!this.closed) this.readTotals()
    const drops: Array<{ reason: string; count: number }> = []
    TLS_KERNEL_COUNTERS.forEach((reason, index) => {
      const fresh = this.kernelTotals[index]! - this.reported[index]!
      if (fresh > 0) drops.push({ reason, count: fresh })
      this.reported[index] = this.kernelTotals[index]!
    })
    if (this.queueLost > this.queueReported) drops.push({ reason: 'tls_queue_full', count: this.queueLost - this.queueReported })
    if (this.malformed > 0) drops.push({ reason: 'tls_malformed_event', count: this.malformed })
    this.queueReported = this.queueLost
    this.malformed = 0
    return drops
  }

  /** Stops the reader and detaches every probe; takeDrops() then reports the last losses. Idempotent. */
  close(): void {
    if (this.closed) return
    try {
      // Events still in the ring when the reader stops are counted as lost by then.
      this.reader?.close()
      this.readTotals()
    } finally {
      this.closed = true
      this.reader = undefined
      this.object.close()
    }
  }

  private readTotals(): void {
    if (this.reader) this.queueLost = this.reader.stats().lost
    const totals = readCounters(this.object.map('http_tls_counters'), TLS_KERNEL_COUNTERS)
    TLS_KERNEL_COUNTERS.forEach((reason, index) => { this.kernelTotals[index] = totals[reason] })
  }
}
