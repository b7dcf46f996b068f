// End to end against the real kernel: knotd serves a zone in a test namespace, kdig asks from the root namespace
// (where the receiver captures) over UDP and TCP, IPv4 and IPv6; a second namespace with no server is the silent
// address for timeouts. Every count, response code and question type must come out exactly.
import assert from 'node:assert/strict'
import type { Batch } from '../../../src/component/types.ts'
import type { AnyRecord, DnsAnswerRecord, DnsRecord } from '../../../src/records.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'
import { dnsReceiverFactory } from '../../../src/receivers/dns/factory.ts'
import type { DnsConfig } from '../../../src/receivers/dns/config.ts'
import { kdig, startKnot, type KnotServer } from '../../helpers/knot.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'

const ZONE = 'netlens.test'
const PORT = 20_000 + (process.pid % 20_000)

describe('dns receiver end to end (knotd in a namespace, kdig from the root namespace)', function () {
  this.timeout(60_000)
  let server: TestHost | undefined
  let silent: TestHost | undefined
  let knot: KnotServer | undefined
  const records: AnyRecord[] = []
  const telemetry = new SelfTelemetry()
  const config: DnsConfig = { ports: [PORT], transports: ['udp', 'tcp'], interface: '', timeout: 1000, max_pending: 1024, flush_interval: 100 }
  const receiver = dnsReceiverFactory.create(
    { id: 'dns/e2e', logger: createLogger('warn'), telemetry },
    config,
    { consume: (batch: Batch) => { records.push(...batch.records) } },
  )

  before(async () => {
    server = createTestHost()
    silent = createTestHost()
    knot = await startKnot({
      host: server, port: PORT, zone: ZONE,
      records: ['www IN CNAME host', 'host 120 IN A 198.18.99.10', 'host 120 IN AAAA fd00:198:18:99::10'],
    })
    await receiver.start({ reportFatal: (error) => { throw error } })
  })

  after(async () => {
    await receiver.shutdown()
    await knot?.stop()
    silent?.destroy()
    server?.destroy()
  })

  it('reports every query with its response code, latency and answers', async () => {
    const s = server as TestHost
    const quiet = silent as TestHost
    const ask = (address: string, name: string, type: string, ...extra: string[]) =>
      kdig([`@${address}`, '-p', String(PORT), name, type, '+timeout=2', '+retry=0', ...extra])

    assert.match(ask(s.ipv4, `www.${ZONE}`, 'A'), /198\.18\.99\.10/, knot?.log())
    assert.match(ask(s.ipv6, `www.${ZONE}`, 'AAAA'), /fd00:198:18:99::10/)
    assert.match(ask(s.ipv4, `host.${ZONE}`, 'A', '+tcp'), /198\.18\.99\.10/)
    assert.match(ask(s.ipv6, `www.${ZONE}`, 'AAAA', '+tcp'), /fd00:198:18:99::10/)
    assert.match(ask(s.ipv4, `missing.${ZONE}`, 'TXT'), /NXDOMAIN/)
    assert.match(ask(s.ipv6, `missing.${ZONE}`, 'A', '+tcp'), /NXDOMAIN/)
    assert.match(ask(s.ipv4, 'example.org', 'A'), /REFUSED/)
    assert.match(ask(s.ipv6, 'example.org', 'MX', '+tcp'), /REFUSED/)
    ask(quiet.ipv4, `www.${ZONE}`, 'A', '+timeout=1')
    ask(quiet.ipv6, `www.${ZONE}`, 'AAAA', '+timeout=1')

    const expected = [
      ['udp', 'ipv4', s.ipv4, `www.${ZONE}`, 'A', 'NOERROR'],
      ['udp', 'ipv6', s.ipv6, `www.${ZONE}`, 'AAAA', 'NOERROR'],
      ['tcp', 'ipv4', s.ipv4, `host.${ZONE}`, 'A', 'NOERROR'],
      ['tcp', 'ipv6', s.ipv6, `www.${ZONE}`, 'AAAA', 'NOERROR'],
      ['udp', 'ipv4', s.ipv4, `missing.${ZONE}`, 'TXT', 'NXDOMAIN'],
      ['tcp', 'ipv6', s.ipv6, `missing.${ZONE}`, 'A', 'NXDOMAIN'],
      ['udp', 'ipv4', s.ipv4, 'example.org', 'A', 'REFUSED'],
      ['tcp', 'ipv6', s.ipv6, 'example.org', 'MX', 'REFUSED'],
      ['udp', 'ipv4', quiet.ipv4, `www.${ZONE}`, 'A', 'timeout'],
      ['udp', 'ipv6', quiet.ipv6, `www.${ZONE}`, 'AAAA', 'timeout'],
    ].map((row) => row.join(' ')).sort()

    const dns = () => records.filter((r): r is DnsRecord => r.kind === 'dns')
    // Wait (not a timing assertion) for the timeouts to fall due and be flushed.
    for (let i = 0; i < 100 && dns().length < expected.length; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    await new Promise((resolve) => setTimeout(resolve, 300)) // anything extra would show up now

    const seen = dns().map((r) => [r.transport, r.family, r.server.address, r.questionName, r.questionType, r.responseCode].join(' ')).sort()
    assert.deepEqual(seen, expected)
    for (const record of dns()) {
      const gateway = record.server.address === s.ipv4 ? s.gatewayIpv4 : record.server.address === s.ipv6 ? s.gatewayIpv6
        : record.family === 'ipv4' ? quiet.gatewayIpv4 : quiet.gatewayIpv6
      assert.equal(record.client.address, gateway)
      assert.ok(record.client.port > 0)
      assert.equal(record.server.port, PORT)
      if (record.responseCode === 'timeout') assert.equal(record.durationSeconds, undefined)
      else assert.ok(record.durationSeconds !== undefined && record.durationSeconds > 0 && record.durationSeconds < 2)
    }

    const answers = records.filter((r): r is DnsAnswerRecord => r.kind === 'dns.answer')
      .map((r) => `${r.client} ${r.questionName} ${r.addresses.map((a) => `${a.address}/${a.ttlSeconds}`).join(',')}`).sort()
    assert.deepEqual(answers, [
      `${s.gatewayIpv4} host.${ZONE} 198.18.99.10/120`,
      `${s.gatewayIpv4} www.${ZONE} 198.18.99.10/120`,
      `${s.gatewayIpv6} www.${ZONE} fd00:198:18:99::10/120`,
      `${s.gatewayIpv6} www.${ZONE} fd00:198:18:99::10/120`,
    ].sort())

    const dropped = telemetry.get('netlens.records.dropped') as SelfCounter
    for (const reason of ['parse_error', 'unmatched_response', 'duplicate', 'capture_ring_full', 'capture_queue_full', 'tcp_desync']) {
      assert.equal(dropped.value({ component: 'dns/e2e', reason }), 0, reason)
    }
  })
})
