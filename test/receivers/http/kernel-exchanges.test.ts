import assert from 'node:assert/strict'
import type { HttpExchanges } from '../../../src/capture/http-exchanges.ts'
import { KernelExchanges } from '../../../src/receivers/http/kernel-exchanges.ts'
import { RecordBuffer } from '../../../src/receivers/http/record-buffer.ts'
import { HttpTelemetry } from '../../../src/receivers/http/telemetry.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { testSettings } from '../../helpers/components.ts'
import { exchangeEvent } from './exchange-events.ts'

function setup() {
  const settings = testSettings('http')
  const telemetry = new HttpTelemetry(settings.telemetry, 'http')
  const sink = new RecordBuffer(1000, telemetry)
  const kernel = new KernelExchanges({ maxPathLength: 10, redactQuery: true }, sink)
  const count = (name: string, reason: string) => (settings.telemetry.get(name) as SelfCounter).value({ component: 'http', reason })
  return { sink, kernel, count }
}

describe('http KernelExchanges', () => {
  it('makes records of the exchanges the filter read: line parsed and redacted, latency, side, endpoints', () => {
    const { sink, kernel } = setup()
    kernel.handle([
      exchangeEvent({ line: 'GET /a?token=SECRET HTTP/1.1', startNs: 5_000_000, responseNs: 5_400_000 }),
      exchangeEvent({ line: 'HEAD /a-very-long-path HTTP/1.0', status: 404, side: 1, clientPort: 40001 }),
    ])
    const [get, head] = sink.take()
    assert.deepEqual(
      { ...get!, attributes: { ...get!.attributes } },
      {
        kind: 'http', side: 'client', family: 'ipv4', source: { address: '198.18.2.1', port: 40000 },
        destination: { address: '198.18.2.2', port: 80 }, pid: 0, method: 'GET', path: '/a', pathTruncated: false,
        statusCode: 200, protocolVersion: '1.1', durationsSeconds: [0.0004], attributes: { 'url.scheme': 'http' },
      },
    )
    assert.deepEqual([head!.side, head!.method, head!.path, head!.pathTruncated, head!.statusCode, head!.protocolVersion],
      ['server', 'HEAD', '/a-very-lo', true, 404, '1.0'])
    assert.ok(!JSON.stringify([get, head]).includes('SECRET'))
  })

  it('gives a connection\'s records the same endpoint objects, so they aggregate; another line is parsed anew', () => {
    const { sink, kernel } = setup()
    kernel.handle([
      exchangeEvent({ line: 'GET /x HTTP/1.1' }), exchangeEvent({ line: 'GET /x HTTP/1.1' }),
      exchangeEvent({ line: 'GET /y HTTP/1.1' }), exchangeEvent({ line: 'GET /x HTTP/1.1', clientPort: 40002 }),
      exchangeEvent({ line: 'GET /x HTTP/1.1', client: [10, 0, 0, 9] }),
    ])
    const records = sink.take()
    assert.deepEqual(records.map((r) => `${r.source.address}:${r.source.port} ${r.path} x${r.durationsSeconds.length}`),
      ['198.18.2.1:40000 /x x2', '198.18.2.1:40000 /y x1', '198.18.2.1:40002 /x x1', '10.0.0.9:40000 /x x1'])
    assert.equal(records[0]!.source, records[1]!.source)
  })

  it('counts a request line it cannot parse, and makes no record of it', () => {
    const { sink, kernel, count } = setup()
    kernel.handle([exchangeEvent({ line: 'GET /x HTTP/3.0' }), exchangeEvent({ line: 'GET' })])
    assert.deepEqual(sink.take(), [])
    assert.equal(count('netlens.http.parse_errors', 'unsupported_version'), 1)
    assert.equal(count('netlens.http.parse_errors', 'bad_request_line'), 1)
  })

  it('hands the packet tracker the waiting request of a handover, on the capture clock', () => {
    const { kernel } = setup()
    const segment = {
      family: 4 as const, source0: 1, source1: 0, source2: 0, source3: 0, destination0: 2, destination1: 0,
      destination2: 0, destination3: 0, sourcePort: 40000, destinationPort: 80,
    }
    const monotonicNow = Number(process.hrtime.bigint())
    const exchanges = {
      take: () => ({ sourceIsClient: true, clientNext: 100, serverNext: 200, pending: { line: Buffer.from('GET /w?q=1 HTTP/1.1'), startNs: monotonicNow } }),
    } as unknown as HttpExchanges
    const handover = kernel.handover(exchanges, segment)!
    assert.deepEqual([handover.sourceIsClient, handover.clientNext, handover.serverNext, handover.pending?.method, handover.pending?.path],
      [true, 100, 200, 'GET', '/w'])
    assert.ok(Math.abs(handover.pending!.startNs - Date.now() * 1e6) < 50e6, 'CLOCK_REALTIME ns')
    assert.equal(kernel.handover(undefined, segment), undefined)
  })
})
