import assert from 'node:assert/strict'
import { HttpTelemetry } from '../../../src/receivers/http/telemetry.ts'
import { TlsDirection, type TlsEvent } from '../../../src/receivers/http/tls-event.ts'
import { TlsTracker } from '../../../src/receivers/http/tls-tracker.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'
import { get, LIMITS, ok } from './exchange-harness.ts'

const socket = { family: 'ipv4' as const, local: { address: '198.18.3.1', port: 50000 }, remote: { address: '198.18.3.2', port: 443 } }

/** An event of process 7; `ssl` names the connection. */
function event(ssl: number, direction: number, text: string, ns: bigint, length = text.length): TlsEvent {
  return { timestampNs: Number(ns), pid: 7, ssl, direction, length, data: Buffer.from(text), socket }
}

function tracker() {
  const telemetry = new SelfTelemetry()
  const t = new TlsTracker({ limits: LIMITS, maxPending: 64, maxConnections: 2, timeoutNs: 1000, idleNs: 10_000, maxBuffered: 100 },
    new HttpTelemetry(telemetry, 'http'))
  const count = (name: string, reason: string) => (telemetry.get(name) as SelfCounter | undefined)?.value({ reason }) ?? 0
  return { t, count }
}

describe('http TlsTracker', () => {
  it('tells client from server by what the process writes, and skips bytes beyond the copied head', () => {
    const { t } = tracker()
    // A client: writes a request, reads a response whose body went beyond the copy.
    t.handleEvent(event(0xa0, TlsDirection.WRITE, get('/c'), 100n))
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n'
    t.handleEvent(event(0xa0, TlsDirection.READ, response + 'x'.repeat(100), 300n, response.length + 5000))
    t.handleEvent(event(0xa0, TlsDirection.WRITE, get('/c2'), 400n))
    t.handleEvent(event(0xa0, TlsDirection.READ, ok(), 450n))
    // A server: reads the request, writes the response.
    t.handleEvent(event(0xb0, TlsDirection.READ, get('/s'), 1000n))
    t.handleEvent(event(0xb0, TlsDirection.WRITE, ok(), 1600n))
    const records = t.collect(2000)
    assert.deepEqual(records.map((r) => `${r.side} ${r.path} ${r.source.port}->${r.destination.port} ${r.durationsSeconds.map((s) => s * 1e9)}`), [
      'client /c 50000->443 200', 'client /c2 50000->443 50', 'server /s 443->50000 600',
    ])
    assert.ok(records.every((r) => r.pid === 7 && r.attributes['url.scheme'] === 'https'))
  })

  it('counts TLS connections that do not carry HTTP/1.x, and forgets connections at SSL_free', () => {
    const { t, count } = tracker()
    t.handleEvent(event(0xc0, TlsDirection.WRITE, '\x00\x00\x12\x04\x00\x00\x00\x00\x00', 1n))
    t.handleEvent(event(0xc0, TlsDirection.WRITE, get('/ignored'), 2n))
    assert.equal(count('netlens.http.parse_errors', 'not_http'), 1)
    t.handleEvent(event(0xd0, TlsDirection.WRITE, get('/pending'), 3n))
    t.handleEvent({ ...event(0xd0, TlsDirection.FREE, '', 4n), socket: undefined })
    assert.equal(count('netlens.records.dropped', 'unanswered_at_close'), 1)
    assert.equal(t.connectionCount, 1)
  })
})
