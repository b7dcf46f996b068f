import type { ProcessorFactory } from '../../component/types.ts'
import { rdnsSchema, validateRdns, type RdnsConfig } from './config.ts'
import { RdnsProcessor } from './processor.ts'

/** `rdns`: names flow and HTTP addresses after the DNS questions whose answers gave them; PTR lookups if enabled. */
export const rdnsProcessorFactory: ProcessorFactory<RdnsConfig> = {
  kind: 'processor',
  type: 'rdns',
  schema: rdnsSchema,
  validate: validateRdns,
  create: (settings, config) => new RdnsProcessor(settings.id, settings.telemetry, config),
}
