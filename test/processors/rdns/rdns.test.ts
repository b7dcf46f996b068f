// The rdns processor with an injected clock: learning from answers, naming flows and HTTP, TTL floor and cap,
// LRU bounds, several names per address, its telemetry, and its PTR settings (the lookups: ptr.test.ts).
import assert from 'node:assert/strict'
import type { Batch } from '../../../src/component/types.ts'
import { rdnsProcessorFactory } from '../../../src/processors/rdns/factory.ts'
import type { RdnsConfig } from '../../../src/processors/rdns/config.ts'
import { RdnsProcessor } from '../../../src/processors/rdns/processor.ts'
import { pipelineConsumer } from '../../../src/pipeline/consumers.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { standardCounters, type SelfCounter, type SelfTelemetry } from '../../../src/telemetry/self.ts'
import type { AnyRecord, FlowRecord } from '../../../src/records.ts'
import { CollectingConsumer, configOf, testSettings } from '../../helpers/components.ts'
import { answer, flow, http } from '../records.ts'

const CLIENT = '10.0.0.5'

function setup(section: Record<string, unknown> = {}) {
  let now = 1_000_000
  const settings = testSettings('rdns')
  const config = configOf(rdnsProcessorFactory, section)
  const processor = new RdnsProcessor('rdns', settings.telemetry, config, { now: () => now })
  const run = (...records: AnyRecord[]) => processor.process({ records }).records
  const domains = (...records: AnyRecord[]) => run(...records).map((r) => r.attributes['destination.domain'])
  const advance = (ms: number) => { now += ms }
  return { processor, run, domains, advance, telemetry: settings.telemetry }
}

function count(telemetry: SelfTelemetry, name: string, filter = {}): number {
  return (telemetry.get(name) as SelfCounter).value(filter)
}

function entries(telemetry: SelfTelemetry): number {
  return telemetry.get('netlens.rdns.entries')!.points()[0]!.value
}

describe('rdns processor', () => {
  it('names flow destinations from A and AAAA answers, sources of incoming flows, and HTTP exchanges', () => {
    const { run, telemetry } = setup()
    run(answer(CLIENT, 'svc.test', [['198.51.100.7', 300], ['2001:db8::7', 300]]))
    const outgoing = flow(CLIENT, '198.51.100.7')
    const out = run(
      outgoing,
      flow(CLIENT, '2001:db8::7'),
      flow('198.51.100.7', CLIENT, { direction: 'incoming' }),
      flow('203.0.113.1', '198.51.100.7', { direction: 'incoming' }),
      http(CLIENT, '198.51.100.7'),
      http('198.51.100.7', CLIENT, 'server'),
      flow(CLIENT, '192.0.2.99'),
    )
    assert.deepEqual(out.map((r) => r.attributes), [
      { 'destination.domain': 'svc.test' },
      { 'destination.domain': 'svc.test' },
      { 'source.domain': 'svc.test' },
      { 'destination.domain': 'svc.test' },
      { 'destination.domain': 'svc.test' },
      { 'source.domain': 'svc.test' },
      {},
    ])
    assert.deepEqual(outgoing.attributes, {}, 'the given record is not mutated')
    assert.equal((out[0] as FlowRecord).destination.address, '198.51.100.7', 'the address stays by default')
    assert.equal(entries(telemetry), 2)
    assert.equal(count(telemetry, 'netlens.rdns.hits'), 6)
    // the local end of an incoming flow (CLIENT) and its peer 203.0.113.1, and the unknown destination
    assert.equal(count(telemetry, 'netlens.rdns.misses'), 4)
  })

  it('learns and names within one batch, whatever the order', () => {
    const { domains } = setup()
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.8'), answer(CLIENT, 'Mixed.Case.Test.', [['198.51.100.8', 60]])), ['mixed.case.test', undefined])
  })

  it('keeps a name for max(TTL, min_ttl) and at most max_ttl', () => {
    const { run, domains, advance, telemetry } = setup({ min_ttl: '60s', max_ttl: '1h' })
    run(answer(CLIENT, 'short.test', [['198.51.100.1', 5]]), answer(CLIENT, 'long.test', [['198.51.100.2', 86_400]]),
      answer(CLIENT, 'mid.test', [['198.51.100.3', 600]]))
    advance(59_999)
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1'), flow(CLIENT, '198.51.100.3')), ['short.test', 'mid.test'])
    advance(1)
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1'), flow(CLIENT, '198.51.100.3')), [undefined, 'mid.test'])
    advance(3_600_000 - 60_000 - 1)
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.2')), ['long.test'])
    advance(1)
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.2'), flow(CLIENT, '198.51.100.3')), [undefined, undefined])
    assert.equal(count(telemetry, 'netlens.rdns.expirations'), 3)
    assert.equal(entries(telemetry), 0)
  })

  it('honours a TTL of 0 when min_ttl is 0: nothing to remember', () => {
    const { run, domains } = setup({ min_ttl: 0 })
    run(answer(CLIENT, 'nocache.test', [['198.51.100.1', 0]]), answer(CLIENT, 'one.test', [['198.51.100.2', 1]]))
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1'), flow(CLIENT, '198.51.100.2')), [undefined, 'one.test'])
  })

  it('a new answer renews the name', () => {
    const { run, domains, advance } = setup({ min_ttl: 0 })
    run(answer(CLIENT, 'a.test', [['198.51.100.1', 10]]))
    advance(9_000)
    run(answer(CLIENT, 'a.test', [['198.51.100.1', 10]]))
    advance(9_000)
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1')), ['a.test'])
  })

  it('sweeps expired names nobody looks up', () => {
    const { run, processor, advance, telemetry } = setup({ min_ttl: 0 })
    run(answer(CLIENT, 'a.test', [['198.51.100.1', 10], ['198.51.100.2', 20]]))
    advance(15_000)
    assert.equal(processor.sweep(), 1)
    assert.equal(entries(telemetry), 1)
    assert.equal(count(telemetry, 'netlens.rdns.expirations'), 1)
  })

  it('evicts the least recently used address beyond max_entries', () => {
    const { run, domains, telemetry } = setup({ max_entries: 2 })
    run(answer(CLIENT, 'a.test', [['198.51.100.1', 60]]), answer(CLIENT, 'b.test', [['198.51.100.2', 60]]))
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1')), ['a.test']) // a is now the most recently used
    run(answer(CLIENT, 'c.test', [['198.51.100.3', 60]]))
    assert.deepEqual(domains(flow(CLIENT, '198.51.100.1'), flow(CLIENT, '198.51.100.2'), flow(CLIENT, '198.51.100.3')),
      ['a.test', undefined, 'c.test'])
    assert.equal(count(telemetry, 'netlens.rdns.evictions', { reason: 'capacity' }), 1)
    assert.equal(entries(telemetry), 2)
  })

  it('keeps several names per address: the most recent wins, a flow\'s own client\'s name first, the rest counted', () => {
    const { run, domains, telemetry } = setup({ max_names_per_address: 2 })
    const cdn = '198.51.100.50'
    run(answer(CLIENT, 'first.test', [[cdn, 60]]))
    run(answer('10.0.0.6', 'second.test', [[cdn, 60]]))
    assert.deepEqual(domains(flow('10.0.0.99', cdn)), ['second.test'], 'most recent')
    assert.deepEqual(domains(flow(CLIENT, cdn)), ['first.test'], 'the name this client asked for')
    assert.equal(count(telemetry, 'netlens.rdns.ambiguous'), 2)
    run(answer('10.0.0.7', 'third.test', [[cdn, 60]]))
    assert.equal(count(telemetry, 'netlens.rdns.evictions', { reason: 'names_per_address' }), 1)
    assert.deepEqual(domains(flow(CLIENT, cdn)), ['third.test'], 'first.test was the oldest and is gone')
  })

  it('replaces the address itself when asked', () => {
    const { run } = setup({ replace_address: true })
    run(answer(CLIENT, 'svc.test', [['198.51.100.7', 60]]))
    const [named] = run(flow(CLIENT, '198.51.100.7')) as FlowRecord[]
    assert.equal(named!.destination.address, 'svc.test')
    assert.equal(named!.destination.port, 443)
    assert.equal(named!.attributes['destination.domain'], 'svc.test')
  })

  it('is one instance shared by pipelines: learns in the dns one, names in the netflow one', () => {
    const { processor } = setup()
    const counters = standardCounters(testSettings('x').telemetry)
    const logger = createLogger('error')
    const dnsOut = new CollectingConsumer()
    const flowOut = new CollectingConsumer()
    const dnsflow = pipelineConsumer([{ id: 'rdns', processor }], [dnsOut], counters, logger)
    const netflow = pipelineConsumer([{ id: 'rdns', processor }], [flowOut], counters, logger)
    dnsflow.consume({ records: [answer(CLIENT, 'svc.test', [['198.51.100.7', 60]])] } satisfies Batch)
    netflow.consume({ records: [flow(CLIENT, '198.51.100.7')] })
    assert.equal(flowOut.records[0]!.attributes['destination.domain'], 'svc.test')
    assert.equal(dnsOut.records[0]!.kind, 'dns.answer', 'answers pass on')
  })

  it('rejects min_ttl above max_ttl', () => {
    assert.throws(() => configOf(rdnsProcessorFactory, { min_ttl: '2h', max_ttl: '1h' }), /min_ttl/)
  })

  it('has PTR lookups off by default; on, takes servers as IP or IP:port ([IPv6]:port)', () => {
    const { ptr_lookups: ptr } = configOf(rdnsProcessorFactory)
    assert.equal(ptr.enabled, false)
    assert.deepEqual(ptr.servers, [], 'the system\'s resolvers')
    assert.deepEqual([ptr.rate, ptr.timeout, ptr.max_pending], [10, 2000, 1000])
    const { processor } = setup()
    assert.equal(processor.ptr, undefined)
    const servers = ['10.0.0.53', '10.0.0.53:5353', 'fd00::53', '[fd00::53]:5353']
    assert.deepEqual(configOf(rdnsProcessorFactory, { ptr_lookups: { enabled: true, servers } }).ptr_lookups.servers, servers)
  })

  it('rejects PTR settings it cannot use, naming the key', () => {
    const rejects = (ptr_lookups: Record<string, unknown>, message: RegExp) =>
      assert.throws(() => configOf(rdnsProcessorFactory, { ptr_lookups }), message)
    rejects({ servers: ['10.0.0.53', 'resolver.example'] }, /ptr_lookups::servers\[1\]: "resolver.example" is not an IP address or IP:port/)
    rejects({ servers: ['fd00::53:5353:'] }, /ptr_lookups::servers\[0\]/)
    rejects({ servers: ['10.0.0.53:0'] }, /ptr_lookups::servers\[0\]/)
    rejects({ skip_ip_types: ['private', 'privat'] }, /ptr_lookups::skip_ip_types\[1\]: "privat" is not one of private, loopback/)
    rejects({ rate: 0 }, /processors::rdns::ptr_lookups::rate: must be a positive integer/)
    rejects({ timeout: 'soon' }, /ptr_lookups::timeout: must be a duration/)
    rejects({ timeout: 0 }, /ptr_lookups::timeout: must be at least 1ms/)
    rejects({ negative_ttl: '0s' }, /ptr_lookups::negative_ttl: must be at least 1s/)
    rejects({ ttl: '500ms' }, /ptr_lookups::ttl: must be at least 1s/)
    rejects({ rates: 5 }, /ptr_lookups: unknown key "rates"/)
  })
})
