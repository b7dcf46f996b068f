// SIGKILL leaves nothing behind: netlens pins nothing, its tp_btf, cgroup_skb and sock_ops links and its socket filter live
// only as long as its file descriptors, so the kernel releases them with the dead process, and a restart starts
// clean. Checked against the kernel: bpftool's program, link and cgroup lists, /proc/net/packet, /sys/fs/bpf.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cgroup2Mount } from '../../src/net/system.ts'
import { AgentProcess, bpfIds, bpfObjectsOf, eventually, packetSocketInodes, pinnedPaths, socketInodesOf } from './agent-process.ts'

const CONFIG = `
receivers:
  netflow: { interval: 1s }
  dns: {}
exporters:
  debug: { verbosity: basic, interval: 1s }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [debug] }
    dnsflow: { receivers: [dns], exporters: [debug] }
  telemetry:
    health_check: { endpoint: "" }
`

/** Program ids attached to the cgroup v2 root (netflow's UDP and sock_ops programs go there). */
function cgroupProgramIds(): Set<number> {
  // bpftool prints nothing at all (not `[]`) when no program is attached.
  const text = execFileSync('bpftool', ['cgroup', 'show', cgroup2Mount(), '-j'], { encoding: 'utf8' }).trim()
  const list = (text === '' ? [] : JSON.parse(text)) as Array<{ id: number }>
  return new Set(list.map((p) => p.id))
}

interface Held {
  programs: number[]
  links: number[]
  packetSockets: number[]
}

function heldBy(pid: number): Held {
  const packet = packetSocketInodes()
  return {
    programs: bpfObjectsOf('prog', pid),
    links: bpfObjectsOf('link', pid),
    packetSockets: [...socketInodesOf(pid)].filter((inode) => packet.has(inode)),
  }
}

function released(held: Held): boolean {
  const programs = bpfIds('prog')
  const links = bpfIds('link')
  const cgroup = cgroupProgramIds()
  const packet = packetSocketInodes()
  return (
    held.programs.every((id) => !programs.has(id) && !cgroup.has(id)) &&
    held.links.every((id) => !links.has(id)) &&
    held.packetSockets.every((inode) => !packet.has(inode))
  )
}

describe('lifecycle: SIGKILL, then restart (real kernel)', function () {
  this.timeout(60_000)
  let dir: string
  let config: string
  const agents: AgentProcess[] = []

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-lifecycle-'))
    config = join(dir, 'netlens.yaml')
    writeFileSync(config, CONFIG)
  })

  after(async () => {
    for (const agent of agents) await agent.stop('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  async function startAgent(): Promise<AgentProcess> {
    const agent = new AgentProcess(['run', '--config', config])
    agents.push(agent)
    await agent.waitForLog(/started receivers=2/)
    return agent
  }

  it('releases every program, link and packet socket when killed, pins nothing, and starts again cleanly', async () => {
    const pinnedBefore = pinnedPaths()
    const first = await startAgent()
    const held = heldBy(first.pid)
    // netflow: 9 programs (6 tp_btf, 2 cgroup_skb, 1 sock_ops) with a link each; dns: the port_filter program on one
    // packet socket.
    assert.ok(held.programs.length >= 10, `programs held: ${held.programs.join(',')}`)
    assert.ok(held.links.length >= 9, `links held: ${held.links.join(',')}`)
    assert.equal(held.packetSockets.length, 1, 'one AF_PACKET socket')
    const cgroup = cgroupProgramIds()
    assert.equal(held.programs.filter((id) => cgroup.has(id)).length, 3, 'the two UDP programs and the sock_ops one are attached to the cgroup root')

    assert.equal(await first.stop('SIGKILL'), 'SIGKILL')
    await eventually(() => released(held), 'the kernel to release what the killed agent held')
    assert.deepEqual(pinnedPaths(), pinnedBefore, 'nothing pinned under /sys/fs/bpf')

    const second = await startAgent()
    const heldAgain = heldBy(second.pid)
    assert.ok(heldAgain.programs.length >= 10 && heldAgain.links.length >= 9 && heldAgain.packetSockets.length === 1)
    assert.doesNotMatch(second.stderr, /error/, 'the restart meets nothing stale')
    assert.equal(await second.stop('SIGTERM'), 0, second.stderr)
    await eventually(() => released(heldAgain), 'the kernel to release what the stopped agent held')
    assert.deepEqual(pinnedPaths(), pinnedBefore)
  })
})
