// Factory of the `debug` exporter (console view on stdout).
import type { ExporterFactory } from '../../component/types.ts'
import { debugSchema, validateDebugConfig, type DebugConfig } from './config.ts'
import { DebugExporter } from './exporter.ts'

export const debugExporterFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  type: 'debug',
  schema: debugSchema as ExporterFactory<DebugConfig>['schema'],
  validate: validateDebugConfig,
  create: (settings, config) => new DebugExporter(settings, config),
}
