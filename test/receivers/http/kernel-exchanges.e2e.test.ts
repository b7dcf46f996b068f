// The capture filter's exchange tracking against the real kernel (bpf/http_exchange.bpf.h, kernel-exchanges.ts):
// simple exchanges become records without their frames reaching user space; anything else hands the connection to
// the packet tracker with the request still waiting; a full table and unanswered requests are counted, never lost.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { promisify } from 'node:util'
import type { PacketCapture } from '../../../src/capture/packet-capture.ts'
import type { Batch } from '../../../src/component/types.ts'
import type { Receiver } from '../../../src/component/types.ts'
import { httpReceiverFactory } from '../../../src/receivers/http/factory.ts'
import type { HttpRecord } from '../../../src/records.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { startNginx, type NginxServer } from '../../helpers/nginx.ts'

const PORT = 20_000 + ((process.pid + 7_919) % 20_000)
const TLS_PORT = PORT + 1
const SILENT_PORT = PORT + 2
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const curl = (...args: string[]) => execFileSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' })

/** A receiver on PORT and SILENT_PORT with `options`, its records and its counters. */
function receiverWith(id: string, options: Record<string, unknown>) {
  const records: HttpRecord[] = []
  const settings = testSettings(id)
  const config = configOf(httpReceiverFactory, { ports: [PORT, SILENT_PORT], flush_interval: '100ms', tls: { enabled: false }, ...options })
  const receiver: Receiver = httpReceiverFactory.create(settings, config, {
    consume: (batch: Batch) => { records.push(...(batch.records as HttpRecord[])) },
  })
  const counter = (name: string, attribute: string, value: string) =>
    (settings.telemetry.get(name) as SelfCounter | undefined)?.value({ component: id, [attribute]: value }) ?? 0
  return {
    receiver, records,
    dropped: (reason: string) => counter('netlens.records.dropped', 'reason', reason),
    kernel: (event: string) => counter('netlens.http.kernel_exchanges', 'event', event),
    filter: () => (receiver as unknown as { capture: PacketCapture }).capture.stats().filter,
  }
}

/** Waits (not a timing assertion) until `count()` reaches `expected`, then a little more for any extra to show. */
async function settle(count: () => number, expected: number): Promise<void> {
  for (let i = 0; i < 100 && count() < expected; i++) await sleep(100)
  await sleep(300)
}

describe('http exchanges read in the capture filter (nginx in a namespace, clients in the root namespace)', function () {
  this.timeout(120_000)
  let host: TestHost | undefined
  let nginx: NginxServer | undefined
  let silent: Server | undefined
  const held: Socket[] = []
  const ours = (records: HttpRecord[]) => records.filter((r) => r.destination.port === PORT || r.destination.port === SILENT_PORT)
  const requests = (records: HttpRecord[]) => ours(records).reduce((n, r) => n + r.durationsSeconds.length, 0)

  before(async () => {
    host = createTestHost()
    nginx = await startNginx({ host, port: PORT, tlsPort: TLS_PORT })
    // A server that accepts and never answers (in the root namespace, on loopback).
    silent = createServer((socket) => held.push(socket))
    await new Promise<void>((resolve) => silent!.listen(SILENT_PORT, '127.0.0.1', resolve))
  })

  after(async () => {
    for (const socket of held) socket.destroy()
    silent?.close()
    await nginx?.stop()
    host?.destroy()
  })

  it('reads simple exchanges itself; hands a connection over with its waiting request when the response is chunked', async () => {
    const t = receiverWith('http/kernel-handover', {})
    await t.receiver.start({ reportFatal: (error) => { throw error } })
    try {
      const url = `http://${host!.ipv4}:${PORT}`
      const matchedBefore = t.filter().matched
      // One keep-alive connection: two simple exchanges, then a chunked response (handover with its request
      // waiting), then one more exchange, now read from packets.
      curl('-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null',
        `${url}/ok?token=SECRET`, `${url}/files/small.txt`, `${url}/chunked/big.txt`, `${url}/missing`)
      // A POST is not read in the filter: its connection is handed over from its first request.
      curl('-o', '/dev/null', '-d', 'a=b', `${url}/ok`)
      await settle(() => requests(t.records), 5)
      const seen = ours(t.records).flatMap((r) => r.durationsSeconds.map(() => `${r.method} ${r.path} ${r.statusCode}`))
      assert.deepEqual(seen.sort(), ['GET /chunked/big.txt 200', 'GET /files/small.txt 200', 'GET /missing 404', 'GET /ok 200', 'POST /ok 200'])
      assert.equal(t.kernel('sent'), 2)
      assert.equal(t.kernel('handoverResponse'), 1)
      assert.equal(t.kernel('handoverRequest'), 1)
      for (const record of ours(t.records)) {
        assert.equal(record.side, 'client')
        assert.equal(record.source.address, host!.gatewayIpv4)
        assert.ok(record.durationsSeconds.every((s) => s > 0 && s < 2))
      }
      assert.ok(!JSON.stringify(t.records).includes('SECRET'))
      // The two exchanges the filter read sent none of their frames up (SYNs and handshake included).
      assert.ok(t.filter().exchangeRead > 0)
      assert.ok(t.filter().matched - matchedBefore < 40, `frames kept: ${t.filter().matched - matchedBefore}`)
      for (const reason of ['parse_error', 'response_without_request', 'internal_error', 'exchange_ring_full', 'handover_lost']) {
        assert.equal(t.dropped(reason), 0, reason)
      }
    } finally {
      await t.receiver.shutdown()
    }
  })

  it('leaves connections beyond its table to the packet tracker, counted, and counts every request', async () => {
    const t = receiverWith('http/kernel-full', { max_connections: 2 })
    await t.receiver.start({ reportFatal: (error) => { throw error } })
    try {
      const { stdout } = await promisify(execFile)('wrk', ['-t1', '-c3', '-d1s', `http://${host!.ipv4}:${PORT}/ok`])
      const total = Number(/(\d+) requests in/.exec(stdout)?.[1])
      // wrk stops with requests in flight: netlens may count up to one more per connection.
      await settle(() => requests(t.records), total)
      assert.ok(requests(t.records) >= total && requests(t.records) <= total + 3,
        `${requests(t.records)} of ${total}; kernel sent ${t.kernel('sent')}, table full ${t.kernel('tableFull')}`)
      assert.ok(t.kernel('tableFull') >= 1, `table full: ${t.kernel('tableFull')}`)
      assert.ok(t.kernel('sent') > 0)
    } finally {
      await t.receiver.shutdown()
    }
  })

  it('counts a request left unanswered past the timeout, from the sweep of its table', async () => {
    const t = receiverWith('http/kernel-timeout', { timeout: '300ms' })
    await t.receiver.start({ reportFatal: (error) => { throw error } })
    try {
      const socket = connect({ host: '127.0.0.1', port: SILENT_PORT })
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write('GET /never HTTP/1.1\r\nHost: silent\r\n\r\n')
      await settle(() => t.dropped('request_timeout'), 1)
      socket.destroy()
      assert.equal(t.dropped('request_timeout'), 1)
      assert.equal(requests(t.records), 0)
    } finally {
      await t.receiver.shutdown()
    }
  })
})
