import type { ProcessorFactory } from '../../component/types.ts'
import { domainRulesSchema, validateDomainRules, type DomainRulesConfig } from './config.ts'
import { DomainRulesProcessor } from './processor.ts'

/** `domainrules`: allow / deny / label records by domain, most specific rule first. */
export const domainRulesProcessorFactory: ProcessorFactory<DomainRulesConfig> = {
  kind: 'processor',
  type: 'domainrules',
  schema: domainRulesSchema,
  validate: validateDomainRules,
  create: (_settings, config) => new DomainRulesProcessor(config),
}
