import assert from 'node:assert/strict'
import { recordsOf } from '../../src/native/frames.ts'
import { loadNative, NativeError, type RingBatch } from '../../src/native/index.ts'
import { openFdCount, openNativeTest, triggerGetppid, waitFor } from './native-test-object.ts'

// struct native_test_event in test/bpf/native_test.bpf.c
const EVENT_SIZE = 16

describe('native RingReader', () => {
  it('hands over N events as N records, in order, in batches', async () => {
    const object = openNativeTest(5)
    const batches: RingBatch[] = []
    const reader = new (loadNative().RingReader)(object.map('events'), { maxBatchRecords: 64, maxBatchDelayMs: 20 }, (b) => batches.push(b))
    try {
      object.attach('on_getppid')
      const n = 1000
      triggerGetppid(n)
      await waitFor('1000 records', () => reader.stats().records === n)
      const records = batches.flatMap((b) => [...recordsOf(b)])
      assert.equal(records.length, n)
      records.forEach((record, i) => {
        assert.equal(record.length, EVENT_SIZE)
        assert.equal(record.readBigUInt64LE(0), BigInt(i), 'sequence')
        assert.equal(record.readUInt32LE(8), 5, 'tag')
        assert.equal(record.readUInt32LE(12), process.pid)
      })
      assert.ok(batches.length >= n / 64, 'no batch exceeds maxBatchRecords')
      assert.ok(batches.every((b) => b.count <= 64 && b.lost === 0))
      assert.deepEqual(reader.stats(), { records: n, batches: batches.length, lost: 0 })
    } finally {
      reader.close()
      object.close()
    }
  })

  it('flushes a partial batch after maxBatchDelayMs', async () => {
    const object = openNativeTest(6)
    let received = 0
    const reader = new (loadNative().RingReader)(object.map('events'), { maxBatchRecords: 4096, maxBatchDelayMs: 10 }, (b) => { received += b.count })
    try {
      object.attach('on_getppid')
      triggerGetppid(3)
      await waitFor('3 records', () => received === 3)
    } finally {
      reader.close()
      object.close()
    }
  })

  it('reads records submitted without a wake-up only when asked to poll (pollIntervalMs)', async () => {
    const noWakeup = Buffer.alloc(8)
    noWakeup.writeBigUInt64LE(1n) // BPF_RB_NO_WAKEUP
    const object = openNativeTest(7, { globals: { submit_flags: noWakeup } })
    let waking = 0
    let polling = 0
    const options = { maxBatchRecords: 4096, maxBatchDelayMs: 5 }
    const onWakeups = new (loadNative().RingReader)(object.map('events'), options, (b) => { waking += b.count })
    try {
      object.attach('on_getppid')
      triggerGetppid(3)
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(waking, 0, 'nothing woke the reader')
      const polled = new (loadNative().RingReader)(object.map('events'), { ...options, pollIntervalMs: 5 }, (b) => { polling += b.count })
      try {
        await waitFor('3 records', () => polling === 3)
        triggerGetppid(2)
        await waitFor('5 records', () => polling === 5)
      } finally {
        polled.close()
      }
    } finally {
      onWakeups.close()
      object.close()
    }
  })

  it('counts batches that JS could not take in time as lost, and reports them with the next batch', async () => {
    const object = openNativeTest(7)
    const batches: RingBatch[] = []
    const reader = new (loadNative().RingReader)(object.map('events'), { maxBatchRecords: 10, maxQueuedBatches: 1 }, (b) => batches.push(b))
    try {
      object.attach('on_getppid')
      // The event loop stays blocked until the reader thread has seen all 1000 events: one batch of 10 waits in the
      // queue, the 99 others are dropped.
      triggerGetppid(1000)
      const deadline = Date.now() + 10000
      while (reader.stats().lost < 990) {
        if (Date.now() > deadline) assert.fail(`lost ${reader.stats().lost} of the expected 990`)
      }
      await waitFor('the queued batch', () => batches.length === 1)
      assert.deepEqual([batches[0]!.count, batches[0]!.lost], [10, 0])
      triggerGetppid(10)
      await waitFor('the next batch', () => batches.length === 2)
      assert.deepEqual([batches[1]!.count, batches[1]!.lost], [10, 990])
      assert.deepEqual(reader.stats(), { records: 20, batches: 2, lost: 990 })
    } finally {
      reader.close()
      object.close()
    }
  })

  it('closes idempotently without leaking fds, delivers nothing after close, and rejects bad arguments', async () => {
    const before = openFdCount()
    const { RingReader } = loadNative()
    for (let round = 0; round < 10; round++) {
      const object = openNativeTest(round)
      let afterClose = 0
      let closed = false
      const reader = new RingReader(object.map('events'), { maxBatchDelayMs: 1000 }, () => { if (closed) afterClose++ })
      object.attach('on_getppid')
      triggerGetppid(5)
      reader.close()
      closed = true
      reader.close()
      object.close()
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(afterClose, 0)
      assert.equal(reader.stats().lost + reader.stats().records, 5, 'pending records are counted as lost at close')
    }
    assert.equal(openFdCount(), before)

    const object = openNativeTest(1)
    try {
      assert.throws(() => new RingReader(object.map('counts'), {}, () => {}), (e: NativeError) => e.code === 'EINVAL')
      assert.throws(() => new RingReader({} as never, {}, () => {}), (e: NativeError) => e.code === 'EINVAL')
      assert.throws(() => new RingReader(object.map('events'), {}, 'x' as never), (e: NativeError) => e.code === 'EINVAL')
      assert.throws(() => new RingReader(object.map('events'), { maxBatchRecords: -1 }, () => {}), NativeError)
    } finally {
      object.close()
    }
  })
})
