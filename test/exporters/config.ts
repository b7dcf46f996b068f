// Builds an exporter config the way the agent does: convict schema defaults, then the YAML values, validated.
import convict from 'convict'
import type { ExporterFactory } from '../../src/component/types.ts'
import { registerFormats } from '../../src/config/formats.ts'

export function configFor<C>(factory: ExporterFactory<C>, values: Record<string, unknown> = {}): C {
  registerFormats()
  const config = convict(factory.schema)
  config.load(values)
  config.validate({ allowed: 'strict' })
  const properties = config.getProperties()
  factory.validate?.(properties)
  return properties
}
