// The `prometheus` exporter, scraped for real over HTTP: series names and labels in the text format, cumulative
// totals across scrapes, netlens self metrics (including instruments registered after start), namespace and
// resource labels, bind failures naming the key, and the lifecycle.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { PrometheusExporter } from '../../src/exporters/prometheus/exporter.ts'
import { prometheusExporterFactory } from '../../src/exporters/prometheus/factory.ts'
import { standardCounters } from '../../src/telemetry/self.ts'
import { dnsRecord, flowRecord, httpRecord } from '../metrics/samples.ts'
import { configOf, testSettings, type TestSettings } from '../helpers/components.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(`unexpected fatal error: ${error.message}`) }

/** One sample line of the text format: `name{labels} value`. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(match, `a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

describe('prometheus exporter', () => {
  let exporter: PrometheusExporter | undefined
  let settings: TestSettings

  afterEach(async () => {
    await exporter?.shutdown()
    exporter = undefined
  })

  async function started(values: Record<string, unknown> = {}): Promise<PrometheusExporter> {
    settings = testSettings('prometheus')
    const config = configOf(prometheusExporterFactory, { endpoint: '127.0.0.1:0', ...values })
    exporter = prometheusExporterFactory.create(settings, config) as PrometheusExporter
    await exporter.start(HOST)
    return exporter
  }

  async function scrape(path = '/metrics'): Promise<{ status: number; text: string; type: string | null }> {
    const address = exporter?.address()
    assert.ok(address, 'the exporter is listening')
    const response = await fetch(`http://127.0.0.1:${address.port}${path}`)
    return { status: response.status, text: await response.text(), type: response.headers.get('content-type') }
  }

  function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
    return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  }

  it('validates its default config', () => {
    const config = configOf(prometheusExporterFactory)
    assert.equal(config.endpoint, '127.0.0.1:9464')
    assert.equal(config.namespace, '')
    assert.equal(config.resource_to_telemetry_conversion.enabled, false)
  })

  it('rejects bad config with the key in the message', () => {
    assert.throws(() => configOf(prometheusExporterFactory, { endpoint: 'nope' }), /endpoint/)
    assert.throws(() => configOf(prometheusExporterFactory, { namespace: 'bad-name' }), /namespace: must be a Prometheus name prefix/)
    assert.throws(() => configOf(prometheusExporterFactory, { metrics: [{ name: 'x' }] }), /metrics\[0\]\.name: unknown metric/)
  })

  it('serves every metric and the netlens self metrics on /metrics, cumulative across scrapes', async () => {
    const prometheus = await started()
    assert.ok(settings.logs.some((l) => l.includes(`serving metrics on http://127.0.0.1:${prometheus.address()?.port}/metrics`)))
    prometheus.consume({ records: [flowRecord(), dnsRecord(), httpRecord()] })
    const first = await scrape()
    assert.equal(first.status, 200)
    assert.match(first.type ?? '', /^text\/plain/)
    const samples = parseSamples(first.text)

    const tx = sample(samples, 'netflow_bytes_total', { network_io_direction: 'transmit' })
    assert.equal(tx?.value, 1500)
    assert.deepEqual(tx?.labels, {
      network_io_direction: 'transmit',
      source_address: '10.0.0.1',
      destination_address: '10.0.0.2',
      destination_port: '443',
      network_transport: 'tcp',
      network_type: 'ipv4',
      flow_direction: 'outgoing',
      process_pid: '1234',
      process_executable_name: 'curl',
      destination_domain: 'example.com',
      otel_scope_name: 'netlens',
    })
    assert.equal(sample(samples, 'netflow_tcp_retransmits_total')?.value, 2)
    assert.equal(sample(samples, 'dnsflow_requests_total', { dns_response_code: 'NOERROR' })?.value, 1)
    assert.equal(sample(samples, 'netflow_tcp_rtt_count')?.value, 1)
    assert.equal(sample(samples, 'netflow_tcp_rtt_sum')?.value, 0.00025)
    assert.equal(sample(samples, 'netflow_tcp_rtt_bucket', { le: '+Inf' })?.value, 1)
    assert.equal(sample(samples, 'http_client_request_duration_count', { http_response_status_code: '200' })?.value, 1)
    assert.match(first.text, /# HELP netflow_bytes_total Payload bytes sent/)
    assert.match(first.text, /# TYPE netflow_bytes_total counter/)
    assert.match(first.text, /# TYPE netflow_tcp_rtt histogram/)
    assert.equal(sample(samples, 'netlens_records_received_total', { component: 'prometheus' })?.value, 3)
    assert.equal(sample(samples, 'target_info')?.labels['service_name'], 'netlens')

    prometheus.consume({ records: [flowRecord()] })
    const second = parseSamples((await scrape()).text)
    assert.equal(sample(second, 'netflow_bytes_total', { network_io_direction: 'transmit' })?.value, 3000)
    assert.equal(sample(second, 'netlens_records_received_total', { component: 'prometheus' })?.value, 4)
  })

  it('counts every request of HTTP records in their histograms, whatever the order of the series', async () => {
    const prometheus = await started()
    const records = [
      httpRecord({ durationsSeconds: [0.001, 0.002, 0.003] }),
      httpRecord({ statusCode: 500, durationsSeconds: [0.2] }),
      httpRecord({ durationsSeconds: [0.004] }),
    ]
    prometheus.consume({ records })
    prometheus.consume({ records: [httpRecord({ statusCode: 500, durationsSeconds: [0.3, 0.5] })] })
    const samples = parseSamples((await scrape()).text)
    const histogram = (status: string) => ['count', 'sum'].map((part) =>
      sample(samples, `http_client_request_duration_${part}`, { http_response_status_code: status })?.value)
    assert.deepEqual(histogram('200'), [4, 0.01])
    assert.deepEqual(histogram('500'), [3, 1])
  })

  it('adds self-telemetry instruments registered after start at the next scrape', async () => {
    await started()
    settings.telemetry.gauge({ name: 'netlens.test.late', description: 'late', unit: '{thing}' }, () => [
      { attributes: { component: 'late' }, value: 7 },
    ])
    assert.equal(sample(parseSamples((await scrape()).text), 'netlens_test_late', { component: 'late' })?.value, 7)
  })

  it('prefixes names with namespace and copies resource attributes onto series when told', async () => {
    const prometheus = await started({
      namespace: 'nl',
      resource_to_telemetry_conversion: { enabled: true },
      resource: [{ key: 'deployment.environment', value: 'test' }],
    })
    prometheus.consume({ records: [dnsRecord()] })
    const requests = sample(parseSamples((await scrape()).text), 'nl_dnsflow_requests_total')
    assert.equal(requests?.value, 1)
    assert.equal(requests?.labels['deployment_environment'], 'test')
    assert.equal(requests?.labels['service_name'], 'netlens')
  })

  it('keeps only the selected attributes and counts invalid values as drops', async () => {
    const prometheus = await started({ metrics: [{ name: 'dnsflow.requests', attributes: ['dns.question.name'] }] })
    prometheus.consume({ records: [dnsRecord(), flowRecord({ bytesSent: Number.NaN })] })
    const samples = parseSamples((await scrape()).text)
    assert.deepEqual(sample(samples, 'dnsflow_requests_total')?.labels, { dns_question_name: 'example.com', otel_scope_name: 'netlens' })
    assert.equal(sample(samples, 'netflow_bytes_total', { network_io_direction: 'transmit' }), undefined)
    assert.equal(standardCounters(settings.telemetry).dropped.value({ component: 'prometheus', reason: 'invalid_value' }), 1)
  })

  it('answers 404 off /metrics and 405 to other methods', async () => {
    const prometheus = await started()
    assert.equal((await scrape('/')).status, 404)
    assert.equal((await scrape('/metrics/x')).status, 404)
    const response = await fetch(`http://127.0.0.1:${prometheus.address()?.port}/metrics`, { method: 'POST' })
    assert.equal(response.status, 405)
  })

  it('fails start() naming the endpoint when the port is taken', async () => {
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const port = (taken.address() as { port: number }).port
    try {
      await assert.rejects(started({ endpoint: `127.0.0.1:${port}` }), new RegExp(`endpoint: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`))
    } finally {
      taken.close()
    }
  })

  it('shuts down without start, twice, and counts records after shutdown as drops', async () => {
    settings = testSettings('prometheus')
    const prometheus = prometheusExporterFactory.create(settings, configOf(prometheusExporterFactory, { endpoint: '127.0.0.1:0' }))
    await prometheus.shutdown()
    await prometheus.shutdown()
    prometheus.consume({ records: [flowRecord()] })
    assert.equal(standardCounters(settings.telemetry).dropped.value({ component: 'prometheus', reason: 'shutdown' }), 1)
  })

  it('stops listening on shutdown', async () => {
    const prometheus = await started()
    const port = prometheus.address()?.port
    await prometheus.shutdown()
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`))
  })
})
