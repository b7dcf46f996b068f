// Factory of the `otlp` exporter (OTLP over gRPC).
import type { ExporterFactory } from '../../component/types.ts'
import { otlpSchema, validateOtlpConfig, type OtlpConfig } from './config.ts'
import { OtlpExporter } from './exporter.ts'

export const otlpExporterFactory: ExporterFactory<OtlpConfig> = {
  kind: 'exporter',
  type: 'otlp',
  schema: otlpSchema as ExporterFactory<OtlpConfig>['schema'],
  validate: validateOtlpConfig,
  create: (settings, config) => new OtlpExporter(settings, config),
}
