import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { CapabilitySet, parseCapEff } from '../../src/system/capabilities.ts'
import { readSystemFacts, type SystemFacts } from '../../src/system/facts.ts'
import { describeUnmet, receiverRequirements, unmetRequirements } from '../../src/system/requirements.ts'

const FULL: SystemFacts = {
  kernelRelease: '6.18.0',
  capabilities: CapabilitySet.all(),
  btf: true,
  cgroup2: '/sys/fs/cgroup',
  tracefs: '/sys/kernel/tracing',
  uprobePmu: true,
  libssl: '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  unprivilegedBpfDisabled: 2,
}

function problem(type: string, config: unknown, facts: Partial<SystemFacts>): string | undefined {
  const all = { ...FULL, ...facts }
  const unmet = unmetRequirements(receiverRequirements(type, type, config, all), all)
  return unmet.length > 0 ? describeUnmet(unmet) : undefined
}

describe('system: capabilities and requirements', () => {
  it('reads CapEff as the kernel writes it', () => {
    const set = parseCapEff('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000000c000003000\n')
    assert.deepEqual(set.names(), ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_BPF'])
    assert.throws(() => parseCapEff('Name:\tnode\n'), /no CapEff/)
  })

  it('reads this process: root with every capability netlens uses, BTF, cgroup v2, the uprobe PMU', () => {
    const facts = readSystemFacts()
    assert.deepEqual(facts.capabilities.names(), ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN', 'CAP_PERFMON', 'CAP_BPF'])
    assert.ok(facts.btf && facts.uprobePmu)
    assert.ok(facts.cgroup2)
    // What a shell under capsh sees is what netlens reads.
    const dropped = execFileSync('capsh', ['--drop=cap_net_raw', '--', '-c', 'grep CapEff /proc/self/status'], { encoding: 'utf8' })
    assert.equal(parseCapEff(dropped).has('CAP_NET_RAW'), false)
    assert.equal(parseCapEff(dropped).has('CAP_BPF'), true)
  })

  it('with every capability and feature, every receiver can run', () => {
    for (const type of ['netflow', 'dns', 'http']) assert.equal(problem(type, { tls: true }, {}), undefined, type)
  })

  it('names each missing capability with its purpose, and the setting that avoids it', () => {
    assert.equal(
      problem('netflow', { udp: true }, { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_RAW']) }),
      'missing capability CAP_NET_ADMIN (to attach the UDP cgroup_skb programs and the TCP sock_ops program); ' +
        'receivers::netflow::udp: false runs without UDP accounting; receivers::netflow::tcp_sockops: false counts TCP connections with the tracing programs alone',
    )
    assert.equal(
      problem('netflow', { udp: false }, { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_PERFMON']) }),
      'missing capability CAP_NET_ADMIN (to attach the TCP sock_ops program); receivers::netflow::tcp_sockops: false counts TCP connections with the tracing programs alone',
    )
    assert.equal(problem('netflow', { udp: false, tcp_sockops: false }, { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_PERFMON']) }), undefined)
    assert.equal(
      problem('dns', {}, { capabilities: CapabilitySet.of(['CAP_PERFMON']) }),
      'missing capability CAP_BPF (to load the socket filter program), capability CAP_NET_RAW (to open the AF_PACKET capture socket)',
    )
    assert.match(problem('http', { tls: { enabled: true } }, { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_RAW']) })!, /CAP_SYS_ADMIN .*tls::enabled: false runs without HTTPS/)
    assert.equal(
      problem('http', { tls: { enabled: false } }, { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_NET_RAW']) }),
      'missing capability CAP_PERFMON (to load the capture filter that reads HTTP exchanges in the kernel); ' +
        'receivers::http::kernel_exchanges: false reads every exchange in user space',
    )
    const capture = { capabilities: CapabilitySet.of(['CAP_BPF', 'CAP_NET_RAW']) }
    assert.equal(problem('http', { tls: { enabled: false }, kernel_exchanges: false }, capture), undefined)
    // No OpenSSL anywhere: the receiver runs without HTTPS, so the uprobes' needs do not apply.
    const noSsl = { ...capture, libssl: undefined }
    assert.equal(problem('http', { tls: { enabled: true, libssl: '' }, kernel_exchanges: false }, noSsl), undefined)
    assert.match(problem('http', { tls: { enabled: true, libssl: '/opt/ssl/libssl.so.3' } }, noSsl)!, /CAP_SYS_ADMIN/)
  })

  it('CAP_SYS_ADMIN stands in for CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, never for CAP_NET_RAW', () => {
    assert.equal(problem('netflow', {}, { capabilities: CapabilitySet.of(['CAP_SYS_ADMIN']) }), undefined)
    assert.match(problem('dns', {}, { capabilities: CapabilitySet.of(['CAP_SYS_ADMIN']) })!, /^missing capability CAP_NET_RAW/)
  })

  it('socket filters need no CAP_BPF where the kernel allows unprivileged BPF', () => {
    assert.equal(problem('dns', {}, { capabilities: CapabilitySet.of(['CAP_NET_RAW']), unprivilegedBpfDisabled: 0 }), undefined)
  })

  it('names missing kernel features', () => {
    assert.match(problem('netflow', {}, { btf: false })!, /^missing kernel feature: kernel BTF \(\/sys\/kernel\/btf\/vmlinux\)/)
    assert.match(problem('netflow', {}, { cgroup2: undefined })!, /kernel feature: a cgroup v2 mount/)
    assert.equal(problem('netflow', { cgroup_path: '/sys/fs/cgroup/x' }, { cgroup2: undefined }), undefined)
    assert.match(problem('http', { tls: true }, { uprobePmu: false })!, /uprobe perf PMU/)
    assert.equal(
      problem('netflow', { hooks: 'classic' }, { tracefs: undefined }),
      'missing kernel feature: tracefs mounted at /sys/kernel/tracing (to attach the classic tracepoint programs); receivers::netflow::hooks: auto uses tp_btf where it works',
    )
    assert.equal(problem('netflow', { hooks: 'auto' }, { tracefs: undefined }), undefined)
  })

  it('knows nothing of other receiver types (their start() reports what fails)', () => {
    assert.deepEqual(receiverRequirements('otlp', 'otlp', {}, FULL), [])
  })
})
