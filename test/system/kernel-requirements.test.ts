// The requirement table (src/system/requirements.ts) against the running kernel: each privileged operation netlens
// relies on is performed under capsh with capabilities dropped, and (1) the errno is what the table's comments
// say, (2) the table's verdict for each receiver matches what the kernel allowed.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CAPABILITIES, CapabilitySet, type Capability } from '../../src/system/capabilities.ts'
import { readSystemFacts } from '../../src/system/facts.ts'
import { receiverRequirements, unmetRequirements } from '../../src/system/requirements.ts'

const SCRIPT = fileURLToPath(new URL('./try-operations.ts', import.meta.url))
const VMLINUX_DIR = fileURLToPath(new URL('../../build/bpf/', import.meta.url))

const UPROBE_SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
SEC("uprobe")
int probe_getpid(struct pt_regs *ctx) { return 0; }
`

function libcPath(): string {
  const match = /libc\.so\.6 \(libc6,[^)]*\) => (\S+)/.exec(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }))
  if (!match) throw new Error('libc.so.6 not found by ldconfig -p')
  return match[1]!
}

type Results = Record<string, string>

const ALL_OK: Results = {
  'load tp_btf programs': 'ok', 'attach tp_btf': 'ok', 'attach cgroup_skb': 'ok', 'load sock_ops program': 'ok', 'attach sock_ops': 'ok',
  'load classic tracepoint programs': 'ok',
  'attach classic tracepoint': 'ok', 'load socket filter': 'ok', 'load socket filter with exchange tracking': 'ok', 'open AF_PACKET socket': 'ok',
  'load uprobe program': 'ok',
  'attach uprobe': 'ok',
}

const { 'attach sock_ops': _, ...withoutAttachSockops } = ALL_OK

/** Capabilities dropped → what the kernel answers (operations after a failed load are not attempted). */
const CASES: Array<{ drop: Capability[]; expected: Results }> = [
  { drop: [], expected: ALL_OK },
  {
    drop: ['CAP_BPF', 'CAP_SYS_ADMIN'],
    expected: {
      'load tp_btf programs': 'EPERM', 'load sock_ops program': 'EPERM', 'load classic tracepoint programs': 'EPERM', 'load socket filter': 'EPERM',
      'load socket filter with exchange tracking': 'EPERM', 'open AF_PACKET socket': 'ok', 'load uprobe program': 'EPERM',
    },
  },
  {
    drop: ['CAP_PERFMON', 'CAP_SYS_ADMIN'],
    expected: {
      // The sock_ops program reads tcp_sock through bpf_skc_to_tcp_sock, a helper only CAP_PERFMON gets: unknown to the verifier.
      // The exchange tracking: "attempt to corrupt spilled pointer on stack" (a narrower store into a spilled pointer's slot).
      'load tp_btf programs': 'EPERM', 'load sock_ops program': 'EINVAL', 'load classic tracepoint programs': 'EPERM', 'load socket filter': 'ok',
      'load socket filter with exchange tracking': 'EACCES', 'open AF_PACKET socket': 'ok', 'load uprobe program': 'EPERM',
    },
  },
  {
    drop: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
    expected: { ...withoutAttachSockops, 'attach cgroup_skb': 'EPERM', 'load sock_ops program': 'EPERM', 'attach uprobe': 'EACCES' },
  },
  { drop: ['CAP_NET_RAW'], expected: { ...ALL_OK, 'open AF_PACKET socket': 'EPERM' } },
  // CAP_PERFMON is not enough for a uprobe: the kernel's uprobe PMU checks CAP_SYS_ADMIN.
  { drop: ['CAP_SYS_ADMIN'], expected: { ...ALL_OK, 'attach uprobe': 'EACCES' } },
]

describe('system: capability requirements measured on this kernel (capsh)', function () {
  this.timeout(60_000)
  let dir: string
  let uprobeObject: string
  const libc = libcPath()

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-caps-kernel-'))
    writeFileSync(join(dir, 'uprobe.bpf.c'), UPROBE_SOURCE)
    uprobeObject = join(dir, 'uprobe.bpf.o')
    execFileSync('clang', ['-g', '-O2', '-target', 'bpf', '-isystem', VMLINUX_DIR, '-c', join(dir, 'uprobe.bpf.c'), '-o', uprobeObject])
  })

  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const { drop, expected } of CASES) {
    it(`dropping ${drop.length > 0 ? drop.join(', ') : 'nothing'}`, () => {
      const dropArgs = drop.length > 0 ? [`--drop=${drop.map((c) => c.toLowerCase()).join(',')}`] : []
      const output = execFileSync('capsh', [...dropArgs, '--', '-c', 'exec "$@"', 'try', process.execPath, SCRIPT, uprobeObject, libc], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      const results = JSON.parse(output.trim().split('\n').at(-1)!) as Results
      assert.deepEqual(results, expected)

      // The table's verdict per receiver equals the kernel's.
      const facts = { ...readSystemFacts(), capabilities: CapabilitySet.of(CAPABILITIES.filter((c) => !drop.includes(c))) }
      const runs = (type: string, config: unknown) => unmetRequirements(receiverRequirements(type, type, config, facts), facts).length === 0
      const ok = (...operations: string[]) => operations.every((o) => results[o] === 'ok')
      const sockops = ['load sock_ops program', 'attach sock_ops']
      assert.equal(runs('netflow', { udp: true }), ok('load tp_btf programs', 'attach tp_btf', 'attach cgroup_skb', ...sockops), 'netflow')
      assert.equal(runs('netflow', { udp: false }), ok('load tp_btf programs', 'attach tp_btf', ...sockops), 'netflow without udp')
      assert.equal(runs('netflow', { udp: false, tcp_sockops: false }), ok('load tp_btf programs', 'attach tp_btf'), 'netflow without cgroup programs')
      assert.equal(runs('netflow', { udp: false, tcp_sockops: false, hooks: 'classic' }), ok('load classic tracepoint programs', 'attach classic tracepoint'),
        'netflow on classic hooks')
      assert.equal(runs('dns', {}), ok('load socket filter', 'open AF_PACKET socket'), 'dns')
      assert.equal(runs('http', { tls: false, kernel_exchanges: false }), ok('load socket filter', 'open AF_PACKET socket'), 'http')
      const tracking = 'load socket filter with exchange tracking'
      assert.equal(runs('http', { tls: false }), ok(tracking, 'open AF_PACKET socket'), 'http with kernel exchanges')
      assert.equal(runs('http', { tls: true }), ok(tracking, 'open AF_PACKET socket', 'load uprobe program', 'attach uprobe'), 'http with tls')
    })
  }
})
