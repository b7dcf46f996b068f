import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../src/config/errors.ts'
import { loadConfigFile, parseConfig } from '../../src/config/load.ts'
import { testFactories } from '../pipeline/test-factories.ts'

const options = { factories: testFactories, env: {} as Record<string, string | undefined> }

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'config.yaml', { ...options, env })
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`)
    return error.problems
  }
  assert.fail('expected the configuration to be rejected')
}

const GOOD = `
receivers:
  probe: {}
  probe/second:
    interval: 250ms
processors:
  sample: { keep_every: 2 }
exporters:
  sink:
service:
  pipelines:
    flows: { receivers: [probe, probe/second], processors: [sample], exporters: [sink] }
  telemetry:
    logs: { level: debug }
    health_check: { endpoint: "127.0.0.1:0" }
`

describe('config loading', () => {
  it('accepts a good configuration, fills defaults and coerces formats', () => {
    const config = parseConfig(GOOD, 'config.yaml', options)
    assert.deepEqual([...config.receivers.keys()], ['probe', 'probe/second'])
    assert.equal((config.receivers.get('probe')?.config as { interval: number }).interval, 1000)
    assert.equal((config.receivers.get('probe/second')?.config as { interval: number }).interval, 250)
    assert.equal(config.receivers.get('probe/second')?.type, 'probe')
    assert.equal((config.processors.get('sample')?.config as { keep_every: number }).keep_every, 2)
    assert.deepEqual(config.pipelines, [{ name: 'flows', receivers: ['probe', 'probe/second'], processors: ['sample'], exporters: ['sink'] }])
    assert.deepEqual(config.telemetry, { logLevel: 'debug', healthEndpoint: '127.0.0.1:0' })
    assert.deepEqual(config.warnings, [])
  })

  it('defaults the telemetry section', () => {
    const config = parseConfig('receivers: {probe: }\nexporters: {sink: }\nservice: {pipelines: {p: {receivers: [probe], exporters: [sink]}}}', 'c.yaml', options)
    assert.deepEqual(config.telemetry, { logLevel: 'info', healthEndpoint: 'localhost:13133' })
  })

  it('warns, without failing, about components no pipeline uses', () => {
    const config = parseConfig(GOOD.replace('exporters:\n  sink:', 'exporters:\n  sink:\n  sink/unused:'), 'config.yaml', options)
    assert.deepEqual(config.warnings, ['config.yaml: exporters::sink/unused: defined but used by no pipeline; it will not be started'])
  })

  it('rejects an unknown key in a component, naming its path', () => {
    assert.deepEqual(problems(GOOD.replace('interval: 250ms', 'intervall: 250ms')), ['config.yaml: receivers::probe/second: unknown key "intervall"'])
  })

  it('rejects an unknown type, listing the known ones', () => {
    assert.deepEqual(problems(GOOD.replace('probe/second:', 'prob/second:')), [
      'config.yaml: receivers: unknown type "prob" (known: probe)',
      'config.yaml: service::pipelines::flows::receivers: "probe/second" is not defined in receivers',
    ])
  })

  it('rejects a pipeline naming an undefined component', () => {
    assert.deepEqual(problems(GOOD.replace('exporters: [sink]', 'exporters: [sink, otlp/x]')), [
      'config.yaml: service::pipelines::flows::exporters: "otlp/x" is not defined in exporters',
    ])
  })

  it('rejects a pipeline without receivers or without exporters', () => {
    const text = `receivers: {probe: }\nexporters: {sink: }\nservice:\n  pipelines:\n    a: { exporters: [sink] }\n    b: { receivers: [probe], exporters: [] }\n`
    assert.deepEqual(problems(text), [
      'config.yaml: service::pipelines::a: must have at least one receiver',
      'config.yaml: service::pipelines::b::exporters: must list at least one of the exporters',
    ])
  })

  it('rejects wrong types and bad formats, one problem per key', () => {
    const text = GOOD.replace('interval: 250ms', 'interval: soon\n    fail_start: 3').replace('keep_every: 2', 'keep_every: -1')
    assert.deepEqual(problems(text), [
      'config.yaml: receivers::probe/second::fail_start: must be of type Boolean (got 3)',
      'config.yaml: receivers::probe/second::interval: must be a duration such as "500ms", "10s", "1m" or "1h" (got "soon")',
      'config.yaml: processors::sample::keep_every: must be a positive integer (got -1)',
    ])
  })

  it("reports a factory's cross-field validation under the component's path", () => {
    assert.deepEqual(problems(GOOD.replace('keep_every: 2', 'keep_every: 200')), ['config.yaml: processors::sample: keep_every must be at most 100'])
  })

  it('rejects an empty configuration and a non-map one', () => {
    assert.deepEqual(problems(''), ['config.yaml: the configuration is empty (expected receivers, exporters and service::pipelines)'])
    assert.deepEqual(problems('# nothing\n'), ['config.yaml: the configuration is empty (expected receivers, exporters and service::pipelines)'])
    assert.deepEqual(problems('- a\n- b\n'), ['config.yaml: expected a map at the top level, got a list'])
  })

  it('reports bad YAML with line and column', () => {
    assert.deepEqual(problems('receivers:\n  probe: {\n    interval: 1s\nexporters: ['), [
      'config.yaml:4:1: Flow map in block collection must be sufficiently indented and end with a }',
    ])
    assert.deepEqual(problems('receivers:\n  probe: {}\n  probe: {}\n'), ['config.yaml:3:3: Map keys must be unique'])
  })

  it('rejects unknown top-level and service keys, missing pipelines, bad telemetry', () => {
    const text = `recievers: {}\nreceivers: {probe: }\nexporters: {sink: }\nservice:\n  extensions: []\n  telemetry:\n    logs: {level: verbose}\n    health_check: {endpoint: "nohost"}\n`
    assert.deepEqual(problems(text), [
      'config.yaml: unknown key "recievers" (expected receivers, processors, exporters, service)',
      'config.yaml: service: unknown key "extensions" (expected pipelines, telemetry)',
      'config.yaml: service::telemetry::logs::level: must be one of the possible values: ["debug","info","warn","error"] (got "verbose")',
      'config.yaml: service::telemetry::health_check::endpoint: must be an endpoint "host:port" (IPv6 in brackets), or "" to disable (got "nohost")',
      'config.yaml: service::pipelines: no pipelines defined (expected at least one, e.g. `netflow: { receivers: [netflow], exporters: [debug] }`)',
    ])
  })

  it('rejects a scalar where a map of settings is expected, and invalid ids', () => {
    assert.deepEqual(problems(GOOD.replace('sample: { keep_every: 2 }', 'sample: 2\n  "Bad Id": {}')), [
      'config.yaml: processors::sample: expected a map of settings, got number 2',
      'config.yaml: processors: invalid id "Bad Id" (expected "type" or "type/name", e.g. "otlp/backup")',
    ])
  })

  it('rejects a component listed twice in one pipeline', () => {
    assert.deepEqual(problems(GOOD.replace('processors: [sample]', 'processors: [sample, sample]')), [
      'config.yaml: service::pipelines::flows::processors: "sample" is listed more than once',
    ])
  })

  it('substitutes environment variables, typed when a value is one reference', () => {
    const text = GOOD.replace('interval: 250ms', 'interval: ${env:INTERVAL}').replace('keep_every: 2', 'keep_every: "${env:KEEP}"')
      .replace('"127.0.0.1:0"', '"${env:HEALTH_HOST:-localhost}:${env:HEALTH_PORT}"')
    const config = parseConfig(text, 'config.yaml', { ...options, env: { INTERVAL: '2s', KEEP: '3', HEALTH_PORT: '9000' } })
    assert.equal((config.receivers.get('probe/second')?.config as { interval: number }).interval, 2000)
    assert.equal((config.processors.get('sample')?.config as { keep_every: number }).keep_every, 3)
    assert.equal(config.telemetry.healthEndpoint, 'localhost:9000')
  })

  it('names an unset environment variable, and keeps $$ as a literal $', () => {
    assert.deepEqual(problems(GOOD.replace('interval: 250ms', 'interval: ${env:NOPE}')), [
      'config.yaml: receivers::probe/second::interval: environment variable NOPE is not set (use ${env:NOPE:-default} for a default)',
    ])
    assert.deepEqual(problems(GOOD.replace('interval: 250ms', () => 'interval: $${env:NOPE}')), [
      'config.yaml: receivers::probe/second::interval: must be a duration such as "500ms", "10s", "1m" or "1h" (got "${env:NOPE}")',
    ])
  })

  it('reads a file, and names it when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlens-config-'))
    try {
      const file = join(dir, 'good.yaml')
      writeFileSync(file, GOOD)
      assert.equal(loadConfigFile(file, options).source, file)
      assert.throws(() => loadConfigFile(join(dir, 'missing.yaml'), options), (error: ConfigError) => {
        assert.match(error.problems[0] as string, /missing\.yaml: cannot read: ENOENT/)
        return true
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
