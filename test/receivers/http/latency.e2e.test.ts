// Latency as the client sees it: a server in a test namespace that answers each request after 50 ms, curl in the
// root namespace where the receiver captures. Each exchange's duration (request sent → first response byte) is
// within 1 ms of curl's own time from sending the request to the first byte (time_starttransfer − time_pretransfer).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import type { Batch } from '../../../src/component/types.ts'
import { httpReceiverFactory } from '../../../src/receivers/http/factory.ts'
import type { HttpRecord } from '../../../src/records.ts'
import { configOf, testHost, testSettings } from '../../helpers/components.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { printed } from '../../helpers/peers.ts'

const PORT = 21_000 + (process.pid % 20_000)
const REQUESTS = 5
/** Extra exchanges allowed when curl's own figure was disturbed. */
const RETRIES = 2
const SERVER = [
  'import http.server, socketserver, sys, time',
  'class Slow(http.server.BaseHTTPRequestHandler):',
  '    protocol_version = "HTTP/1.1"',
  '    def do_GET(self):',
  '        time.sleep(0.05)',
  '        self.send_response(200)',
  '        self.send_header("Content-Length", "3")',
  '        self.end_headers()',
  '        self.wfile.write(b"ok\\n")',
  '    def log_message(self, *args):',
  '        pass',
  // HTTPServer.server_bind asks DNS for the address's name (getfqdn): seconds lost without a resolver.
  'class Server(http.server.HTTPServer):',
  '    def server_bind(self):',
  '        socketserver.TCPServer.server_bind(self)',
  '        self.server_name, self.server_port = "test", self.server_address[1]',
  'server = Server((sys.argv[1], int(sys.argv[2])), Slow)',
  'print("ready", flush=True)',
  'server.serve_forever()',
].join('\n')

describe('http receiver latency against the client\'s own measurement (real kernel)', function () {
  this.timeout(60_000)
  let host: TestHost
  const records: HttpRecord[] = []
  const receiver = httpReceiverFactory.create(testSettings('http/latency'),
    configOf(httpReceiverFactory, { ports: [PORT], flush_interval: '100ms', tls: { enabled: false } }),
    { consume: (batch: Batch) => { records.push(...(batch.records as HttpRecord[])) } })

  before(async () => {
    host = createTestHost()
    await receiver.start(testHost)
  })

  after(async () => {
    await receiver.shutdown()
    host?.destroy()
  })

  it(`reports each of ${REQUESTS} requests within 1 ms of curl's time to first byte`, async () => {
    const server = host.spawn('/usr/bin/python3', ['-c', SERVER, host.ipv4, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] })
    server.stdout!.setEncoding('utf8')
    try {
      await printed(server, 'ready')
      const recordFrom = async (port: number) => {
        const find = () => records.find((r) => r.destination.address === host.ipv4 && r.destination.port === PORT && r.source.port === port)
        for (let i = 0; i < 50 && !find(); i++) await new Promise((r) => setTimeout(r, 100))
        const record = find()
        assert.ok(record, `a record for the curl run from port ${port}`)
        return record
      }
      // curl's figure is user-space time and drifts when the VM is slow to run curl; an exchange off by 1 ms or more
      // is measured again, at most RETRIES times in all. An error of netlens's own would show in every attempt.
      const gaps: string[] = []
      let within = 0
      for (let attempt = 0; attempt < REQUESTS + RETRIES && within < REQUESTS; attempt++) {
        const out = execFileSync('curl', ['-s', '-o', '/dev/null', '--max-time', '5', '-w', '%{local_port} %{time_pretransfer} %{time_starttransfer}',
          `http://${host.ipv4}:${PORT}/slow`], { encoding: 'utf8' })
        const [port, pretransfer, starttransfer] = out.trim().split(' ').map(Number) as [number, number, number]
        const curlSeconds = starttransfer - pretransfer
        assert.ok(curlSeconds >= 0.05, `curl waited for the server (${curlSeconds} s)`)
        const record = await recordFrom(port)
        assert.equal(record.durationsSeconds.length, 1, 'one request per curl run')
        const [duration] = record.durationsSeconds as [number]
        const gapMs = Math.abs(duration - curlSeconds) * 1000
        gaps.push(`netlens ${(duration * 1000).toFixed(3)} ms, curl ${(curlSeconds * 1000).toFixed(3)} ms`)
        if (gapMs < 1) within++
      }
      assert.equal(within, REQUESTS, gaps.join('; '))
    } finally {
      server.kill()
    }
  })
})
