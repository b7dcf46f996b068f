// CreateSettings for exporter tests: a real logger writing into an array, and a fresh SelfTelemetry.
import type { CreateSettings } from '../../src/component/types.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { SelfTelemetry } from '../../src/telemetry/self.ts'

export interface TestSettings extends CreateSettings {
  lines: string[]
}

export function testSettings(id: string): TestSettings {
  const lines: string[] = []
  return {
    id,
    logger: createLogger('debug', (line) => lines.push(line)),
    telemetry: new SelfTelemetry(),
    lines,
  }
}
