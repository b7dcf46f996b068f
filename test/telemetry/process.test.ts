import assert from 'node:assert/strict'
import { ProcessTelemetry } from '../../src/telemetry/process.ts'
import { SelfTelemetry } from '../../src/telemetry/self.ts'

describe('process telemetry', function () {
  this.timeout(30_000)

  it('reports resident memory at once, and CPU time and event-loop delay per 10 s window, a stall included', async () => {
    const telemetry = new SelfTelemetry()
    const process_ = new ProcessTelemetry(telemetry)
    const value = (name: string) => telemetry.get(name)?.points().reduce((sum, p) => sum + p.value, 0)
    assert.ok(value('process.memory.usage')! > 10 * 1024 * 1024, 'RSS in bytes')
    assert.deepEqual(telemetry.get('nodejs.eventloop.delay.p99')?.points(), [], 'no window closed yet')
    process_.start()
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const stalled = Date.now() + 300
      while (Date.now() < stalled) { /* a 300 ms stall of the event loop */ }
      await new Promise((resolve) => setTimeout(resolve, 9500))
      assert.ok(value('nodejs.eventloop.delay.max')! >= 0.29, `max ${value('nodejs.eventloop.delay.max')} s`)
      assert.ok(value('nodejs.eventloop.delay.p50')! < 0.1, `p50 ${value('nodejs.eventloop.delay.p50')} s`)
      assert.ok(value('process.cpu.time')! >= 0.29, `cpu ${value('process.cpu.time')} s`)
    } finally {
      process_.stop()
    }
  })
})
