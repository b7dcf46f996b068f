// The two sets of kernel hooks the netflow receiver runs on, and how one is chosen: tp_btf (bpf/netflow.bpf.c),
// preferred, and classic tracepoints (bpf/netflow_classic.bpf.c), the fallback where tp_btf programs do not load or
// attach. Both fill the same maps the same way; which one runs is decided by trying it, since whether a kernel has a
// given tp_btf hook (and may attach it) is only known for sure by the kernel itself.
import { existsSync } from 'node:fs'
import { bpfObjectPath, loadNative } from '../../native/index.ts'
import type { BpfObject } from '../../native/types.ts'
import type { Logger } from '../../telemetry/logger.ts'

export type HookMode = 'tp_btf' | 'classic'
export type HooksSetting = 'auto' | HookMode

export interface HookSet {
  mode: HookMode
  /** build/bpf/<object>.bpf.o */
  object: string
  /** The TCP and socket-owner programs, attached by their SEC(). */
  tracing: string[]
}

export const HOOK_SETS: Record<HookMode, HookSet> = {
  tp_btf: {
    mode: 'tp_btf',
    object: 'netflow',
    tracing: ['netflow_tcp_owner', 'netflow_tcp_state', 'netflow_tcp_destroy', 'netflow_send', 'netflow_recv', 'netflow_retransmit'],
  },
  classic: {
    mode: 'classic',
    object: 'netflow_classic',
    tracing: ['netflow_classic_tcp_state', 'netflow_classic_tcp_destroy', 'netflow_classic_send', 'netflow_classic_recv', 'netflow_classic_retransmit'],
  },
}

/** cgroup_skb programs, the same in both objects. */
export const UDP_PROGRAMS = ['netflow_udp_egress', 'netflow_udp_ingress']
/** The sock_ops program that witnesses TCP connections a second time (bpf/netflow_sockops.h), in both objects. */
export const SOCKOPS_PROGRAM = 'netflow_tcp_sockops'

/** Where libbpf looks for tracepoints when it attaches a classic one (debugfs first, as libbpf does). */
export const TRACEFS_PATHS = ['/sys/kernel/debug/tracing', '/sys/kernel/tracing']

export interface HookOptions {
  maxFlows: number
  maxSockets: number
  /** cgroup v2 directory the UDP programs attach to; undefined: no UDP accounting. */
  udpCgroup: string | undefined
  /** cgroup v2 directory the sock_ops witness of TCP connections attaches to; undefined: tracing programs only. */
  tcpCgroup?: string
}

export interface OpenedHooks {
  object: BpfObject
  mode: HookMode
}

/** Opens the hooks `setting` names; `auto` tries tp_btf, then classic tracepoints, and logs why it fell back. */
export function openHooks(setting: HooksSetting, options: HookOptions, logger: Logger, sets = HOOK_SETS): OpenedHooks {
  if (setting !== 'auto') return { object: openHookSet(sets[setting], options), mode: setting }
  try {
    return { object: openHookSet(sets.tp_btf, options), mode: 'tp_btf' }
  } catch (tpBtf) {
    logger.warn('tp_btf hooks unavailable, falling back to classic tracepoints', { reason: (tpBtf as Error).message })
    try {
      return { object: openHookSet(sets.classic, options), mode: 'classic' }
    } catch (classic) {
      throw new Error(`neither hook set works: ${(tpBtf as Error).message}; ${(classic as Error).message}`, { cause: classic })
    }
  }
}

/** Loads a hook set's object and attaches every program; on failure closes it and says which hook failed and why. */
export function openHookSet(set: HookSet, options: HookOptions): BpfObject {
  const udp = options.udpCgroup !== undefined
  const sockops = options.tcpCgroup !== undefined
  const disabledPrograms = [...(udp ? [] : UDP_PROGRAMS), ...(sockops ? [] : [SOCKOPS_PROGRAM])]
  const mapSizes: Record<string, number> = { flows: options.maxFlows, socket_owners: options.maxSockets }
  if (set.mode === 'classic') mapSizes.socket_ids = options.maxSockets
  let object: BpfObject
  try {
    object = new (loadNative().BpfObject)(bpfObjectPath(set.object), { mapSizes, disabledPrograms })
  } catch (error) {
    throw new Error(`${set.mode} hooks: ${loadFailure(error as Error)}`, { cause: error })
  }
  const sections = new Map(object.programs().map((p) => [p.name, p.section]))
  let program = ''
  try {
    for (program of set.tracing) object.attach(program)
    if (udp) for (program of UDP_PROGRAMS) object.attachCgroup(program, options.udpCgroup!)
    if (sockops) {
      program = SOCKOPS_PROGRAM
      object.attachCgroup(program, options.tcpCgroup!)
    }
  } catch (error) {
    object.close()
    const section = sections.get(program) ?? program
    throw new Error(`${set.mode} hooks: ${section}: ${attachFailure(section, error as Error)}`, { cause: error })
  }
  return object
}

/** Why an object did not load: libbpf names a tp_btf hook the kernel's BTF lacks in its log; else as it came. */
export function loadFailure(error: Error & { log?: string }): string {
  const missing = /prog '(\w+)': failed to find kernel BTF type ID of '(\w+)'/.exec(error.log ?? '')
  if (missing) return `this kernel has no tp_btf/${missing[2]} (its BTF has no btf_trace_${missing[2]}; program ${missing[1]})`
  return error.message
}

/**
 * Why the program of hook `section` did not attach. A classic tracepoint that is not found is told apart: tracefs not
 * mounted where libbpf looks, or a kernel without the tracepoint. Anything else is told as it came.
 */
export function attachFailure(section: string, error: Error & { code?: string }): string {
  const tracepoint = /^tracepoint\/(.+)$/.exec(section)?.[1]
  if (tracepoint && error.code === 'ENOENT') {
    const tracefs = TRACEFS_PATHS.find((path) => existsSync(`${path}/events`))
    if (!tracefs) return `tracefs is not mounted at ${TRACEFS_PATHS.join(' or ')} (mount -t tracefs nodev /sys/kernel/tracing)`
    if (!existsSync(`${tracefs}/events/${tracepoint}`)) return `this kernel has no tracepoint ${tracepoint} (${tracefs}/events/${tracepoint})`
  }
  return error.message
}
