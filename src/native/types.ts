// Types of the native addon (native/src/*.cc). The addon is thin: libbpf and socket calls plus threads that hand
// batches to JS. Every failure throws a NativeError (see errors.ts) carrying errno code and the failing operation.

export interface BpfObjectOptions {
  /** Global variables (`const volatile` in .rodata, or .data/.bss) set before load, by name; the Buffer must be the variable's exact size. */
  globals?: Record<string, Buffer>
  /** max_entries overrides by map name, set before load. */
  mapSizes?: Record<string, number>
  /** Programs (by function name) left unloaded, e.g. a hook this kernel lacks. */
  disabledPrograms?: string[]
}

export interface ProgramInfo {
  name: string
  /** ELF section, e.g. `tracepoint/sock/inet_sock_set_state`, `tp_btf/sock_send_length`, `socket`. */
  section: string
  /** The kernel's id once loaded (as `bpftool prog show` lists it). */
  id: number
  fd: number
  /** Runs the kernel skipped because the program was already running on that CPU: events lost, to be counted. */
  recursionMisses: number
}

export interface UprobeTarget {
  binaryPath: string
  /** The function to probe at its entry, by symbol... */
  functionName?: string
  /** ...or the instruction at this file offset (code without a symbol of its own). */
  offset?: number
  /** -1 (default) for every process. */
  pid?: number
  retprobe?: boolean
}

/** Keys and values of many entries, packed back to back (`count * keySize`, `count * valueSize` bytes). */
export interface MapEntries {
  keys: Buffer
  values: Buffer
  count: number
}

export interface BpfMap {
  readonly name: string
  /** BPF_MAP_TYPE_* number. */
  readonly type: number
  readonly keySize: number
  /** For per-CPU maps: bytes per CPU, rounded up to 8; values then hold `possibleCpus` of them. */
  readonly valueSize: number
  readonly maxEntries: number
  readonly perCpu: boolean
  readonly possibleCpus: number
  readonly fd: number
  lookup(key: Buffer): Buffer | null
  update(key: Buffer, value: Buffer, flags?: number): void
  delete(key: Buffer): boolean
  /** Every entry, in as few syscalls as the kernel allows (BPF_MAP_LOOKUP_BATCH; iteration where unsupported). */
  dump(): MapEntries
  /**
   * dump() on a worker thread: the kernel's copy of 100k entries takes ~35 ms that the event loop keeps. The map is
   * read through its own fd, so closing the object meanwhile does not cut the read short.
   */
  dumpAsync(): Promise<MapEntries>
  /** Every entry, removed as it is read (BPF_MAP_LOOKUP_AND_DELETE_BATCH): each one is returned exactly once. */
  dumpAndDelete(): MapEntries
  /** Removes the given keys (packed), returns how many were removed. */
  deleteMany(keys: Buffer, count: number): number
  /**
   * Removes the given keys (packed) and returns their entries as the removal read them (BPF_MAP_LOOKUP_AND_DELETE_ELEM,
   * a syscall per key): what the kernel added after an earlier read is in them, not lost. Missing keys are left out.
   */
  takeMany(keys: Buffer, count: number): MapEntries
}

export interface BpfObject {
  programs(): ProgramInfo[]
  /** Attaches by the program's SEC() (tracepoint, raw_tp, tp_btf, ...); returns a link id for detach(). */
  attach(program: string): number
  attachUprobe(program: string, target: UprobeTarget): number
  /** Attaches a cgroup program (cgroup_skb/ingress, ...) to the cgroup v2 directory at `cgroupPath`. */
  attachCgroup(program: string, cgroupPath: string): number
  detach(link: number): void
  programFd(program: string): number
  map(name: string): BpfMap
  /** Detaches every link and closes the object. Idempotent. */
  close(): void
}

export interface RingReaderOptions {
  /** Flush a batch when it holds this many records... */
  maxBatchRecords?: number
  /** ...or when its oldest record is this old. */
  maxBatchDelayMs?: number
  /** Batches waiting for JS beyond this are dropped and counted in `lost`. */
  maxQueuedBatches?: number
  /**
   * Also read the ring this often (ms), not only when the kernel wakes the reader: for programs that submit with
   * BPF_RB_NO_WAKEUP. 0 (default): on wake-ups only.
   */
  pollIntervalMs?: number
}

/** Records as the BPF program submitted them, each framed as `u32 length | bytes | padding to 8`. */
export interface RingBatch {
  data: Buffer
  count: number
  /** Records dropped since the previous batch because JS was not keeping up. */
  lost: number
}

export interface RingReader {
  stats(): { records: number; batches: number; lost: number }
  close(): void
}

export interface PacketRingOptions {
  /** Capture on this interface only; all interfaces of the current network namespace when absent. */
  interface?: string
  /** An eBPF socket filter program (SO_ATTACH_BPF), e.g. BpfObject.programFd('dns_filter'). */
  filterProgramFd?: number
  /** TPACKET_V3 ring geometry. */
  blockSize?: number
  blockCount?: number
  frameSize?: number
  /** How long the kernel holds a partly filled block (tp_retire_blk_tov), ms. */
  blockTimeoutMs?: number
  maxBatchDelayMs?: number
  maxQueuedBatches?: number
}

/**
 * Frames at the network layer (SOCK_DGRAM: no link header), each as a 24-byte header then `caplen` bytes padded to 8:
 * `u64 timestampNs (CLOCK_REALTIME) | u32 ifindex | u32 caplen | u32 origlen | u16 ethertype (host order) | u8 pktType | u8 0`.
 */
export interface PacketBatch {
  data: Buffer
  count: number
  /** Frames dropped since the previous batch because JS was not keeping up. */
  lost: number
}

export interface PacketRingStats {
  /** Kernel PACKET_STATISTICS, summed since open: frames received and dropped by the ring. */
  packets: number
  drops: number
  /** Frames delivered to JS and frames dropped because JS was not keeping up. */
  delivered: number
  queueDrops: number
  /** Batches handed over but not yet run by JS: frames captured that JS has not seen. */
  queuedBatches: number
}

export interface PacketRing {
  stats(): PacketRingStats
  close(): void
}

export interface NativeBinding {
  BpfObject: new (path: string, options?: BpfObjectOptions) => BpfObject
  RingReader: new (map: BpfMap, options: RingReaderOptions, onBatch: (batch: RingBatch) => void) => RingReader
  PacketRing: new (options: PacketRingOptions, onBatch: (batch: PacketBatch) => void) => PacketRing
  /** libbpf's view of the running kernel, for `netlens doctor` and start-up checks. */
  probeProgramType(type: number): boolean
}
