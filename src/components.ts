// The one place component factories are registered. The config loader accepts exactly these types, and the
// shared lifecycle test (test/pipeline/factories.test.ts) runs over every entry.
import type { ComponentKind, Factory } from './component/types.ts'
import { debugExporterFactory } from './exporters/debug/factory.ts'
import { otlpExporterFactory } from './exporters/otlp/factory.ts'
import { otlpHttpExporterFactory } from './exporters/otlphttp/factory.ts'
import { prometheusExporterFactory } from './exporters/prometheus/factory.ts'
import { dnsReceiverFactory } from './receivers/dns/factory.ts'
import { httpReceiverFactory } from './receivers/http/factory.ts'
import { netflowReceiverFactory } from './receivers/netflow/factory.ts'
import { attributesProcessorFactory } from './processors/attributes/factory.ts'
import { domainRulesProcessorFactory } from './processors/domainrules/factory.ts'
import { geoIpProcessorFactory } from './processors/geoip/factory.ts'
import { ipTypeProcessorFactory } from './processors/iptype/factory.ts'
import { rdnsProcessorFactory } from './processors/rdns/factory.ts'

export const factories: Factory[] = [
  netflowReceiverFactory,
  dnsReceiverFactory,
  httpReceiverFactory,
  rdnsProcessorFactory,
  domainRulesProcessorFactory,
  ipTypeProcessorFactory,
  geoIpProcessorFactory,
  attributesProcessorFactory,
  debugExporterFactory,
  otlpExporterFactory,
  otlpHttpExporterFactory,
  prometheusExporterFactory,
]

export function findFactory(kind: ComponentKind, type: string, from: readonly Factory[] = factories): Factory | undefined {
  return from.find((factory) => factory.kind === kind && factory.type === type)
}

export function typesOf(kind: ComponentKind, from: readonly Factory[] = factories): string[] {
  return from
    .filter((factory) => factory.kind === kind)
    .map((factory) => factory.type)
    .sort()
}
