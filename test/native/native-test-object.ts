// Loads test/bpf/native_test.bpf.c (built into build/bpf/test/) for the native addon's tests.
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadNative, type BpfObject, type BpfObjectOptions } from '../../src/native/index.ts'

export const NATIVE_TEST_OBJECT = fileURLToPath(new URL('../../build/bpf/test/native_test.bpf.o', import.meta.url))

export function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32LE(value)
  return buffer
}

/** The test object with `target_pid` = this process and the program the verifier rejects left out. */
export function openNativeTest(tag: number, options: BpfObjectOptions = {}): BpfObject {
  return new (loadNative().BpfObject)(NATIVE_TEST_OBJECT, {
    disabledPrograms: ['rejected_by_verifier'],
    ...options,
    globals: { target_pid: u32(process.pid), tag: u32(tag), ...options.globals },
  })
}

/** Fires the test object's tracepoint `count` times (Node's process.ppid calls getppid() on every read). */
export function triggerGetppid(count: number): void {
  let sink = 0
  for (let i = 0; i < count; i++) sink += process.ppid
  if (sink < 0) throw new Error('unreachable')
}

/** Ids of every BPF program loaded in the kernel. */
export function kernelProgramIds(): Set<number> {
  const programs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as Array<{ id: number }>
  return new Set(programs.map((p) => p.id))
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length
}

/** Resolves once `done()` holds, polling every 10 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
