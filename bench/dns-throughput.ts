// Frames → records throughput of the dns receiver's pure path (packet decode, dedup, parse, match, answers) on
// one core, from pre-built UDP query/response frames, 100k round trips a second of kernel time (so the dedup
// window holds what it holds at that rate). Target: ≥ 200k packets/s.
//   node bench/dns-throughput.ts [packets]
import { SelfTelemetry } from '../src/telemetry/self.ts'
import { DEFAULT_TRACKER_OPTIONS, DnsTracker } from '../src/receivers/dns/tracker.ts'
import { DnsTelemetry } from '../src/receivers/dns/telemetry.ts'
import { query, response, reverse, udpFrame } from '../test/receivers/dns/builders.ts'

const total = Number(process.argv[2] ?? 2_000_000)
const CLIENTS = 4096
/** IPv4 header (20) + UDP header (8). */
const DNS_ID_OFFSET = 28
const frames = []
for (let i = 0; i < CLIENTS; i++) {
  const e = { src: `10.${(i >> 8) & 255}.${i & 255}.2`, sport: 30000 + (i % 20000), dst: '10.255.0.53', dport: 53 }
  const name = `host${i}.svc.cluster.local`
  frames.push(udpFrame(e, query(i & 0xffff, name), 0n))
  frames.push(udpFrame(reverse(e), response(i & 0xffff, name, 'A', [
    { type: 'CNAME', name, ttl: 30, data: `pod${i}.cluster.local` },
    { type: 'A', name: `pod${i}.cluster.local`, ttl: 30, data: `10.1.${(i >> 8) & 255}.${i & 255}` },
  ]), 0n))
}

const tracker = new DnsTracker(DEFAULT_TRACKER_OPTIONS, new DnsTelemetry(new SelfTelemetry(), 'dns'))
let timestampNs = 1_700_000_000_000_000_000n
let records = 0
const cpu = process.cpuUsage()
const started = process.hrtime.bigint()
for (let n = 0; n < total; n++) {
  const frame = frames[n % frames.length]!
  if (n % 2 === 0) timestampNs += 10_000n
  // A new DNS id on each pass over the frames: the same bytes again within the dedup window would be a copy.
  frame.data.writeUInt16BE((n >> 1) / CLIENTS & 0xffff, DNS_ID_OFFSET)
  frame.timestampNs = timestampNs
  tracker.handleFrame(frame)
  if (n % 65536 === 65535) records += tracker.collect(timestampNs).length
}
records += tracker.collect(timestampNs).length
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const { user, system } = process.cpuUsage(cpu) // GC threads included: steadier than wall time on a busy machine
console.log(`${total} packets in ${seconds.toFixed(2)} s: ${Math.round(total / seconds / 1000)}k packets/s, ` +
  `cpu ${((user + system) / total).toFixed(2)} µs/packet, ${records} records`)
