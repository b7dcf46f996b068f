// Captured batches waiting for JS, handed out a bounded number of frames at a time. One ring block holds up to
// ~10k frames (~100 ms of DNS work), and the native queue hands every waiting batch over in one turn of the event
// loop, so handling batches whole held timers (flushes, exports, health) for a second or more under load. The owner
// takes a slice, yields (setImmediate) and takes the next, in capture order. Bounded like the native queue: a batch
// beyond `maxBatches` is refused, and the caller counts its frames as dropped.
import { frameAt, hasFrameAt, nextFrameOffset, type Frame } from '../native/frames.ts'
import type { PacketBatch } from '../native/types.ts'

export class FrameQueue {
  private readonly maxBatches: number
  private readonly batches: PacketBatch[] = []
  /** Position in `batches[0]`: frames already handed out and the byte offset of the next one. */
  private taken = 0
  private offset = 0
  private waiting = 0

  constructor(maxBatches: number) {
    this.maxBatches = maxBatches
  }

  /** Frames not yet handed out. */
  get size(): number {
    return this.waiting
  }

  /** Queues a batch; false (nothing queued) when `maxBatches` are already waiting. */
  push(batch: PacketBatch): boolean {
    if (this.batches.length >= this.maxBatches) return false
    this.batches.push(batch)
    this.waiting += batch.count
    return true
  }

  /** Hands up to `limit` frames to `handle` in capture order; returns how many it handed. */
  take(limit: number, handle: (frame: Frame) => void): number {
    let handed = 0
    while (handed < limit && this.batches.length > 0) {
      const batch = this.batches[0] as PacketBatch
      if (this.taken >= batch.count || !hasFrameAt(batch, this.offset)) {
        this.waiting -= batch.count - this.taken
        this.batches.shift()
        this.taken = 0
        this.offset = 0
        continue
      }
      const frame = frameAt(batch, this.offset)
      this.offset = nextFrameOffset(batch, this.offset)
      this.taken++
      this.waiting--
      handed++
      handle(frame)
    }
    return handed
  }

  /** Forgets every waiting frame; returns how many there were. */
  clear(): number {
    const count = this.waiting
    this.batches.length = 0
    this.taken = 0
    this.offset = 0
    this.waiting = 0
    return count
  }
}
