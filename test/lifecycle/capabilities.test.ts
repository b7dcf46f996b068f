// Capabilities instead of root, for real: `netlens run` under capsh with capabilities dropped disables exactly the
// receivers that need them, says which capability is missing, reports them on the health endpoint, and keeps the
// others running; as a non-root user with only the capabilities netlens needs, everything runs.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OtlpTestServer } from '../helpers/otlp-server.ts'
import { AgentProcess } from './agent-process.ts'

const capsh = (drop: string) => ['capsh', `--drop=${drop}`, '--', '-c', 'exec "$@"', 'netlens']
const NEEDED = '+bpf,+perfmon,+net_admin,+net_raw'
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', `--inh-caps=${NEEDED}`, `--ambient-caps=${NEEDED}`, '--']

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function health(port: number): Promise<{ status: number; body: { failed?: Array<{ component: string; error: string }> } }> {
  const response = await fetch(`http://127.0.0.1:${port}/`)
  return { status: response.status, body: (await response.json()) as { failed?: Array<{ component: string; error: string }> } }
}

describe('lifecycle: capabilities instead of root (capsh, setpriv)', function () {
  this.timeout(60_000)
  let dir: string
  let otlp: OtlpTestServer
  const agents: AgentProcess[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-caps-'))
    chmodSync(dir, 0o755) // readable by the non-root user too
    otlp = await OtlpTestServer.start()
  })

  after(async () => {
    for (const agent of agents) await agent.stop('SIGKILL')
    await otlp?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function run(wrapper: string[], receivers: string, healthPort: number): Promise<AgentProcess> {
    const config = join(dir, `netlens-${healthPort}.yaml`)
    writeFileSync(config, `
receivers:
  ${receivers}
exporters:
  otlp: { endpoint: "${otlp.endpoint}", tls: { insecure: true }, interval: 500ms }
service:
  pipelines:
    netflow: { receivers: [netflow], exporters: [otlp] }
    dnsflow: { receivers: [dns], exporters: [otlp] }
  telemetry:
    health_check: { endpoint: "127.0.0.1:${healthPort}" }
`)
    const agent = new AgentProcess(['run', '--config', config], wrapper)
    agents.push(agent)
    return agent
  }

  it('without CAP_NET_RAW: dns is disabled with the reason, health says so, netflow keeps reporting', async () => {
    const port = await freePort()
    const agent = await run(capsh('cap_net_raw'), 'netflow: { interval: 500ms }\n  dns: {}', port)
    await agent.waitForLog(/started receivers=1/)
    assert.match(agent.stderr, /"dns" receiver disabled: missing capability CAP_NET_RAW \(to open the AF_PACKET capture socket\)/)
    const { status, body } = await health(port)
    assert.equal(status, 503)
    assert.deepEqual(body.failed?.map((f) => f.component), ['"dns" receiver'])
    assert.match(body.failed![0]!.error, /CAP_NET_RAW/)

    // netflow still sees this process's traffic (the OTLP exports themselves are TCP flows of this pid).
    await otlp.waitFor(
      (s) => s.metricsNamed('netflow.tcp.connections.established').some((m) => m.points.some((p) => p.attributes['process.pid'] === agent.pid)),
      'netflow records of the agent under capsh',
    )
    assert.equal(await agent.stop(), 0, agent.stderr)
  })

  it('without CAP_NET_ADMIN: netflow (UDP and sock_ops need a cgroup attach) is disabled with the setting that avoids it; dns runs', async () => {
    const agent = await run(capsh('cap_net_admin,cap_sys_admin'), 'netflow: {}\n  dns: {}', await freePort())
    await agent.waitForLog(/started receivers=1/)
    assert.match(
      agent.stderr,
      /"netflow" receiver disabled: missing capability CAP_NET_ADMIN \(to attach the UDP cgroup_skb programs and the TCP sock_ops program\); receivers::netflow::udp: false runs without UDP accounting; receivers::netflow::tcp_sockops: false counts TCP connections with the tracing programs alone/,
    )
    assert.match(agent.stderr, /dns receiver started/)
    assert.equal(await agent.stop(), 0, agent.stderr)
  })

  it('without CAP_NET_ADMIN but with udp: false and tcp_sockops: false, netflow runs', async () => {
    const agent = await run(capsh('cap_net_admin,cap_sys_admin'), 'netflow: { udp: false, tcp_sockops: false }\n  dns: {}', await freePort())
    await agent.waitForLog(/started receivers=2/)
    assert.equal(await agent.stop(), 0, agent.stderr)
  })

  it('without CAP_BPF nothing can run: every receiver names it and the agent exits 1', async () => {
    const agent = await run(capsh('cap_bpf,cap_sys_admin'), 'netflow: {}\n  dns: {}', await freePort())
    const code = await new Promise((resolve) => agent.child.once('exit', resolve))
    assert.equal(code, 1)
    assert.match(agent.stderr, /"netflow" receiver disabled: missing capability CAP_BPF/)
    assert.match(agent.stderr, /"dns" receiver disabled: missing capability CAP_BPF \(to load the socket filter program\)/)
    assert.match(agent.stderr, /no receiver could start/)
  })

  it(`as user nobody with only ${NEEDED}: every receiver runs and health is 200`, async () => {
    const port = await freePort()
    const agent = await run(asNobody, 'netflow: { interval: 500ms }\n  dns: {}', port)
    await agent.waitForLog(/started receivers=2/)
    assert.equal((await health(port)).status, 200)
    assert.doesNotMatch(agent.stderr, / error /)
    assert.equal(await agent.stop(), 0, agent.stderr)
  })
})
