// The netflow receiver: loads the flow programs on tp_btf or classic tracepoint hooks (hooks.ts), with cgroup_skb
// for UDP, and every interval harvests the kernel's flow map into a batch of FlowRecords. A map filling up is
// harvested early, so closed and idle entries make room before new flows would be dropped.
import type { CreateSettings, Consumer, Host, Receiver } from '../../component/types.ts'
import type { BpfObject, MapEntries } from '../../native/types.ts'
import { cgroup2Mount, ephemeralPortRange } from '../../net/system.ts'
import { standardCounters, type SelfCounter } from '../../telemetry/self.ts'
import type { NetflowConfig } from './config.ts'
import { FlowTracker } from './flow-tracker.ts'
import { openHooks, type HookMode } from './hooks.ts'
import { FLOWS_CREATED, KERNEL_DROPS } from './layout.ts'

/**
 * How often the map's fill level is checked (one read of a 4-entry array), the level that triggers a harvest, and
 * how much fuller than after the last harvest the map must be for another: a map kept half full by live flows has
 * nothing a harvest could free, and harvesting it every check took 80 % of a core (70k live flows, 131072 entries).
 */
const PRESSURE_CHECK_MS = 50
const PRESSURE_FILL = 0.5
const PRESSURE_GROWTH = 0.1

export class NetflowReceiver implements Receiver {
  private readonly settings: CreateSettings
  private readonly config: NetflowConfig
  private readonly next: Consumer
  private readonly dropped: SelfCounter
  private readonly tracker: FlowTracker
  private object: BpfObject | undefined
  private mode: HookMode | undefined
  private timers: NodeJS.Timeout[] = []
  /** Totals already reported from the kernel's counters, to add only what is new. */
  private readonly reportedKernelDrops = new Map<number, number>()
  private reportedRecursionMisses = 0
  /** Flow entries this receiver deleted; with the kernel's count of inserts it gives the map's fill level. */
  private deletedFlows = 0
  /** Live entries the last harvest left in the map. */
  private liveAfterHarvest = 0
  private lastHarvest = 0
  /** The harvest the timers started, while it runs. */
  private inBackground: Promise<void> | undefined
  /** Harvests started, so that a background one knows whether another read the map after it. */
  private harvests = 0
  private host: Host | undefined

  constructor(settings: CreateSettings, config: NetflowConfig, next: Consumer) {
    this.settings = settings
    this.config = config
    this.next = next
    this.dropped = standardCounters(settings.telemetry).dropped
    const { low, high } = ephemeralPortRange()
    this.tracker = new FlowTracker({
      idleTimeoutMs: config.idle_timeout,
      tcpIdleTimeoutMs: config.tcp_idle_timeout,
      collapsePort: config.collapse_client_ports ? (port) => port >= low && port <= high : () => false,
      ownerGraceMs: config.interval,
    })
    settings.telemetry.gauge(
      { name: 'netlens.netflow.tracked_entries', description: 'Kernel flow entries netlens is tracking.', unit: '{entry}' },
      () => [{ attributes: { receiver: settings.id }, value: this.tracker.trackedEntries }],
    )
  }

  /** The hooks in use once started: tp_btf or classic tracepoints. */
  get hooks(): HookMode | undefined {
    return this.mode
  }

  async start(host: Host): Promise<void> {
    this.host = host
    const { udp, tcp_sockops: sockops } = this.config
    const cgroup = udp || sockops ? this.config.cgroup_path || cgroup2Mount() : ''
    const { object, mode } = openHooks(this.config.hooks, {
      maxFlows: this.config.max_flows,
      maxSockets: this.config.max_sockets,
      udpCgroup: udp ? cgroup : undefined,
      tcpCgroup: sockops ? cgroup : undefined,
    }, this.settings.logger)
    this.object = object
    this.mode = mode
    this.timers = [
      setInterval(() => this.guarded(() => void this.harvestInBackground()), this.config.interval),
      setInterval(() => this.guarded(() => this.harvestUnderPressure()), Math.min(PRESSURE_CHECK_MS, this.config.interval)),
    ]
    for (const timer of this.timers) timer.unref()
    this.settings.logger.info('netflow receiver started', { hooks: mode, udp, tcp_sockops: sockops, cgroup: cgroup || undefined })
  }

  /** Reads the maps once and hands the flows since the last harvest on. `final`: the maps are about to go away. */
  harvest(now = Date.now(), final = false): void {
    const object = this.object
    if (!object) return
    this.lastHarvest = now
    this.harvests++
    this.process(object, object.map('flows').dump(), now, final)
  }

  /**
   * harvest() as the timers run it: the kernel's copy of the flow map (~35 ms for 100k entries) is made on a native
   * thread, and only the tracker's work takes the event loop, which the other receivers share. One at a time: a
   * timer that fires meanwhile starts nothing. Resolves when the harvest is done (it reports its own failure).
   */
  harvestInBackground(): Promise<void> {
    const object = this.object
    if (this.inBackground || !object) return this.inBackground ?? Promise.resolve()
    const now = Date.now()
    this.lastHarvest = now
    const harvest = ++this.harvests
    this.inBackground = object.map('flows').dumpAsync()
      .then((flows) => {
        // A harvest() made meanwhile has read the map since: this older copy would report entries it deleted again.
        if (this.object === object && this.harvests === harvest) this.process(object, flows, now, false)
      })
      .catch((error: unknown) => this.host?.reportFatal(new Error(`netflow harvest failed: ${(error as Error).message}`)))
      .finally(() => {
        this.inBackground = undefined
      })
    return this.inBackground
  }

  /** A harvest's work once the flow map is read: the owners, the tracker, deletions, drop counts, the batch. */
  private process(object: BpfObject, flowDump: MapEntries, now: number, final: boolean): void {
    const flows = object.map('flows')
    // The owners are read after the flows, so that an entry's owner recorded meanwhile is found.
    const owners = object.map('socket_owners')
    const result = this.tracker.harvest(flowDump, owners.dump(), now, final)
    if (result.staleFlows.length) this.deletedFlows += flows.deleteMany(Buffer.concat(result.staleFlows), result.staleFlows.length)
    if (result.staleOwners.length) owners.deleteMany(Buffer.concat(result.staleOwners), result.staleOwners.length)
    let records = result.records
    if (result.idleFlows.length) {
      const taken = flows.takeMany(Buffer.concat(result.idleFlows), result.idleFlows.length)
      this.deletedFlows += taken.count
      records = records.concat(this.tracker.settleIdle(taken))
    }
    const counters = kernelCounters(object)
    this.liveAfterHarvest = this.liveFlows(counters)
    this.countKernelDrops(object, counters)
    if (records.length > 0) this.next.consume({ records })
  }

  private harvestUnderPressure(): void {
    const object = this.object
    if (!object || this.inBackground || Date.now() - this.lastHarvest < PRESSURE_CHECK_MS) return
    const live = this.liveFlows(kernelCounters(object))
    const { max_flows: size } = this.config
    if (live > size * PRESSURE_FILL && live - this.liveAfterHarvest >= size * PRESSURE_GROWTH) void this.harvestInBackground()
  }

  /** Entries in the flows map: the kernel's inserts (from kernelCounters) minus this receiver's deletions. */
  private liveFlows(counters: number[]): number {
    return counters[FLOWS_CREATED]! - this.deletedFlows
  }

  private guarded(work: () => void): void {
    try {
      work()
    } catch (error) {
      this.host?.reportFatal(new Error(`netflow harvest failed: ${(error as Error).message}`))
    }
  }

  private countKernelDrops(object: BpfObject, totals: number[]): void {
    for (const [index, reason] of KERNEL_DROPS) {
      const total = totals[index] ?? 0
      const fresh = total - (this.reportedKernelDrops.get(index) ?? 0)
      if (fresh > 0) this.dropped.add(fresh, { component: this.settings.id, reason })
      this.reportedKernelDrops.set(index, total)
    }
    const misses = object.programs().reduce((sum, program) => sum + program.recursionMisses, 0)
    if (misses > this.reportedRecursionMisses) {
      this.dropped.add(misses - this.reportedRecursionMisses, { component: this.settings.id, reason: 'bpf_recursion' })
    }
    this.reportedRecursionMisses = misses
  }

  private close(): void {
    this.object?.close()
    this.object = undefined
  }

  async shutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.inBackground
    if (this.object) {
      try {
        this.harvest(Date.now(), true)
      } finally {
        this.close()
      }
    }
  }
}

/** netflow_counters summed over CPUs, by index. */
function kernelCounters(object: BpfObject): number[] {
  const counters = object.map('netflow_counters')
  const { keys, values, count } = counters.dump()
  const totals: number[] = []
  for (let entry = 0; entry < count; entry++) {
    let total = 0
    for (let cpu = 0; cpu < counters.possibleCpus; cpu++) {
      total += Number(values.readBigUInt64LE((entry * counters.possibleCpus + cpu) * counters.valueSize))
    }
    totals[keys.readUInt32LE(entry * 4)] = total
  }
  return totals
}
