import type { ProcessorFactory } from '../../component/types.ts'
import { attributesSchema, validateAttributes, type AttributesConfig } from './config.ts'
import { AttributesProcessor } from './processor.ts'

/** `attributes`: include / exclude / rename / collapse attributes, and a distinct-values guard per attribute. */
export const attributesProcessorFactory: ProcessorFactory<AttributesConfig> = {
  kind: 'processor',
  type: 'attributes',
  schema: attributesSchema,
  validate: validateAttributes,
  create: (settings, config) => new AttributesProcessor(settings.id, settings.telemetry, config),
}
