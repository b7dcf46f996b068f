// Wraps a push exporter (OTLP over gRPC or HTTP) to observe each export's outcome: counted in self-telemetry,
// and logged once per change of state ("export failing: <reason>", then "export recovered"), never once per interval.
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics'
import type { Logger } from '../../telemetry/logger.ts'
import type { SelfCounter } from '../../telemetry/self.ts'

type ExportCallback = Parameters<PushMetricExporter['export']>[1]
type ExportResult = Parameters<ExportCallback>[0]

/** ExportResultCode.SUCCESS in @opentelemetry/core. */
const SUCCESS = 0

function describe(error: unknown): string {
  if (error instanceof Error) return error.message
  return error === undefined ? 'unknown error' : String(error)
}

export interface HealthOptions {
  id: string
  logger: Logger
  exports: SelfCounter
  /** Runs before each export, e.g. to pick up self-telemetry instruments registered since the last one. */
  beforeExport?: () => void
}

export function watchExports(inner: PushMetricExporter, options: HealthOptions): PushMetricExporter {
  let failing = false
  const observe = (result: ExportResult) => {
    const success = result.code === SUCCESS
    options.exports.add(1, { exporter: options.id, outcome: success ? 'success' : 'failure' })
    if (success && failing) {
      failing = false
      options.logger.info(`${options.id}: export recovered`)
    } else if (!success && !failing) {
      failing = true
      options.logger.warn(`${options.id}: export failing: ${describe(result.error)}`)
    }
  }
  return {
    export(metrics: ResourceMetrics, resultCallback: ExportCallback): void {
      options.beforeExport?.()
      inner.export(metrics, (result) => {
        observe(result)
        resultCallback(result)
      })
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  }
}
