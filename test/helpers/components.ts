// Builds components the way the pipeline does (validated config, settings), for tests that drive one directly.
import type { Batch, Consumer, CreateSettings, Factory, Host } from '../../src/component/types.ts'
import { Problems } from '../../src/config/errors.ts'
import { validateSection } from '../../src/config/section.ts'
import type { AnyRecord } from '../../src/records.ts'
import { createLogger, type Logger } from '../../src/telemetry/logger.ts'
import { SelfTelemetry } from '../../src/telemetry/self.ts'

/** The config type a factory's schema describes. */
export type ConfigOf<F> = F extends { validate?(config: infer C): void } ? C : never

/** The factory's config for a YAML section (defaults filled), or a ConfigError listing every problem. */
export function configOf<F extends Factory>(factory: F, section: Record<string, unknown> = {}): ConfigOf<F> {
  const problems = new Problems('test.yaml')
  const config = validateSection(factory.schema, section, [`${factory.kind}s`, factory.type], problems)
  problems.throwIfAny()
  factory.validate?.(config)
  return config as ConfigOf<F>
}

export interface TestSettings extends CreateSettings {
  logs: string[]
}

export function testSettings(id: string, logger?: Logger): TestSettings {
  const logs: string[] = []
  return { id, logger: logger ?? createLogger('debug', (line) => logs.push(line)), telemetry: new SelfTelemetry(), logs }
}

/** A consumer that keeps everything it is given. */
export class CollectingConsumer implements Consumer {
  readonly batches: Batch[] = []
  consume(batch: Batch): void {
    this.batches.push(batch)
  }
  get records(): AnyRecord[] {
    return this.batches.flatMap((b) => b.records)
  }
}

/** A host that fails the test on a fatal report. */
export const testHost: Host = {
  reportFatal(error: Error) {
    throw error
  },
}
