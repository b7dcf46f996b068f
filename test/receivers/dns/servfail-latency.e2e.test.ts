// Acceptance against knotd in a namespace: SERVFAIL (a configured zone knotd could not load) comes out as the
// record's response code, and the latency the receiver measures from kernel timestamps agrees within 1 ms with
// the round trip kdig measured itself (`;; From <server>@<port>(UDP|TCP) in X ms`).
import assert from 'node:assert/strict'
import { LOSS_REASONS, startHarness, ZONE, type DnsHarness } from './harness.ts'

const BROKEN = 'broken.test'

/** kdig's own measurement of its exchange, in milliseconds. */
function kdigMilliseconds(output: string): number {
  const match = /;; From \S+\((UDP|TCP)\) in ([\d.]+) ms/.exec(output)
  assert.ok(match, `no timing in kdig's output:\n${output}`)
  return Number(match[2])
}

describe('dns receiver acceptance: SERVFAIL and latency against kdig (knotd in a namespace)', function () {
  this.timeout(60_000)
  let h: DnsHarness

  before(async () => {
    h = await startHarness({
      id: 'dns/servfail', slot: 1,
      records: ['* 60 IN A 198.18.99.30', '* 60 IN AAAA fd00:198:18:99::30'],
      unloadableZones: [BROKEN],
    })
  })

  after(async () => {
    await h?.stop()
  })

  it('reports SERVFAIL over UDP and TCP, IPv4 and IPv6, with a latency', async () => {
    const { server } = h
    const asked = [
      [server.ipv4, 'A', 'udp', 'ipv4'],
      [server.ipv6, 'AAAA', 'udp', 'ipv6'],
      [server.ipv4, 'MX', 'tcp', 'ipv4'],
      [server.ipv6, 'TXT', 'tcp', 'ipv6'],
    ] as const
    for (const [address, type, transport] of asked) {
      const output = h.ask(address, `www.${BROKEN}`, type, ...(transport === 'tcp' ? ['+tcp'] : []))
      assert.match(output, /status: SERVFAIL/, `${output}\n${h.knot.log()}`)
    }
    await h.waitForDns(asked.length)

    const seen = h.dns().filter((r) => r.questionName === `www.${BROKEN}`)
      .map((r) => `${r.transport} ${r.family} ${r.server.address} ${r.questionType} ${r.responseCode}`).sort()
    assert.deepEqual(seen, asked.map(([address, type, transport, family]) => `${transport} ${family} ${address} ${type} SERVFAIL`).sort())
    for (const record of h.dns()) assert.ok(record.durationSeconds !== undefined && record.durationSeconds > 0)
    assert.equal(h.answers().length, 0, 'a SERVFAIL carries no addresses')
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })

  it('measures each round trip within 1 ms of kdig\'s own measurement, over UDP and TCP', async () => {
    const { server } = h
    const before = h.dns().length
    // A distinct name per query (the zone's wildcard answers them all) ties each record to one kdig run.
    const runs: Array<{ name: string; transport: string; kdigMs: number }> = []
    for (let i = 0; i < 12; i++) {
      const transport = i % 2 === 0 ? 'udp' : 'tcp'
      const name = `latency-${i}.${ZONE}`
      const address = i % 4 < 2 ? server.ipv4 : server.ipv6
      const output = h.askRealtime(address, name, i % 4 < 2 ? 'A' : 'AAAA', ...(transport === 'tcp' ? ['+tcp'] : []))
      assert.match(output, /status: NOERROR/, output)
      assert.match(output, new RegExp(`\\(${transport.toUpperCase()}\\) in`), output)
      runs.push({ name, transport, kdigMs: kdigMilliseconds(output) })
    }
    await h.waitForDns(before + runs.length)

    const byName = new Map(h.dns().map((r) => [r.questionName, r]))
    const report = runs.map(({ name, transport, kdigMs }) => {
      const record = byName.get(name)
      assert.ok(record, `no record for ${name}`)
      assert.equal(record.transport, transport, name)
      assert.equal(record.responseCode, 'NOERROR', name)
      assert.ok(record.durationSeconds !== undefined, name)
      return { name, transport, kdigMs, netlensMs: record.durationSeconds * 1000 }
    })
    for (const { name, transport, kdigMs, netlensMs } of report) {
      assert.ok(Math.abs(netlensMs - kdigMs) <= 1,
        `${name} over ${transport}: netlens ${netlensMs.toFixed(3)} ms, kdig ${kdigMs} ms\n${JSON.stringify(report, null, 1)}`)
    }
    assert.equal(h.dns().length, before + runs.length, 'one record per query, nothing else')
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })
})
