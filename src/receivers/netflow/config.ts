import type { Schema } from 'convict'
import type { HooksSetting } from './hooks.ts'

export interface NetflowConfig {
  interval: number
  max_flows: number
  max_sockets: number
  idle_timeout: number
  tcp_idle_timeout: number
  udp: boolean
  tcp_sockops: boolean
  collapse_client_ports: boolean
  cgroup_path: string
  hooks: HooksSetting
}

export const netflowSchema: Schema<NetflowConfig> = {
  interval: {
    doc: 'How often the kernel maps are harvested into flow records.',
    format: 'duration',
    default: 10_000,
  },
  max_flows: {
    doc: 'Size of the kernel flow map (one entry per socket and peer). Traffic of new flows is counted as dropped when it is full.',
    format: 'nat',
    default: 65_536,
  },
  max_sockets: {
    doc: 'Size of the kernel map of socket owners (pid, process name), and with classic hooks of the map of TCP socket ids.',
    format: 'nat',
    default: 65_536,
  },
  idle_timeout: {
    doc: 'UDP flow entries unchanged for this long are removed from the kernel map (UDP peers have no close event).',
    format: 'duration',
    default: 60_000,
  },
  tcp_idle_timeout: {
    doc: 'A TCP flow entry is removed once its connection closes, which it then reports; one unchanged for this long ' +
      'is removed anyway, in case the kernel skipped its close, and a close after that is not reported. ' +
      "Cilium's connection tracking keeps idle TCP entries as long (6 h).",
    format: 'duration',
    default: 6 * 3_600_000,
  },
  udp: {
    doc: 'Count UDP traffic per peer (a cgroup_skb program on the root cgroup v2).',
    format: Boolean,
    default: true,
  },
  tcp_sockops: {
    doc: 'Witness TCP connections being established and closed a second time, with a sock_ops program on the cgroup ' +
      '(cgroup_path), besides the tracing programs: some kernels skip tracing programs in some contexts without counting it, ' +
      'and a connection whose close no program saw would go unreported. Covers the connections established while it runs.',
    format: Boolean,
    default: true,
  },
  collapse_client_ports: {
    doc: 'Report the client side of a flow with port 0 when its port is in the ephemeral range (net.ipv4.ip_local_port_range), so series follow services, not connections.',
    format: Boolean,
    default: true,
  },
  cgroup_path: {
    doc: 'cgroup v2 directory the UDP and sock_ops programs attach to; empty means the root of the cgroup2 mount.',
    format: String,
    default: '',
  },
  hooks: {
    doc: 'Kernel hooks of the TCP and socket-owner programs: tp_btf (BTF-typed tracepoints: cheaper per event, and fewer events skipped when a softirq interrupts a program), classic (tracepoints through tracefs, for kernels or environments where tp_btf programs do not load or attach), or auto: tp_btf, and classic when tp_btf fails (logged with the reason).',
    format: ['auto', 'tp_btf', 'classic'],
    default: 'auto',
  },
}

export function validateNetflow(config: NetflowConfig): void {
  if (config.max_flows < 16) throw new Error('max_flows: must be at least 16')
  if (config.max_sockets < 16) throw new Error('max_sockets: must be at least 16')
  if (config.interval < 100) throw new Error('interval: must be at least 100ms')
}
