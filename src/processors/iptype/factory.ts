import type { ProcessorFactory } from '../../component/types.ts'
import { ipTypeSchema, type IpTypeConfig } from './config.ts'
import { IpTypeProcessor } from './processor.ts'

/** `iptype`: `source.ip_type` / `destination.ip_type` from the IANA special-purpose address registries. */
export const ipTypeProcessorFactory: ProcessorFactory<IpTypeConfig> = {
  kind: 'processor',
  type: 'iptype',
  schema: ipTypeSchema,
  create: (_settings, config) => new IpTypeProcessor(config),
}
