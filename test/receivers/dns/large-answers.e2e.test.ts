// Acceptance against knotd in a namespace: answers larger than 512 bytes. Without EDNS the UDP response comes
// back truncated (TC=1, no answers) and kdig retries over TCP; with EDNS and a large enough buffer the whole
// answer arrives over UDP, in IP fragments when it is larger than the veth's 1500-byte MTU. The receiver must
// report both exchanges of a retry with their own response codes, the addresses from whichever response carried
// them, and a fragmented answer like any other (the port filter keeps its fragments, user space reassembles).
import assert from 'node:assert/strict'
import { LOSS_REASONS, startHarness, ZONE, type DnsHarness } from './harness.ts'

/** 60 A records: 994 bytes of answer without EDNS, 1005 with it: one unfragmented datagram. */
const BIG = Array.from({ length: 60 }, (_, i) => `198.18.200.${i + 1}`)
/** 120 A records: 1966 bytes with EDNS, over the veth's 1500-byte MTU, so the server fragments the datagram. */
const HUGE = Array.from({ length: 120 }, (_, i) => `198.18.201.${i + 1}`)
/** One TXT record of 12 strings of 250 characters: a 3069-byte answer, in three fragments. */
const TXT_STRINGS = Array.from({ length: 12 }, (_, i) => String.fromCharCode(97 + i).repeat(250))

describe('dns receiver acceptance: answers over 512 bytes (TC=1 and TCP retry, EDNS) against knotd', function () {
  this.timeout(60_000)
  let h: DnsHarness

  before(async () => {
    h = await startHarness({
      id: 'dns/large', slot: 2,
      records: [
        ...BIG.map((address) => `big 120 IN A ${address}`),
        ...HUGE.map((address) => `huge 120 IN A ${address}`),
        `txt 120 IN TXT ${TXT_STRINGS.map((text) => `"${text}"`).join(' ')}`,
      ],
      // Above the 1232-byte default, so that knotd sends answers over the MTU in fragments rather than truncating.
      udpMaxPayload: 4096,
    })
  })

  after(async () => {
    await h?.stop()
  })

  const bigAnswers = () => h.answers().filter((r) => r.questionName === `big.${ZONE}`)

  it('reports the truncated UDP exchange and the TCP retry, with the addresses from TCP', async () => {
    const { server } = h
    for (const address of [server.ipv4, server.ipv6]) {
      const output = h.ask(address, `big.${ZONE}`, 'A', '+noedns')
      assert.match(output, /truncated reply from \S+\(UDP\), retrying over TCP/, output)
      assert.match(output, /ANSWER: 60;/, output)
      assert.match(output, /\(TCP\) in/, output)
    }
    await h.waitForDns(4)

    const seen = h.dns().map((r) => `${r.transport} ${r.family} ${r.server.address} ${r.questionName} ${r.questionType} ${r.responseCode}`).sort()
    assert.deepEqual(seen, [
      `tcp ipv4 ${server.ipv4} big.${ZONE} A NOERROR`,
      `tcp ipv6 ${server.ipv6} big.${ZONE} A NOERROR`,
      `udp ipv4 ${server.ipv4} big.${ZONE} A NOERROR`,
      `udp ipv6 ${server.ipv6} big.${ZONE} A NOERROR`,
    ])
    for (const record of h.dns()) assert.ok(record.durationSeconds !== undefined && record.durationSeconds > 0)
    // The TC=1 responses carry no answers; each TCP response carries all 60, for the client that asked.
    const answers = bigAnswers()
    assert.deepEqual(answers.map((r) => r.client).sort(), [server.gatewayIpv4, server.gatewayIpv6].sort())
    for (const record of answers) {
      assert.deepEqual(record.addresses.map((a) => `${a.address}/${a.ttlSeconds}`).sort(), BIG.map((a) => `${a}/120`).sort())
    }
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })

  it('reports an EDNS query whose whole answer came over UDP, without a TCP retry', async () => {
    const { server } = h
    const beforeRecords = h.dns().length
    const beforeAnswers = bigAnswers().length
    for (const address of [server.ipv4, server.ipv6]) {
      const output = h.ask(address, `big.${ZONE}`, 'A', '+bufsize=4096')
      assert.doesNotMatch(output, /truncated/, output)
      assert.match(output, /ANSWER: 60;/, output)
      assert.match(output, /\(UDP\) in/, output)
    }
    await h.waitForDns(beforeRecords + 2)

    const seen = h.dns().slice(beforeRecords).map((r) => `${r.transport} ${r.server.address} ${r.responseCode}`).sort()
    assert.deepEqual(seen, [`udp ${server.ipv4} NOERROR`, `udp ${server.ipv6} NOERROR`].sort())
    const answers = bigAnswers().slice(beforeAnswers)
    assert.equal(answers.length, 2)
    for (const record of answers) assert.equal(record.addresses.length, BIG.length)
    // 1005 bytes of DNS fit the veth's 1500-byte MTU: one datagram (a fragmented one would be a timeout, below).
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })

  /** Datagrams the server's namespace sent in fragments so far (IPv4 and IPv6): proof the answers were cut. */
  const fragmentedByServer = () => {
    const counters = h.server.exec('nstat', ['-saz', 'IpFragOKs', 'Ip6FragOKs'])
    return [...counters.matchAll(/^Ip6?FragOKs\s+(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
  }

  it('reassembles a fragmented EDNS answer over IPv4 and IPv6: NOERROR with all its addresses, no timeout', async () => {
    const { server } = h
    const beforeRecords = h.dns().length
    const beforeAnswers = h.answers().length
    const beforeFragmented = fragmentedByServer()
    const beforeFragmentDrops = h.dropped('ip_fragment')
    for (const address of [server.ipv4, server.ipv6]) {
      const output = h.ask(address, `huge.${ZONE}`, 'A', '+bufsize=4096')
      assert.doesNotMatch(output, /truncated/, output)
      assert.match(output, /ANSWER: 120;/, output)
      assert.match(output, /Received 1966 B/, output)
    }
    assert.equal(fragmentedByServer() - beforeFragmented, 2, 'each answer left the server in fragments')
    await h.waitForDns(beforeRecords + 2)

    const seen = h.dns().slice(beforeRecords).map((r) => `${r.transport} ${r.family} ${r.server.address} ${r.questionName} ${r.questionType} ${r.responseCode}`).sort()
    assert.deepEqual(seen, [
      `udp ipv4 ${server.ipv4} huge.${ZONE} A NOERROR`,
      `udp ipv6 ${server.ipv6} huge.${ZONE} A NOERROR`,
    ])
    for (const record of h.dns().slice(beforeRecords)) assert.ok(record.durationSeconds !== undefined && record.durationSeconds > 0)
    const answers = h.answers().slice(beforeAnswers)
    assert.deepEqual(answers.map((r) => r.client).sort(), [server.gatewayIpv4, server.gatewayIpv6].sort())
    for (const record of answers) {
      assert.deepEqual(record.addresses.map((a) => `${a.address}/${a.ttlSeconds}`).sort(), HUGE.map((a) => `${a}/120`).sort())
    }
    assert.equal(h.dropped('ip_fragment'), beforeFragmentDrops)
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })

  it('reassembles a 3069-byte TXT answer in three fragments over IPv4 and IPv6', async () => {
    const { server } = h
    const beforeRecords = h.dns().length
    const beforeFragmented = fragmentedByServer()
    const beforeFragmentDrops = h.dropped('ip_fragment')
    for (const address of [server.ipv4, server.ipv6]) {
      const output = h.ask(address, `txt.${ZONE}`, 'TXT', '+bufsize=4096')
      assert.doesNotMatch(output, /truncated/, output)
      assert.match(output, /ANSWER: 1;/, output)
      assert.match(output, /Received 3069 B/, output)
      assert.ok(output.includes(`"${TXT_STRINGS[11]}"`), output)
    }
    assert.equal(fragmentedByServer() - beforeFragmented, 2, 'each answer left the server in fragments')
    await h.waitForDns(beforeRecords + 2)

    const seen = h.dns().slice(beforeRecords).map((r) => `${r.transport} ${r.family} ${r.server.address} ${r.questionName} ${r.questionType} ${r.responseCode}`).sort()
    assert.deepEqual(seen, [
      `udp ipv4 ${server.ipv4} txt.${ZONE} TXT NOERROR`,
      `udp ipv6 ${server.ipv6} txt.${ZONE} TXT NOERROR`,
    ])
    assert.equal(h.dropped('ip_fragment'), beforeFragmentDrops)
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })
})
