// The doctor's BPF checks, made the way netlens itself works: libbpf's program-type probes, then the real objects
// (build/bpf/netflow.bpf.o, netflow_classic.bpf.o, port_filter.bpf.o) loaded and each program attached for a moment, and a real AF_PACKET
// ring opened with the socket filter. Everything is closed before returning: nothing stays attached.
import { loadPortFilter } from '../capture/port-filter.ts'
import { bpfObjectPath, loadNative, type BpfObject, type NativeBinding } from '../native/index.ts'
import {
  attachFailure, HOOK_SETS, loadFailure, SOCKOPS_PROGRAM, UDP_PROGRAMS, type HookMode, type HookSet, type HooksSetting,
} from '../receivers/netflow/hooks.ts'
import type { SystemFacts } from '../system/facts.ts'
import { outcome, reason, type CheckResult } from './check.ts'

/** What the configuration uses, so that a broken part it does not use only warns. */
export interface BpfNeeds {
  netflow: boolean
  /** The `hooks` settings of the netflow receivers in use. */
  netflowHooks: HooksSetting[]
  /** cgroup_skb programs of netflow's UDP accounting. */
  netflowUdp: boolean
  /** The sock_ops program that witnesses netflow's TCP connections a second time. */
  netflowSockops: boolean
  /** Socket filter + AF_PACKET (dns, http). */
  capture: boolean
  /** The capture filter with HTTP exchange tracking (http with kernel_exchanges). */
  httpExchanges: boolean
  /** uprobes on libssl (http with tls). */
  uprobes: boolean
}

/** BPF_PROG_TYPE_* numbers from include/uapi/linux/bpf.h. */
const PROGRAM_TYPES = [
  { type: 1, name: 'socket_filter', purpose: 'DNS/HTTP capture filter', need: (n: BpfNeeds) => n.capture },
  { type: 8, name: 'cgroup_skb', purpose: 'netflow UDP accounting', need: (n: BpfNeeds) => n.netflowUdp },
  { type: 13, name: 'sock_ops', purpose: 'netflow TCP connections, second witness', need: (n: BpfNeeds) => n.netflowSockops },
  { type: 2, name: 'kprobe', purpose: 'uprobe programs (HTTPS)', need: (n: BpfNeeds) => n.uprobes },
]

export function bpfChecks(facts: SystemFacts, needs: BpfNeeds): CheckResult[] {
  let native: NativeBinding
  try {
    native = loadNative()
  } catch (error) {
    return [outcome('native addon', false, true, reason(error))]
  }
  const results: CheckResult[] = [{ name: 'native addon', status: 'ok', detail: 'loaded' }]
  for (const { type, name, purpose, need } of PROGRAM_TYPES) {
    let works = false
    let detail = purpose
    try {
      works = native.probeProgramType(type)
      if (!works) detail = `${purpose}: the kernel refused a minimal program (not built in, or not permitted)`
    } catch (error) {
      detail = `${purpose}: ${reason(error)}`
    }
    results.push(outcome(`program type ${name}`, works, need(needs), detail))
  }
  results.push(...netflowChecks(native, facts, needs), ...captureChecks(native, needs), uprobeCheck(facts, needs))
  return results
}

/** What one netflow hook set did in the doctor's hands: its rows, and whether all its tracing hooks attached. */
interface HookSetProbe {
  /** `cgroup`: a row of the cgroup programs (UDP accounting, the sock_ops witness), which the tracing hooks do without. */
  rows: Array<{ name: string; works: boolean; detail: string; cgroup?: 'udp' | 'sockops' }>
  works: boolean
}

/**
 * Loads each netflow object (tp_btf, classic tracepoints) and attaches each program once: one row per hook. The
 * cgroup programs (cgroup_skb, sockops), the same in both objects, are tried with the first object that loads. A set's
 * failures fail the doctor when a receiver needs that set: asked for by name, or by `auto` when the other set does not
 * work.
 */
function netflowChecks(native: NativeBinding, facts: SystemFacts, needs: BpfNeeds): CheckResult[] {
  const tpBtf = probeHookSet(native, HOOK_SETS.tp_btf, facts, true)
  const classic = probeHookSet(native, HOOK_SETS.classic, facts, !tpBtf.rows.some((r) => r.cgroup))
  const auto = needs.netflowHooks.includes('auto')
  const needed = {
    tp_btf: needs.netflowHooks.includes('tp_btf') || (auto && !classic.works),
    classic: needs.netflowHooks.includes('classic') || (auto && !tpBtf.works),
  }
  const probes: Record<HookMode, HookSetProbe> = { tp_btf: tpBtf, classic }
  const results: CheckResult[] = []
  for (const [mode, probe] of Object.entries(probes) as Array<[HookMode, HookSetProbe]>) {
    for (const row of probe.rows) {
      const need = row.cgroup === 'udp' ? needs.netflowUdp : row.cgroup === 'sockops' ? needs.netflowSockops : needed[mode]
      results.push(outcome(row.name, row.works, need, row.detail))
    }
  }
  const chosen = tpBtf.works ? 'tp_btf' : classic.works ? 'classic tracepoints' : 'neither'
  const runs = needs.netflowHooks.every((setting) => (setting === 'auto' ? tpBtf.works || classic.works : probes[setting].works))
  results.push(outcome('netflow hooks', runs, needs.netflow,
    `tp_btf ${tpBtf.works ? 'work' : 'fail'}, classic tracepoints ${classic.works ? 'work' : 'fail'}; auto uses ${chosen}`))
  return results
}

function probeHookSet(native: NativeBinding, set: HookSet, facts: SystemFacts, withCgroup: boolean): HookSetProbe {
  const load = `netflow ${set.mode} programs (load)`
  // The sock_ops program is loaded on its own (below): loading it takes CAP_NET_ADMIN, which the tracing hooks do not.
  let object: BpfObject
  try {
    object = new native.BpfObject(bpfObjectPath(set.object), { disabledPrograms: withCgroup ? [SOCKOPS_PROGRAM] : [...UDP_PROGRAMS, SOCKOPS_PROGRAM] })
  } catch (error) {
    return { rows: [{ name: load, works: false, detail: reason(loadFailure(error as Error)) }], works: false }
  }
  const probe: HookSetProbe = { rows: [{ name: load, works: true, detail: 'verified by the kernel, CO-RE relocated' }], works: true }
  try {
    const hooks = new Map<string, { programs: string[]; error?: string }>()
    for (const program of object.programs()) {
      const hook = hooks.get(program.section) ?? { programs: [] }
      hooks.set(program.section, hook)
      hook.programs.push(program.name)
      try {
        if (program.section.startsWith('cgroup_skb/')) {
          if (!facts.cgroup2) throw new Error('no cgroup v2 mount')
          object.detach(object.attachCgroup(program.name, facts.cgroup2))
        } else {
          object.detach(object.attach(program.name))
        }
      } catch (error) {
        hook.error ??= reason(attachFailure(program.section, error as Error))
      }
    }
    for (const [section, hook] of hooks) {
      const udp = section.startsWith('cgroup_skb/')
      const where = udp && facts.cgroup2 ? ` on ${facts.cgroup2}` : ''
      probe.rows.push({ name: section, works: hook.error === undefined, detail: hook.error ?? `attached ${hook.programs.join(', ')}${where}`, cgroup: udp ? 'udp' : undefined })
      if (!udp && hook.error !== undefined) probe.works = false
    }
  } finally {
    object.close()
  }
  if (withCgroup) probe.rows.push(sockopsRow(native, set, facts))
  return probe
}

/** The sock_ops program of `set`'s object, loaded alone and attached to the cgroup once. */
function sockopsRow(native: NativeBinding, set: HookSet, facts: SystemFacts): HookSetProbe['rows'][number] {
  const others = [...set.tracing, ...UDP_PROGRAMS]
  let object: BpfObject | undefined
  try {
    object = new native.BpfObject(bpfObjectPath(set.object), { disabledPrograms: others })
    if (!facts.cgroup2) throw new Error('no cgroup v2 mount')
    object.detach(object.attachCgroup(SOCKOPS_PROGRAM, facts.cgroup2))
    return { name: 'sockops', works: true, detail: `attached ${SOCKOPS_PROGRAM} on ${facts.cgroup2}`, cgroup: 'sockops' }
  } catch (error) {
    return { name: 'sockops', works: false, detail: reason(loadFailure(error as Error)), cgroup: 'sockops' }
  } finally {
    object?.close()
  }
}

/** The capture path: the socket filter program, then a small TPACKET_V3 ring with it attached; the filter with HTTP exchange tracking. */
function captureChecks(native: NativeBinding, needs: BpfNeeds): CheckResult[] {
  return [...captureRingChecks(native, needs), exchangeTrackingCheck(needs)]
}

function captureRingChecks(native: NativeBinding, needs: BpfNeeds): CheckResult[] {
  let filter: BpfObject
  try {
    filter = loadPortFilter({ ports: [53], skipMinPayload: 1024 })
  } catch (error) {
    return [outcome('socket filter (port_filter)', false, needs.capture, reason(error))]
  }
  const results: CheckResult[] = [{ name: 'socket filter (port_filter)', status: 'ok', detail: 'loaded' }]
  try {
    const ring = new native.PacketRing(
      { filterProgramFd: filter.programFd('port_filter'), blockSize: 1 << 16, blockCount: 2, frameSize: 2048 },
      () => {},
    )
    ring.close()
    results.push({ name: 'AF_PACKET ring (TPACKET_V3)', status: 'ok', detail: 'opened with the socket filter attached' })
  } catch (error) {
    results.push(outcome('AF_PACKET ring (TPACKET_V3)', false, needs.capture, reason(error)))
  } finally {
    filter.close()
  }
  return results
}

/** As the http receiver loads it with kernel_exchanges: every part the verifier must accept. */
function exchangeTrackingCheck(needs: BpfNeeds): CheckResult {
  const name = 'socket filter with HTTP exchange tracking (port_filter_exchanges)'
  try {
    loadPortFilter({ ports: [80], trackExchanges: true, skipMinPayload: 1024 }).close()
    return { name, status: 'ok', detail: 'loaded' }
  } catch (error) {
    return outcome(name, false, needs.httpExchanges, `${reason(error)} (receivers::http::kernel_exchanges: false does without it)`)
  }
}

/** Uprobes: the perf PMU, CAP_SYS_ADMIN (which this kernel requires to attach one), and a libssl to attach to. */
function uprobeCheck(facts: SystemFacts, needs: BpfNeeds): CheckResult {
  const missing: string[] = []
  if (!facts.uprobePmu) missing.push('no uprobe perf PMU (CONFIG_UPROBE_EVENTS)')
  if (!facts.capabilities.has('CAP_SYS_ADMIN')) missing.push('CAP_SYS_ADMIN missing (attaching a uprobe requires it)')
  if (!facts.libssl) missing.push('no libssl.so.3 found')
  const detail = missing.length > 0 ? missing.join('; ') : `uprobe PMU present; OpenSSL at ${facts.libssl}`
  return outcome('uprobes (HTTPS via OpenSSL)', missing.length === 0, needs.uprobes, detail)
}
