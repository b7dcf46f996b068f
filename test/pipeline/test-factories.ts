// Small real components for wiring tests: a receiver whose batches the test pushes, a filtering processor, an
// exporter that keeps what it receives. Each records lifecycle calls in a shared journal to check ordering.
import type { Schema } from 'convict'
import type { Batch, Consumer, Exporter, ExporterFactory, Host, Processor, ProcessorFactory, Receiver, ReceiverFactory } from '../../src/component/types.ts'
import type { DnsRecord } from '../../src/records.ts'

export const journal: string[] = []

export interface ProbeConfig {
  fail_start: boolean
  fail_shutdown: boolean
  hang_shutdown: boolean
  throw_on_consume: boolean
  interval: number
  keep_every: number
}

const schema: Schema<ProbeConfig> = {
  fail_start: { doc: 'start() rejects', format: Boolean, default: false },
  fail_shutdown: { doc: 'shutdown() rejects', format: Boolean, default: false },
  hang_shutdown: { doc: 'shutdown() never settles', format: Boolean, default: false },
  throw_on_consume: { doc: 'consume()/process() throws', format: Boolean, default: false },
  interval: { doc: 'a duration', format: 'duration', default: 1000 },
  keep_every: { doc: 'processor keeps every n-th record', format: 'positive-int', default: 1 },
}

class Probe {
  readonly id: string
  readonly config: ProbeConfig
  host: Host | undefined
  constructor(id: string, config: ProbeConfig) {
    this.id = id
    this.config = config
  }
  async start(host: Host): Promise<void> {
    journal.push(`start ${this.id}`)
    this.host = host
    if (this.config.fail_start) throw new Error('port already in use')
  }
  async shutdown(): Promise<void> {
    journal.push(`shutdown ${this.id}`)
    if (this.config.hang_shutdown) return new Promise(() => {})
    if (this.config.fail_shutdown) throw new Error('socket busy')
  }
}

export class ProbeReceiver extends Probe implements Receiver {
  static instances: ProbeReceiver[] = []
  readonly next: Consumer
  constructor(id: string, config: ProbeConfig, next: Consumer) {
    super(id, config)
    this.next = next
    ProbeReceiver.instances.push(this)
  }
  emit(batch: Batch): void {
    this.next.consume(batch)
  }
}

export class ProbeProcessor extends Probe implements Processor {
  static instances: ProbeProcessor[] = []
  constructor(id: string, config: ProbeConfig) {
    super(id, config)
    ProbeProcessor.instances.push(this)
  }
  process(batch: Batch): Batch {
    if (this.config.throw_on_consume) throw new Error('cannot process')
    return { records: batch.records.filter((_, i) => i % this.config.keep_every === 0), lost: batch.lost }
  }
}

export class ProbeExporter extends Probe implements Exporter {
  static instances: ProbeExporter[] = []
  readonly batches: Batch[] = []
  constructor(id: string, config: ProbeConfig) {
    super(id, config)
    ProbeExporter.instances.push(this)
  }
  consume(batch: Batch): void {
    if (this.config.throw_on_consume) throw new Error('backend unreachable')
    this.batches.push(batch)
  }
  async flush(): Promise<void> {
    journal.push(`flush ${this.id}`)
  }
  get records(): number {
    return this.batches.reduce((n, b) => n + b.records.length, 0)
  }
}

export const probeReceiverFactory: ReceiverFactory<ProbeConfig> = {
  kind: 'receiver',
  type: 'probe',
  schema,
  create: (settings, config, next) => new ProbeReceiver(settings.id, config, next),
}

export const probeProcessorFactory: ProcessorFactory<ProbeConfig> = {
  kind: 'processor',
  type: 'sample',
  schema,
  validate(config) {
    if (config.keep_every > 100) throw new Error('keep_every must be at most 100')
  },
  create: (settings, config) => new ProbeProcessor(settings.id, config),
}

export const probeExporterFactory: ExporterFactory<ProbeConfig> = {
  kind: 'exporter',
  type: 'sink',
  schema,
  create: (settings, config) => new ProbeExporter(settings.id, config),
}

export const testFactories = [probeReceiverFactory, probeProcessorFactory, probeExporterFactory]

export function resetProbes(): void {
  journal.length = 0
  ProbeReceiver.instances = []
  ProbeProcessor.instances = []
  ProbeExporter.instances = []
}

export function dnsRecords(n: number): DnsRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'dns' as const,
    transport: 'udp' as const,
    family: 'ipv4' as const,
    client: { address: '127.0.0.1', port: 40000 + i },
    server: { address: '127.0.0.53', port: 53 },
    questionName: `host${i}.example.test`,
    questionType: 'A',
    responseCode: 'NOERROR',
    durationSeconds: 0.001,
    attributes: {},
  }))
}
