// Factory of the `otlphttp` exporter (OTLP protobuf over HTTP).
import type { ExporterFactory } from '../../component/types.ts'
import { otlpHttpSchema, validateOtlpHttpConfig, type OtlpHttpConfig } from './config.ts'
import { OtlpHttpExporter } from './exporter.ts'

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpConfig> = {
  kind: 'exporter',
  type: 'otlphttp',
  schema: otlpHttpSchema as ExporterFactory<OtlpHttpConfig>['schema'],
  validate: validateOtlpHttpConfig,
  create: (settings, config) => new OtlpHttpExporter(settings, config),
}
