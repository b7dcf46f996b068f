// What each receiver needs from the kernel and the process, and which of it is missing. Measured on kernel 6.18
// (capsh/setpriv dropping one capability at a time, see test/system/ and test/lifecycle/):
// - loading any BPF program or map: CAP_BPF (socket filters too, unless kernel.unprivileged_bpf_disabled is 0);
// - loading tracing programs (tp_btf, classic tracepoints, and the kprobe-type programs uprobes run): CAP_PERFMON as well;
// - loading the capture filter with HTTP exchange tracking: CAP_PERFMON too (without it the verifier refuses the
//   way the compiler reuses stack slots of spilled pointers);
// - attaching a classic tracepoint: tracefs, where libbpf reads the tracepoint's id;
// - attaching cgroup_skb programs, and loading sock_ops ones: CAP_NET_ADMIN;
// - opening an AF_PACKET socket: CAP_NET_RAW;
// - attaching a uprobe: CAP_SYS_ADMIN (the kernel's uprobe perf PMU refuses CAP_PERFMON alone with EACCES);
// - CAP_SYS_ADMIN stands in for CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN;
// - no CAP_SYS_RESOURCE: since 5.11 BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK;
// - no CAP_SYS_PTRACE: uprobes attach to a library path for every process, not to another process's memory.
import type { Capability } from './capabilities.ts'
import { BTF_PATH, UPROBE_PMU_PATH, type SystemFacts } from './facts.ts'

export type Feature = 'btf' | 'cgroup2' | 'uprobe_pmu' | 'tracefs'

export type Requirement =
  | { kind: 'capability'; capability: Capability; purpose: string; hint?: string }
  | { kind: 'feature'; feature: Feature; purpose: string; hint?: string }

const FEATURE_NAMES: Record<Feature, string> = {
  btf: `kernel BTF (${BTF_PATH})`,
  cgroup2: 'a cgroup v2 mount',
  uprobe_pmu: `the uprobe perf PMU (${UPROBE_PMU_PATH}, CONFIG_UPROBE_EVENTS)`,
  tracefs: 'tracefs mounted at /sys/kernel/tracing',
}

/** Capabilities that also grant the key's one (the kernel's bpf_capable(), perfmon_capable(), bpf_net_capable()). */
const IMPLIED_BY: Partial<Record<Capability, Capability[]>> = {
  CAP_BPF: ['CAP_SYS_ADMIN'],
  CAP_PERFMON: ['CAP_SYS_ADMIN'],
  CAP_NET_ADMIN: ['CAP_SYS_ADMIN'],
}

const capability = (name: Capability, purpose: string, hint?: string): Requirement => ({ kind: 'capability', capability: name, purpose, hint })
const feature = (name: Feature, purpose: string, hint?: string): Requirement => ({ kind: 'feature', feature: name, purpose, hint })

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Socket filter + AF_PACKET ring, as PacketCapture opens them (dns, http). */
function captureRequirements(facts: SystemFacts): Requirement[] {
  const needs: Requirement[] = [capability('CAP_NET_RAW', 'open the AF_PACKET capture socket')]
  if (facts.unprivilegedBpfDisabled !== 0) needs.unshift(capability('CAP_BPF', 'load the socket filter program'))
  return needs
}

/** The http receiver's TLS uprobes are on unless its config says `tls: false` or `tls: { enabled: false }`. */
export function tlsEnabled(config: unknown): boolean {
  const tls = isMap(config) ? config.tls : undefined
  if (tls === undefined || tls === false) return false
  if (isMap(tls)) return tls.enabled !== false
  return true
}

/** Requirements of a receiver by its type and (validated) config; [] for a type this table does not know. */
export function receiverRequirements(type: string, id: string, config: unknown, facts: SystemFacts): Requirement[] {
  const settings = isMap(config) ? config : {}
  switch (type) {
    case 'netflow': {
      // hooks: auto needs tracefs only if tp_btf fails, which only trying tells (the receiver's start() says so).
      const classic = settings.hooks === 'classic'
      const needs = [
        feature('btf', classic ? 'CO-RE relocation of the flow programs' : 'CO-RE relocation and the tp_btf flow programs'),
        capability('CAP_BPF', 'load the flow programs and maps'),
        capability('CAP_PERFMON', classic ? 'load the tracepoint programs' : 'load the tp_btf tracing programs'),
      ]
      if (classic) needs.push(feature('tracefs', 'attach the classic tracepoint programs', `receivers::${id}::hooks: auto uses tp_btf where it works`))
      // The cgroup programs: UDP accounting, and the sock_ops witness of TCP connections.
      const udp = settings.udp !== false
      const sockops = settings.tcp_sockops !== false
      if (udp || sockops) {
        const programs = [udp && 'the UDP cgroup_skb programs', sockops && 'the TCP sock_ops program'].filter(Boolean).join(' and ')
        const hint = [
          udp && `receivers::${id}::udp: false runs without UDP accounting`,
          sockops && `receivers::${id}::tcp_sockops: false counts TCP connections with the tracing programs alone`,
        ].filter(Boolean).join('; ')
        needs.push(capability('CAP_NET_ADMIN', `attach ${programs}`, hint))
        if (!settings.cgroup_path) needs.push(feature('cgroup2', `attach ${programs}`, hint))
      }
      return needs
    }
    case 'dns':
      return captureRequirements(facts)
    case 'http': {
      const needs = captureRequirements(facts)
      if (settings.kernel_exchanges !== false) {
        needs.push(capability('CAP_PERFMON', 'load the capture filter that reads HTTP exchanges in the kernel',
          `receivers::${id}::kernel_exchanges: false reads every exchange in user space`))
      }
      // Without a libssl the receiver skips HTTPS by itself; then the uprobes need nothing.
      const libssl = isMap(settings.tls) && typeof settings.tls.libssl === 'string' && settings.tls.libssl !== ''
      if (tlsEnabled(settings) && (libssl || facts.libssl !== undefined)) {
        const hint = `receivers::${id}::tls::enabled: false runs without HTTPS`
        needs.push(
          capability('CAP_PERFMON', 'load the TLS uprobe programs', hint),
          capability('CAP_SYS_ADMIN', 'attach uprobes to libssl (the uprobe PMU requires it; CAP_PERFMON is not enough)', hint),
          feature('uprobe_pmu', 'attach uprobes to libssl', hint),
        )
        if (!needs.some((n) => n.kind === 'capability' && n.capability === 'CAP_BPF')) {
          needs.unshift(capability('CAP_BPF', 'load the TLS uprobe programs', hint))
        }
      }
      return needs
    }
    default:
      return []
  }
}

function satisfied(requirement: Requirement, facts: SystemFacts): boolean {
  if (requirement.kind === 'capability') {
    const any = [requirement.capability, ...(IMPLIED_BY[requirement.capability] ?? [])]
    return any.some((name) => facts.capabilities.has(name))
  }
  switch (requirement.feature) {
    case 'btf': return facts.btf
    case 'cgroup2': return facts.cgroup2 !== undefined
    case 'uprobe_pmu': return facts.uprobePmu
    case 'tracefs': return facts.tracefs !== undefined
  }
}

export function unmetRequirements(requirements: readonly Requirement[], facts: SystemFacts): Requirement[] {
  return requirements.filter((requirement) => !satisfied(requirement, facts))
}

/** `capability CAP_NET_RAW (to open the AF_PACKET capture socket)`. */
export function describeRequirement(requirement: Requirement): string {
  const what = requirement.kind === 'capability' ? `capability ${requirement.capability}` : `kernel feature: ${FEATURE_NAMES[requirement.feature]}`
  return `${what} (to ${requirement.purpose})`
}

/** One sentence naming everything missing, and how to do without it when a setting allows. */
export function describeUnmet(unmet: readonly Requirement[]): string {
  const hints = [...new Set(unmet.map((u) => u.hint).filter((h): h is string => h !== undefined))]
  const tail = hints.length > 0 ? `; ${hints.join('; ')}` : ''
  return `missing ${unmet.map(describeRequirement).join(', ')}${tail}`
}
