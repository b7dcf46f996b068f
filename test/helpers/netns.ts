// Test hosts in network namespaces the test creates, wired like pods on a node: each host's veth peer lives in
// the root namespace (where netlens runs), and the root namespace routes between hosts. Addresses come from
// 198.18.0.0/15 (RFC 2544, benchmarking) and fd00:198:18::/48, and never leave this machine.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

export function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

let sequence = 0

// Subnets are claimed with a lock directory each, so that test processes running side by side never share one.
const LOCKS = '/run/netlens-test-subnets'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

let sweptLeftovers = false

/**
 * What test processes that died (killed, timed out) left behind: their namespaces, and root-namespace links that
 * still hold a subnet, which would otherwise shadow the next host given that subnet.
 */
function removeLeftovers(subnet: number): void {
  if (!sweptLeftovers) {
    sweptLeftovers = true
    for (const line of sh('ip', ['netns', 'list']).split('\n')) {
      const owner = /^nl(\d+)x\d+/.exec(line)
      if (owner && !alive(Number(owner[1]))) try { sh('ip', ['netns', 'del', line.split(' ')[0]!]) } catch { /* raced */ }
    }
  }
  for (const line of sh('ip', ['-o', '-4', 'addr', 'show', 'to', `198.18.${subnet}.0/24`]).split('\n')) {
    const link = line.split(/\s+/)[1]?.split('@')[0]
    if (link) try { sh('ip', ['link', 'del', link]) } catch { /* raced */ }
  }
}

function claimSubnet(): number {
  mkdirSync(LOCKS, { recursive: true })
  for (let n = 1; n <= 250; n++) {
    const lock = `${LOCKS}/${n}`
    try {
      mkdirSync(lock)
    } catch {
      let owner = 0
      try { owner = Number(readFileSync(`${lock}/pid`, 'utf8')) } catch { /* being created right now */ continue }
      if (alive(owner)) continue
      rmSync(lock, { recursive: true, force: true }) // left by a test process that died
      try { mkdirSync(lock) } catch { continue }
    }
    writeFileSync(`${lock}/pid`, String(process.pid))
    removeLeftovers(n)
    return n
  }
  throw new Error('no free test subnet in 198.18.1.0 - 198.18.250.0')
}

export interface TestHost {
  name: string
  /** veth end in the root namespace. */
  hostInterface: string
  ipv4: string
  ipv6: string
  /** The root namespace's addresses on this host's link (its gateway). */
  gatewayIpv4: string
  gatewayIpv6: string
  /** Runs a command inside the namespace, synchronously. */
  exec(command: string, args: string[]): string
  /** Starts a command inside the namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess
  destroy(): void
}

/** Creates a namespace `nl<pid>x<n>` with eth0 at 198.18.<n>.2 / fd00:198:18:<n>::2 and its gateway in the root namespace. */
export function createTestHost(): TestHost {
  const n = claimSubnet()
  ++sequence
  const name = `nl${process.pid}x${sequence}`
  const hostInterface = `nlv${process.pid % 10000}x${sequence}`
  const ipv4 = `198.18.${n}.2`
  const gatewayIpv4 = `198.18.${n}.1`
  const ipv6 = `fd00:198:18:${n}::2`
  const gatewayIpv6 = `fd00:198:18:${n}::1`
  try {
    sh('ip', ['netns', 'add', name])
    const inNs = (args: string[]) => sh('ip', ['netns', 'exec', name, ...args])
    // No duplicate address detection on test links: it would hold IPv6 traffic for ~2 s after link-up.
    inNs(['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'])
    sh('ip', ['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name])
    sh('sysctl', ['-qw', `net.ipv6.conf.${hostInterface}.accept_dad=0`])
    sh('ip', ['addr', 'add', `${gatewayIpv4}/24`, 'dev', hostInterface])
    sh('ip', ['-6', 'addr', 'add', `${gatewayIpv6}/64`, 'dev', hostInterface, 'nodad'])
    sh('ip', ['link', 'set', hostInterface, 'up'])
    inNs(['ip', 'addr', 'add', `${ipv4}/24`, 'dev', 'eth0'])
    inNs(['ip', '-6', 'addr', 'add', `${ipv6}/64`, 'dev', 'eth0', 'nodad'])
    inNs(['ip', 'link', 'set', 'eth0', 'up'])
    inNs(['ip', 'link', 'set', 'lo', 'up'])
    inNs(['ip', 'route', 'add', 'default', 'via', gatewayIpv4])
    inNs(['ip', '-6', 'route', 'add', 'default', 'via', gatewayIpv6])
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'])
  } catch (error) {
    destroy()
    throw error
  }
  function destroy() {
    try { sh('ip', ['link', 'del', hostInterface]) } catch { /* already gone with the namespace */ }
    try { sh('ip', ['netns', 'del', name]) } catch { /* never created */ }
    rmSync(`${LOCKS}/${n}`, { recursive: true, force: true })
  }
  return {
    name, hostInterface, ipv4, ipv6, gatewayIpv4, gatewayIpv6,
    exec: (command, args) => sh('ip', ['netns', 'exec', name, command, ...args]),
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    destroy,
  }
}
