// Captured batches waiting for JS, handed out a bounded number of frames at a time. One ring block holds up to
// ~10k frames (~100 ms of DNS work), and the native queue hands every waiting batch over in one turn of the event
// loop, so handling batches whole held timers (flushes, exports, health) for a second or more under load. The owner
// takes a slice, yields (setImmediate) and takes the next, in capture order. Bounded in frames (batches range from
// one frame to a full block, so a count of batches bounds neither time nor memory) and in batches (each pins a
// native buffer): a batch beyond either bound is refused, and the caller counts its frames as dropped.
import { frameAt, hasFrameAt, nextFrameOffset, type Frame } from '../native/frames.ts'
import type { PacketBatch } from '../native/types.ts'

export interface FrameQueueLimits {
  maxFrames: number
  maxBatches: number
}

export class FrameQueue {
  private readonly limits: FrameQueueLimits
  private readonly batches: PacketBatch[] = []
  /** Position in `batches[0]`: frames already handed out and the byte offset of the next one. */
  private taken = 0
  private offset = 0
  private waiting = 0

  constructor(limits: FrameQueueLimits) {
    this.limits = limits
  }

  /** Frames not yet handed out. */
  get size(): number {
    return this.waiting
  }

  /** Queues a batch; false (nothing queued) when it would exceed either limit. */
  push(batch: PacketBatch): boolean {
    if (this.batches.length >= this.limits.maxBatches || this.waiting + batch.count > this.limits.maxFrames) return false
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
