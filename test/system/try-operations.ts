// Run as a child (under capsh) by kernel-requirements.test.ts: performs each privileged operation netlens relies on
// and prints one JSON object, operation → 'ok' or the errno name it failed with.
// Usage: node try-operations.ts UPROBE_OBJECT
import { loadPortFilter } from '../../src/capture/port-filter.ts'
import { bpfObjectPath, loadNative, type BpfObject } from '../../src/native/index.ts'
import { cgroup2Mount } from '../../src/net/system.ts'
import { HOOK_SETS, SOCKOPS_PROGRAM, UDP_PROGRAMS } from '../../src/receivers/netflow/hooks.ts'

const native = loadNative()
const results: Record<string, string> = {}

function attempt<T>(operation: string, run: () => T): T | undefined {
  try {
    const value = run()
    results[operation] = 'ok'
    return value
  } catch (error) {
    results[operation] = (error as { code?: string }).code ?? String(error)
    return undefined
  }
}

const netflow = attempt('load tp_btf programs', () => new native.BpfObject(bpfObjectPath('netflow'), {
  disabledPrograms: [SOCKOPS_PROGRAM],
}))
if (netflow) {
  attempt('attach tp_btf', () => netflow.attach('netflow_send'))
  attempt('attach cgroup_skb', () => netflow.attachCgroup('netflow_udp_egress', cgroup2Mount()))
  netflow.close()
}
const sockops = attempt('load sock_ops program', () => new native.BpfObject(bpfObjectPath('netflow'), {
  disabledPrograms: [...HOOK_SETS.tp_btf.tracing, ...UDP_PROGRAMS],
}))
if (sockops) {
  attempt('attach sock_ops', () => sockops.attachCgroup(SOCKOPS_PROGRAM, cgroup2Mount()))
  sockops.close()
}
const classic = attempt('load classic tracepoint programs', () => new native.BpfObject(bpfObjectPath('netflow_classic'), {
  disabledPrograms: [...UDP_PROGRAMS, SOCKOPS_PROGRAM],
}))
if (classic) {
  attempt('attach classic tracepoint', () => classic.attach('netflow_classic_send'))
  classic.close()
}
const filter = attempt('load socket filter', () => loadPortFilter({ ports: [53] }))
filter?.close()
attempt('load socket filter with exchange tracking', () => loadPortFilter({ ports: [80], trackExchanges: true }))?.close()
attempt('open AF_PACKET socket', () => new native.PacketRing({ blockSize: 1 << 16, blockCount: 2 }, () => {}).close())
const uprobe: BpfObject | undefined = attempt('load uprobe program', () => new native.BpfObject(process.argv[2]!))
if (uprobe) {
  attempt('attach uprobe', () => uprobe.attachUprobe('probe_getpid', { binaryPath: process.argv[3]!, functionName: 'getpid' }))
  uprobe.close()
}
process.stdout.write(JSON.stringify(results) + '\n')
