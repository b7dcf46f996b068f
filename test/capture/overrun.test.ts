// A capture that cannot keep up: a ring of two small blocks and a queue to JS of one batch, while the event loop is
// blocked sending 20k datagrams. Every frame the filter accepted is accounted for exactly once: delivered to JS,
// dropped by the kernel for want of ring space, or dropped because JS was behind.
import assert from 'node:assert/strict'
import { PacketCapture } from '../../src/capture/packet-capture.ts'
import { framesOf } from '../../src/native/frames.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import { sendUdpFromHost } from './traffic.ts'

const PORT = 39255
const DATAGRAMS = 20_000

describe('PacketCapture overrun accounting (real namespaces)', function () {
  this.timeout(60_000)
  let host: TestHost
  before(() => { host = createTestHost() })
  after(() => host?.destroy())

  it('delivered + ring drops + queue drops = frames the filter accepted, and takeDrops reports the losses', async () => {
    let seenByJs = 0
    const capture = PacketCapture.open(
      { ports: [PORT], interface: host.hostInterface, blockSize: 4096, blockCount: 2, blockTimeoutMs: 5, maxQueuedBatches: 1 },
      (batch) => { for (const _frame of framesOf(batch)) seenByJs++ },
    )
    let closed = false
    try {
      // Synchronous: this event loop takes no batch while the datagrams pour in.
      sendUdpFromHost(host, host.gatewayIpv4, PORT, DATAGRAMS, 'overrun', 200)
      await new Promise((resolve) => setTimeout(resolve, 500))
      const losses = capture.takeDrops()
      capture.close()
      closed = true
      const { ring, filter } = capture.stats()
      assert.equal(filter.matched, DATAGRAMS, 'the filter saw every datagram')
      assert.equal(ring.packets, filter.matched, 'the kernel counted every accepted frame')
      assert.ok(ring.drops > 0, 'the ring overflowed')
      assert.ok(ring.queueDrops > 0, 'the queue to JS overflowed')
      assert.equal(ring.delivered, seenByJs)
      assert.equal(ring.delivered + ring.drops + ring.queueDrops, ring.packets,
        `delivered ${ring.delivered} + ring drops ${ring.drops} + queue drops ${ring.queueDrops} vs ${ring.packets}`)
      const reported = Object.fromEntries(losses.map(({ reason, count }) => [reason, count]))
      assert.equal(reported.capture_ring_full, ring.drops)
      // Frames still queued or in the ring at close() count as queue drops then, after the takeDrops above.
      assert.ok((reported.capture_queue_full ?? 0) <= ring.queueDrops)
      assert.equal(capture.takeDrops().reduce((sum, d) => sum + d.count, 0) + (reported.capture_queue_full ?? 0), ring.queueDrops)
    } finally {
      if (!closed) capture.close()
    }
  })
})
