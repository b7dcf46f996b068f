import assert from 'node:assert/strict'
import { parseConfig } from '../../src/config/load.ts'
import { Agent } from '../../src/pipeline/agent.ts'
import { buildGraph } from '../../src/pipeline/build.ts'
import { Service } from '../../src/pipeline/service.ts'
import { createLogger } from '../../src/telemetry/logger.ts'
import { SelfTelemetry, standardCounters } from '../../src/telemetry/self.ts'
import { dnsRecords, journal, ProbeExporter, ProbeProcessor, ProbeReceiver, resetProbes, testFactories } from './test-factories.ts'

const lines: string[] = []
const logger = createLogger('debug', (line) => lines.push(line))

function setUp(text: string, options: { shutdownTimeoutMs?: number } = {}) {
  const config = parseConfig(text, 'test.yaml', { factories: testFactories, env: {} })
  const telemetry = new SelfTelemetry()
  const service = new Service(buildGraph(config, logger, telemetry), { logger, ...options })
  return { service, counters: standardCounters(telemetry) }
}

const receiver = (id: string) => ProbeReceiver.instances.find((r) => r.id === id) as ProbeReceiver
const exporter = (id: string) => ProbeExporter.instances.find((e) => e.id === id) as ProbeExporter

const TWO_PIPELINES = `
receivers: { probe/a: , probe/b: , probe/idle: }
processors: { sample: { keep_every: 2 } }
exporters: { sink/one: , sink/two: }
service:
  pipelines:
    first: { receivers: [probe/a], processors: [sample], exporters: [sink/one, sink/two] }
    second: { receivers: [probe/a, probe/b], processors: [sample], exporters: [sink/two] }
`

describe('pipeline wiring', () => {
  beforeEach(() => {
    resetProbes()
    lines.length = 0
  })

  it('creates each component once, shares processors, fans out to every pipeline and exporter', async () => {
    const { service, counters } = setUp(TWO_PIPELINES)
    assert.equal(ProbeProcessor.instances.length, 1, 'one shared processor instance')
    assert.deepEqual(ProbeReceiver.instances.map((r) => r.id), ['probe/a', 'probe/b'], 'unused components are not created')
    assert.deepEqual(ProbeExporter.instances.map((e) => e.id), ['sink/one', 'sink/two'])
    await service.start()
    receiver('probe/a').emit({ records: dnsRecords(10), lost: 3 })
    receiver('probe/b').emit({ records: dnsRecords(4) })
    // probe/a → first (5 kept) → one, two; probe/a → second (5 kept) → two; probe/b → second (2 kept) → two.
    assert.equal(exporter('sink/one').records, 5)
    assert.equal(exporter('sink/two').records, 12)
    assert.equal(counters.received.value({ component: 'probe/a' }), 10)
    assert.equal(counters.received.value({ component: 'probe/b' }), 4)
    assert.equal(counters.received.value({ component: 'sample' }), 24)
    assert.equal(counters.dropped.value({ component: 'sample', reason: 'filtered' }), 12)
    assert.equal(counters.dropped.value({ component: 'probe/a', reason: 'lost' }), 3)
    assert.equal(counters.received.value({ component: 'sink/two' }), 12)
    assert.deepEqual(await service.shutdown(), [])
  })

  it('starts exporters → processors → receivers, stops in reverse, flushing exporters before their shutdown', async () => {
    const { service } = setUp(TWO_PIPELINES)
    await service.start()
    assert.equal(service.health.phase, 'running')
    assert.deepEqual(await service.shutdown(), [])
    assert.deepEqual(journal, [
      'start sink/one', 'start sink/two', 'start sample', 'start probe/a', 'start probe/b',
      'shutdown probe/b', 'shutdown probe/a', 'shutdown sample', 'flush sink/one', 'flush sink/two', 'shutdown sink/two', 'shutdown sink/one',
    ])
    assert.deepEqual(await service.shutdown(), [], 'idempotent')
    assert.equal(journal.length, 12)
  })

  it('counts and logs an exporter that throws, and keeps feeding the others', async () => {
    const { service, counters } = setUp(TWO_PIPELINES.replace('sink/one: ,', 'sink/one: { throw_on_consume: true },'))
    await service.start()
    receiver('probe/a').emit({ records: dnsRecords(4) })
    receiver('probe/a').emit({ records: dnsRecords(4) })
    assert.equal(exporter('sink/two').records, 8)
    assert.equal(counters.dropped.value({ component: 'sink/one', reason: 'export_error' }), 4)
    const logged = lines.filter((l) => l.includes('"sink/one" exporter failed to consume a batch'))
    assert.equal(logged.length, 1, 'rate-limited to one line')
    assert.match(logged[0] as string, /error="backend unreachable"/)
    await service.shutdown()
  })

  it('counts a processor that throws as dropped and keeps the receiver going', async () => {
    const { service, counters } = setUp(TWO_PIPELINES.replace('keep_every: 2', 'throw_on_consume: true'))
    await service.start()
    assert.doesNotThrow(() => receiver('probe/b').emit({ records: dnsRecords(3) }))
    assert.equal(counters.dropped.value({ component: 'sample', reason: 'process_error' }), 3)
    await service.shutdown()
  })

  it('collects every shutdown failure, bounding hung ones in time', async () => {
    const text = TWO_PIPELINES.replace('probe/b: ,', 'probe/b: { hang_shutdown: true },').replace('sink/one: ,', 'sink/one: { fail_shutdown: true },')
    const { service } = setUp(text, { shutdownTimeoutMs: 200 })
    await service.start()
    const failures = (await service.shutdown()).map((e) => e.message)
    assert.deepEqual(failures, [
      'failed to shut down "probe/b" receiver: shutdown timed out after 200ms',
      'failed to shut down "sink/one" exporter: socket busy',
    ])
    assert.ok(journal.includes('shutdown sink/two'), 'the others still shut down')
  })

  it('shuts down safely without start', async () => {
    const { service } = setUp(TWO_PIPELINES)
    assert.deepEqual(await service.shutdown(), [])
    assert.ok(!journal.some((l) => l.startsWith('start')))
  })

  it('keeps running when one receiver fails to start, and reports it in health', async () => {
    const { service } = setUp(TWO_PIPELINES.replace('probe/b: ,', 'probe/b: { fail_start: true },'))
    await service.start()
    assert.equal(service.health.phase, 'running')
    assert.equal(service.health.healthy, false)
    assert.deepEqual(service.health.failed(), [{ component: '"probe/b" receiver', error: 'failed to start "probe/b" receiver: port already in use' }])
    assert.ok(lines.some((l) => l.includes('error failed to start "probe/b" receiver: port already in use')))
    receiver('probe/a').emit({ records: dnsRecords(2) })
    assert.equal(exporter('sink/one').records, 1)
    await service.shutdown()
  })

  it('fails when no receiver can start, after shutting everything down', async () => {
    const { service } = setUp(TWO_PIPELINES.replace('probe/a: ,', 'probe/a: { fail_start: true },').replace('probe/b: ,', 'probe/b: { fail_start: true },'))
    await assert.rejects(service.start(), /no receiver could start/)
    assert.equal(service.health.phase, 'stopped')
    assert.ok(journal.includes('shutdown sink/one') && journal.includes('shutdown probe/a'))
  })

  it('treats an exporter failing to start as fatal', async () => {
    const { service } = setUp(TWO_PIPELINES.replace('sink/two: }', 'sink/two: { fail_start: true } }'))
    await assert.rejects(service.start(), /failed to start "sink\/two" exporter: port already in use/)
    assert.ok(!journal.includes('start probe/a'), 'receivers never started')
    assert.ok(journal.includes('shutdown sink/one'))
  })

  it('marks a component failed when it reports a fatal error', async () => {
    const { service } = setUp(TWO_PIPELINES)
    await service.start()
    receiver('probe/a').host?.reportFatal(new Error('ring buffer gone'))
    assert.deepEqual(service.health.failed(), [{ component: '"probe/a" receiver', error: 'ring buffer gone' }])
    await service.shutdown()
  })

  it('runs as an agent with its health endpoint', async () => {
    const config = parseConfig(TWO_PIPELINES + '  telemetry: { health_check: { endpoint: "127.0.0.1:0" } }\n', 'test.yaml', { factories: testFactories, env: {} })
    const agent = new Agent(config, { logger })
    await agent.start()
    const endpoint = /health check listening endpoint=(\S+)/.exec(lines.join('\n'))?.[1]
    const response = await fetch(`http://${endpoint}/`)
    assert.equal(response.status, 200)
    assert.deepEqual(await agent.stop(), [])
    await assert.rejects(fetch(`http://${endpoint}/`))
  })
})
