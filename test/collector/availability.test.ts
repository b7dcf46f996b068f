// A collector that is not there yet, and one that restarts mid-run, over OTLP/gRPC and OTLP/HTTP: data still
// arrives, cumulative totals stay monotonic and correct, each change of state is logged once, nothing crashes.
import assert from 'node:assert/strict'
import type { Exporter, Host } from '../../src/component/types.ts'
import type { TestSettings } from '../helpers/components.ts'
import { TestCollector } from '../helpers/collector.ts'
import { flowRecord } from '../metrics/samples.ts'
import { exporterFor, TRANSPORTS } from './transports.ts'

function failures(settings: TestSettings): number {
  const points = settings.telemetry.get('netlens.exporter.exports')?.points() ?? []
  return points.filter((p) => p.attributes['outcome'] === 'failure').reduce((sum, p) => sum + p.value, 0)
}

function linesWith(settings: TestSettings, text: string): string[] {
  return settings.logs.filter((line) => line.includes(text))
}

for (const transport of TRANSPORTS) {
  describe(`${transport.type} exporter with a collector that comes and goes`, function () {
    this.timeout(600_000)
    let collector: TestCollector
    let exporter: Exporter | undefined
    const fatal: Error[] = []
    const host: Host = { reportFatal: (error) => fatal.push(error) }

    beforeEach(async () => {
      collector = await TestCollector.create()
      fatal.length = 0
    })

    afterEach(async () => {
      await exporter?.shutdown()
      exporter = undefined
      await collector.destroy()
    })

    /** The transmit total of the flow series to `address`, as every export the collector wrote saw it. */
    function transmitted(address: string): Array<{ value: number; start: number }> {
      return collector.metricsNamed('netflow.bytes').flatMap((m) =>
        m.points
          .filter((p) => p.attributes['destination.address'] === address && p.attributes['network.io.direction'] === 'transmit')
          .map((p) => ({ value: p.value ?? 0, start: p.startTimeUnixNano })),
      )
    }

    it('delivers what was recorded while the collector was down once it comes up, logging each state once', async function () {
      this.timeout(60_000)
      const { exporter: created, settings } = exporterFor(transport, collector, { timeout: '200ms' })
      exporter = created
      await exporter.start(host)
      exporter.consume({ records: [flowRecord({ destination: { address: '10.9.0.1', port: 80 } })] })
      await collector.waitFor(() => failures(settings) >= 3, 'three failed exports')
      assert.equal(linesWith(settings, `${transport.type}: export failing:`).length, 1, settings.logs.join('\n'))

      await collector.start()
      await collector.waitFor(() => transmitted('10.9.0.1').some((p) => p.value === 1500), 'the flow recorded while down')
      await collector.waitFor(() => linesWith(settings, `${transport.type}: export recovered`).length > 0, 'the recovered line')
      exporter.consume({ records: [flowRecord({ destination: { address: '10.9.0.1', port: 80 } })] })
      await collector.waitFor(() => transmitted('10.9.0.1').some((p) => p.value === 3000), 'the total after recovery')

      assert.equal(linesWith(settings, `${transport.type}: export failing:`).length, 1, settings.logs.join('\n'))
      assert.equal(linesWith(settings, `${transport.type}: export recovered`).length, 1, settings.logs.join('\n'))
      assert.deepEqual(fatal, [])
    })

    it('keeps cumulative totals monotonic and correct across a collector restart', async function () {
      this.timeout(60_000)
      await collector.start()
      const { exporter: created, settings } = exporterFor(transport, collector, { timeout: '200ms' })
      exporter = created
      await exporter.start(host)
      const flow = () => flowRecord({ destination: { address: '10.9.0.2', port: 443 }, bytesSent: 100, bytesReceived: 0 })

      exporter.consume({ records: [flow(), flow()] })
      await collector.waitFor(() => transmitted('10.9.0.2').some((p) => p.value === 200), 'the first 200 bytes')

      await collector.stop()
      exporter.consume({ records: [flow()] })
      const before = failures(settings)
      await collector.waitFor(() => failures(settings) >= before + 2, 'failed exports while the collector is down')

      await collector.start()
      exporter.consume({ records: [flow(), flow()] })
      await collector.waitFor(() => transmitted('10.9.0.2').some((p) => p.value === 500), 'the total of 500 bytes after restart')

      const points = transmitted('10.9.0.2')
      const values = points.map((p) => p.value)
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `monotonic: ${values.join(',')}`)
      assert.equal(new Set(points.map((p) => p.start)).size, 1, 'one start time: the collector sees one cumulative series')
      assert.ok(values.includes(200) && values.at(-1) === 500, values.join(','))
      assert.equal(linesWith(settings, `${transport.type}: export failing:`).length, 1, settings.logs.join('\n'))
      assert.equal(linesWith(settings, `${transport.type}: export recovered`).length, 1, settings.logs.join('\n'))
      assert.deepEqual(fatal, [])
    })
  })
}
