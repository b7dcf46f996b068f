// Factory of the `prometheus` exporter (a pull endpoint serving /metrics).
import type { ExporterFactory } from '../../component/types.ts'
import { prometheusSchema, type PrometheusConfig } from './config.ts'
import { PrometheusExporter } from './exporter.ts'

export const prometheusExporterFactory: ExporterFactory<PrometheusConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  schema: prometheusSchema as ExporterFactory<PrometheusConfig>['schema'],
  create: (settings, config) => new PrometheusExporter(settings, config),
}
