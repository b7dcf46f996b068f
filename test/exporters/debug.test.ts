import assert from 'node:assert/strict'
import { DebugExporter, MAX_RECORD_LINES } from '../../src/exporters/debug/exporter.ts'
import { debugExporterFactory } from '../../src/exporters/debug/factory.ts'
import type { DebugConfig } from '../../src/exporters/debug/config.ts'
import { humanBytes, millis, table } from '../../src/exporters/debug/format.ts'
import { standardCounters } from '../../src/telemetry/self.ts'
import { dnsAnswerRecord, dnsRecord, flowRecord, httpRecord } from '../metrics/samples.ts'
import { configOf, testSettings, type TestSettings } from '../helpers/components.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(error.message) }

describe('debug exporter', () => {
  let settings: TestSettings
  let output: string[]
  let clock: number

  function create(values: Partial<DebugConfig> = {}): DebugExporter {
    settings = testSettings('debug')
    output = []
    clock = Date.parse('2026-11-23T10:00:00Z')
    const config = configOf(debugExporterFactory, values)
    return new DebugExporter(settings, config, {
      write: (text) => output.push(text),
      now: () => new Date(clock),
    })
  }

  function sampleBatch() {
    return {
      records: [
        flowRecord(),
        flowRecord({ destination: { address: '10.0.0.9', port: 5432 }, comm: 'postgres', pid: 77, bytesSent: 10, bytesReceived: 20 }),
        flowRecord({ transport: 'udp', family: 'ipv6', direction: 'incoming', source: { address: 'fd00::1', port: 5353 }, destination: { address: 'fd00::2', port: 53 }, established: 0, closed: 0, retransmits: 0, rttUs: undefined, bytesSent: 300, bytesReceived: 100 }),
        dnsRecord(),
        dnsRecord({ durationSeconds: 0.006 }),
        dnsRecord({ responseCode: 'NXDOMAIN', durationSeconds: 0.001 }),
        dnsRecord({ responseCode: 'timeout', durationSeconds: undefined }),
        httpRecord(),
        httpRecord({ durationsSeconds: [0.08, 0.1] }), // two requests in one record
        httpRecord({ side: 'server', method: 'POST', path: '/login', statusCode: 401, durationsSeconds: [0.004] }),
        dnsAnswerRecord(),
      ],
    }
  }

  it('validates its default config', () => {
    const config = configOf(debugExporterFactory)
    assert.deepEqual(config, { verbosity: 'normal', interval: 10_000, top: 10 })
    assert.throws(() => configOf(debugExporterFactory, { verbosity: 'loud' } as never), /verbosity/)
    assert.throws(() => configOf(debugExporterFactory, { top: 0 }), /top/)
  })

  it('normal: prints tables of flows, DNS and HTTP', async () => {
    const debug = create()
    await debug.start(HOST)
    debug.consume(sampleBatch())
    clock += 10_000
    await debug.flush()
    await debug.shutdown()
    const text = output.join('')
    if (process.env.SHOW_OUTPUT) process.stdout.write(text)
    const lines = text.split('\n')
    assert.match(lines[0] ?? '', /netlens 10:00:10Z · last 10s · 3 flow · 4 dns · 4 http · 1 dns\.answer/)

    const flows = lines.indexOf('FLOWS (3)')
    assert.ok(flows > 0, text)
    assert.match(lines[flows + 1] ?? '', /^FLOW\s+PROTO\s+DIR\s+PROCESS\s+TX\s+RX\s+EST\s+CLS\s+RETR\s+RTT ms$/)
    // Sorted by bytes: the curl flow first.
    assert.match(lines[flows + 2] ?? '', /^10\.0\.0\.1 → 10\.0\.0\.2:443\s+tcp\s+out\s+curl\/1234\s+1\.5 KB\s+62\.5 KB\s+1\s+1\s+2\s+0\.25$/)
    assert.match(lines[flows + 3] ?? '', /^\[fd00::1\]:5353 → \[fd00::2\]:53\s+udp\s+in\s+curl\/1234\s+300 B\s+100 B\s+0\s+0\s+0\s+-$/)
    assert.match(lines[flows + 4] ?? '', /10\.0\.0\.9:5432\s+tcp\s+out\s+postgres\/77\s+10 B\s+20 B/)

    const dns = lines.indexOf('DNS (1)')
    assert.ok(dns > flows, text)
    assert.match(lines[dns + 2] ?? '', /^10\.0\.0\.53:53\s+A\s+example\.com\s+4\s+NOERROR 2, NXDOMAIN 1, timeout 1\s+3\.00\s+6\.00$/)

    const http = lines.indexOf('HTTP (2)')
    assert.ok(http > dns, text)
    assert.match(lines[http + 2] ?? '', /^client\s+GET\s+\/api\/items\s+200\s+3\s+100$/)
    assert.match(lines[http + 3] ?? '', /^server\s+POST\s+\/login\s+401\s+1\s+4\.00$/)
    assert.ok(!text.includes('DROPS'), 'no drops line when nothing was dropped')
    assert.ok(lines.every((l) => l.length <= 120), 'fits 120 columns')
  })

  it('normal: keeps the top N rows by bytes and says how many there were', async () => {
    const debug = create({ top: 2 })
    debug.consume({
      records: [1, 2, 3, 4].map((i) => flowRecord({ destination: { address: `10.0.2.${i}`, port: 80 }, bytesSent: i * 1000, bytesReceived: 0 })),
    })
    await debug.flush()
    const lines = output.join('').split('\n')
    const at = lines.indexOf('FLOWS (top 2 of 4 by bytes)')
    assert.ok(at > 0, output.join(''))
    assert.match(lines[at + 2] ?? '', /10\.0\.2\.4:80/)
    assert.match(lines[at + 3] ?? '', /10\.0\.2\.3:80/)
    assert.equal(lines[at + 4], '')
  })

  it('basic: one summary line, with drops', async () => {
    const debug = create({ verbosity: 'basic' })
    standardCounters(settings.telemetry).dropped.add(5, { component: 'netflow', reason: 'map_full' })
    debug.consume(sampleBatch())
    clock += 2_000
    await debug.flush()
    assert.equal(output.length, 1)
    assert.equal(output[0], '── netlens 10:00:02Z · last 2s · 3 flow · 4 dns · 4 http · 1 dns.answer · drops +5 ──\n')
  })

  it('prints the drop counters when any is non-zero, with their increase', async () => {
    const debug = create()
    const { dropped } = standardCounters(settings.telemetry)
    dropped.add(12, { component: 'netflow', reason: 'map_full' })
    debug.consume({ records: [dnsRecord()], lost: 3 })
    await debug.flush()
    dropped.add(3, { component: 'netflow', reason: 'map_full' })
    dropped.add(1, { component: 'dns', reason: 'parse_error' })
    await debug.flush()
    const [first, second] = output
    assert.match(first ?? '', /3 lost upstream/)
    assert.match(first ?? '', /^DROPS netflow:map_full 12 \(\+12\)$/m)
    assert.match(second ?? '', /^DROPS netflow:map_full 15 \(\+3\), dns:parse_error 1 \(\+1\)$/m)
    assert.match(second ?? '', /· 0 flow · 0 dns · 0 http · 0 dns\.answer · drops \+4 ──/)
  })

  it('detailed: tables and one line per record, capped', async () => {
    const debug = create({ verbosity: 'detailed' })
    debug.consume(sampleBatch())
    await debug.flush()
    const text = output.join('')
    if (process.env.SHOW_OUTPUT) process.stdout.write(text)
    assert.ok(text.includes('FLOWS (3)') && text.includes('RECORDS'))
    assert.match(text, /^flow tcp outgoing 10\.0\.0\.1 → 10\.0\.0\.2:443 curl\/1234 tx=1500 rx=64000 est=1 closed=1 retrans=2 rtt=0\.25ms destination\.domain=example\.com$/m)
    assert.match(text, /^dns udp 10\.0\.0\.1:40000 → 10\.0\.0\.53:53 A example\.com timeout$/m)
    assert.match(text, /^dns\.answer 10\.0\.0\.1 example\.com → 93\.184\.215\.14 \(ttl 300s\)$/m)
    assert.match(text, /^http server POST \/login 401 HTTP\/1\.1 10\.0\.0\.1 → 10\.0\.0\.80:8080 pid=99 4\.00ms$/m)
    assert.match(text, /^http client GET \/api\/items 200 HTTP\/1\.1 10\.0\.0\.1 → 10\.0\.0\.80:8080 pid=99 2 requests mean=90\.0ms max=100ms$/m)

    debug.consume({ records: Array.from({ length: MAX_RECORD_LINES + 5 }, () => dnsRecord()) })
    await debug.flush()
    const capped = output[1] ?? ''
    assert.equal(capped.split('\n').filter((l) => l.startsWith('dns udp')).length, MAX_RECORD_LINES)
    assert.match(capped, /… 5 more records not shown/)
  })

  it('prints on its interval timer, and counts records after shutdown as drops', async () => {
    const debug = create({ interval: '50ms' })
    await debug.start(HOST)
    debug.consume({ records: [flowRecord()] })
    while (output.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(output[0]?.includes('FLOWS (1)'))
    await debug.shutdown()
    await debug.shutdown()
    debug.consume({ records: [flowRecord()] })
    assert.equal(standardCounters(settings.telemetry).dropped.value({ component: 'debug', reason: 'shutdown' }), 1)
    assert.equal(standardCounters(settings.telemetry).received.value({ component: 'debug' }), 1)
  })

  it('shutdown without start prints nothing', async () => {
    const debug = create()
    await debug.shutdown()
    assert.deepEqual(output, [])
  })

  it('formats numbers for people', () => {
    assert.equal(humanBytes(0), '0 B')
    assert.equal(humanBytes(1536), '1.5 KB')
    assert.equal(humanBytes(5 * 1024 ** 3), '5.0 GB')
    assert.equal(millis(0.00025), '0.25')
    assert.equal(millis(0.0456), '45.6')
    assert.equal(millis(1.5), '1500')
    assert.equal(millis(undefined), '-')
    assert.deepEqual(table([{ header: 'A', max: 4 }, { header: 'N', align: 'right' }], [['abcdef', '7'], ['x', '100']]), [
      'A       N',
      'abc…    7',
      'x     100',
    ])
  })
})
