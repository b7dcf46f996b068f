// The three contracts every stage follows, modelled on the OpenTelemetry Collector's component model:
// lifecycle (start/shutdown), data (batches of plain records) and construction (a factory per type).
import type { Schema } from 'convict'
import type { AnyRecord } from '../records.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { SelfTelemetry } from '../telemetry/self.ts'

/** Records move between stages in batches. `lost` counts records the producer knows it dropped before this batch. */
export interface Batch {
  records: AnyRecord[]
  lost?: number
}

export interface Consumer {
  consume(batch: Batch): void
}

/** What a running component may ask of the agent around it. */
export interface Host {
  /** A component that fails after start() says so here: it is logged and the health endpoint turns 503. */
  reportFatal(error: Error): void
}

export interface Component {
  /** Returns quickly; background loops belong to the component and end in shutdown(). */
  start(host: Host): Promise<void>
  /** Idempotent, and safe to call without start(). */
  shutdown(): Promise<void>
}

export type Receiver = Component

/**
 * A processor transforms batches. One instance is shared by every pipeline that names it (so `rdns` can learn
 * from the dns pipeline and substitute in the netflow one); the pipeline, not the processor, knows what comes next.
 */
export interface Processor extends Component {
  process(batch: Batch): Batch
}

export interface Exporter extends Component, Consumer {
  /** Exports what is pending now; the pipeline calls it on shutdown, bounded in time. */
  flush?(): Promise<void>
}

export type ComponentKind = 'receiver' | 'processor' | 'exporter'

export interface CreateSettings {
  /** The instance id as written in YAML: `type` or `type/name`. */
  id: string
  logger: Logger
  telemetry: SelfTelemetry
}

interface FactoryBase<C> {
  type: string
  /** convict schema: every key has `doc`, `default` and `format`. */
  schema: Schema<C>
  /** Cross-field checks convict cannot express; throw an Error whose message names the key. */
  validate?(config: C): void
}

export interface ReceiverFactory<C = any> extends FactoryBase<C> {
  kind: 'receiver'
  create(settings: CreateSettings, config: C, next: Consumer): Receiver
}

export interface ProcessorFactory<C = any> extends FactoryBase<C> {
  kind: 'processor'
  create(settings: CreateSettings, config: C): Processor
}

export interface ExporterFactory<C = any> extends FactoryBase<C> {
  kind: 'exporter'
  create(settings: CreateSettings, config: C): Exporter
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory
