// The capture filter bpf/port_filter.bpf.c: loads it with its tunables and reads its per-CPU counters.
// Counter indexes and the port limit mirror bpf/port_filter.h.
import { readCounters } from '../native/counters.ts'
import { bpfObjectPath, loadNative, NativeError, type BpfMap, type BpfObject } from '../native/index.ts'

export const PORT_FILTER_OBJECT = bpfObjectPath('port_filter')
/** The same filter with the HTTP exchange tracking compiled in (it needs CAP_PERFMON to load, the plain one not). */
export const PORT_FILTER_EXCHANGES_OBJECT = bpfObjectPath('port_filter_exchanges')
export const PORT_FILTER_MAX_PORTS = 16
/** The kernel gives every network namespace's loopback ifindex 1 (LOOPBACK_IFINDEX). */
const LOOPBACK_IFINDEX = 1

/** enum port_filter_counter, in order. */
const COUNTER_NAMES = [
  'seen', 'matched', 'loopbackDuplicate', 'notIp', 'fragment', 'malformed', 'notMatched', 'fragmentKept', 'tcpNoPayload',
  'payloadSkipped', 'exchangeRead', 'handedOver',
] as const
export type PortFilterCounterName = (typeof COUNTER_NAMES)[number]
/**
 * Frames the filter saw, each counted in `seen` and in exactly one of the others. Kept: `matched` and
 * `fragmentKept` (later fragments of a datagram whose first fragment matched); `fragment` counts the later
 * fragments dropped (other ports' datagrams, or a first fragment that was not seen first); `tcpNoPayload` the bare
 * ACKs of the ports' TCP connections, left in the kernel since they carry nothing to parse (not a loss);
 * `payloadSkipped` the segments kept without their payload because user space skips it (PayloadSkips; not a loss);
 * `exchangeRead` the segments of HTTP exchanges the filter read itself (trackExchanges; not a loss) and `handedOver`
 * the segment from which such a connection went on in user space (kept).
 */
export type PortFilterCounters = Record<PortFilterCounterName, number>

export interface PortFilterOptions {
  /** 1 to 16 ports; a frame is kept when its UDP/TCP source or destination port is one of them. */
  ports: number[]
  udp?: boolean
  tcp?: boolean
  /** Another build of the filter (tests); by default build/bpf/port_filter.bpf.o, or port_filter_exchanges.bpf.o with trackExchanges. */
  objectPath?: string
  /**
   * TCP segments with at least this many payload bytes are checked against the ranges set through PayloadSkips;
   * 0 (default): never, at no cost.
   */
  skipMinPayload?: number
  /**
   * Read simple HTTP/1.x exchanges in the filter and send one record per exchange instead of their frames
   * (bpf/http_exchange.bpf.h; HttpExchanges reads them). Off by default. Loading it needs CAP_PERFMON.
   */
  trackExchanges?: boolean
  /** Connections the exchange tracking follows at once (its table's size); beyond it they go to user space. */
  maxExchangeConnections?: number
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
  const path = options.objectPath ?? (options.trackExchanges ? PORT_FILTER_EXCHANGES_OBJECT : PORT_FILTER_OBJECT)
  try {
    return new (loadNative().BpfObject)(path, {
      globals: {
        ports,
        port_count: u32(options.ports.length),
        match_udp: u8(udp),
        match_tcp: u8(tcp),
        loopback_ifindex: u32(LOOPBACK_IFINDEX),
        skip_min_payload: u32(options.skipMinPayload ?? 0),
      },
      ...(options.trackExchanges && options.maxExchangeConnections
        ? { mapSizes: { http_exchanges: options.maxExchangeConnections, http_exchange_handovers: options.maxExchangeConnections } }
        : {}),
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
  return readCounters(filter.map('port_filter_counters'), COUNTER_NAMES)
}

/** One direction of a TCP connection, as PayloadSkips keys it. Addresses as 32-bit big-endian words (IPv4: word 0). */
export interface SkipDirection {
  family: 4 | 6
  source: readonly [number, number, number, number]
  sourcePort: number
  destination: readonly [number, number, number, number]
  destinationPort: number
}

/**
 * The filter's `port_filter_skips` (bpf/port_filter.h): payload ranges, by connection direction, that user space
 * does not need (a body it would only count). Segments wholly inside a range reach user space without their payload,
 * their original length intact. A map update per range: for long bodies, not per segment.
 */
export class PayloadSkips {
  private readonly skips: BpfMap
  private readonly key = Buffer.alloc(40)
  private readonly value = Buffer.alloc(8)
  private closed = false

  constructor(filter: BpfObject) {
    this.skips = filter.map('port_filter_skips')
  }

  /** Skip the payload of segments within sequence numbers [from, until) of `direction` (replaces its range). */
  set(direction: SkipDirection, from: number, until: number): void {
    if (this.closed) return
    this.value.writeUInt32LE(from >>> 0, 0)
    this.value.writeUInt32LE(until >>> 0, 4)
    this.skips.update(this.keyOf(direction), this.value)
  }

  delete(direction: SkipDirection): void {
    if (this.closed) return
    this.skips.delete(this.keyOf(direction))
  }

  /** The filter is gone (the capture closed): what is set or deleted from now on changes nothing. */
  close(): void {
    this.closed = true
  }

  private keyOf(d: SkipDirection): Buffer {
    const key = this.key
    key.fill(0)
    key[0] = d.family
    key.writeUInt16BE(d.sourcePort, 4)
    key.writeUInt16BE(d.destinationPort, 6)
    const words = d.family === 4 ? 1 : 4
    for (let i = 0; i < words; i++) {
      key.writeUInt32BE(d.source[i]! >>> 0, 8 + 4 * i)
      key.writeUInt32BE(d.destination[i]! >>> 0, 24 + 4 * i)
    }
    return key
  }
}
