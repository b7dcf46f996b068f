import assert from 'node:assert/strict'
import { Metadata, status } from '@grpc/grpc-js'
import { otlpExporterFactory } from '../../../src/exporters/otlp/factory.ts'
import type { OtlpExporter } from '../../../src/exporters/otlp/exporter.ts'
import { retryAdvice, retryInfoDelayMs } from '../../../src/exporters/sdk/grpc-retry.ts'
import { configOf, testSettings, type TestSettings } from '../../helpers/components.ts'
import { OtlpTestServer } from '../../helpers/otlp-server.ts'
import { flowRecord } from '../../metrics/samples.ts'

const HOST = { reportFatal: (error: Error) => assert.fail(`unexpected fatal error: ${error.message}`) }

/** google.rpc.Status{code: 8, details: [Any{RetryInfo{retry_delay: 1.5 s}}]}, encoded by hand from the .proto field numbers. */
function handEncodedStatus(): Buffer {
  const duration = Buffer.from([0x08, 0x01, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]) // seconds 1, nanos 500000000
  const retryInfo = Buffer.concat([Buffer.from([0x0a, duration.length]), duration])
  const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo')
  const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retryInfo.length]), retryInfo])
  return Buffer.concat([Buffer.from([0x08, 0x08, 0x1a, any.length]), any])
}

function grpcError(code: number, details?: Buffer) {
  const metadata = new Metadata()
  if (details) metadata.set('grpc-status-details-bin', details)
  return Object.assign(new Error('failed'), { code, metadata })
}

describe('otlp gRPC retries', () => {
  it('reads the RetryInfo delay of a google.rpc.Status', () => {
    assert.equal(retryInfoDelayMs(handEncodedStatus()), 1500)
    assert.equal(retryInfoDelayMs(Buffer.from([0xff, 0xff, 0xff])), undefined, 'garbage is no advice, not a throw')
  })

  it('retries what the OTLP specification calls retryable, and nothing else', () => {
    assert.deepEqual(retryAdvice(grpcError(status.RESOURCE_EXHAUSTED, handEncodedStatus()), 0), { delayMs: 1500, server: true })
    assert.equal(retryAdvice(grpcError(status.RESOURCE_EXHAUSTED), 0), undefined, 'RESOURCE_EXHAUSTED without RetryInfo')
    assert.equal(retryAdvice(grpcError(status.INVALID_ARGUMENT), 0), undefined)
    assert.equal(retryAdvice(grpcError(status.PERMISSION_DENIED), 0), undefined)
    assert.equal(retryAdvice(new Error('no code'), 0), undefined)
    const backoff = retryAdvice(grpcError(status.UNAVAILABLE), 2)
    assert.ok(backoff && !backoff.server && backoff.delayMs >= 1000 && backoff.delayMs <= 2000, JSON.stringify(backoff))
  })

  describe('against a gRPC server sending RetryInfo', () => {
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

    async function started(values: Record<string, unknown>): Promise<OtlpExporter> {
      settings = testSettings('otlp')
      exporter = otlpExporterFactory.create(settings, configOf(otlpExporterFactory, {
        endpoint: server.endpoint, tls: { insecure: true }, ...values,
      })) as OtlpExporter
      await exporter.start(HOST)
      return exporter
    }

    it('retries the same export after the delay the server asked for, when it fits in the export budget', async () => {
      server.failWith(status.RESOURCE_EXHAUSTED, 'slow down', 400)
      const otlp = await started({ interval: '1h', timeout: '5s' })
      otlp.consume({ records: [flowRecord({ bytesSent: 1000 })] })
      const flushed = otlp.flush()
      await server.waitFor((s) => s.calls.length >= 1, 'the first attempt')
      server.succeed()
      await flushed
      assert.equal(server.calls.length, 2, 'one retry')
      assert.ok(server.calls[1]! - server.calls[0]! >= 400, `retried after ${server.calls[1]! - server.calls[0]!} ms`)
      const bytes = server.metricsNamed('netflow.bytes').at(-1)?.points.find((p) => p.attributes['network.io.direction'] === 'transmit')
      assert.equal(bytes?.value, 1000)
    })

    it('sends nothing before a longer delay ends, then the cumulative totals arrive whole', async () => {
      server.failWith(status.RESOURCE_EXHAUSTED, 'slow down', 1500)
      const otlp = await started({ interval: '200ms', timeout: '200ms' })
      otlp.consume({ records: [flowRecord({ bytesSent: 1000 })] })
      await server.waitFor((s) => s.calls.length >= 1, 'the first attempt')
      const firstCall = server.calls[0]!
      server.succeed()
      otlp.consume({ records: [flowRecord({ bytesSent: 500 })] })
      await server.waitFor((s) => s.metricsNamed('netflow.bytes').length > 0, 'netflow.bytes after the delay')
      assert.ok(server.calls[1]! - firstCall >= 1500, `next call ${server.calls[1]! - firstCall} ms after the throttled one`)
      const bytes = server.metricsNamed('netflow.bytes').at(-1)?.points.find((p) => p.attributes['network.io.direction'] === 'transmit')
      assert.equal(bytes?.value, 1500)
      assert.equal(settings.logs.filter((l) => l.includes('otlp: export failing')).length, 1, settings.logs.join('\n'))
    })
  })
})
