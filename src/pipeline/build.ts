// Builds the component graph from a validated config. Only components some pipeline uses are created (the
// Collector's rule). Each exporter and each receiver is created once; each processor is ONE instance shared by
// every pipeline naming it (unlike the Collector, which makes one per pipeline): `rdns` learns names from the dns
// pipeline and substitutes them in the netflow one.
import type {
  ComponentKind,
  Consumer,
  Exporter,
  ExporterFactory,
  Processor,
  ProcessorFactory,
  Receiver,
  ReceiverFactory,
} from '../component/types.ts'
import type { AgentConfig, ComponentConfig } from '../config/types.ts'
import type { Logger } from '../telemetry/logger.ts'
import { standardCounters, type SelfTelemetry } from '../telemetry/self.ts'
import { exporterConsumer, pipelineConsumer, receiverFanOut, type ProcessorStage } from './consumers.ts'

export interface GraphNode<T> {
  kind: ComponentKind
  id: string
  component: T
}

export interface Graph {
  /** In start order; shutdown runs receivers → processors → exporters, each list reversed. */
  exporters: GraphNode<Exporter>[]
  processors: GraphNode<Processor>[]
  receivers: GraphNode<Receiver>[]
}

/** `"dns" receiver`: how messages name a component. */
export function label(kind: ComponentKind, id: string): string {
  return `"${id}" ${kind}`
}

/** Creation failed; `partial` holds what was created before, so the caller can shut it down. */
export class BuildError extends Error {
  readonly partial: Graph
  constructor(message: string, partial: Graph) {
    super(message)
    this.name = 'BuildError'
    this.partial = partial
  }
}

export function buildGraph(config: AgentConfig, logger: Logger, telemetry: SelfTelemetry): Graph {
  const counters = standardCounters(telemetry)
  const graph: Graph = { exporters: [], processors: [], receivers: [] }
  const used = (key: 'receivers' | 'processors' | 'exporters', id: string) => config.pipelines.some((p) => p[key].includes(id))

  const create = <T>(entry: ComponentConfig, make: () => T): T => {
    try {
      return make()
    } catch (error) {
      throw new BuildError(`failed to create ${label(entry.kind, entry.id)}: ${(error as Error).message}`, graph)
    }
  }
  const settings = (entry: ComponentConfig) => ({ id: entry.id, logger: logger.child(entry.id), telemetry })

  const exporterInputs = new Map<string, Consumer>()
  for (const entry of config.exporters.values()) {
    if (!used('exporters', entry.id)) continue
    const factory = entry.factory as ExporterFactory
    const exporter = create(entry, () => factory.create(settings(entry), entry.config))
    graph.exporters.push({ kind: 'exporter', id: entry.id, component: exporter })
    exporterInputs.set(entry.id, exporterConsumer(entry.id, exporter, counters, logger.child(entry.id)))
  }

  const processors = new Map<string, Processor>()
  for (const entry of config.processors.values()) {
    if (!used('processors', entry.id)) continue
    const factory = entry.factory as ProcessorFactory
    const processor = create(entry, () => factory.create(settings(entry), entry.config))
    graph.processors.push({ kind: 'processor', id: entry.id, component: processor })
    processors.set(entry.id, processor)
  }

  const pipelineInputs = new Map<string, Consumer>()
  for (const pipeline of config.pipelines) {
    const stages: ProcessorStage[] = pipeline.processors.map((id) => ({ id, processor: processors.get(id) as Processor }))
    const exporters = pipeline.exporters.map((id) => exporterInputs.get(id) as Consumer)
    pipelineInputs.set(pipeline.name, pipelineConsumer(stages, exporters, counters, logger.child(`pipeline/${pipeline.name}`)))
  }

  for (const entry of config.receivers.values()) {
    const feeds = config.pipelines.filter((p) => p.receivers.includes(entry.id))
    if (feeds.length === 0) continue
    const next = receiverFanOut(
      entry.id,
      feeds.map((p) => pipelineInputs.get(p.name) as Consumer),
      counters,
      logger.child(entry.id),
    )
    const factory = entry.factory as ReceiverFactory
    const receiver = create(entry, () => factory.create(settings(entry), entry.config, next))
    graph.receivers.push({ kind: 'receiver', id: entry.id, component: receiver })
  }
  return graph
}
