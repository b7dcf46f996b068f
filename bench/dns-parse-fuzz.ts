// The parser's robustness at volume: ≥ 1M random and mutated inputs (fast-check), none may throw or run long.
//   node bench/dns-parse-fuzz.ts [runs per kind, default 1000000]
import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import { parseDns } from '../src/receivers/dns/parse.ts'

const runs = Number(process.argv[2] ?? 1_000_000)
const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/)
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'))
const message = fc.record({ id: fc.nat(0xffff), name: domain, target: domain, address: fc.nat(0xffffffff) }).map((m) =>
  dnsPacket.encode({
    type: 'response', id: m.id, questions: [{ name: m.name, type: 'A', class: 'IN' }],
    answers: [
      { type: 'CNAME', name: m.name, ttl: 60, data: m.target },
      { type: 'A', name: m.target, ttl: 60, data: [24, 16, 8, 0].map((s) => (m.address >>> s) & 255).join('.') },
    ],
  }))
const mutated = fc.tuple(message, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat())
  .map(([buf, edits, cut]) => {
    for (const [at, value] of edits) buf[at % buf.length] = value
    return buf.subarray(0, cut % (buf.length + 1))
  })

let worstMs = 0
const outcomes = new Map<string, number>()
function check(buf: Buffer): void {
  const started = process.hrtime.bigint()
  const result = parseDns(buf)
  worstMs = Math.max(worstMs, Number(process.hrtime.bigint() - started) / 1e6)
  const key = typeof result === 'string' ? result : 'ok'
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
}

const started = Date.now()
fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)), check), { numRuns: runs })
fc.assert(fc.property(mutated, check), { numRuns: runs })
console.log(`${2 * runs} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s, none threw; slowest ${worstMs.toFixed(3)} ms`)
console.log(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))
