// Linux capabilities of this process: the effective set as /proc/self/status gives it (CapEff, a hex mask), and
// the names netlens talks about. Root without capabilities (a container that dropped them) is as powerless as any
// user for BPF, so netlens reads the set instead of checking the uid.
import { readFileSync } from 'node:fs'

/**
 * Bit numbers from include/uapi/linux/capability.h, for the capabilities netlens uses (see
 * src/system/requirements.ts for which part needs which; CAP_SYS_RESOURCE and CAP_SYS_PTRACE are not needed).
 */
export const CAPABILITY_BITS = {
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
} as const

export type Capability = keyof typeof CAPABILITY_BITS

export const CAPABILITIES = Object.keys(CAPABILITY_BITS) as Capability[]

/** A set of capabilities as the kernel's 64-bit mask. */
export class CapabilitySet {
  readonly mask: bigint

  constructor(mask: bigint) {
    this.mask = mask
  }

  /** Every capability the kernel has (what root holds on a host, not in a restricted container). */
  static all(): CapabilitySet {
    return new CapabilitySet((1n << 64n) - 1n)
  }

  static of(capabilities: readonly Capability[]): CapabilitySet {
    return new CapabilitySet(capabilities.reduce((mask, name) => mask | (1n << BigInt(CAPABILITY_BITS[name])), 0n))
  }

  has(capability: Capability): boolean {
    return (this.mask & (1n << BigInt(CAPABILITY_BITS[capability]))) !== 0n
  }

  /** The named capabilities in the set (only those netlens knows by name). */
  names(): Capability[] {
    return CAPABILITIES.filter((name) => this.has(name))
  }
}

/** CapEff out of the text of /proc/<pid>/status. */
export function parseCapEff(status: string): CapabilitySet {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)
  if (!match) throw new Error('no CapEff line in /proc/self/status')
  return new CapabilitySet(BigInt(`0x${match[1]}`))
}

/** This process's effective capabilities. */
export function effectiveCapabilities(statusPath = '/proc/self/status'): CapabilitySet {
  return parseCapEff(readFileSync(statusPath, 'utf8'))
}
