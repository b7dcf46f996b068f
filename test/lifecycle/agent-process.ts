// `bin/netlens` as a child process for lifecycle tests: optionally under a wrapper that changes its privileges
// (capsh dropping capabilities, setpriv to another user), with its output kept and waited on, and the kernel
// objects it holds (BPF programs and links by owning pid, packet sockets by inode) listed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const NETLENS = fileURLToPath(new URL('../../bin/netlens', import.meta.url))
/** The Node binary bin/netlens runs (the project's own Node 24). */
export const NODE = process.execPath

export class AgentProcess {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''

  /** `wrapper` is a command line the netlens command line is appended to, e.g. ['capsh', '--drop=cap_net_raw', '--', '-c', 'exec "$@"', 'netlens']. */
  constructor(args: string[], wrapper: string[] = []) {
    const [command, ...rest] = [...wrapper, NETLENS, ...args]
    this.child = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => { this.stdout += text })
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => { this.stderr += text })
  }

  /** The netlens (node) process itself: the wrappers exec it, so it is the child. */
  get pid(): number {
    return this.child.pid!
  }

  /** Resolves when stderr matches `pattern`; rejects when the agent exits first or after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}:\n${this.stderr}`)), timeoutMs)
      const check = () => { if (pattern.test(this.stderr)) finish() }
      const onExit = () => finish(new Error(`agent exited before ${pattern}:\n${this.stderr}`))
      const finish = (error?: Error) => {
        clearTimeout(timer)
        this.child.stderr!.off('data', check)
        this.child.off('exit', onExit)
        if (error) reject(error)
        else resolve()
      }
      this.child.stderr!.on('data', check)
      this.child.once('exit', onExit)
      check()
    })
  }

  /** Sends `signal` and resolves with the exit code (or the signal's name). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.child.exitCode !== null) return this.child.exitCode
    if (this.child.signalCode !== null) return this.child.signalCode
    this.child.kill(signal)
    const [code, signalCode] = (await once(this.child, 'exit')) as [number | null, NodeJS.Signals | null]
    return code ?? signalCode ?? 'unknown'
  }
}

/** Ids of BPF programs (`prog`) or links (`link`) a process holds open, from /proc/<pid>/fdinfo (prog_id, link_id). */
export function bpfObjectsOf(kind: 'prog' | 'link', pid: number): number[] {
  const ids: number[] = []
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const match = new RegExp(`^${kind}_id:\\s*(\\d+)$`, 'm').exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))
      if (match) ids.push(Number(match[1]))
    } catch {
      // closed while listing
    }
  }
  return [...new Set(ids)].sort((a, b) => a - b)
}

/** Ids of every BPF program or link in the kernel. */
export function bpfIds(kind: 'prog' | 'link'): Set<number> {
  const list = JSON.parse(execFileSync('bpftool', [kind, 'show', '-j'], { encoding: 'utf8' })) as Array<{ id: number }>
  return new Set(list.map((o) => o.id))
}

/** Socket inodes a process holds open. */
export function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (match) inodes.add(Number(match[1]))
    } catch {
      // closed while listing
    }
  }
  return inodes
}

/** Inodes of every AF_PACKET socket in this network namespace (/proc/net/packet). */
export function packetSocketInodes(): Set<number> {
  const lines = readFileSync('/proc/net/packet', 'utf8').trim().split('\n').slice(1)
  return new Set(lines.map((line) => Number(line.trim().split(/\s+/).at(-1))))
}

/** Everything pinned under the BPF filesystem. */
export function pinnedPaths(root = '/sys/fs/bpf'): string[] {
  return readdirSync(root, { recursive: true }).map(String).sort()
}

/** Polls `condition` until it holds (the kernel frees a dead process's BPF objects asynchronously). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
