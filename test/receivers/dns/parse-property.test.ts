// Property tests: random and mutated inputs never make the parser throw or run long, and valid messages
// (built by dns-packet) decode to what dns-packet itself reads back. bench/dns-parse-fuzz.ts runs ≥ 1M inputs.
import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import { parseDns, typeName } from '../../../src/receivers/dns/parse.ts'

const label = fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/)
const domain = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'))
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'))

const answer = fc.oneof(
  fc.record({ type: fc.constant('A' as const), name: domain, ttl: fc.nat(86400), data: ipv4 }),
  fc.record({ type: fc.constant('AAAA' as const), name: domain, ttl: fc.nat(86400), data: ipv6 }),
  fc.record({ type: fc.constant('CNAME' as const), name: domain, ttl: fc.nat(86400), data: domain }),
  fc.record({ type: fc.constant('TXT' as const), name: domain, ttl: fc.nat(86400), data: fc.string({ maxLength: 40 }) }),
  fc.record({ type: fc.constant('MX' as const), name: domain, ttl: fc.nat(86400), data: fc.record({ preference: fc.nat(100), exchange: domain }) }),
)

const validMessage = fc.record({
  id: fc.nat(0xffff),
  response: fc.boolean(),
  rcode: fc.nat(15),
  question: domain,
  qtype: fc.constantFrom('A' as const, 'AAAA' as const, 'MX' as const, 'TXT' as const, 'SRV' as const, 'PTR' as const),
  answers: fc.array(answer, { maxLength: 6 }),
}).map((m) => {
  const buf = dnsPacket.encode({
    type: m.response ? 'response' : 'query',
    id: m.id,
    questions: [{ name: m.question, type: m.qtype, class: 'IN' }],
    answers: m.response ? m.answers : [],
  })
  buf[3] = ((buf[3] as number) & 0xf0) | m.rcode
  return buf
})

/** Valid messages with a few bytes overwritten, cut or extended: close to real, so deep paths get exercised. */
const mutatedMessage = fc.tuple(
  validMessage,
  fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
  fc.nat(),
  fc.uint8Array({ maxLength: 8 }),
).map(([buf, edits, cut, tail]) => {
  const copy = Buffer.from(buf)
  for (const [at, value] of edits) copy[at % copy.length] = value
  return Buffer.concat([copy.subarray(0, cut % (copy.length + 1)), tail])
})

function checkBounded(buf: Buffer): void {
  const started = process.hrtime.bigint()
  const result = parseDns(buf)
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  assert.ok(typeof result === 'string' || typeof result === 'object')
  // Generous on purpose (a decode takes microseconds): this catches runaway loops, not slowness.
  assert.ok(elapsedMs < 250, `took ${elapsedMs} ms on ${buf.toString('hex')}`)
}

describe('dns message parsing: properties', () => {
  it('never throws nor runs long on 10k random byte strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), checkBounded), { numRuns: 10_000 })
  })

  it('never throws nor runs long on 10k mutated messages', () => {
    fc.assert(fc.property(mutatedMessage, checkBounded), { numRuns: 10_000 })
  })

  it('agrees with dns-packet on valid messages', () => {
    fc.assert(
      fc.property(validMessage, (buf) => {
        const theirs = dnsPacket.decode(buf)
        const ours = parseDns(buf)
        if (typeof ours === 'string') throw new Error(`rejected a valid message: ${ours}`)
        assert.equal(ours.id, theirs.id)
        assert.equal(ours.response, theirs.type === 'response')
        assert.equal(ours.rcode, (theirs.flags ?? 0) & 0x0f)
        assert.equal(ours.questionName, theirs.questions![0]!.name.toLowerCase())
        assert.equal(typeName(ours.questionType), theirs.questions![0]!.type)
        const expected = ours.response
          ? theirs.answers!.filter((a) => a.type === 'A' || a.type === 'AAAA' || a.type === 'CNAME')
          : []
        assert.equal(ours.answers.length, expected.length)
        ours.answers.forEach((a, i) => {
          const e = expected[i]! as { name: string; type: string; ttl: number; data: string }
          assert.equal(a.name, e.name.toLowerCase())
          assert.equal(typeName(a.type), e.type)
          assert.equal(a.ttl, e.ttl)
          if (e.type === 'AAAA') assert.equal(a.data, new URL(`http://[${e.data}]/`).hostname.slice(1, -1))
          else assert.equal(a.data, e.type === 'CNAME' ? e.data.toLowerCase() : e.data)
        })
      }),
      { numRuns: 2_000 },
    )
  })
})
