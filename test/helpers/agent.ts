// The real agent for end-to-end tests: `bin/netlens run` on a YAML config written to a temp file, its output
// collected, started once a line says it is (the netflow receiver's start line by default).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const NETLENS = fileURLToPath(new URL('../../bin/netlens', import.meta.url))

export interface RunningAgent {
  process: ChildProcess
  stdout(): string
  stderr(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL if still running; removes the config. Safe after stop(). */
  destroy(): void
}

export async function startAgent(yaml: string, startedLine = /netflow receiver started/): Promise<RunningAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'netlens-agent-'))
  const config = join(dir, 'netlens.yaml')
  writeFileSync(config, yaml)
  const child = spawn(NETLENS, ['run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const agent: RunningAgent = {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit')
      return code as number | null
    },
    destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => (startedLine.test(stderr) ? resolve() : undefined)
      child.stderr!.on('data', check)
      child.once('exit', () => reject(new Error(`agent exited early:\n${stderr}`)))
    })
  } catch (error) {
    agent.destroy()
    throw error
  }
  return agent
}

