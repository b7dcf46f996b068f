// Facts about the running system that components read once at start.
import { readFileSync } from 'node:fs'

/** net.ipv4.ip_local_port_range: the ports the kernel picks for clients (it also applies to IPv6). */
export function ephemeralPortRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): { low: number; high: number } {
  const [low, high] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number)
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`${path}: unreadable port range`)
  return { low: low!, high: high! }
}

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems). */
export function cgroup2Mount(mountinfo = '/proc/self/mountinfo'): string {
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    // mountinfo: id parent major:minor root mount-point options ... - fstype source super-options
    const [before, after] = line.split(' - ')
    if (after?.startsWith('cgroup2 ')) return before!.split(' ')[4]!
  }
  throw new Error('no cgroup2 filesystem is mounted (needed for UDP accounting and the TCP sock_ops witness; set receivers::netflow::udp: false and tcp_sockops: false)')
}
