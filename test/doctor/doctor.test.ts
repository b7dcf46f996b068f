// `netlens doctor` for real: the kernel probed with the real objects, capabilities dropped with capsh, and a real
// OTLP/gRPC endpoint (or a closed port) as the collector.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { targetOf } from '../../src/doctor/endpoints.ts'
import { OtlpTestServer } from '../helpers/otlp-server.ts'
import { NETLENS } from '../lifecycle/agent-process.ts'

interface Run {
  code: number
  stdout: string
  stderr: string
  /** STATUS column by CHECK name. */
  rows: Map<string, { status: string; detail: string }>
}

function doctor(config: string, wrapper: string[] = []): Promise<Run> {
  const [command, ...args] = [...wrapper, NETLENS, 'doctor', '--config', config]
  return new Promise((resolve) => {
    execFile(command!, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      const rows = new Map<string, { status: string; detail: string }>()
      for (const line of stdout.split('\n')) {
        const match = /^(.+?)\s{2,}(ok|FAIL|warn|-)\s{2,}(.*)$/.exec(line)
        if (match) rows.set(match[1]!, { status: match[2]!, detail: match[3]! })
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr, rows })
    })
  })
}

const capsh = (drop: string) => ['capsh', `--drop=${drop}`, '--', '-c', 'exec "$@"', 'netlens']

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('netlens doctor (real kernel, real collector endpoint)', function () {
  this.timeout(60_000)
  let dir: string
  let otlp: OtlpTestServer

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-doctor-'))
    otlp = await OtlpTestServer.start()
  })

  after(async () => {
    await otlp?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  function config(name: string, receivers: string, endpoint: string): string {
    const file = join(dir, `${name}.yaml`)
    const pipelines = [
      receivers.includes('netflow') ? 'netflow: { receivers: [netflow], exporters: [otlp] }' : '',
      receivers.includes('dns') ? 'dnsflow: { receivers: [dns], exporters: [otlp] }' : '',
    ].filter(Boolean)
    writeFileSync(file, `
receivers:
  ${receivers}
exporters:
  otlp: { endpoint: "${endpoint}", tls: { insecure: true } }
service:
  pipelines:
    ${pipelines.join('\n    ')}
`)
    return file
  }

  it('passes on this machine as root: every hook netlens uses works and the collector answers (exit 0)', async () => {
    const run = await doctor(config('all', 'netflow: {}\n  dns: {}', otlp.endpoint))
    assert.equal(run.code, 0, run.stdout + run.stderr)
    for (const check of [
      'kernel BTF', 'cgroup v2 mount', 'native addon', 'program type socket_filter', 'program type cgroup_skb', 'program type sock_ops',
      'netflow tp_btf programs (load)', 'tp_btf/inet_sock_set_state', 'tp_btf/tcp_destroy_sock', 'tp_btf/sock_send_length',
      'tp_btf/sock_recv_length', 'tp_btf/tcp_retransmit_skb', 'cgroup_skb/egress', 'cgroup_skb/ingress', 'sockops',
      'netflow classic programs (load)', 'tracepoint/sock/inet_sock_set_state', 'tracepoint/tcp/tcp_destroy_sock',
      'tracepoint/sock/sock_send_length', 'tracepoint/sock/sock_recv_length', 'tracepoint/tcp/tcp_retransmit_skb', 'netflow hooks',
      'socket filter (port_filter)', 'AF_PACKET ring (TPACKET_V3)', 'socket filter with HTTP exchange tracking (port_filter_exchanges)',
      '"netflow" receiver', '"dns" receiver',
      `"otlp" exporter → ${otlp.endpoint}`,
    ]) {
      assert.equal(run.rows.get(check)?.status, 'ok', `${check}\n${run.stdout}`)
    }
    assert.match(run.stdout, /will run: netflow, dns\n/)
    assert.match(run.stdout, /everything this configuration needs works/)
    assert.equal(run.rows.get('netflow hooks')?.detail, 'tp_btf work, classic tracepoints work; auto uses tp_btf')
  })

  it('hooks: classic without tracefs (a private mount namespace): the tracepoints and the receiver fail, tp_btf would run (exit 1)', async () => {
    const unmounted = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'umount /sys/kernel/tracing && exec "$@"', 'netlens']
    const run = await doctor(config('classic', 'netflow: { hooks: classic }', otlp.endpoint), unmounted)
    assert.equal(run.code, 1, run.stdout)
    assert.equal(run.rows.get('tracefs')?.status, 'FAIL')
    assert.equal(run.rows.get('tracepoint/sock/sock_send_length')?.status, 'FAIL')
    assert.equal(run.rows.get('tracepoint/sock/sock_send_length')!.detail,
      'tracefs is not mounted at /sys/kernel/debug/tracing or /sys/kernel/tracing (mount -t tracefs nodev /sys/kernel/tracing)')
    assert.equal(run.rows.get('tp_btf/sock_send_length')?.status, 'ok')
    assert.deepEqual(run.rows.get('netflow hooks'), { status: 'FAIL', detail: 'tp_btf work, classic tracepoints fail; auto uses tp_btf' })
    assert.match(run.rows.get('"netflow" receiver')!.detail, /missing kernel feature: tracefs mounted at \/sys\/kernel\/tracing .*hooks: auto uses tp_btf where it works/)
  })

  it('without CAP_NET_RAW: the AF_PACKET ring and the dns receiver fail with the reason, netflow will run (exit 1)', async () => {
    const run = await doctor(config('noraw', 'netflow: {}\n  dns: {}', otlp.endpoint), capsh('cap_net_raw'))
    assert.equal(run.code, 1, run.stdout)
    assert.deepEqual(run.rows.get('AF_PACKET ring (TPACKET_V3)'), { status: 'FAIL', detail: 'socket(AF_PACKET, SOCK_DGRAM): Operation not permitted' })
    assert.equal(run.rows.get('"dns" receiver')?.status, 'FAIL')
    assert.match(run.rows.get('"dns" receiver')!.detail, /missing capability CAP_NET_RAW \(to open the AF_PACKET capture socket\)/)
    assert.equal(run.rows.get('"netflow" receiver')?.status, 'ok')
    assert.match(run.rows.get('capabilities (effective)')!.detail, /lacking CAP_NET_RAW/)
    assert.match(run.stdout, /will run: netflow; will NOT run: dns\n/)
  })

  it('only warns about what the configuration does not use (cgroup programs without CAP_NET_ADMIN, udp and tcp_sockops: false)', async () => {
    const run = await doctor(config('noudp', 'netflow: { udp: false, tcp_sockops: false }', otlp.endpoint), capsh('cap_net_admin,cap_sys_admin'))
    assert.equal(run.code, 0, run.stdout)
    assert.equal(run.rows.get('cgroup_skb/egress')?.status, 'warn')
    assert.match(run.rows.get('cgroup_skb/egress')!.detail, /Operation not permitted/)
    assert.equal(run.rows.get('sockops')?.status, 'warn')
    assert.match(run.rows.get('sockops')!.detail, /Operation not permitted/)
    assert.equal(run.rows.get('tp_btf/sock_send_length')?.status, 'ok')
    assert.equal(run.rows.get('AF_PACKET ring (TPACKET_V3)')?.status, 'ok')
    assert.equal(run.rows.get('uprobes (HTTPS via OpenSSL)')?.status, 'warn')
  })

  it('fails when the collector does not answer, naming the endpoint', async () => {
    const port = await closedPort()
    const run = await doctor(config('nocollector', 'netflow: {}', `127.0.0.1:${port}`))
    assert.equal(run.code, 1)
    const row = run.rows.get(`"otlp" exporter → 127.0.0.1:${port}`)
    assert.equal(row?.status, 'FAIL')
    assert.match(row!.detail, /ECONNREFUSED/)
  })

  it('refuses an invalid configuration like validate does (exit 2)', async () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'receivers:\n  netflow: { max_flows: 1 }\nexporters: { debug: {} }\nservice: { pipelines: { p: { receivers: [netflow], exporters: [debug] } } }\n')
    const run = await doctor(file)
    assert.equal(run.code, 2)
    assert.match(run.stderr, /receivers::netflow: max_flows: must be at least 16/)
  })

  it('reads gRPC endpoints and URLs as host and port', () => {
    assert.deepEqual(targetOf('localhost:4317'), { host: 'localhost', port: 4317 })
    assert.deepEqual(targetOf(':4317'), { host: 'localhost', port: 4317 })
    assert.deepEqual(targetOf('[::1]:4317'), { host: '::1', port: 4317 })
    assert.deepEqual(targetOf('http://collector:4318/v1/metrics'), { host: 'collector', port: 4318 })
    assert.deepEqual(targetOf('https://collector.example'), { host: 'collector.example', port: 443 })
    assert.equal(targetOf('not an endpoint'), undefined)
  })
})
