// Captured batches → records throughput of the http receiver's plaintext path (frame walk, packet decode,
// connection lookup, TCP order, HTTP parse, records) on one core: wrk's keep-alive GET against nginx's `return 200`
// replayed from pre-built batches laid out as the native capture hands them over. CPU time per request here is what
// the agent's JS thread spends per request under bench/http.ts, without the capture thread and most of the noise
// of a loaded machine.
//   node bench/http-throughput.ts [requests, default 4M] [connections, default 32]
import { FRAME_HEADER_SIZE, PacketType, type Frame } from '../src/native/frames.ts'
import type { PacketBatch } from '../src/native/types.ts'
import type { HttpRecord } from '../src/records.ts'
import { TcpFlags } from '../src/net/packet.ts'
import { HttpReceiver } from '../src/receivers/http/receiver.ts'
import { httpReceiverFactory } from '../src/receivers/http/factory.ts'
import { configOf, testSettings } from '../test/helpers/components.ts'
import { batchOf, tcpFrame, reverse, type Endpoints } from '../test/receivers/dns/builders.ts'

const total = Number(process.argv[2] ?? 4_000_000)
const connections = Number(process.argv[3] ?? 32)
const PER_BATCH = 1024 // request/response pairs per batch: a busy ring block
const request = Buffer.from('GET /ok HTTP/1.1\r\nHost: 198.18.2.2:18080\r\n\r\n')
const response = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 23 Nov 2025 15:23:15 GMT\r\nContent-Type: text/plain\r\n' +
  'Content-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n',
)

const clients: Endpoints[] = []
for (let i = 0; i < connections; i++) clients.push({ src: '198.18.2.1', sport: 40000 + i, dst: '198.18.2.2', dport: 18080 })
const handshake: Frame[] = []
for (const c of clients) {
  const syn = tcpFrame(c, Buffer.alloc(0), { seq: 0, flags: TcpFlags.SYN }, 1n)
  syn.pktType = PacketType.OUTGOING
  handshake.push(syn, tcpFrame(reverse(c), Buffer.alloc(0), { seq: 0, flags: TcpFlags.SYN | TcpFlags.ACK }, 1n))
}
// One batch of PER_BATCH exchanges, round robin over the connections; later batches are the same bytes with
// sequence numbers and timestamps moved on (patched in place between batches, outside the timing).
const frames: Frame[] = []
const perConnection = PER_BATCH / connections
for (let n = 0; n < perConnection; n++) {
  for (const c of clients) {
    const t = BigInt(n) * 1000n
    const out = tcpFrame(c, request, { seq: 1 + n * request.length, flags: TcpFlags.PSH | TcpFlags.ACK }, t)
    out.pktType = PacketType.OUTGOING
    frames.push(out, tcpFrame(reverse(c), response, { seq: 1 + n * response.length, flags: TcpFlags.PSH | TcpFlags.ACK }, t + 50_000n))
  }
}
const batch = batchOf(frames)
const seqAdvance: Array<{ offset: number; by: number }> = []
{
  let offset = 0
  for (const f of frames) {
    seqAdvance.push({ offset: offset + FRAME_HEADER_SIZE + 20 + 4, by: perConnection * (f.pktType === PacketType.OUTGOING ? request.length : response.length) })
    offset += FRAME_HEADER_SIZE + ((f.data.length + 7) & ~7)
  }
}
const BATCH_SPAN_NS = BigInt(perConnection) * 1000n

const settings = testSettings('http/throughput')
let records = 0
let requests = 0
const receiver = httpReceiverFactory.create(settings, configOf(httpReceiverFactory, { ports: [18080] }), {
  consume: (b) => {
    records += b.records.length
    for (const r of b.records as HttpRecord[]) requests += r.durationsSeconds.length
  },
}) as HttpReceiver
const handle = (b: PacketBatch) => receiver.handleCaptured(b)

let base = BigInt(Date.now()) * 1_000_000n
const patch = (from: bigint) => {
  for (let i = 0, offset = 0; i < frames.length; i++) {
    batch.data.writeBigUInt64LE(from + frames[i]!.timestampNs, offset)
    offset += FRAME_HEADER_SIZE + ((frames[i]!.data.length + 7) & ~7)
  }
}
const start = batchOf(handshake)
for (let i = 0, offset = 0; i < handshake.length; i++, offset += FRAME_HEADER_SIZE + 40) start.data.writeBigUInt64LE(base, offset)
handle(start)
let spent = 0n
let cpuSpent = 0
let done = 0
for (let round = 0; done < total; round++) {
  patch(base)
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  handle(batch)
  const cpu = process.cpuUsage(cpu0)
  spent += process.hrtime.bigint() - t0
  cpuSpent += (cpu.user + cpu.system) / 1e6
  done += PER_BATCH
  base += BATCH_SPAN_NS
  for (const { offset, by } of seqAdvance) batch.data.writeUInt32BE((batch.data.readUInt32BE(offset) + by) >>> 0, offset)
  if (round % 64 === 63) receiver.flush()
}
receiver.flush()
const seconds = Number(spent) / 1e9
// CPU time (this process's, all threads: GC helpers count) is what the load on the machine changes least.
console.log(
  `${done} requests (${2 * done} frames): ${(cpuSpent / done * 1e9).toFixed(0)} ns CPU per request ` +
  `(${Math.round(done / cpuSpent / 1000)}k requests/s per core), ${(seconds / done * 1e9).toFixed(0)} ns wall; ` +
  `${requests} requests in ${records} records`,
)
