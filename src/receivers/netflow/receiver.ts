// The netflow receiver: loads bpf/netflow.bpf.c, attaches it to tracepoints (and cgroup_skb for UDP), and every
// interval harvests the kernel's flow map into a batch of FlowRecords.
import type { CreateSettings, Consumer, Host, Receiver } from '../../component/types.ts'
import { bpfObjectPath, loadNative } from '../../native/index.ts'
import type { BpfObject } from '../../native/types.ts'
import { cgroup2Mount, ephemeralPortRange } from '../../net/system.ts'
import { standardCounters, type SelfCounter } from '../../telemetry/self.ts'
import type { NetflowConfig } from './config.ts'
import { FlowTracker } from './flow-tracker.ts'
import { KERNEL_COUNTERS } from './layout.ts'

const TCP_PROGRAMS = [
  'netflow_tcp_owner', 'netflow_tcp_state', 'netflow_tcp_destroy', 'netflow_send', 'netflow_recv', 'netflow_retransmit',
]
const UDP_PROGRAMS = ['netflow_udp_egress', 'netflow_udp_ingress']

export class NetflowReceiver implements Receiver {
  private readonly settings: CreateSettings
  private readonly config: NetflowConfig
  private readonly next: Consumer
  private readonly dropped: SelfCounter
  private readonly tracker: FlowTracker
  private object: BpfObject | undefined
  private timer: NodeJS.Timeout | undefined
  /** Last totals of the kernel's drop counters, to add only what is new. */
  private kernelDrops = KERNEL_COUNTERS.map(() => 0)
  private recursionMisses = 0
  private host: Host | undefined

  constructor(settings: CreateSettings, config: NetflowConfig, next: Consumer) {
    this.settings = settings
    this.config = config
    this.next = next
    this.dropped = standardCounters(settings.telemetry).dropped
    const { low, high } = ephemeralPortRange()
    this.tracker = new FlowTracker({
      idleTimeoutMs: config.idle_timeout,
      collapsePort: config.collapse_client_ports ? (port) => port >= low && port <= high : () => false,
      ownerGraceMs: config.interval,
    })
    settings.telemetry.gauge(
      { name: 'netlens.netflow.tracked_entries', description: 'Kernel flow entries netlens is tracking.', unit: '{entry}' },
      () => [{ attributes: { receiver: settings.id }, value: this.tracker.trackedEntries }],
    )
  }

  async start(host: Host): Promise<void> {
    this.host = host
    const cgroup = this.config.udp ? this.config.cgroup_path || cgroup2Mount() : ''
    const native = loadNative()
    const object = new native.BpfObject(bpfObjectPath('netflow'), {
      mapSizes: { flows: this.config.max_flows, socket_owners: this.config.max_sockets },
      disabledPrograms: this.config.udp ? [] : UDP_PROGRAMS,
    })
    this.object = object
    try {
      for (const program of TCP_PROGRAMS) object.attach(program)
      if (this.config.udp) for (const program of UDP_PROGRAMS) object.attachCgroup(program, cgroup)
    } catch (error) {
      this.close()
      throw error
    }
    this.timer = setInterval(() => this.harvestSafely(), this.config.interval)
    this.timer.unref()
    this.settings.logger.info('netflow receiver started', { udp: this.config.udp, cgroup: cgroup || undefined })
  }

  /** Reads the maps once and hands the interval's flows on. Also called at shutdown for the last partial interval. */
  harvest(now = Date.now(), final = false): void {
    const object = this.object
    if (!object) return
    const flows = object.map('flows')
    const owners = object.map('socket_owners')
    const result = this.tracker.harvest(flows.dump(), owners.dump(), now, final)
    if (result.staleFlows.length) flows.deleteMany(Buffer.concat(result.staleFlows), result.staleFlows.length)
    if (result.staleOwners.length) owners.deleteMany(Buffer.concat(result.staleOwners), result.staleOwners.length)
    this.countKernelDrops(object)
    if (result.records.length > 0) this.next.consume({ records: result.records })
  }

  private harvestSafely(): void {
    try {
      this.harvest()
    } catch (error) {
      this.host?.reportFatal(new Error(`netflow harvest failed: ${(error as Error).message}`))
    }
  }

  private countKernelDrops(object: BpfObject): void {
    const misses = object.programs().reduce((sum, program) => sum + program.recursionMisses, 0)
    if (misses > this.recursionMisses) {
      this.dropped.add(misses - this.recursionMisses, { component: this.settings.id, reason: 'bpf_recursion' })
    }
    this.recursionMisses = misses
    const counters = object.map('netflow_counters')
    const { values, count } = counters.dump()
    const stride = counters.valueSize
    for (let index = 0; index < count && index < KERNEL_COUNTERS.length; index++) {
      let total = 0
      for (let cpu = 0; cpu < counters.possibleCpus; cpu++) {
        total += Number(values.readBigUInt64LE((index * counters.possibleCpus + cpu) * stride))
      }
      const fresh = total - this.kernelDrops[index]!
      if (fresh > 0) this.dropped.add(fresh, { component: this.settings.id, reason: KERNEL_COUNTERS[index]! })
      this.kernelDrops[index] = total
    }
  }

  private close(): void {
    this.object?.close()
    this.object = undefined
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.object) {
      try {
        this.harvest(Date.now(), true)
      } finally {
        this.close()
      }
    }
  }
}
