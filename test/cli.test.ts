// Spawns bin/netlens for real, as a user or an init system would.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { factories } from '../src/components.ts'

const BIN = fileURLToPath(new URL('../bin/netlens', import.meta.url))
const VERSION = (await import('../src/version.ts')).VERSION

function netlens(args: string[]) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A small config over what is registered: every receiver with its defaults, the debug exporter if there is one. */
function smallConfig(): string {
  const receivers = factories.filter((f) => f.kind === 'receiver').map((f) => f.type)
  const exporter = factories.find((f) => f.kind === 'exporter' && f.type === 'debug') ?? factories.find((f) => f.kind === 'exporter')
  assert.ok(receivers.length > 0 && exporter, 'a receiver and an exporter are registered')
  return [
    'receivers:',
    ...receivers.map((type) => `  ${type}:`),
    'exporters:',
    `  ${exporter.type}:`,
    'service:',
    '  pipelines:',
    `    all: { receivers: [${receivers.join(', ')}], exporters: [${exporter.type}] }`,
    '  telemetry:',
    '    health_check: { endpoint: "127.0.0.1:0" }',
    '',
  ].join('\n')
}

/** Resolves with the exit code; rejects if the process has not exited within `ms`. */
function exited(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`netlens did not exit within ${ms} ms`)), ms)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

describe('netlens CLI', () => {
  let dir: string
  const children: ChildProcess[] = []
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-cli-'))
  })
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints its version and help', () => {
    assert.deepEqual(netlens(['--version']), { code: 0, stdout: `netlens ${VERSION}\n`, stderr: '' })
    const help = netlens(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: netlens <command>/)
    assert.match(help.stdout, /validate/)
  })

  it('rejects bad usage with exit 2 and the usage', () => {
    for (const args of [['--bogus'], [], ['frobnicate'], ['run', 'extra'], ['run', '--config']]) {
      const result = netlens(args)
      assert.equal(result.code, 2, args.join(' '))
      assert.match(result.stderr, /^netlens: .+\n\nUsage: netlens/, args.join(' '))
    }
  })

  it('validates a good config with a summary, and the shipped default', () => {
    const file = join(dir, 'good.yaml')
    writeFileSync(file, smallConfig())
    const result = netlens(['validate', '--config', file])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^${file} is valid: 1 pipeline: all \\(`))
    const shipped = netlens(['validate'])
    assert.equal(shipped.code, 0, shipped.stderr)
    assert.match(shipped.stdout, /default\.yaml is valid/)
  })

  it('rejects a bad config with every problem on stderr and exit 2', () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'receivers:\n  netflw: {}\nexporters: {}\nservice:\n  pipelines:\n    p: { receivers: [netflw], exporters: [otlp/x] }\n')
    const result = netlens(['validate', '--config', file])
    assert.equal(result.code, 2)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, new RegExp(`^${file}: receivers: unknown type "netflw" \\(known: .+\\)$`, 'm'))
    assert.match(result.stderr, new RegExp(`^${file}: service::pipelines::p::exporters: "otlp/x" is not defined in exporters$`, 'm'))
    assert.match(result.stderr, /invalid configuration \(2 problems\); nothing started/)
    assert.equal(netlens(['run', '--config', file]).code, 2, 'run starts nothing either')
  })

  async function startAgent(config = smallConfig()): Promise<{ child: ChildProcess; endpoint: string; stderr: () => string }> {
    const file = join(dir, `run-${children.length}.yaml`)
    writeFileSync(file, config)
    const child = spawn(BIN, ['run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
    children.push(child)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const endpoint = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = /health check listening endpoint=(\S+)/.exec(stderr)?.[1]
        if (found) resolve(found)
      }
      child.stderr?.on('data', check)
      child.once('exit', (code) => reject(new Error(`netlens exited with ${code}:\n${stderr}`)))
    })
    return { child, endpoint, stderr: () => stderr }
  }

  async function healthTurns200(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
    for (;;) {
      assert.equal(child.exitCode, null, stderr())
      const response = await fetch(`http://${endpoint}/`)
      const body = (await response.json()) as { status: string; failed?: unknown }
      if (response.status === 200) {
        assert.equal(body.status, 'Server available')
        return
      }
      assert.equal(body.failed, undefined, `a component failed: ${stderr()}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  it('runs: health turns 200, SIGTERM shuts down cleanly with exit 0', async () => {
    const { child, endpoint, stderr } = await startAgent()
    await healthTurns200(endpoint, child, stderr)
    child.kill('SIGTERM')
    assert.equal(await exited(child, 20_000), 0, stderr())
    assert.match(stderr(), /shutting down reason=SIGTERM/)
    assert.match(stderr(), /stopped failures=0/)
  })

  it('exits 1 at once on a second signal during a slow shutdown', async () => {
    // An OTLP backend that accepts connections and never answers keeps the exporter's final flush waiting.
    const sockets: Socket[] = []
    const blackhole = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
    try {
      const port = (blackhole.address() as AddressInfo).port
      const receivers = factories.filter((f) => f.kind === 'receiver').map((f) => f.type)
      const { child, endpoint, stderr } = await startAgent(
        `receivers: { ${receivers.map((t) => `${t}: `).join(', ')} }\n` +
          `exporters: { otlp: { endpoint: "127.0.0.1:${port}", tls: { insecure: true } } }\n` +
          `service:\n  pipelines: { all: { receivers: [${receivers.join(', ')}], exporters: [otlp] } }\n` +
          '  telemetry: { health_check: { endpoint: "127.0.0.1:0" } }\n',
      )
      await healthTurns200(endpoint, child, stderr)
      child.kill('SIGTERM')
      await new Promise<void>((resolve) => {
        const check = () => /shutting down reason=SIGTERM/.test(stderr()) && resolve()
        child.stderr?.on('data', check)
        check()
      })
      child.kill('SIGINT')
      assert.equal(await exited(child, 20_000), 1, stderr())
      assert.match(stderr(), /received SIGINT again during shutdown; exiting now/)
      assert.doesNotMatch(stderr(), /stopped failures/)
    } finally {
      for (const socket of sockets) socket.destroy()
      blackhole.close()
    }
  })
})
