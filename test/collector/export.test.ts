// netlens → a real OpenTelemetry Collector → its file exporter, over OTLP/gRPC and OTLP/HTTP: the metrics as the
// collector decoded them (names, units, attributes, temporality, histogram buckets, resource, self-telemetry).
import assert from 'node:assert/strict'
import type { Exporter } from '../../src/component/types.ts'
import { TestCollector } from '../helpers/collector.ts'
import type { ReceivedMetric } from '../helpers/otlp-server.ts'
import { dnsAnswerRecord, dnsRecord, FLOW_ATTRIBUTES, flowRecord, httpRecord } from '../metrics/samples.ts'
import { exporterFor, TRANSPORTS } from './transports.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(`unexpected fatal error: ${error.message}`) }

for (const transport of TRANSPORTS) {
  describe(`${transport.type} exporter → OpenTelemetry Collector`, function () {
    // The first run may build the collector (minutes on a cold Go cache).
    this.timeout(600_000)
    let collector: TestCollector
    let exporter: Exporter | undefined

    before(async () => {
      collector = await TestCollector.create()
      await collector.start()
    })

    afterEach(async () => {
      await exporter?.shutdown()
      exporter = undefined
    })

    after(async () => {
      await collector?.destroy()
    })

    function last(name: string): ReceivedMetric {
      const metric = collector.metricsNamed(name).at(-1)
      assert.ok(metric, `the collector wrote no ${name}`)
      return metric
    }

    it('delivers every metric with its unit, attributes and cumulative temporality, and the resource', async function () {
      this.timeout(30_000)
      const driven = exporterFor(transport, collector, { resource: [{ key: 'deployment.environment', value: 'e2e' }] })
      exporter = driven.exporter
      await exporter.start(HOST)
      exporter.consume({
        records: [
          flowRecord(),
          dnsRecord(),
          dnsRecord({ responseCode: 'NXDOMAIN', durationSeconds: 0.004 }),
          httpRecord(),
          httpRecord({ side: 'server', statusCode: 503, durationsSeconds: [0.004, 0.02] }),
          dnsAnswerRecord(),
        ],
      })
      await collector.waitFor((c) => c.metricsNamed('http.server.request.duration').length > 0, 'the first export')

      const first = collector.exports().find((e) => e.metrics.some((m) => m.name === 'netflow.bytes'))
      assert.ok(first)
      assert.equal(first.resource['service.name'], 'netlens')
      assert.equal(first.resource['deployment.environment'], 'e2e')
      assert.equal(typeof first.resource['host.name'], 'string')
      assert.equal(first.scope, 'netlens')

      const bytes = last('netflow.bytes')
      assert.deepEqual([bytes.type, bytes.unit, bytes.monotonic, bytes.temporality], ['sum', 'By', true, 'cumulative'])
      const tx = bytes.points.find((p) => p.attributes['network.io.direction'] === 'transmit')
      assert.equal(tx?.value, 1500)
      assert.deepEqual(tx?.attributes, { 'network.io.direction': 'transmit', ...FLOW_ATTRIBUTES })
      assert.equal(bytes.points.find((p) => p.attributes['network.io.direction'] === 'receive')?.value, 64000)

      for (const [name, unit] of [
        ['netflow.tcp.connections.established', '{connection}'],
        ['netflow.tcp.connections.closed', '{connection}'],
        ['netflow.tcp.retransmits', '{segment}'],
        ['dnsflow.requests', '{request}'],
      ] as const) {
        const metric = last(name)
        assert.deepEqual([metric.type, metric.unit, metric.monotonic, metric.temporality], ['sum', unit, true, 'cumulative'], name)
      }
      assert.equal(last('netflow.tcp.retransmits').points[0]?.value, 2)
      assert.deepEqual(
        last('dnsflow.requests').points.map((p) => [p.attributes['dns.response_code'], p.value]).sort(),
        [['NOERROR', 1], ['NXDOMAIN', 1]],
      )

      const rtt = last('netflow.tcp.rtt')
      assert.deepEqual([rtt.type, rtt.unit, rtt.temporality], ['histogram', 's', 'cumulative'])
      assert.equal(rtt.points[0]?.count, 1)
      assert.equal(rtt.points[0]?.sum, 0.00025)
      assert.equal(rtt.points[0]?.explicitBounds?.[0], 0.00005)
      assert.equal(rtt.points[0]?.bucketCounts?.length, (rtt.points[0]?.explicitBounds?.length ?? 0) + 1)

      const dns = last('dnsflow.duration')
      assert.equal(dns.points.reduce((n, p) => n + (p.count ?? 0), 0), 2)
      assert.ok(dns.points.every((p) => !('dns.question.name' in p.attributes)), 'question name is off by default')
      const server = last('http.server.request.duration')
      assert.deepEqual([server.unit, server.points[0]?.attributes['http.response.status_code']], ['s', 503])
      // One record of two requests: the histogram counts requests.
      assert.deepEqual([server.points[0]?.count, server.points[0]?.sum], [2, 0.024])
      assert.equal(last('http.client.request.duration').points[0]?.attributes['http.request.method'], 'GET')

      const received = last('netlens.records.received')
      assert.deepEqual([received.type, received.monotonic, received.temporality], ['sum', true, 'cumulative'])
      assert.equal(received.points.find((p) => p.attributes['component'] === transport.type)?.value, 6)
    })

    it('keeps cumulative totals growing from one start time across exports', async function () {
      this.timeout(30_000)
      const driven = exporterFor(transport, collector, { metrics: [{ name: 'dnsflow.requests', attributes: ['dns.question.name'] }] })
      exporter = driven.exporter
      await exporter.start(HOST)
      const question = `cumulative-${transport.type}.test`
      const series = () =>
        collector.metricsNamed('dnsflow.requests').flatMap((m) => m.points.filter((p) => p.attributes['dns.question.name'] === question))
      for (let round = 1; round <= 3; round++) {
        exporter.consume({ records: Array.from({ length: round }, () => dnsRecord({ questionName: question })) })
        const total = (round * (round + 1)) / 2
        await collector.waitFor(() => series().some((p) => p.value === total), `dnsflow.requests = ${total}`)
      }
      const points = series()
      assert.equal(new Set(points.map((p) => p.startTimeUnixNano)).size, 1, 'one start time')
      const values = points.map((p) => p.value ?? 0)
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `monotonic: ${values.join(',')}`)
      assert.equal(values.at(-1), 6)
    })
  })
}
