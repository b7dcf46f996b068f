import assert from 'node:assert/strict'
import { HealthServer, HealthState } from '../../src/telemetry/health.ts'

async function probe(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('health endpoint', () => {
  let server: HealthServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('answers 503 while starting, 200 when running, 503 while shutting down', async () => {
    const state = new HealthState()
    server = new HealthServer('127.0.0.1:0', state)
    const { port } = await server.listen()
    assert.notEqual(port, 0)
    const starting = await probe(port)
    assert.equal(starting.status, 503)
    assert.equal(starting.body.status, 'Server not available')
    assert.equal(starting.body.phase, 'starting')
    state.phase = 'running'
    const running = await probe(port)
    assert.equal(running.status, 200)
    assert.equal(running.body.status, 'Server available')
    assert.match(String(running.body.upSince), /^\d{4}-\d\d-\d\dT/)
    assert.match(String(running.body.uptime), /^\d+\.\d{3}s$/)
    state.phase = 'shutting_down'
    assert.equal((await probe(port)).status, 503)
  })

  it('names failed components in a 503 body', async () => {
    const state = new HealthState()
    state.phase = 'running'
    state.markFailed('"dns" receiver', new Error('failed to start "dns" receiver: EPERM'))
    server = new HealthServer('127.0.0.1:0', state)
    const { port } = await server.listen()
    const { status, body } = await probe(port)
    assert.equal(status, 503)
    assert.deepEqual(body.failed, [{ component: '"dns" receiver', error: 'failed to start "dns" receiver: EPERM' }])
  })

  it('answers 404 elsewhere and 405 to other methods', async () => {
    server = new HealthServer('127.0.0.1:0', new HealthState())
    const { port } = await server.listen()
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404)
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' })).status, 405)
  })

  it('fails to listen with an error naming the endpoint, and closes idempotently', async () => {
    const first = new HealthServer('127.0.0.1:0', new HealthState())
    const { port } = await first.listen()
    const second = new HealthServer(`127.0.0.1:${port}`, new HealthState())
    await assert.rejects(second.listen(), new RegExp(`health_check: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`))
    await second.close()
    await first.close()
    await first.close()
  })
})
