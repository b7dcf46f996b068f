// The HTTPS source on the real kernel and the system's libssl: where it puts the probes, and that both placements
// (the internal functions, the exported ones) see every call of curl (client) and nginx (server).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { findLibssl } from '../../../src/receivers/http/libssl.ts'
import { probeTargets, probeTargetsOf, type ProbeTargets } from '../../../src/receivers/http/libssl-probes.ts'
import { TlsDirection, type TlsEvent } from '../../../src/receivers/http/tls-event.ts'
import { TlsSource } from '../../../src/receivers/http/tls-source.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { startNginx, type NginxServer } from '../../helpers/nginx.ts'

const PORT = 20_000 + ((process.pid + 7) % 20_000)
const TLS_PORT = PORT + 1

describe('http TLS source (OpenSSL uprobes, real kernel)', function () {
  this.timeout(60_000)
  const libssl = findLibssl()
  let host: TestHost | undefined
  let nginx: NginxServer | undefined

  before(async function () {
    if (!libssl) throw new Error('no libssl.so.3 on this machine: the HTTPS source cannot be tested')
    host = createTestHost()
    nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
  })

  after(async () => {
    await nginx?.stop()
    host?.destroy()
  })

  it('finds the internal read and write functions of the system libssl, and falls back on anything else', () => {
    const targets = probeTargetsOf(libssl!)
    assert.equal(targets.kind, 'internal', 'OpenSSL 3 as Debian builds it: SSL_read and SSL_read_ex share one callee')
    if (targets.kind !== 'internal') return
    const elf = readFileSync(libssl!)
    assert.notEqual(targets.read, targets.write)
    // Both begin with a push (REX 41 + 50..57, or 50..57): an instruction the kernel emulates instead of single-stepping.
    for (const offset of [targets.read, targets.write]) {
      const first = elf[offset]!
      assert.ok((first >= 0x50 && first <= 0x57) || (first === 0x41 && elf[offset + 1]! >= 0x50 && elf[offset + 1]! <= 0x57),
        `0x${offset.toString(16)} starts with ${elf.subarray(offset, offset + 4).toString('hex')}`)
    }
    assert.deepEqual(probeTargets(Buffer.from('not an ELF file at all, not even close to one')), { kind: 'exported' })
    assert.deepEqual(probeTargets(elf.subarray(0, 64)), { kind: 'exported' })
  })

  for (const placement of ['internal', 'exported'] as const) {
    it(`sees each SSL_write and SSL_read of curl and nginx with the ${placement} functions probed`, async () => {
      const events: TlsEvent[] = []
      const targets: ProbeTargets = placement === 'internal' ? probeTargetsOf(libssl!) : { kind: 'exported' }
      // Events are views of their batch: what the test keeps is copied.
      const copy = (e: TlsEvent): TlsEvent => ({
        timestampNs: e.timestampNs, pid: e.pid, ssl: e.ssl, direction: e.direction, length: e.length, data: Buffer.from(e.data), socket: e.socket,
      })
      const source = TlsSource.open(libssl!, (event) => { events.push(copy(event)) }, () => {}, targets)
      try {
        execFileSync('curl', ['-s', '--max-time', '10', '--http1.1', '--cacert', nginx!.certificate, '-o', '/dev/null',
          `https://${host!.ipv4}:${TLS_PORT}/ok?probe=${placement}`])
        const request = (e: TlsEvent) => e.data.toString('latin1').startsWith(`GET /ok?probe=${placement} HTTP/1.1`)
        const response = (e: TlsEvent) => e.data.toString('latin1').startsWith('HTTP/1.1 200')
        const deadline = Date.now() + 5000
        while (Date.now() < deadline && events.filter((e) => request(e) || response(e)).length < 4) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        const seen = events.filter((e) => request(e) || response(e))
          .map((e) => `${request(e) ? 'request' : 'response'} ${e.direction === TlsDirection.WRITE ? 'written' : 'read'}`).sort()
        // curl writes the request and reads the response; nginx reads the request and writes the response.
        assert.deepEqual(seen, ['request read', 'request written', 'response read', 'response written'])
        for (const event of events.filter((e) => request(e) || response(e))) {
          assert.ok(event.pid > 0 && event.length >= event.data.length)
          assert.equal(event.socket?.remote.port === TLS_PORT || event.socket?.local.port === TLS_PORT, true, 'socket learnt')
        }
      } finally {
        source.close()
      }
      // Kernel-side losses: none (the ring may hold other processes' TLS events at close, counted as tls_queue_full).
      assert.deepEqual(source.takeDrops().filter((d) => d.reason !== 'tls_queue_full'), [])
    })
  }
})
