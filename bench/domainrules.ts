// Lookups per second of the domainrules trie with 10k rules (exact, *.domain and subtree rules, labels) over 1M
// names: a mix of names that hit a rule at various depths and names no rule knows. Also the processor path
// (records in, records out) on the same names.
//   node bench/domainrules.ts [rules] [lookups]
import { buildTrie } from '../src/processors/domainrules/config.ts'
import { DomainRulesProcessor } from '../src/processors/domainrules/processor.ts'
import type { FlowRecord } from '../src/records.ts'

const RULES = Number(process.argv[2] ?? 10_000)
const LOOKUPS = Number(process.argv[3] ?? 1_000_000)

// Deterministic pseudo-random numbers, so every run measures the same work.
let seed = 42
const random = (n: number) => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) & 0x7fffffff
  return seed % n
}
const word = () => `w${random(100_000).toString(36)}`
const TLDS = ['com', 'org', 'net', 'io', 'test']

const domains: string[] = []
const rules: string[] = []
const used = new Set<string>()
while (rules.length < RULES) {
  const domain = `${word()}.${TLDS[random(TLDS.length)]}`
  const kind = random(4)
  const pattern = kind === 1 ? `*.${domain}` : domain
  const key = `${kind === 3 ? 'label' : 'decision'} ${pattern}`
  if (used.has(key)) continue
  used.add(key)
  domains.push(domain)
  rules.push(kind === 3 ? `label ${pattern} team=t${random(50)}` : `${random(2) === 0 ? 'allow' : 'deny'} ${pattern}`)
}

const names: string[] = []
for (let i = 0; i < 100_000; i++) {
  const r = random(10)
  if (r < 6) names.push(`${word()}.${word()}.${domains[random(domains.length)]}`) // below a rule
  else if (r < 8) names.push(domains[random(domains.length)] as string) // exact
  else names.push(`${word()}.${word()}.example.${TLDS[random(TLDS.length)]}`) // no rule
}

const built = process.hrtime.bigint()
const trie = buildTrie(rules)
const buildMs = Number(process.hrtime.bigint() - built) / 1e6

let decided = 0
const started = process.hrtime.bigint()
for (let i = 0; i < LOOKUPS; i++) if (trie.match(names[i % names.length] as string).decision !== undefined) decided++
const seconds = Number(process.hrtime.bigint() - started) / 1e9

const processor = new DomainRulesProcessor({ rules, attribute: 'destination.domain', default: 'allow', no_domain: 'keep' })
const records: FlowRecord[] = names.map((name) => ({
  kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing', source: { address: '10.0.0.1', port: 0 },
  destination: { address: '198.51.100.1', port: 443 }, netns: 0, pid: 1, comm: 'bench', bytesSent: 1, bytesReceived: 1,
  established: 0, closed: 0, retransmits: 0, attributes: { 'destination.domain': name },
}))
let kept = 0
const batchStarted = process.hrtime.bigint()
for (let done = 0; done < LOOKUPS; done += 1000) {
  const from = done % records.length
  kept += processor.process({ records: records.slice(from, from + 1000) }).records.length
}
const batchSeconds = Number(process.hrtime.bigint() - batchStarted) / 1e9

console.log(`rules: ${trie.size} (built in ${buildMs.toFixed(1)} ms)`)
console.log(`trie lookups: ${LOOKUPS} in ${seconds.toFixed(3)} s = ${(LOOKUPS / seconds / 1e6).toFixed(2)} M lookups/s (${decided} decided)`)
console.log(`processor: ${LOOKUPS} records in ${batchSeconds.toFixed(3)} s = ${(LOOKUPS / batchSeconds / 1e6).toFixed(2)} M records/s (${kept} kept)`)
