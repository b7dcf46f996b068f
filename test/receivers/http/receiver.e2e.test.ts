// End to end against the real kernel: nginx serves in a test namespace; curl, wrk and a raw socket client talk to
// it from the root namespace, where the receiver captures (plaintext) and probes libssl (HTTPS). Every request
// must come out once, with its method, path and status, and no secret from a query string may appear anywhere.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { PacketCapture } from '../../../src/capture/packet-capture.ts'
import type { Batch } from '../../../src/component/types.ts'
import type { HttpConfig } from '../../../src/receivers/http/config.ts'
import { httpReceiverFactory } from '../../../src/receivers/http/factory.ts'
import type { HttpRecord } from '../../../src/records.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { startNginx, type NginxServer } from '../../helpers/nginx.ts'

const PORT = 20_000 + (process.pid % 20_000)
const TLS_PORT = PORT + 1
const ID = 'http/e2e'

/** Requests the records stand for (a record holds a duration per request of its series). */
const requests = (records: HttpRecord[]) => records.reduce((n, r) => n + r.durationsSeconds.length, 0)
const curl = (...args: string[]) => execFileSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends `requests` in one write on one connection and resolves once `count` responses' status lines came back. */
function pipelined(address: string, port: number, requests: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = ''
    const socket = connect({ host: address, port }, () => socket.write(requests))
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
      if ((received.match(/HTTP\/1\.1 \d\d\d/g) ?? []).length >= count) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(received))
  })
}

describe('http receiver end to end (nginx in a namespace; curl, wrk and raw sockets from the root namespace)', function () {
  this.timeout(120_000)
  let host: TestHost | undefined
  let nginx: NginxServer | undefined
  let scratch = ''
  const records: HttpRecord[] = []
  const settings = testSettings(ID)
  const { telemetry } = settings
  const config = configOf(httpReceiverFactory, { ports: [PORT], flush_interval: '100ms', timeout: '5s' })
  const receiver = httpReceiverFactory.create(settings, config, {
    consume: (batch: Batch) => { records.push(...(batch.records as HttpRecord[])) },
  })
  const dropped = (reason: string) => (telemetry.get('netlens.records.dropped') as SelfCounter).value({ component: ID, reason })
  /** Records of exchanges with our nginx (other tests may run HTTP elsewhere on this machine). */
  const ours = (scheme: 'http' | 'https') => records.filter((r) =>
    (r.destination.address === host!.ipv4 || r.destination.address === host!.ipv6) && r.attributes['url.scheme'] === scheme)

  before(async () => {
    host = createTestHost()
    scratch = mkdtempSync(join(tmpdir(), 'netlens-http-e2e-'))
    nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
    await receiver.start({ reportFatal: (error) => { throw error } })
  })

  after(async () => {
    await receiver.shutdown()
    await nginx?.stop()
    host?.destroy()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  })

  /** Waits (not a timing assertion) until `count` records matched, then a little more for any extra to show. */
  async function settle(count: () => number, expected: number): Promise<void> {
    for (let i = 0; i < 100 && count() < expected; i++) await sleep(100)
    await sleep(300)
  }

  it('reports curl requests over IPv4 and IPv6, keep-alive, with methods, statuses, paths and no secrets', async () => {
    const h = host as TestHost
    const v4 = `http://${h.ipv4}:${PORT}`
    const v6 = `http://[${h.ipv6}]:${PORT}`
    // One curl, one keep-alive connection, four requests; then HEAD, POST, a chunked body and a 64 KiB file.
    curl('-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null',
      `${v4}/ok?token=SECRET1`, `${v4}/missing.html`, `${v4}/files/small.txt`, `${v4}/files/big.txt?sig=SECRET2`)
    curl('-I', `${v6}/files/small.txt`)
    curl('-o', '/dev/null', '-d', 'user=bob&password=SECRET3', `${v6}/ok`)
    const chunkedBody = curl(`${v6}/chunked/big.txt`, `${v6}/ok`)
    assert.equal(chunkedBody, nginx!.files['big.txt']!.toString() + 'ok\n')
    curl('-o', '/dev/null', '-u', 'alice:SECRET4', `${v4}/files/small.txt`)

    const expected = [
      'ipv4 GET /ok 200', 'ipv4 GET /missing.html 404', 'ipv4 GET /files/small.txt 200', 'ipv4 GET /files/big.txt 200',
      'ipv6 HEAD /files/small.txt 200', 'ipv6 POST /ok 200', 'ipv6 GET /chunked/big.txt 200', 'ipv6 GET /ok 200',
      'ipv4 GET /files/small.txt 200',
    ]
    await settle(() => ours('http').length, expected.length)
    const seen = ours('http')
    assert.deepEqual(seen.map((r) => `${r.family} ${r.method} ${r.path} ${r.statusCode}`).sort(), expected.sort())
    for (const record of seen) {
      assert.equal(record.side, 'client', 'curl ran here, nginx in another namespace')
      assert.equal(record.source.address, record.family === 'ipv4' ? h.gatewayIpv4 : h.gatewayIpv6)
      assert.equal(record.destination.port, PORT)
      assert.equal(record.protocolVersion, '1.1')
      assert.ok(record.durationsSeconds.every((s) => s > 0 && s < 2))
    }
    // The first four shared one connection: one client port.
    assert.equal(new Set(seen.filter((r) => r.family === 'ipv4').slice(0, 4).map((r) => r.source.port)).size, 1)
    assert.ok(!JSON.stringify(records).includes('SECRET'))
  })

  it('leaves long bodies in the kernel once their headers are read; chunked ones are read right with it on', async () => {
    const h = host as TestHost
    // The capture's filter counters: test-only access to the receiver's private capture. The filter reads the
    // Content-Length body itself (exchangeRead); the chunked response hands the connection to user space, which
    // has the filter skip the rest of what it cannot use (payloadSkipped).
    const skipped = () => {
      const { filter } = (receiver as unknown as { capture: PacketCapture }).capture.stats()
      return filter.payloadSkipped + filter.exchangeRead
    }
    const before = { records: ours('http').length, skipped: skipped(), errors: dropped('parse_error') }
    // 2 MiB sent at 4 MB/s each: the filter learns the body's range within a capture block timeout (50 ms) of its
    // headers. nginx writes a 64 KiB chunk with the next chunk's size line in one segment, which the filter must
    // keep, so the segments skipped are the Content-Length body's. Asynchronously: the receiver reads the capture on
    // this event loop meanwhile.
    const url = `http://${h.ipv4}:${PORT}`
    const { stdout: sizes } = await promisify(execFile)('curl', ['-s', '--max-time', '20',
      '-w', '%{size_download}\n', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null',
      `${url}/slow/large.txt`, `${url}/slow-chunked/large.txt`, `${url}/ok`])
    assert.equal(sizes, `${2 * 1024 * 1024}\n${2 * 1024 * 1024}\n3\n`)
    await settle(() => ours('http').length - before.records, 3)
    assert.deepEqual(ours('http').slice(before.records).map((r) => `${r.path} ${r.statusCode}`),
      ['/slow/large.txt 200', '/slow-chunked/large.txt 200', '/ok 200'])
    assert.equal(dropped('parse_error'), before.errors)
    assert.ok(skipped() - before.skipped > 10, `segments skipped: ${skipped() - before.skipped}`)
  })

  it('pairs pipelined requests with their responses in order', async () => {
    const h = host as TestHost
    const before = ours('http').length
    const request = (method: string, path: string) => `${method} ${path} HTTP/1.1\r\nHost: test\r\n\r\n`
    const reply = await pipelined(h.ipv4, PORT,
      request('GET', '/files/small.txt') + request('GET', '/nope') + request('HEAD', '/files/big.txt') + request('GET', '/ok'), 4)
    assert.equal((reply.match(/HTTP\/1\.1 \d\d\d/g) ?? []).join(','), 'HTTP/1.1 200,HTTP/1.1 404,HTTP/1.1 200,HTTP/1.1 200')
    await settle(() => ours('http').length - before, 4)
    assert.deepEqual(ours('http').slice(before).map((r) => `${r.method} ${r.path} ${r.statusCode}`),
      ['GET /files/small.txt 200', 'GET /nope 404', 'HEAD /files/big.txt 200', 'GET /ok 200'])
  })

  it('counts exactly the requests wrk completed', async () => {
    const h = host as TestHost
    const before = ours('http').length
    // One connection per thread, and each thread stops right after its last response: nothing is left in flight,
    // so wrk's count is exactly the requests on the wire. (wrk itself still waits out -d; 5 s is far more than needed.)
    const perThread = 5_000
    const script = join(scratch, 'stop-after.lua')
    writeFileSync(script, [
      'local done = 0',
      `function response(status, headers, body) done = done + 1; if done >= ${perThread} then wrk.thread:stop() end end`,
      '',
    ].join('\n'))
    // Asynchronously: the receiver reads the capture on this event loop meanwhile.
    const { stdout: output } = await promisify(execFile)('wrk', ['-t2', '-c2', '-d5s', '-s', script, `http://${h.ipv4}:${PORT}/ok?key=SECRET5`])
    const total = Number(/(\d+) requests in/.exec(output)?.[1])
    assert.equal(total, 2 * perThread, output)
    await settle(() => requests(ours('http').slice(before)), total)
    const fromWrk = ours('http').slice(before)
    assert.equal(requests(fromWrk), total)
    assert.ok(fromWrk.length < total / 10, `requests of a connection handed on together: ${fromWrk.length} records`)
    assert.ok(fromWrk.every((r) => r.method === 'GET' && r.path === '/ok' && r.statusCode === 200))
    assert.ok(!JSON.stringify(fromWrk).includes('SECRET'))
    for (const reason of ['capture_ring_full', 'capture_queue_full', 'parse_error', 'response_without_request', 'internal_error']) {
      assert.equal(dropped(reason), 0, reason)
    }
  })

  it('reports HTTPS through OpenSSL uprobes from both ends: curl (client) and nginx (server)', async () => {
    const h = host as TestHost
    const url = `https://${h.ipv4}:${TLS_PORT}`
    curl('--cacert', nginx!.certificate, '--http1.1', '-o', '/dev/null', '-o', '/dev/null',
      `${url}/files/small.txt?session=SECRET6`, `${url}/absent`)
    curl('--cacert', nginx!.certificate, '--http1.1', '-o', '/dev/null', `https://[${h.ipv6}]:${TLS_PORT}/ok`)
    await settle(() => ours('https').length, 6)
    const seen = ours('https').map((r) => `${r.side} ${r.family} ${r.method} ${r.path} ${r.statusCode}`).sort()
    assert.deepEqual(seen, [
      'client ipv4 GET /absent 404', 'client ipv4 GET /files/small.txt 200', 'client ipv6 GET /ok 200',
      'server ipv4 GET /absent 404', 'server ipv4 GET /files/small.txt 200', 'server ipv6 GET /ok 200',
    ])
    for (const record of ours('https')) {
      assert.equal(record.destination.port, TLS_PORT)
      assert.equal(record.source.address, record.family === 'ipv4' ? h.gatewayIpv4 : h.gatewayIpv6)
      assert.ok(record.pid > 0)
      assert.ok(record.durationsSeconds.every((s) => s > 0 && s < 2))
    }
    assert.ok(!JSON.stringify(records).includes('SECRET'))
    // Debian's libssl shows the internal functions SSL_read and SSL_read_ex share (libssl-probes.ts).
    assert.ok(settings.logs.some((line) => line.includes('openssl uprobes on ssl_read_internal/ssl_write_internal')), settings.logs.join('\n'))
  })
})
