// The capture filter bpf/port_filter.bpf.c: loads it with its tunables and reads its per-CPU counters.
// Counter indexes and the port limit mirror bpf/port_filter.h.
import { bpfObjectPath, loadNative, NativeError, type BpfObject } from '../native/index.ts'

export const PORT_FILTER_OBJECT = bpfObjectPath('port_filter')
export const PORT_FILTER_MAX_PORTS = 16
/** The kernel gives every network namespace's loopback ifindex 1 (LOOPBACK_IFINDEX). */
const LOOPBACK_IFINDEX = 1

/** enum port_filter_counter, in order. */
const COUNTER_NAMES = [
  'seen', 'matched', 'loopbackDuplicate', 'notIp', 'fragment', 'malformed', 'notMatched', 'fragmentKept', 'tcpNoPayload',
] as const
export type PortFilterCounterName = (typeof COUNTER_NAMES)[number]
/**
 * Frames the filter saw, each counted in `seen` and in exactly one of the others. Kept: `matched` and
 * `fragmentKept` (later fragments of a datagram whose first fragment matched); `fragment` counts the later
 * fragments dropped (other ports' datagrams, or a first fragment that was not seen first); `tcpNoPayload` the bare
 * ACKs of the ports' TCP connections, left in the kernel since they carry nothing to parse (not a loss).
 */
export type PortFilterCounters = Record<PortFilterCounterName, number>

export interface PortFilterOptions {
  /** 1 to 16 ports; a frame is kept when its UDP/TCP source or destination port is one of them. */
  ports: number[]
  udp?: boolean
  tcp?: boolean
  /** Another build of the filter (tests); build/bpf/port_filter.bpf.o by default. */
  objectPath?: string
}

function u8(value: boolean): Buffer {
  return Buffer.from([value ? 1 : 0])
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32LE(value)
  return buffer
}

function checkPorts(ports: number[]): void {
  if (ports.length === 0 || ports.length > PORT_FILTER_MAX_PORTS) {
    throw new RangeError(`capture: between 1 and ${PORT_FILTER_MAX_PORTS} ports, got ${ports.length}`)
  }
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`capture: bad port ${port}`)
  }
}

/** Opens and loads the filter with `ports` (host byte order, as the program compares them). */
export function loadPortFilter(options: PortFilterOptions): BpfObject {
  checkPorts(options.ports)
  const udp = options.udp ?? true
  const tcp = options.tcp ?? true
  if (!udp && !tcp) throw new RangeError('capture: at least one of udp and tcp')
  const ports = Buffer.alloc(2 * PORT_FILTER_MAX_PORTS)
  options.ports.forEach((port, i) => ports.writeUInt16LE(port, 2 * i))
  const path = options.objectPath ?? PORT_FILTER_OBJECT
  try {
    return new (loadNative().BpfObject)(path, {
      globals: {
        ports,
        port_count: u32(options.ports.length),
        match_udp: u8(udp),
        match_tcp: u8(tcp),
        loopback_ifindex: u32(LOOPBACK_IFINDEX),
      },
    })
  } catch (error) {
    if (error instanceof NativeError && error.code === 'ENOENT' && error.op.startsWith('bpf_object__open_file')) {
      throw new NativeError(`capture filter not built: run scripts/build.sh (${path})`, error.code, error.op)
    }
    throw error
  }
}

/** The filter's counters, summed over CPUs. */
export function readPortFilterCounters(filter: BpfObject): PortFilterCounters {
  const map = filter.map('port_filter_counters')
  const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as PortFilterCounters
  const key = Buffer.alloc(4)
  COUNTER_NAMES.forEach((name, index) => {
    key.writeUInt32LE(index)
    const values = map.lookup(key)
    if (!values) return
    let sum = 0n
    for (let cpu = 0; cpu < map.possibleCpus; cpu++) sum += values.readBigUInt64LE(cpu * map.valueSize)
    counters[name] = Number(sum)
  })
  return counters
}
