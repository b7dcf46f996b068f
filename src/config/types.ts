// The validated configuration: what the pipeline builder and the CLI work from.
import type { ComponentKind, Factory } from '../component/types.ts'
import type { LogLevel } from '../telemetry/logger.ts'

export interface ComponentConfig {
  kind: ComponentKind
  /** As written in YAML: `type` or `type/name`. */
  id: string
  type: string
  factory: Factory
  /** The section after convict (defaults filled, formats coerced) and the factory's validate(). */
  config: unknown
}

export interface PipelineConfig {
  name: string
  receivers: string[]
  processors: string[]
  exporters: string[]
}

export interface TelemetryConfig {
  logLevel: LogLevel
  /** `host:port` for the health endpoint; '' disables it. */
  healthEndpoint: string
}

export interface AgentConfig {
  /** Where the configuration came from, as given (used in messages). */
  source: string
  receivers: Map<string, ComponentConfig>
  processors: Map<string, ComponentConfig>
  exporters: Map<string, ComponentConfig>
  pipelines: PipelineConfig[]
  telemetry: TelemetryConfig
  /** Non-fatal findings, e.g. components defined but used by no pipeline. */
  warnings: string[]
}

/** YAML section name for each kind. */
export const SECTION: Record<ComponentKind, 'receivers' | 'processors' | 'exporters'> = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
}
