// rdns's active PTR lookups against real DNS servers: knotd in a test namespace, authoritative for `arpa`, holds PTR
// records for addresses of 198.18.0.0/24 and fd00:198:18::/64 (no test host uses them; the flows are built, only
// the lookups are real). A UDP socket that never answers stands for a silent server, a port nothing listens on in
// the namespace for a refusing one. The processor runs in the test process, asking them by address:port.
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import dgram from 'node:dgram'
import { rdnsProcessorFactory } from '../../../src/processors/rdns/factory.ts'
import { RdnsProcessor } from '../../../src/processors/rdns/processor.ts'
import type { AnyRecord } from '../../../src/records.ts'
import type { SelfCounter, SelfTelemetry } from '../../../src/telemetry/self.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { startKnot, type KnotServer } from '../../helpers/knot.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { answer, flow } from '../records.ts'

const DNS_PORT = 20_000 + ((process.pid + 7) % 20_000)
const CLIENT = '198.18.0.1'

/** The ip6.arpa owner name of an IPv6 address written out in full, relative to `arpa`. */
function ip6Owner(full: string): string {
  return `${full.replaceAll(':', '').split('').reverse().join('.')}.ip6`
}

const RECORDS = [
  '7.0.18.198.in-addr IN PTR Ptr-Seven.Test.',
  '8.0.18.198.in-addr IN PTR ptr-eight.test.',
  '10.0.18.198.in-addr IN TXT "a name without a PTR record"',
  `${ip6Owner('fd00:0198:0018:0000:0000:0000:0000:0007')} IN PTR ptr-six.test.`,
]

function count(telemetry: SelfTelemetry, name: string, filter = {}): number {
  return (telemetry.get(name) as SelfCounter).value({ component: 'rdns', ...filter })
}

function gauge(telemetry: SelfTelemetry, name: string): number | undefined {
  return telemetry.get(name)!.points()[0]?.value
}

async function waitFor(what: string, done: () => boolean, ms = 5000): Promise<void> {
  // Waiting for a lookup to come back, not a timing assertion: the bound only turns a hang into a failure.
  const until = performance.now() + ms
  while (!done() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(done(), `timed out waiting for ${what}`)
}

/** A DNS server that reads queries and never answers; counts them. */
async function silentServer(): Promise<{ server: string; queries: () => number; close: () => void }> {
  const socket = dgram.createSocket('udp4')
  let queries = 0
  socket.on('message', () => queries++)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return { server: `127.0.0.1:${socket.address().port}`, queries: () => queries, close: () => socket.close() }
}

describe('rdns PTR lookups (knotd in a namespace, a silent server, a refusing port)', function () {
  this.timeout(30_000)
  let host: TestHost | undefined
  let knot: KnotServer | undefined
  let server = ''
  const running: RdnsProcessor[] = []

  before(async () => {
    host = createTestHost()
    knot = await startKnot({ host, port: DNS_PORT, zone: 'arpa', records: RECORDS })
    server = `${host.ipv4}:${DNS_PORT}`
  })

  after(async () => {
    await knot?.stop()
    host?.destroy()
  })

  afterEach(async () => {
    for (const processor of running.splice(0)) await processor.shutdown()
  })

  /** A started processor with `ptr_lookups` enabled, asking knotd unless `servers` says otherwise. */
  async function setup(ptr: Record<string, unknown>, options: StartOptions = {}) {
    return start({ enabled: true, servers: [server], ...ptr }, options)
  }

  interface StartOptions {
    now?: () => number
    /** Other keys of the processor's section. */
    section?: Record<string, unknown>
  }

  async function start(ptr: Record<string, unknown>, { now, section }: StartOptions = {}) {
    const settings = testSettings('rdns')
    const config = configOf(rdnsProcessorFactory, { ...section, ptr_lookups: ptr })
    const processor = new RdnsProcessor('rdns', settings.telemetry, config, { now })
    running.push(processor)
    await processor.start()
    const run = (...records: AnyRecord[]) => processor.process({ records }).records
    const domains = (...records: AnyRecord[]) => run(...records).map((r) => r.attributes['destination.domain'])
    return { processor, run, domains, telemetry: settings.telemetry }
  }

  it('is off by default: no query leaves, nothing is counted', async () => {
    const silent = await silentServer()
    try {
      const { processor, domains, telemetry } = await start({ servers: [silent.server] })
      assert.equal(processor.ptr, undefined)
      for (let i = 0; i < 3; i++) assert.deepEqual(domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, '8.8.8.8')), [undefined, undefined])
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(silent.queries(), 0)
      assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups'), 0)
      assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), undefined, 'no PTR gauges when off')
    } finally {
      silent.close()
    }
  })

  it('names an address from its PTR record once the lookup is back; the record that missed passes unnamed', async () => {
    const { run, domains, telemetry } = await setup({ servers: [`[${host!.ipv6}]:${DNS_PORT}`] })
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, 'fd00:198:18::7')), [undefined, undefined])
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 2)
    await waitFor('both lookups', () => count(telemetry, 'netlens.rdns.ptr.lookups') === 2)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'resolved' }), 2, knot?.log())
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, 'fd00:198:18::7')), ['ptr-seven.test', 'ptr-six.test'])
    // An incoming flow names its remote source; its local destination (CLIENT, no PTR record) is asked too.
    const [incoming] = run(flow('198.18.0.7', CLIENT, { direction: 'incoming' }))
    assert.deepEqual(incoming!.attributes, { 'source.domain': 'ptr-seven.test' })
    await waitFor('the local address', () => count(telemetry, 'netlens.rdns.ptr.lookups') === 3)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'no_name' }), 1)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.hits'), 3)
    assert.equal(count(telemetry, 'netlens.rdns.hits'), 0, 'no name came from the wire')
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.entries'), 3)
  })

  it('lets names from the wire win: no lookup for them, and they replace a PTR name', async () => {
    const { run, domains, telemetry } = await setup({})
    run(answer(CLIENT, 'wire-eight.test', [['198.18.0.8', 300]]))
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.8')), ['wire-eight.test'])
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0, 'a wire name needs no lookup')

    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7')), [undefined])
    await waitFor('the lookup', () => count(telemetry, 'netlens.rdns.ptr.lookups') === 1)
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7')), ['ptr-seven.test'])
    run(answer(CLIENT, 'wire-seven.test', [['198.18.0.7', 300]]))
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7')), ['wire-seven.test'])
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups'), 1)
  })

  it('caches NXDOMAIN and no-PTR answers for negative_ttl, then asks again', async () => {
    let now = Date.now()
    const { domains, telemetry } = await setup({ negative_ttl: '1m' }, { now: () => now })
    const lookups = () => count(telemetry, 'netlens.rdns.ptr.lookups')
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.9'), flow(CLIENT, '198.18.0.10')), [undefined, undefined])
    await waitFor('both lookups', () => lookups() === 2)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'no_name' }), 2, 'NXDOMAIN and NOERROR without PTR')
    for (let i = 0; i < 5; i++) domains(flow(CLIENT, '198.18.0.9'), flow(CLIENT, '198.18.0.10'))
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0, 'nothing asked again')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(lookups(), 2)

    now += 60_000
    domains(flow(CLIENT, '198.18.0.9'))
    await waitFor('the lookup after negative_ttl', () => lookups() === 3)
  })

  it('keeps at most max_entries PTR results, evicting the least recently used (counted)', async () => {
    const { domains, telemetry } = await setup({}, { section: { max_entries: 2 } })
    const lookups = () => count(telemetry, 'netlens.rdns.ptr.lookups')
    domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, '198.18.0.8'))
    await waitFor('two lookups', () => lookups() === 2)
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7')), ['ptr-seven.test']) // .8 is now the least recently used
    domains(flow(CLIENT, '198.18.0.9'))
    await waitFor('the third lookup', () => lookups() === 3)
    assert.deepEqual(domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, '198.18.0.8')), ['ptr-seven.test', undefined])
    assert.equal(count(telemetry, 'netlens.rdns.evictions', { reason: 'ptr_capacity' }), 1)
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.entries'), 2)
  })

  it('holds the rate: a burst of one second\'s worth, then `rate` a second; beyond max_pending dropped and counted', async () => {
    const { domains, telemetry } = await setup({ rate: 5, max_pending: 10 })
    const lookups = () => count(telemetry, 'netlens.rdns.ptr.lookups')
    const addresses = Array.from({ length: 30 }, (_, i) => `198.18.0.${100 + i}`)
    const started = performance.now()
    domains(...addresses.map((address) => flow(CLIENT, address)))
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 10)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.dropped', { reason: 'queue_full' }), 20)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.rate_limited'), 5, 'five sent at once, five waiting for tokens')
    let late = 0
    await waitFor('ten lookups', () => {
      const seconds = (performance.now() - started) / 1000
      if (lookups() > 5 + Math.ceil(5 * seconds)) late++
      return lookups() === 10
    })
    assert.equal(late, 0, 'never more lookups than the burst plus rate x elapsed')
    assert.ok(performance.now() - started >= 900, 'the last five wait ~200 ms apart')
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'no_name' }), 10)

    // The dropped ones are asked at their next miss; the ten answered are cached.
    domains(...addresses.map((address) => flow(CLIENT, address)))
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 10)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.dropped', { reason: 'queue_full' }), 30)
  })

  it('bounds a lookup to a silent server by timeout, asks it once, and caches the failure', async () => {
    const silent = await silentServer()
    try {
      const { domains, telemetry } = await setup({ servers: [silent.server], timeout: '300ms' })
      const started = performance.now()
      domains(flow(CLIENT, '198.18.0.7'))
      await waitFor('the timeout', () => count(telemetry, 'netlens.rdns.ptr.lookups') === 1)
      const elapsed = performance.now() - started
      assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'timeout' }), 1)
      // c-ares alone takes ~600 ms here (it stretches a try's timeout): the processor's own deadline ends it.
      assert.ok(elapsed >= 290 && elapsed < 500, `timed out after ${elapsed} ms`)
      await new Promise((resolve) => setTimeout(resolve, 700))
      domains(flow(CLIENT, '198.18.0.7'))
      assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0, 'the failure is cached')
      assert.equal(silent.queries(), 1, 'one try, no retry')
    } finally {
      silent.close()
    }
  })

  it('counts a refusing server (ICMP port unreachable) as an error', async () => {
    const { domains, telemetry } = await setup({ servers: [`${host!.ipv4}:${DNS_PORT + 1}`] })
    domains(flow(CLIENT, '198.18.0.7'))
    await waitFor('the error', () => count(telemetry, 'netlens.rdns.ptr.lookups') === 1)
    assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups', { outcome: 'error' }), 1)
  })

  it('never asks about skipped address types (loopback, multicast, ... by default)', async () => {
    const { domains, telemetry } = await setup({})
    domains(flow(CLIENT, '127.0.0.1'), flow(CLIENT, '::1'), flow(CLIENT, '224.0.0.251'), flow(CLIENT, 'fe80::1'),
      flow(CLIENT, '::ffff:127.0.0.1'))
    assert.equal(count(telemetry, 'netlens.rdns.ptr.skipped', { reason: 'ip_type' }), 5)
    assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0)
  })

  it('shuts down at once: drops the queue and what is in flight (counted), leaves no timer', async () => {
    const silent = await silentServer()
    // Timers created until shutdown, until they fire or are cleared (unref()'d ones are no active resource).
    const timers = new Set<number>()
    let tracking = true
    const hook = createHook({
      init: (id, type) => { if (tracking && type === 'Timeout') timers.add(id) },
      destroy: (id) => { timers.delete(id) },
    })
    try {
      hook.enable()
      const { processor, domains, telemetry } = await setup({ servers: [silent.server], timeout: '10s', rate: 1 })
      domains(flow(CLIENT, '198.18.0.7'), flow(CLIENT, '198.18.0.8'), flow(CLIENT, '198.18.0.9'))
      assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 3)
      const started = performance.now()
      await processor.shutdown()
      assert.ok(performance.now() - started < 500, 'the in-flight lookup was cancelled, not waited for')
      assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0, 'shutdown() returned once the lookup had settled')
      assert.equal(count(telemetry, 'netlens.rdns.ptr.dropped', { reason: 'shutdown' }), 3)
      assert.equal(count(telemetry, 'netlens.rdns.ptr.lookups'), 0)
      tracking = false
      await new Promise((resolve) => setTimeout(resolve, 50)) // destroy hooks run from a queue
      assert.equal(timers.size, 0, 'every timer was cleared')
      domains(flow(CLIENT, '198.18.0.10'))
      assert.equal(gauge(telemetry, 'netlens.rdns.ptr.pending'), 0, 'nothing is queued after shutdown')
      await processor.shutdown() // idempotent
    } finally {
      hook.disable()
      silent.close()
    }
  })
})
