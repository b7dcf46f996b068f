// The dns receiver's copy detector alone (src/receivers/dns/dedup.ts): distinct datagrams 5 µs apart in kernel
// time (100k round trips a second, so ~10k of them within its 50 ms window), CPU per datagram.
//   node bench/dns-dedup.ts [datagrams, default 4000000]
import { Deduplicator } from '../src/receivers/dns/dedup.ts'
import { DEFAULT_TRACKER_OPTIONS } from '../src/receivers/dns/tracker.ts'

const total = Number(process.argv[2] ?? 4_000_000)
const dedup = new Deduplicator({ windowNs: DEFAULT_TRACKER_OPTIONS.dedupWindowNs, maxEntries: DEFAULT_TRACKER_OPTIONS.dedupMaxEntries })
const flows = Array.from({ length: 8 }, (_, i) => ({ sourceAddress: `10.0.0.${i}`, sourcePort: 30_000 + i, destinationAddress: '10.255.0.53', destinationPort: 53 }))
// DNS-like payloads: an id, then a question name; 64k distinct ones, so none repeats within the window.
const payloads = Array.from({ length: 65_536 }, (_, i) => {
  const payload = Buffer.alloc(40)
  payload.writeUInt16BE(i, 0)
  payload.write(`host${i % 1000}.x`, 12)
  return payload
})
let timestampNs = 1_700_000_000_000_000_000n
let copies = 0
const cpu = process.cpuUsage()
for (let n = 0; n < total; n++) {
  timestampNs += 5_000n
  if (dedup.isDuplicate(flows[n & 7]!, payloads[n & 65_535]!, timestampNs)) copies++
}
const { user, system } = process.cpuUsage(cpu)
console.log(`${total} datagrams: cpu ${((user + system) / total).toFixed(3)} µs each, ${copies} taken for copies (expected 0), ${dedup.size} remembered`)
