import assert from 'node:assert/strict'
import { RecordBuffer } from '../../../src/receivers/http/record-buffer.ts'
import { HttpTelemetry } from '../../../src/receivers/http/telemetry.ts'
import type { Endpoint, HttpRecord } from '../../../src/records.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'

const SCHEME = Object.freeze({ 'url.scheme': 'http' })

/** A connection's endpoints: its records share these objects, as an exchange's do. */
function connection(port: number): { client: Endpoint; server: Endpoint } {
  return { client: { address: '198.18.9.1', port }, server: { address: '198.18.9.2', port: 80 } }
}

function request(peers: { client: Endpoint; server: Endpoint }, overrides: Partial<HttpRecord> = {}): HttpRecord {
  return {
    kind: 'http', side: 'server', family: 'ipv4', source: peers.client, destination: peers.server, pid: 0,
    method: 'GET', path: '/a', pathTruncated: false, statusCode: 200, protocolVersion: '1.1', durationsSeconds: [0.001],
    attributes: SCHEME, ...overrides,
  }
}

function buffer(maxBuffered = 1000) {
  const telemetry = new SelfTelemetry()
  const b = new RecordBuffer(maxBuffered, new HttpTelemetry(telemetry, 'http'))
  const dropped = (reason: string) => (telemetry.get('netlens.records.dropped') as SelfCounter).value({ reason })
  return { b, dropped }
}

const summary = (records: HttpRecord[]) =>
  records.map((r) => `${r.source.port} ${r.method} ${r.path} ${r.statusCode} ${r.durationsSeconds.join(',')}`)

describe('http RecordBuffer', () => {
  it('makes one record of the requests of a connection that differ only in their durations', () => {
    const { b } = buffer()
    const c = connection(40000)
    for (const duration of [0.001, 0.002, 0.003]) b.record(request(c, { durationsSeconds: [duration] }))
    b.record(request(c, { durationsSeconds: [0.004, 0.005] }))
    const records = b.take()
    assert.deepEqual(summary(records), ['40000 GET /a 200 0.001,0.002,0.003,0.004,0.005'])
  })

  it('keeps apart requests of another status, path, method, side or connection', () => {
    const { b } = buffer()
    const c = connection(40000)
    const requests = [
      request(c),
      request(c, { statusCode: 404 }),
      request(c, { path: '/b' }),
      request(c, { path: '/a', pathTruncated: true }),
      request(c, { method: 'POST' }),
      request(c, { side: 'client' }),
      request(c, { attributes: { 'url.scheme': 'https' } }),
      // The same addresses and ports in other objects: another exchange, kept apart.
      request(connection(40000)),
      request(connection(40001)),
    ]
    for (const r of requests) b.record(r)
    b.record(request(c, { statusCode: 404, durationsSeconds: [0.002] }))
    const records = b.take()
    assert.equal(records.length, requests.length)
    assert.deepEqual(records.map((r) => r.durationsSeconds.length), [1, 2, 1, 1, 1, 1, 1, 1, 1])
  })

  it('starts afresh at take(), and leaves the records taken as they were', () => {
    const { b } = buffer()
    const c = connection(40000)
    b.record(request(c))
    const [first] = b.take()
    b.record(request(c, { durationsSeconds: [0.002] }))
    const second = b.take()
    assert.deepEqual(first?.durationsSeconds, [0.001])
    assert.deepEqual(summary(second), ['40000 GET /a 200 0.002'])
    assert.deepEqual(b.take(), [])
  })

  it('compares a request with the latest records of its connection only, and loses none', () => {
    const { b } = buffer()
    const c = connection(40000)
    for (let i = 0; i < 20; i++) b.record(request(c, { path: `/item/${i}` }))
    b.record(request(c, { path: '/item/19' }))
    b.record(request(c, { path: '/item/0' })) // long gone from the recent records: a record of its own
    const records = b.take()
    assert.equal(records.length, 21)
    assert.equal(records.reduce((n, r) => n + r.durationsSeconds.length, 0), 22)
    assert.deepEqual(records.find((r) => r.path === '/item/19')?.durationsSeconds, [0.001, 0.001])
  })

  it('holds at most maxBuffered durations, counting the requests beyond as buffer_full', () => {
    const { b, dropped } = buffer(3)
    const c = connection(40000)
    b.record(request(c))
    b.record(request(c)) // joins the first record, and counts all the same
    b.record(request(c, { durationsSeconds: [0.002, 0.003] }))
    assert.equal(dropped('buffer_full'), 2)
    b.record(request(c, { path: '/b' }))
    b.record(request(c))
    assert.equal(dropped('buffer_full'), 3)
    assert.deepEqual(summary(b.take()), ['40000 GET /a 200 0.001,0.001', '40000 GET /b 200 0.001'])
    b.record(request(c, { durationsSeconds: [0.001, 0.002, 0.003] }))
    assert.equal(dropped('buffer_full'), 3, 'room again after take()')
  })
})
