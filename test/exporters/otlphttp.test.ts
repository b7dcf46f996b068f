// The `otlphttp` exporter: its config (Collector keys, /v1/metrics appended, TLS only with https) and what it puts
// on the wire, seen by a plain node:http server. What the collector decodes from it is test/collector/.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { metricsUrl } from '../../src/exporters/otlphttp/config.ts'
import type { OtlpHttpExporter } from '../../src/exporters/otlphttp/exporter.ts'
import { otlpHttpExporterFactory } from '../../src/exporters/otlphttp/factory.ts'
import { standardCounters } from '../../src/telemetry/self.ts'
import { flowRecord } from '../metrics/samples.ts'
import { configOf, testSettings, type TestSettings } from '../helpers/components.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(`unexpected fatal error: ${error.message}`) }
const SECRET = 'tok-77c1-http-secret'

interface Request {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
}

describe('otlphttp exporter', () => {
  let server: Server
  let requests: Request[]
  let base: string
  let exporter: OtlpHttpExporter | undefined
  let settings: TestSettings

  beforeEach(async () => {
    requests = []
    server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) })
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterEach(async () => {
    await exporter?.shutdown()
    exporter = undefined
    server.closeAllConnections()
    server.close()
  })

  function create(values: Record<string, unknown> = {}): OtlpHttpExporter {
    settings = testSettings('otlphttp')
    exporter = otlpHttpExporterFactory.create(settings, configOf(otlpHttpExporterFactory, { endpoint: base, interval: '1h', ...values })) as OtlpHttpExporter
    return exporter
  }

  it('validates its default config: the Collector defaults', () => {
    const config = configOf(otlpHttpExporterFactory)
    assert.equal(config.endpoint, 'http://localhost:4318')
    assert.equal(metricsUrl(config.endpoint).href, 'http://localhost:4318/v1/metrics')
    assert.equal(config.compression, 'gzip')
    assert.equal(config.temporality, 'cumulative')
  })

  it('appends /v1/metrics to the endpoint path, as the Collector does', () => {
    assert.equal(metricsUrl('https://otel.example.com').href, 'https://otel.example.com/v1/metrics')
    assert.equal(metricsUrl('http://127.0.0.1:4318/').href, 'http://127.0.0.1:4318/v1/metrics')
    assert.equal(metricsUrl('http://[::1]:4318/otlp/').href, 'http://[::1]:4318/otlp/v1/metrics')
  })

  it('rejects bad config with the key in the message', () => {
    assert.throws(() => configOf(otlpHttpExporterFactory, { endpoint: 'localhost:4318' }), /endpoint: must be an http:\/\/ or https:\/\/ URL/)
    assert.throws(() => configOf(otlpHttpExporterFactory, { endpoint: 'ftp://x:1' }), /endpoint/)
    assert.throws(() => configOf(otlpHttpExporterFactory, { endpoint: 'http://u:p@x:1' }), /endpoint: must be a URL without query, fragment or credentials/)
    assert.throws(() => configOf(otlpHttpExporterFactory, { tls: { ca_file: '/ca.pem' } }), /tls: .* need an https:\/\/ endpoint/)
    assert.throws(
      () => configOf(otlpHttpExporterFactory, { endpoint: 'https://x:1', tls: { cert_file: '/c.pem' } }),
      /tls: cert_file and key_file go together/,
    )
    assert.throws(() => configOf(otlpHttpExporterFactory, { compression: 'zstd' }), /compression/)
    assert.throws(() => configOf(otlpHttpExporterFactory, { headers: { a: 1 } }), /headers/)
  })

  it('fails start() naming the key when a TLS file cannot be read', async () => {
    const otlp = create({ endpoint: base.replace('http:', 'https:'), tls: { ca_file: '/nonexistent/ca.pem' } })
    await assert.rejects(otlp.start(HOST), /tls\.ca_file: cannot read \/nonexistent\/ca\.pem/)
  })

  it('posts gzipped OTLP protobuf to <endpoint>/v1/metrics with the configured headers, never logging them', async () => {
    const otlp = create({ endpoint: `${base}/otlp/`, headers: { 'X-Api-Key': SECRET } })
    await otlp.start(HOST)
    otlp.consume({ records: [flowRecord()] })
    await otlp.flush()
    assert.equal(requests.length, 1)
    const [request] = requests as [Request]
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/otlp/v1/metrics')
    assert.equal(request.headers['content-type'], 'application/x-protobuf')
    assert.equal(request.headers['content-encoding'], 'gzip')
    assert.equal(request.headers['x-api-key'], SECRET)
    const body = gunzipSync(request.body)
    assert.ok(body.includes('netflow.bytes'), 'the protobuf carries the metric name')
    assert.ok(settings.logs.every((line) => !line.includes(SECRET)), 'headers are never logged')
    assert.ok(settings.logs.some((line) => line.includes(`url=${base}/otlp/v1/metrics`)), settings.logs.join('\n'))
  })

  it('sends uncompressed protobuf with compression: none', async () => {
    const otlp = create({ compression: 'none' })
    await otlp.start(HOST)
    otlp.consume({ records: [flowRecord()] })
    await otlp.flush()
    assert.equal(requests[0]?.headers['content-encoding'], undefined)
    assert.ok(requests[0]?.body.includes('netflow.bytes'))
  })

  it('counts records given before start or after shutdown as drops', async () => {
    const otlp = create()
    otlp.consume({ records: [flowRecord()] })
    await otlp.shutdown()
    await otlp.shutdown()
    otlp.consume({ records: [flowRecord(), flowRecord()] })
    const dropped = standardCounters(settings.telemetry).dropped
    assert.equal(dropped.value({ component: 'otlphttp', reason: 'not_started' }), 1)
    assert.equal(dropped.value({ component: 'otlphttp', reason: 'shutdown' }), 2)
  })
})
