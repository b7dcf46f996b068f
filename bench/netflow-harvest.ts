// The JavaScript part of a netflow harvest (FlowTracker.harvest), without the kernel: dumps laid out as bpf/netflow.h
// says, every entry changed each round, fresh buffers each round as a real dump gives. Two shapes of 100k entries:
//   udp-peers    100k UDP peers of one socket (60k ports of one host, 40k of another): 100k records, as the
//                "harvest of 100k live flows" of bench/netflow.ts (which adds the kernel dump, ~30 ms)
//   tcp-clients  100k accepted TCP connections from 1000 client hosts to one server port: client ports collapse,
//                so the entries fold into 1000 records (aggregation, RTT averaging)
//   node bench/netflow-harvest.ts [rounds, default 10] [shape, default udp-peers]
import { FlowTracker } from '../src/receivers/netflow/flow-tracker.ts'
import {
  FlowDirection, FlowState, IPPROTO_TCP, IPPROTO_UDP, KEY_SIZE, OWNER_SIZE, Stats, STATS_SIZE,
} from '../src/receivers/netflow/layout.ts'

const rounds = Number(process.argv[2] ?? 10)
const shape = process.argv[3] ?? 'udp-peers'
const ENTRIES = 100_000
const AF_INET = 2
/** Rounds before the measured ones: the first meets every entry for the first time, then the code warms up. */
const WARMUP = 2

interface Dump { keys: Buffer; values: Buffer; count: number }

/** One round's dumps: every entry's bytes sent moved on, so every entry has something to report. */
function dumpsOf(template: Dump, round: number): Dump {
  const keys = Buffer.from(template.keys)
  const values = Buffer.from(template.values)
  for (let i = 0; i < template.count; i++) values.writeUInt32LE(round + 1, i * STATS_SIZE + Stats.BYTES_SENT)
  return { keys, values, count: template.count }
}

function flowTemplate(): Dump {
  const keys = Buffer.alloc(ENTRIES * KEY_SIZE)
  const values = Buffer.alloc(ENTRIES * STATS_SIZE)
  for (let i = 0; i < ENTRIES; i++) {
    const k = i * KEY_SIZE
    const v = i * STATS_SIZE
    values[v + Stats.FAMILY] = AF_INET
    if (shape === 'udp-peers') {
      keys.writeBigUInt64LE(1n, k)
      keys.set([10, 200, i < 60_000 ? 1 : 0, i < 60_000 ? 2 : 1], k + 8)
      keys.writeUInt16LE((i % 60_000) + 1, k + 24)
      values.set([10, 200, 0, 3], v + Stats.LOCAL_ADDR)
      values.writeUInt16LE(45_678, v + Stats.LOCAL_PORT)
      values[v + Stats.PROTOCOL] = IPPROTO_UDP
    } else {
      const client = i % 1000
      keys.writeBigUInt64LE(BigInt(i + 1), k)
      keys.set([10, 1, client >> 8, client & 255], k + 8)
      keys.writeUInt16LE(32_768 + (i % 28_000), k + 24)
      values.set([10, 0, 0, 80], v + Stats.LOCAL_ADDR)
      values.writeUInt16LE(443, v + Stats.LOCAL_PORT)
      values[v + Stats.PROTOCOL] = IPPROTO_TCP
      values[v + Stats.DIRECTION] = FlowDirection.INCOMING
      values[v + Stats.STATE] = FlowState.ESTABLISHED
      values.writeUInt32LE(200 + (i % 50), v + Stats.SRTT_US)
      values.writeUInt32LE(20, v + Stats.RTTVAR_US)
    }
  }
  return { keys, values, count: ENTRIES }
}

function ownerDump(): Dump {
  const sockets = shape === 'udp-peers' ? 1 : ENTRIES
  const keys = Buffer.alloc(sockets * 8)
  const values = Buffer.alloc(sockets * OWNER_SIZE)
  for (let i = 0; i < sockets; i++) {
    keys.writeBigUInt64LE(BigInt(i + 1), i * 8)
    values.writeUInt32LE(4242, i * OWNER_SIZE)
    values.writeUInt32LE(4_026_531_840, i * OWNER_SIZE + 4)
    values.write(shape === 'udp-peers' ? 'node' : 'nginx', i * OWNER_SIZE + 16)
  }
  return { keys, values, count: sockets }
}

const template = flowTemplate()
const owners = ownerDump()
const tracker = new FlowTracker({ idleTimeoutMs: 3_600_000, tcpIdleTimeoutMs: 3_600_000, collapsePort: (port) => port >= 32_768 && port <= 60_999, ownerGraceMs: 10_000 })
const wall: number[] = []
const cpu: number[] = []
const mainCpu: number[] = []
let records = 0
for (let round = 0; round < WARMUP + rounds; round++) {
  const flows = dumpsOf(template, round)
  const cpuBefore = process.cpuUsage()
  const threadBefore = process.threadCpuUsage()
  const started = process.hrtime.bigint()
  const result = tracker.harvest(flows, owners, round * 1000)
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  const { user, system } = process.cpuUsage(cpuBefore)
  const thread = process.threadCpuUsage(threadBefore)
  if (round > 0 && records !== 0 && result.records.length !== records) throw new Error(`round ${round}: ${result.records.length} records, expected ${records}`)
  records = result.records.length
  if (round < WARMUP) continue
  wall.push(elapsed)
  cpu.push((user + system) / 1000)
  mainCpu.push((thread.user + thread.system) / 1000)
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
const summary = (values: number[]) => {
  const s = sorted(values)
  return `${s[0]!.toFixed(1)}–${s.at(-1)!.toFixed(1)} ms (median ${s[s.length >> 1]!.toFixed(1)})`
}
console.log(`${shape}: harvest of ${ENTRIES / 1000}k changed entries → ${records} records, ${rounds} rounds`)
console.log(`  wall ${summary(wall)}`)
console.log(`  cpu  ${summary(cpu)} (all threads: the main one, and the garbage collector's helpers)`)
console.log(`  main ${summary(mainCpu)} (the main thread's CPU time: what the harvest itself costs, without the VM's steal)`)
