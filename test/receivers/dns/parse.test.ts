import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import { parseDns, type DnsMessage } from '../../../src/receivers/dns/parse.ts'
import { query, response } from './builders.ts'

function parsed(buf: Buffer): DnsMessage {
  const result = parseDns(buf)
  if (typeof result === 'string') assert.fail(`expected a message, got ${result}`)
  return result
}

/** A header with the given counts followed by `body`. */
function message(counts: [number, number, number, number], body: number[], flags = 0x8180): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0x1234, 0)
  header.writeUInt16BE(flags, 2)
  counts.forEach((c, i) => header.writeUInt16BE(c, 4 + 2 * i))
  return Buffer.concat([header, Buffer.from(body)])
}

const name = (...labels: string[]) => [...labels.flatMap((l) => [l.length, ...Buffer.from(l)]), 0]
const ptr = (offset: number) => [0xc0 | (offset >> 8), offset & 0xff]
const rr = (type: number, ttl: number, rdata: number[]) =>
  [type >> 8, type & 0xff, 0, 1, (ttl >>> 24) & 0xff, (ttl >> 16) & 0xff, (ttl >> 8) & 0xff, ttl & 0xff, rdata.length >> 8, rdata.length & 0xff, ...rdata]

describe('dns message parsing', () => {
  it('decodes a query: id, flags, lower-cased question without trailing dot', () => {
    const m = parsed(query(0xbeef, 'WwW.Example.COM.', 'AAAA'))
    assert.equal(m.id, 0xbeef)
    assert.equal(m.response, false)
    assert.equal(m.questionName, 'www.example.com')
    assert.equal(m.questionType, 28)
    assert.deepEqual(m.answers, [])
  })

  it('decodes a response with a CNAME chain and A/AAAA answers, skipping other types', () => {
    const buf = response(7, 'www.example.com', 'A', [
      { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'web.example.net' },
      { type: 'A', name: 'web.example.net', ttl: 60, data: '192.0.2.10' },
      { type: 'AAAA', name: 'web.example.net', ttl: 61, data: '2001:db8::10' },
      { type: 'TXT', name: 'web.example.net', ttl: 62, data: 'hello' },
    ])
    const m = parsed(buf)
    assert.equal(m.response, true)
    assert.equal(m.rcode, 0)
    assert.deepEqual(m.answers, [
      { name: 'www.example.com', type: 5, ttl: 300, data: 'web.example.net' },
      { name: 'web.example.net', type: 1, ttl: 60, data: '192.0.2.10' },
      { name: 'web.example.net', type: 28, ttl: 61, data: '2001:db8::10' },
    ])
  })

  it('takes the extended RCODE from the OPT record', () => {
    const buf = dnsPacket.encode({
      type: 'response', id: 1, questions: [{ name: 'a.test', type: 'A', class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 1, ednsVersion: 0, flags: 0 } as unknown as dnsPacket.Answer],
    })
    assert.equal(parsed(buf).rcode, 16) // BADVERS
    assert.equal(parsed(response(2, 'a.test', 'A', [], 3)).rcode, 3)
  })

  it('accepts legal forward compression pointers, which dns-packet rejects', () => {
    // Question name points forward to the answer's owner name (offset 12 + 6 = 18).
    const buf = message([1, 1, 0, 0], [...ptr(18), 0, 1, 0, 1, ...name('fwd', 'test'), ...rr(1, 5, [192, 0, 2, 1])])
    assert.throws(() => dnsPacket.decode(buf))
    const m = parsed(buf)
    assert.equal(m.questionName, 'fwd.test')
    assert.deepEqual(m.answers, [{ name: 'fwd.test', type: 1, ttl: 5, data: '192.0.2.1' }])
  })

  it('writes odd label bytes in presentation form', () => {
    const buf = message([1, 0, 0, 0], [3, 0x61, 0x2e, 0x5c, 2, 0x20, 0xff, 0, 0, 1, 0, 1], 0x0100)
    assert.equal(parsed(buf).questionName, 'a\\046\\092.\\032\\255')
    assert.equal(parsed(message([1, 0, 0, 0], [0, 0, 2, 0, 1], 0x0100)).questionName, '.')
  })

  it('matches dns-packet on whatever both accept (header, question, answers)', () => {
    const samples = [
      query(1, 'a.b.c', 'MX'),
      response(2, 'x.test', 'AAAA', [{ type: 'AAAA', name: 'x.test', ttl: 9, data: 'fe80::1' }]),
      response(3, 'n.test', 'A', [{ type: 'NS', name: 'n.test', ttl: 9, data: 'ns1.n.test' }], 3),
    ]
    for (const sample of samples) {
      const theirs = dnsPacket.decode(sample)
      const ours = parsed(sample)
      assert.equal(ours.id, theirs.id)
      assert.equal(ours.response, theirs.type === 'response')
      assert.equal(ours.questionName, theirs.questions?.[0]?.name)
      assert.equal(ours.rcode, dnsPacket.decode(sample).flags! & 0xf)
    }
  })
})
