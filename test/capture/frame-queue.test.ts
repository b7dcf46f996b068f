import assert from 'node:assert/strict'
import { FrameQueue } from '../../src/capture/frame-queue.ts'
import { FRAME_HEADER_SIZE } from '../../src/native/frames.ts'
import type { PacketBatch } from '../../src/native/types.ts'

/** A batch laid out as the native PacketRing writes it, one frame per payload, stamped 1, 2, 3, ... */
function batchOf(payloads: string[], firstStamp: number): PacketBatch {
  const parts = payloads.map((text, i) => {
    const bytes = Buffer.from(text)
    const frame = Buffer.alloc(FRAME_HEADER_SIZE + ((bytes.length + 7) & ~7))
    frame.writeBigUInt64LE(BigInt(firstStamp + i), 0)
    frame.writeUInt32LE(bytes.length, 12)
    frame.writeUInt32LE(bytes.length, 16)
    frame.writeUInt16LE(0x0800, 20)
    bytes.copy(frame, FRAME_HEADER_SIZE)
    return frame
  })
  return { data: Buffer.concat(parts), count: payloads.length, lost: 0 }
}

describe('FrameQueue', () => {
  it('hands frames out in capture order, a bounded number at a time, across batches', () => {
    const queue = new FrameQueue({ maxFrames: 100, maxBatches: 10 })
    assert.equal(queue.push(batchOf(['a', 'bb', 'ccc'], 1)), true)
    assert.equal(queue.push(batchOf(['dddddddddd', 'e'], 4)), true)
    assert.equal(queue.size, 5)
    const seen: string[] = []
    const take = (limit: number) => queue.take(limit, (frame) => seen.push(`${frame.timestampNs}:${frame.data.toString()}`))
    assert.equal(take(2), 2)
    assert.deepEqual(seen, ['1:a', '2:bb'])
    assert.equal(take(2), 2)
    assert.equal(take(2), 1)
    assert.equal(take(2), 0)
    assert.deepEqual(seen, ['1:a', '2:bb', '3:ccc', '4:dddddddddd', '5:e'])
    assert.equal(queue.size, 0)
  })

  it('refuses a batch beyond its frame or batch limit, and clear() says how many frames it forgot', () => {
    const frames = new FrameQueue({ maxFrames: 4, maxBatches: 10 })
    assert.equal(frames.push(batchOf(['a', 'b', 'c'], 1)), true)
    assert.equal(frames.push(batchOf(['d', 'e'], 4)), false)
    assert.equal(frames.push(batchOf(['d'], 4)), true)
    assert.equal(frames.size, 4)
    assert.equal(frames.clear(), 4)
    const batches = new FrameQueue({ maxFrames: 100, maxBatches: 1 })
    assert.equal(batches.push(batchOf(['a'], 1)), true)
    assert.equal(batches.push(batchOf(['b'], 2)), false)
  })

  it('skips the rest of a batch whose count promises more frames than its bytes hold', () => {
    const queue = new FrameQueue({ maxFrames: 100, maxBatches: 10 })
    queue.push({ ...batchOf(['a'], 1), count: 3 })
    queue.push(batchOf(['b'], 2))
    const seen: string[] = []
    queue.take(10, (frame) => seen.push(frame.data.toString()))
    assert.deepEqual(seen, ['a', 'b'])
    assert.equal(queue.size, 0)
  })
})
