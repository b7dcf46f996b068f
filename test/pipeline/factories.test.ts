// The shared lifecycle test: it runs over EVERY registered factory, for real (receivers that need the kernel load
// their programs; we are root). A factory added to src/components.ts is covered without touching this file.
import assert from 'node:assert/strict'
import { DEFAULT_CONFIG } from '../../src/cli.ts'
import type { Batch, Component, Exporter, Factory, Host, Processor } from '../../src/component/types.ts'
import { loadConfigFile } from '../../src/config/load.ts'
import { Problems } from '../../src/config/errors.ts'
import { validateSection } from '../../src/config/section.ts'
import { SECTION } from '../../src/config/types.ts'
import { factories } from '../../src/components.ts'
import { withTimeout } from '../../src/pipeline/timeout.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { SelfTelemetry } from '../../src/telemetry/self.ts'
import { dnsRecords } from './test-factories.ts'

function defaults(factory: Factory): unknown {
  const problems = new Problems('defaults')
  const config = validateSection(factory.schema, {}, [SECTION[factory.kind], factory.type], problems)
  assert.deepEqual(problems.lines, [], 'the defaults validate')
  factory.validate?.(config)
  return config
}

function create(factory: Factory, received: Batch[]): Component {
  const settings = { id: factory.type, logger: createLogger('error').child(factory.type), telemetry: new SelfTelemetry() }
  const config = defaults(factory)
  if (factory.kind === 'receiver') return factory.create(settings, config, { consume: (batch) => received.push(batch) })
  return factory.create(settings, config)
}

/** Every schema leaf has doc, default and format (STYLE.md). */
function checkSchema(schema: Record<string, unknown>, path: string[]): void {
  for (const [key, node] of Object.entries(schema)) {
    assert.ok(typeof node === 'object' && node !== null, `${[...path, key].join('::')}: a schema entry`)
    if (!('default' in node)) {
      checkSchema(node as Record<string, unknown>, [...path, key])
      continue
    }
    assert.ok('doc' in node && 'format' in node, `${[...path, key].join('::')}: doc and format`)
  }
}

describe('registered components', () => {
  it('registers at least one receiver and one exporter, each kind+type once', () => {
    assert.ok(factories.some((f) => f.kind === 'receiver'), 'a receiver is registered')
    assert.ok(factories.some((f) => f.kind === 'exporter'), 'an exporter is registered')
    const keys = factories.map((f) => `${f.kind}/${f.type}`)
    assert.equal(new Set(keys).size, keys.length, `duplicates in ${keys.join(', ')}`)
  })

  // Every receiver, the console view and one push exporter: two push exporters would send each point twice to a
  // collector listening on both OTLP ports.
  it('ships a default config that validates and enables every registered receiver, the console view and otlp', () => {
    const config = loadConfigFile(DEFAULT_CONFIG, { factories })
    assert.deepEqual(config.warnings, [])
    for (const factory of factories.filter((f) => f.kind === 'receiver')) {
      assert.ok([...config.receivers.values()].some((c) => c.type === factory.type), `default.yaml uses the receiver ${factory.type}`)
    }
    assert.deepEqual([...config.exporters.values()].map((c) => c.type).sort(), ['debug', 'otlp'])
  })

  for (const factory of factories) {
    describe(`${factory.kind} ${factory.type}`, () => {
      const fatal: Error[] = []
      const host: Host = { reportFatal: (error) => fatal.push(error) }

      it('has a documented schema whose defaults validate', () => {
        checkSchema(factory.schema as Record<string, unknown>, [SECTION[factory.kind], factory.type])
        defaults(factory)
      })

      it('shuts down without start, twice', async () => {
        const component = create(factory, [])
        await withTimeout(() => component.shutdown(), 10_000, 'shutdown')
        await withTimeout(() => component.shutdown(), 10_000, 'second shutdown')
      })

      it('starts, takes a batch, and shuts down', async () => {
        const received: Batch[] = []
        const component = create(factory, received)
        try {
          await withTimeout(() => component.start(host), 20_000, 'start')
          const batch = { records: dnsRecords(3) }
          if (factory.kind === 'exporter') {
            ;(component as Exporter).consume(batch)
            await withTimeout(async () => (component as Exporter).flush?.().catch(() => {}), 12_000, 'flush')
          }
          if (factory.kind === 'processor') assert.ok(Array.isArray((component as Processor).process(batch).records))
        } finally {
          await withTimeout(() => component.shutdown(), 12_000, 'shutdown')
        }
        assert.deepEqual(fatal.map((e) => e.message), [])
      })
    })
  }
})
