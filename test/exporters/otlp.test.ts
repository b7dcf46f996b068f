import assert from 'node:assert/strict'
import { otlpExporterFactory } from '../../src/exporters/otlp/factory.ts'
import type { OtlpExporter } from '../../src/exporters/otlp/exporter.ts'
import { standardCounters } from '../../src/telemetry/self.ts'
import { OtlpTestServer, type ReceivedMetric } from '../helpers/otlp-server.ts'
import { dnsAnswerRecord, dnsRecord, FLOW_ATTRIBUTES, flowRecord, httpRecord } from '../metrics/samples.ts'
import { configOf, testSettings, type TestSettings } from '../helpers/components.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(`unexpected fatal error: ${error.message}`) }
const SECRET = 'tok-3f9a-very-secret'

describe('otlp exporter', function () {
  let server: OtlpTestServer
  let exporter: OtlpExporter | undefined
  let settings: TestSettings

  beforeEach(async () => {
    server = await OtlpTestServer.start()
  })

  afterEach(async () => {
    await exporter?.shutdown()
    exporter = undefined
    await server.stop()
  })

  function create(values: Record<string, unknown> = {}, id = 'otlp'): OtlpExporter {
    settings = testSettings(id)
    const config = configOf(otlpExporterFactory, {
      endpoint: server.endpoint,
      tls: { insecure: true },
      interval: '200ms',
      ...values,
    })
    exporter = otlpExporterFactory.create(settings, config) as OtlpExporter
    return exporter
  }

  function last(name: string): ReceivedMetric {
    const metric = server.metricsNamed(name).at(-1)
    assert.ok(metric, `no ${name} received`)
    return metric
  }

  it('validates its default config', () => {
    const config = configOf(otlpExporterFactory)
    assert.equal(config.endpoint, 'localhost:4317')
    assert.equal(config.compression, 'gzip')
    assert.equal(config.temporality, 'cumulative')
    assert.equal(config.tls.insecure, false)
  })

  it('rejects bad config with the key in the message', () => {
    assert.throws(() => configOf(otlpExporterFactory, { endpoint: 'no-port' }), /endpoint/)
    assert.throws(() => configOf(otlpExporterFactory, { interval: 'soon' }), /interval/)
    assert.throws(() => configOf(otlpExporterFactory, { metrics: [{ name: 'nope' }] }), /metrics\[0\]\.name: unknown metric/)
    assert.throws(() => configOf(otlpExporterFactory, { tls: { insecure: true, ca_file: '/x' } }), /tls/)
  })

  it('is safe to shut down without start, twice', async () => {
    const otlp = create()
    await otlp.shutdown()
    await otlp.shutdown()
    otlp.consume({ records: [flowRecord()] })
    assert.equal(standardCounters(settings.telemetry).dropped.value({ component: 'otlp', reason: 'shutdown' }), 1)
  })

  it('delivers records as cumulative metrics with resource, units, attributes and self metrics', async () => {
    const otlp = create({
      headers: { 'x-api-key': SECRET },
      resource: [{ key: 'deployment.environment', value: 'test' }],
    })
    await otlp.start(HOST)
    otlp.consume({
      records: [flowRecord(), dnsRecord(), dnsRecord({ responseCode: 'timeout', durationSeconds: undefined }), httpRecord(), dnsAnswerRecord()],
    })
    await server.waitFor((s) => s.metricsNamed('netflow.bytes').length > 0, 'netflow.bytes')

    const first = server.exports.find((e) => e.metrics.some((m) => m.name === 'netflow.bytes'))
    assert.ok(first)
    assert.equal(first.resource['service.name'], 'netlens')
    assert.equal(first.resource['service.version'], '0.1.0')
    assert.equal(typeof first.resource['host.name'], 'string')
    assert.equal(first.resource['deployment.environment'], 'test')
    assert.deepEqual(first.metadata['x-api-key'], [SECRET])
    assert.equal(first.encoding, 'gzip')

    const bytes = last('netflow.bytes')
    assert.equal(bytes.unit, 'By')
    assert.equal(bytes.type, 'sum')
    assert.equal(bytes.monotonic, true)
    assert.equal(bytes.temporality, 'cumulative')
    const tx = bytes.points.find((p) => p.attributes['network.io.direction'] === 'transmit')
    const rx = bytes.points.find((p) => p.attributes['network.io.direction'] === 'receive')
    assert.equal(tx?.value, 1500)
    assert.equal(rx?.value, 64000)
    assert.deepEqual(tx?.attributes, { 'network.io.direction': 'transmit', ...FLOW_ATTRIBUTES })

    const rtt = last('netflow.tcp.rtt')
    assert.equal(rtt.type, 'histogram')
    assert.equal(rtt.unit, 's')
    assert.equal(rtt.points[0]?.count, 1)
    assert.equal(rtt.points[0]?.sum, 0.00025)
    assert.equal(rtt.points[0]?.explicitBounds?.[0], 0.00005)
    assert.equal(last('netflow.tcp.retransmits').points[0]?.value, 2)
    assert.equal(last('netflow.tcp.connections.established').unit, '{connection}')

    const requests = last('dnsflow.requests')
    assert.deepEqual(requests.points.map((p) => [p.attributes['dns.response_code'], p.value]).sort(), [
      ['NOERROR', 1],
      ['timeout', 1],
    ])
    assert.ok(requests.points.every((p) => !('dns.question.name' in p.attributes)), 'question name is off by default')
    assert.equal(last('dnsflow.duration').points[0]?.count, 1, 'timeouts have no duration')

    const http = last('http.client.request.duration')
    assert.equal(http.points[0]?.attributes['http.response.status_code'], 200)
    assert.equal(http.points[0]?.attributes['url.path'], undefined)
    assert.equal(server.metricsNamed('http.server.request.duration').length, 0)

    const received = last('netlens.records.received')
    assert.equal(received.points.find((p) => p.attributes['component'] === 'otlp')?.value, 5)
    await server.waitFor((s) => s.metricsNamed('netlens.exporter.exports').length > 0, 'netlens.exporter.exports')
    const exports = last('netlens.exporter.exports')
    assert.ok(exports.points.some((p) => p.attributes['outcome'] === 'success' && (p.value ?? 0) >= 1))

    // Cumulative: a second batch adds to the same series, from the same start time.
    const startTime = tx?.startTimeUnixNano
    otlp.consume({ records: [flowRecord()] })
    await server.waitFor(
      () => last('netflow.bytes').points.some((p) => p.attributes['network.io.direction'] === 'transmit' && p.value === 3000),
      'cumulative netflow.bytes = 3000',
    )
    const later = last('netflow.bytes').points.find((p) => p.attributes['network.io.direction'] === 'transmit')
    assert.equal(later?.startTimeUnixNano, startTime)

    assert.ok(settings.logs.every((line) => !line.includes(SECRET)), 'headers are never logged')
  })

  it('picks up self-telemetry instruments registered after start', async () => {
    const otlp = create()
    await otlp.start(HOST)
    settings.telemetry.gauge({ name: 'netlens.test.late', description: 'late', unit: '{thing}' }, () => [
      { attributes: { component: 'late' }, value: 7 },
    ])
    otlp.consume({ records: [dnsRecord()] })
    await server.waitFor((s) => s.metricsNamed('netlens.test.late').length > 0, 'netlens.test.late')
    assert.equal(last('netlens.test.late').points[0]?.value, 7)
    assert.equal(last('netlens.test.late').type, 'gauge')
  })

  it('exports delta temporality when configured, without compression when told', async () => {
    const otlp = create({ temporality: 'delta', compression: 'none' })
    await otlp.start(HOST)
    otlp.consume({ records: [flowRecord()] })
    await server.waitFor((s) => s.metricsNamed('netflow.bytes').length > 0, 'netflow.bytes')
    otlp.consume({ records: [flowRecord({ bytesSent: 10, bytesReceived: 0 })] })
    await server.waitFor(
      () => last('netflow.bytes').points.some((p) => p.value === 10),
      'a delta of 10 bytes',
    )
    const bytes = last('netflow.bytes')
    assert.equal(bytes.temporality, 'delta')
    assert.deepEqual(bytes.points.map((p) => p.value), [10], 'only the new interval, no receive series carried over')
    assert.equal(last('netflow.tcp.rtt').temporality, 'delta')
    const encodings = new Set(server.exports.map((e) => e.encoding ?? 'identity'))
    assert.ok(!encodings.has('gzip'), `unexpected encodings ${[...encodings].join(',')}`)
  })

  it('keeps only the selected attributes and caps series with an overflow series', async () => {
    const otlp = create({
      metrics: [
        { name: 'dnsflow.requests', attributes: ['dns.question.name', 'dns.response_code'] },
        { name: 'netflow.bytes', cardinality_limit: 3 },
      ],
    })
    await otlp.start(HOST)
    const flows = [1, 2, 3, 4, 5, 6].map((i) => flowRecord({ destination: { address: `10.0.1.${i}`, port: 80 }, bytesReceived: 0 }))
    otlp.consume({ records: [dnsRecord(), ...flows] })
    await server.waitFor((s) => s.metricsNamed('netflow.bytes').length > 0, 'netflow.bytes')
    assert.deepEqual(last('dnsflow.requests').points[0]?.attributes, {
      'dns.question.name': 'example.com',
      'dns.response_code': 'NOERROR',
    })
    const points = last('netflow.bytes').points
    assert.ok(points.length <= 3, `${points.length} series`)
    const overflow = points.find((p) => p.attributes['otel.metric.overflow'] === true)
    assert.ok(overflow, 'an overflow series')
    assert.equal(points.reduce((sum, p) => sum + (p.value ?? 0), 0), 6 * 1500, 'no bytes lost to the cap')
  })

  it('marks the overflow series of a metric whose attributes are an allow-list', async () => {
    const otlp = create({ metrics: [{ name: 'netflow.bytes', attributes: ['destination.address'], cardinality_limit: 3 }] })
    await otlp.start(HOST)
    const flows = [1, 2, 3, 4].map((i) => flowRecord({ destination: { address: `10.0.2.${i}`, port: 80 }, bytesReceived: 0 }))
    otlp.consume({ records: flows })
    await otlp.flush()
    const points = last('netflow.bytes').points
    assert.deepEqual(points.map((p) => p.attributes).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      { 'destination.address': '10.0.2.1' }, { 'destination.address': '10.0.2.2' }, { 'otel.metric.overflow': true },
    ])
  })

  it('counts invalid values as drops instead of recording them', async () => {
    const otlp = create({ interval: '1h' })
    await otlp.start(HOST)
    otlp.consume({ records: [flowRecord({ bytesSent: Number.NaN, rttUs: -5 }), dnsRecord({ durationSeconds: Infinity })] })
    await otlp.flush()
    assert.equal(standardCounters(settings.telemetry).dropped.value({ component: 'otlp', reason: 'invalid_value' }), 3)
    assert.deepEqual(last('netflow.bytes').points.map((p) => p.value), [64000])
    assert.equal(server.metricsNamed('netflow.tcp.rtt').length, 0)
  })

  it('keeps a cumulative metric at cardinality_limit series for life, the rest in the overflow series, totals whole', async () => {
    // OTel JS limits each collection only; without netlens's own cap the cumulative series grow by the limit per export.
    const otlp = create({ interval: '1h', cardinality_limit: 10 })
    await otlp.start(HOST)
    for (let round = 0; round < 4; round++) {
      otlp.consume({ records: Array.from({ length: 8 }, (_, i) => flowRecord({ destination: { address: '10.7.0.1', port: 1000 + round * 8 + i } })) })
      await otlp.flush()
    }
    const points = last('netflow.bytes').points
    assert.equal(points.length, 10, 'nine series and the overflow one')
    assert.equal(points.filter((p) => p.attributes['otel.metric.overflow'] === true).length, 1)
    assert.equal(points.reduce((sum, p) => sum + (p.value ?? 0), 0), 32 * (1500 + 64000), 'every byte counted somewhere')
  })

  it('flush() exports at once', async () => {
    const otlp = create({ interval: '1h' })
    await otlp.start(HOST)
    otlp.consume({ records: [httpRecord({ side: 'server' })] })
    await otlp.flush()
    assert.equal(last('http.server.request.duration').points[0]?.count, 1)
  })

  it('logs a failing collector once and its recovery once, and keeps the data', async () => {
    const port = Number(server.endpoint.split(':')[1])
    await server.stop()
    const otlp = create({ interval: '200ms', timeout: '200ms' })
    await otlp.start(HOST)
    otlp.consume({ records: [flowRecord()] })
    const exports = () => settings.telemetry.get('netlens.exporter.exports')
    const failures = () => (exports()?.points() ?? []).filter((p) => p.attributes['outcome'] === 'failure').reduce((s, p) => s + p.value, 0)
    await server.waitFor(() => failures() >= 3, 'three failed exports')
    await server.restart()
    assert.equal(Number(server.endpoint.split(':')[1]), port)
    await server.waitFor((s) => s.metricsNamed('netflow.bytes').length > 0, 'netflow.bytes after recovery')
    await server.waitFor(() => settings.logs.some((l) => l.includes('otlp: export recovered')), 'the recovered line')

    // Fail again on demand, with the collector up: a second failing/recovered pair, never one per interval.
    server.failWith()
    const before = failures()
    await server.waitFor(() => failures() >= before + 3, 'three more failed exports')
    server.succeed()
    const received = server.exports.length
    await server.waitFor((s) => s.exports.length > received, 'an export after succeed()')
    await server.waitFor(() => settings.logs.filter((l) => l.includes('otlp: export recovered')).length === 2, 'second recovery')

    const failing = settings.logs.filter((l) => l.includes('otlp: export failing:'))
    const recovered = settings.logs.filter((l) => l.includes('otlp: export recovered'))
    assert.equal(failing.length, 2, failing.join('\n'))
    assert.equal(recovered.length, 2, recovered.join('\n'))
    assert.match(failing[1] ?? '', /UNAVAILABLE|test server failing/)
    assert.equal(last('netflow.bytes').points.find((p) => p.attributes['network.io.direction'] === 'transmit')?.value, 1500)
  })
})
