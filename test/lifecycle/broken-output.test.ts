// stdout and stderr going away under a running agent (`netlens run | head`, a log shipper restarting): the agent
// keeps running quietly instead of turning every failed write into an uncaught exception that it logs to the same
// closed stream (a loop that burned a core and grew memory by gigabytes), and still exits 0 on SIGTERM.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds } from '../helpers/proc.ts'
import { AgentProcess } from './agent-process.ts'

describe('lifecycle: stdout and stderr closed under a running agent', function () {
  this.timeout(60_000)
  let agent: AgentProcess | undefined
  let dir: string

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-output-'))
  })

  after(async () => {
    await agent?.stop('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('neither spins nor crashes, and exits 0 on SIGTERM', async () => {
    const config = join(dir, 'netlens.yaml')
    // The debug exporter writes stdout every 200 ms and the otlp exporter logs its failures to stderr.
    writeFileSync(config, `
receivers:
  netflow: { interval: 200ms, udp: false }
exporters:
  debug: { verbosity: normal, interval: 200ms }
  otlp: { endpoint: "127.0.0.1:1", tls: { insecure: true }, interval: 200ms, timeout: 100ms }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [debug, otlp] }
  telemetry:
    health_check: { endpoint: "" }
`)
    agent = new AgentProcess(['run', '--config', config])
    await agent.waitForLog(/running/)
    agent.child.stdout!.destroy()
    agent.child.stderr!.destroy()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const before = cpuSeconds(agent.pid)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const spent = cpuSeconds(agent.pid) - before
    assert.equal(agent.child.exitCode, null, 'still running')
    assert.ok(spent < 1, `${spent} s of CPU in 3 s with its output closed`)
    assert.equal(await agent.stop(), 0)
    agent = undefined
  })
})
