// TLS to a real collector over OTLP/gRPC and OTLP/HTTP, with a CA and certificates this test makes: trusted
// through `tls.ca_file` the data arrives; without the CA the exports fail, logged once, nothing crashes. With a
// collector that requires client certificates (mutual TLS), `tls.cert_file`/`key_file` get the data through and
// their absence is refused.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Exporter, Host } from '../../src/component/types.ts'
import { TestCollector } from '../helpers/collector.ts'
import type { TestSettings } from '../helpers/components.ts'
import { flowRecord } from '../metrics/samples.ts'
import { makeCertificates, type TestCertificates } from './certs.ts'
import { exporterFor, TRANSPORTS } from './transports.ts'

function failedThrice(settings: TestSettings): boolean {
  return (settings.telemetry.get('netlens.exporter.exports')?.points() ?? []).some((p) => p.attributes['outcome'] === 'failure' && p.value >= 3)
}

describe('push exporters → OpenTelemetry Collector over TLS', function () {
  this.timeout(600_000)
  let dir: string
  let certs: TestCertificates
  let collector: TestCollector
  let mutual: TestCollector
  const exporters: Exporter[] = []
  const fatal: Error[] = []
  const host: Host = { reportFatal: (error) => fatal.push(error) }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netlens-tls-'))
    certs = makeCertificates(dir)
    collector = await TestCollector.create({ certFile: certs.certFile, keyFile: certs.keyFile })
    mutual = await TestCollector.create({ certFile: certs.certFile, keyFile: certs.keyFile, clientCaFile: certs.caFile })
    await Promise.all([collector.start(), mutual.start()])
  })

  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.shutdown()))
  })

  after(async () => {
    await collector?.destroy()
    await mutual?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  function caseSeen(name: string, by = collector): boolean {
    return by.exports().some((e) => e.resource['test.case'] === name && e.metrics.some((m) => m.name === 'netflow.bytes'))
  }

  for (const transport of TRANSPORTS) {
    it(`${transport.type}: trusts the collector through tls.ca_file`, async function () {
      this.timeout(30_000)
      const testCase = `${transport.type}-trusted`
      const { exporter, settings } = exporterFor(transport, collector, { resource: [{ key: 'test.case', value: testCase }] }, certs.caFile)
      exporters.push(exporter)
      await exporter.start(host)
      assert.ok(settings.logs.some((l) => l.includes('tls=true')), settings.logs.join('\n'))
      exporter.consume({ records: [flowRecord()] })
      await collector.waitFor(() => caseSeen(testCase), `${testCase} metrics`)
      assert.deepEqual(settings.logs.filter((l) => l.includes('export failing')), [])
    })

    it(`${transport.type}: refuses a collector certificate it cannot verify, once in the log`, async function () {
      this.timeout(30_000)
      const testCase = `${transport.type}-untrusted`
      // No ca_file: the system roots, which do not include the test CA.
      const target = transport.type === 'otlp' ? { tls: { insecure: false } } : {}
      const { exporter, settings } = exporterFor(transport, collector, {
        ...target,
        timeout: '200ms',
        resource: [{ key: 'test.case', value: testCase }],
      })
      exporters.push(exporter)
      await exporter.start(host)
      exporter.consume({ records: [flowRecord()] })
      await collector.waitFor(() => failedThrice(settings), 'three failed exports')
      const failing = settings.logs.filter((l) => l.includes(`${transport.type}: export failing:`))
      assert.equal(failing.length, 1, settings.logs.join('\n'))
      assert.ok(!caseSeen(testCase), 'nothing reached the collector')
      assert.deepEqual(fatal, [])
    })

    it(`${transport.type}: authenticates with a client certificate where the collector requires one`, async function () {
      this.timeout(30_000)
      const testCase = `${transport.type}-mutual`
      const clientCert = { tls: { ca_file: certs.caFile, cert_file: certs.clientCertFile, key_file: certs.clientKeyFile } }
      const { exporter, settings } = exporterFor(transport, mutual, { ...clientCert, resource: [{ key: 'test.case', value: testCase }] })
      exporters.push(exporter)
      await exporter.start(host)
      exporter.consume({ records: [flowRecord()] })
      await mutual.waitFor(() => caseSeen(testCase, mutual), `${testCase} metrics`)
      assert.deepEqual(settings.logs.filter((l) => l.includes('export failing')), [])
    })

    it(`${transport.type}: is refused without a client certificate where the collector requires one`, async function () {
      this.timeout(30_000)
      const testCase = `${transport.type}-no-client-cert`
      const { exporter, settings } = exporterFor(transport, mutual, { timeout: '200ms', resource: [{ key: 'test.case', value: testCase }] }, certs.caFile)
      exporters.push(exporter)
      await exporter.start(host)
      exporter.consume({ records: [flowRecord()] })
      await mutual.waitFor(() => failedThrice(settings), 'three failed exports')
      assert.equal(settings.logs.filter((l) => l.includes(`${transport.type}: export failing:`)).length, 1, settings.logs.join('\n'))
      assert.ok(!caseSeen(testCase, mutual), 'nothing reached the collector')
    })
  }
})
