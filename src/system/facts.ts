// What the running kernel and this process offer, read once from /proc and /sys (no BPF calls: cheap enough for
// every start). The start-up check and `netlens doctor` decide from these which receivers can run.
import { existsSync, readFileSync } from 'node:fs'
import { release } from 'node:os'
import { cgroup2Mount } from '../net/system.ts'
import { effectiveCapabilities, type CapabilitySet } from './capabilities.ts'

export const BTF_PATH = '/sys/kernel/btf/vmlinux'
/** The perf PMU that uprobes attach through (CONFIG_UPROBE_EVENTS); libbpf uses it, not tracefs. */
export const UPROBE_PMU_PATH = '/sys/bus/event_source/devices/uprobe/type'
/** Where OpenSSL 3 usually is; the http receiver looks further (ldconfig), this is for the start-up check. */
export const LIBSSL_PATHS = ['/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/aarch64-linux-gnu/libssl.so.3', '/usr/lib64/libssl.so.3', '/usr/lib/libssl.so.3']
const UNPRIVILEGED_BPF_PATH = '/proc/sys/kernel/unprivileged_bpf_disabled'

export interface SystemFacts {
  kernelRelease: string
  capabilities: CapabilitySet
  /** BTF of the running kernel: CO-RE relocation and tp_btf programs need it. */
  btf: boolean
  /** Where cgroup v2 is mounted; undefined when it is not. */
  cgroup2: string | undefined
  /** Where tracefs is mounted; undefined when it is not (only netflow's classic tracepoint hooks need it). */
  tracefs: string | undefined
  uprobePmu: boolean
  /** A libssl.so.3 for HTTPS uprobes; undefined when none of LIBSSL_PATHS exists. */
  libssl: string | undefined
  /**
   * kernel.unprivileged_bpf_disabled: 0 lets anyone load socket filters and create their maps; 1 or 2 (the
   * common default) make every BPF program need CAP_BPF. undefined when unreadable.
   */
  unprivilegedBpfDisabled: number | undefined
}

/** Mount points by filesystem type, from /proc/self/mountinfo. */
function mountOf(fstype: string, mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options ... - fstype source super-options
    const [before, after] = line.split(' - ')
    if (after?.startsWith(`${fstype} `)) return before!.split(' ')[4]
  }
  return undefined
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(value) ? value : undefined
  } catch {
    return undefined
  }
}

export function readSystemFacts(): SystemFacts {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')
  let cgroup2: string | undefined
  try {
    cgroup2 = cgroup2Mount()
  } catch {
    cgroup2 = undefined
  }
  return {
    kernelRelease: release(),
    capabilities: effectiveCapabilities(),
    btf: existsSync(BTF_PATH),
    cgroup2,
    tracefs: mountOf('tracefs', mountinfo),
    uprobePmu: existsSync(UPROBE_PMU_PATH),
    libssl: LIBSSL_PATHS.find((path) => existsSync(path)),
    unprivilegedBpfDisabled: readNumber(UNPRIVILEGED_BPF_PATH),
  }
}
