// The two push exporters as the collector tests drive them: the same records, over OTLP/gRPC (`otlp`) or OTLP/HTTP
// (`otlphttp`), to a TestCollector.
import type { Exporter, ExporterFactory } from '../../src/component/types.ts'
import { otlpExporterFactory } from '../../src/exporters/otlp/factory.ts'
import { otlpHttpExporterFactory } from '../../src/exporters/otlphttp/factory.ts'
import type { TestCollector } from '../helpers/collector.ts'
import { configOf, testSettings, type TestSettings } from '../helpers/components.ts'

export interface Transport {
  type: 'otlp' | 'otlphttp'
  factory: ExporterFactory
  /** The exporter keys that point it at the collector; `caFile` when the collector uses TLS. */
  target(collector: TestCollector, caFile?: string): Record<string, unknown>
}

export const TRANSPORTS: Transport[] = [
  {
    type: 'otlp',
    factory: otlpExporterFactory,
    target: (collector, caFile) => ({
      endpoint: collector.grpcEndpoint,
      tls: caFile ? { ca_file: caFile } : { insecure: true },
    }),
  },
  {
    type: 'otlphttp',
    factory: otlpHttpExporterFactory,
    target: (collector, caFile) => ({ endpoint: collector.httpEndpoint, ...(caFile && { tls: { ca_file: caFile } }) }),
  },
]

export interface Driven {
  exporter: Exporter
  settings: TestSettings
}

/** Creates (does not start) the transport's exporter aimed at the collector, with extra config values. */
export function exporterFor(
  transport: Transport,
  collector: TestCollector,
  values: Record<string, unknown> = {},
  caFile?: string,
): Driven {
  const settings = testSettings(transport.type)
  const config = configOf(transport.factory, { interval: '200ms', ...transport.target(collector, caFile), ...values })
  return { exporter: transport.factory.create(settings, config), settings }
}
