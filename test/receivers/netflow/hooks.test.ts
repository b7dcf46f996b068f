// Choosing and opening the netflow hooks on the real kernel: auto prefers tp_btf, falls back to classic tracepoints
// when tp_btf fails, and a hook the kernel lacks is named in the error. Missing tracepoints and tracefs are made real
// in a private mount namespace (a child process), so the host keeps its tracefs.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { HOOK_SETS, openHooks, openHookSet, type HookSet } from '../../../src/receivers/netflow/hooks.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'

const HOOKS_MODULE = fileURLToPath(new URL('../../../src/receivers/netflow/hooks.ts', import.meta.url))
const OPTIONS = { maxFlows: 1024, maxSockets: 1024, udpCgroup: undefined }
/** test/bpf/netflow_missing_hook.bpf.c: netflow's maps and a tp_btf program for a hook no kernel has. */
const MISSING_TP_BTF: HookSet = { mode: 'tp_btf', object: 'test/netflow_missing_hook', tracing: ['netflow_missing_hook'] }

/** Opens the classic hooks in a child process whose mount namespace first runs `prepare`; returns the error message. */
function classicErrorAfter(prepare: string): string {
  const script = `import { openHookSet, HOOK_SETS } from ${JSON.stringify(HOOKS_MODULE)}
try { openHookSet(HOOK_SETS.classic, ${JSON.stringify(OPTIONS)}).close(); console.log('opened') } catch (e) { console.log(e.message) }`
  return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${prepare} && exec node --input-type=module -e "$0"`, script], {
    encoding: 'utf8',
  }).trim()
}

describe('netflow hooks (real kernel)', () => {
  it('auto uses tp_btf where it works, without a warning', () => {
    const logs: string[] = []
    const { object, mode } = openHooks('auto', OPTIONS, createLogger('debug', (line) => logs.push(line)))
    object.close()
    assert.equal(mode, 'tp_btf')
    assert.deepEqual(logs, [])
  })

  it('opens each set of hooks when asked for it', () => {
    for (const set of Object.values(HOOK_SETS)) {
      const object = openHookSet(set, OPTIONS)
      try {
        assert.deepEqual(object.programs().map((p) => p.name).sort(), [...set.tracing].sort())
      } finally {
        object.close()
      }
    }
  })

  it('names a tp_btf hook the kernel lacks, and auto falls back to classic tracepoints with that reason', () => {
    assert.throws(() => openHookSet(MISSING_TP_BTF, OPTIONS),
      /^Error: tp_btf hooks: this kernel has no tp_btf\/netlens_no_such_hook \(its BTF has no btf_trace_netlens_no_such_hook; program netflow_missing_hook\)$/)
    const logs: string[] = []
    const sets = { ...HOOK_SETS, tp_btf: MISSING_TP_BTF }
    const { object, mode } = openHooks('auto', OPTIONS, createLogger('debug', (line) => logs.push(line)), sets)
    object.close()
    assert.equal(mode, 'classic')
    assert.equal(logs.length, 1)
    assert.match(logs[0]!, /warn tp_btf hooks unavailable, falling back to classic tracepoints reason=".*no tp_btf\/netlens_no_such_hook/)
  })

  it('names a classic tracepoint the kernel lacks', () => {
    assert.equal(classicErrorAfter('mount -t tmpfs none /sys/kernel/tracing/events/tcp'),
      'classic hooks: tracepoint/tcp/tcp_destroy_sock: this kernel has no tracepoint tcp/tcp_destroy_sock (/sys/kernel/tracing/events/tcp/tcp_destroy_sock)')
  })

  it('says how to mount tracefs when classic tracepoints cannot be found for lack of it', () => {
    assert.equal(classicErrorAfter('umount /sys/kernel/tracing'),
      'classic hooks: tracepoint/sock/inet_sock_set_state: tracefs is not mounted at /sys/kernel/debug/tracing or /sys/kernel/tracing (mount -t tracefs nodev /sys/kernel/tracing)')
  })
})
