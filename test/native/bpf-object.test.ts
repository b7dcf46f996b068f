import assert from 'node:assert/strict'
import { loadNative, NativeError } from '../../src/native/index.ts'
import { kernelProgramIds, NATIVE_TEST_OBJECT, openFdCount, openNativeTest, triggerGetppid, u32 } from './native-test-object.ts'

const BPF_MAP_TYPE_HASH = 1
const BPF_PROG_TYPE_SOCKET_FILTER = 1
const BPF_PROG_TYPE_TRACEPOINT = 5

function assertNativeError(fn: () => unknown, code: string, op?: RegExp): NativeError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof NativeError, `expected a NativeError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (op) assert.match(error.op, op)
    return error
  }
  assert.fail('expected a NativeError')
}

describe('native BpfObject and BpfMap', () => {
  it('loads with globals, lists its programs by kernel id, attaches, and counts in its maps', () => {
    const object = openNativeTest(42)
    try {
      const programs = object.programs()
      assert.deepEqual(programs.map((p) => [p.name, p.section]), [['on_getppid', 'tracepoint/syscalls/sys_enter_getppid']])
      assert.ok(kernelProgramIds().has(programs[0]!.id), 'bpftool lists the program')
      assert.equal(object.programFd('on_getppid'), programs[0]!.fd)

      const counts = object.map('counts')
      assert.equal(counts.type, BPF_MAP_TYPE_HASH)
      assert.deepEqual([counts.keySize, counts.valueSize, counts.perCpu], [4, 8, false])
      const link = object.attach('on_getppid')
      triggerGetppid(25)
      object.detach(link)
      triggerGetppid(5)
      const entries = counts.dump()
      assert.equal(entries.count, 1)
      assert.equal(entries.keys.readUInt32LE(0), 42, 'the tag global reached the program')
      assert.equal(entries.values.readBigUInt64LE(0), 25n, 'nothing counted after detach')
      assert.equal(counts.lookup(u32(42))?.readBigUInt64LE(0), 25n)
      assert.equal(counts.lookup(u32(7)), null)

      const perCpu = object.map('percpu_counts')
      assert.equal(perCpu.perCpu, true)
      assert.equal(perCpu.valueSize, 8, 'u32 per CPU, rounded up to 8')
      assert.ok(perCpu.possibleCpus >= 1)
      const slots = perCpu.lookup(u32(0))!
      assert.equal(slots.length, perCpu.possibleCpus * 8)
      let sum = 0
      for (let cpu = 0; cpu < perCpu.possibleCpus; cpu++) sum += slots.readUInt32LE(cpu * 8)
      assert.equal(sum, 25)
    } finally {
      object.close()
    }
  })

  it('applies map sizes, dumps 10k entries in batches (on a worker thread too) and deletes many at once', async () => {
    const object = openNativeTest(1, { mapSizes: { counts: 16384 } })
    try {
      const counts = object.map('counts')
      assert.equal(counts.maxEntries, 16384)
      const n = 10000
      for (let i = 0; i < n; i++) counts.update(u32(i), Buffer.from(new BigUint64Array([BigInt(i * 3)]).buffer))
      const entries = counts.dump()
      assert.equal(entries.count, n)
      assert.equal(entries.keys.length, n * 4)
      assert.equal(entries.values.length, n * 8)
      const seen = new Set<number>()
      for (let i = 0; i < n; i++) {
        const key = entries.keys.readUInt32LE(i * 4)
        assert.equal(entries.values.readBigUInt64LE(i * 8), BigInt(key * 3))
        seen.add(key)
      }
      assert.equal(seen.size, n)
      const read = await counts.dumpAsync()
      assert.equal(read.count, n, 'dumpAsync reads the same entries')
      assert.equal(read.keys.length, n * 4)
      for (let i = 0; i < n; i++) assert.equal(read.values.readBigUInt64LE(i * 8), BigInt(read.keys.readUInt32LE(i * 4) * 3))

      // Every other key, plus keys that are not there: those are skipped, not errors.
      const doomed = Buffer.alloc(4 * (n / 2 + 2))
      for (let i = 0; i < n / 2; i++) doomed.writeUInt32LE(i * 2, i * 4)
      doomed.writeUInt32LE(999999, (n / 2) * 4)
      doomed.writeUInt32LE(888888, (n / 2 + 1) * 4)
      assert.equal(counts.deleteMany(doomed, n / 2 + 2), n / 2)
      const left = counts.dump()
      assert.equal(left.count, n / 2)
      for (let i = 0; i < left.count; i++) assert.equal(left.keys.readUInt32LE(i * 4) % 2, 1)
      assert.equal(counts.delete(u32(1)), true)
      assert.equal(counts.delete(u32(1)), false)

      // Taken by key: each entry as its removal read it (a value changed since the dump included); missing keys skipped.
      counts.update(u32(3), Buffer.from(new BigUint64Array([12345n]).buffer))
      const taken = counts.takeMany(Buffer.concat([u32(3), u32(999999), u32(5)]), 3)
      assert.equal(taken.count, 2)
      assert.deepEqual([taken.keys.readUInt32LE(0), taken.keys.readUInt32LE(4)], [3, 5])
      assert.deepEqual([taken.values.readBigUInt64LE(0), taken.values.readBigUInt64LE(8)], [12345n, 15n])
      assert.equal(counts.lookup(u32(3)), null)
      counts.update(u32(3), Buffer.from(new BigUint64Array([9n]).buffer))
      counts.update(u32(5), Buffer.from(new BigUint64Array([15n]).buffer))

      // Read-and-remove in one pass: every remaining entry comes back once, and the map is empty after.
      const drained = counts.dumpAndDelete()
      assert.equal(drained.count, n / 2 - 1)
      for (let i = 0; i < drained.count; i++) {
        const key = drained.keys.readUInt32LE(i * 4)
        assert.equal(drained.values.readBigUInt64LE(i * 8), BigInt(key * 3))
      }
      assert.equal(counts.dump().count, 0)
      assert.equal(counts.dumpAndDelete().count, 0)
    } finally {
      object.close()
    }
  })

  it('dumps an array map (batch lookup on arrays) and a per-CPU map', () => {
    const object = openNativeTest(1)
    try {
      const perCpu = object.map('percpu_counts')
      const value = Buffer.alloc(perCpu.valueSize * perCpu.possibleCpus)
      value.writeUInt32LE(9, 0)
      perCpu.update(u32(2), value)
      const entries = perCpu.dump()
      assert.equal(entries.count, 4, 'arrays hold every index')
      assert.equal(entries.values.length, 4 * perCpu.valueSize * perCpu.possibleCpus)
      const index = [0, 1, 2, 3].find((i) => entries.keys.readUInt32LE(i * 4) === 2)!
      assert.equal(entries.values.readUInt32LE(index * perCpu.valueSize * perCpu.possibleCpus), 9)
    } finally {
      object.close()
    }
  })

  it('detaches on close: the program leaves the kernel and no fd leaks over repeated open/close', () => {
    const before = openFdCount()
    let lastIds: number[] = []
    for (let round = 0; round < 20; round++) {
      const object = openNativeTest(round)
      object.attach('on_getppid')
      object.map('counts').dump()
      lastIds = object.programs().map((p) => p.id)
      object.close()
      object.close()
    }
    const loaded = kernelProgramIds()
    for (const id of lastIds) assert.ok(!loaded.has(id), `program ${id} still loaded`)
    assert.equal(openFdCount(), before)
  })

  it('finishes a dump on a worker thread when its object is closed meanwhile', async () => {
    const object = openNativeTest(1, { mapSizes: { counts: 65536 } })
    const counts = object.map('counts')
    for (let i = 0; i < 50_000; i++) counts.update(u32(i), Buffer.alloc(8))
    const reading = counts.dumpAsync()
    object.close()
    assert.equal((await reading).count, 50_000)
  })

  it('throws NativeError with the verifier log when a program is rejected', () => {
    const error = assertNativeError(() => new (loadNative().BpfObject)(NATIVE_TEST_OBJECT, {}), 'EACCES', /^bpf_object__load/)
    assert.match(error.log ?? '', /invalid access to map value/)
    assert.match(error.log ?? '', /rejected_by_verifier/)
  })

  it('throws, never crashes, on bad arguments and use after close', () => {
    const { BpfObject } = loadNative()
    assertNativeError(() => new BpfObject('/nonexistent/x.bpf.o'), 'ENOENT', /^bpf_object__open_file/)
    assertNativeError(() => new BpfObject(42 as unknown as string), 'EINVAL')
    assertNativeError(() => openNativeTest(1, { globals: { tag: Buffer.alloc(2) } }), 'EINVAL', /globals\.tag/)
    assertNativeError(() => openNativeTest(1, { globals: { nope: Buffer.alloc(4) } }), 'ENOENT')
    assertNativeError(() => openNativeTest(1, { mapSizes: { nope: 4 } }), 'ENOENT')
    assertNativeError(() => openNativeTest(1, { disabledPrograms: ['nope'] }), 'ENOENT')
    const object = openNativeTest(1)
    const counts = object.map('counts')
    assertNativeError(() => object.attach('nope'), 'ENOENT')
    assertNativeError(() => object.map('nope'), 'ENOENT')
    assertNativeError(() => object.detach(12345), 'ENOENT')
    assertNativeError(() => counts.lookup(Buffer.alloc(3)), 'EINVAL')
    assertNativeError(() => counts.lookup('key' as unknown as Buffer), 'EINVAL')
    assertNativeError(() => counts.update(u32(1), Buffer.alloc(4)), 'EINVAL')
    assertNativeError(() => counts.deleteMany(Buffer.alloc(8), 3), 'EINVAL')
    assertNativeError(() => counts.takeMany(Buffer.alloc(8), 3), 'EINVAL')
    assertNativeError(() => object.attachUprobe('on_getppid', {} as never), 'EINVAL')
    assertNativeError(() => new (loadNative() as unknown as { BpfMap: new () => unknown }).BpfMap(), 'EINVAL')
    object.close()
    assertNativeError(() => counts.dump(), 'EBADF')
    assertNativeError(() => counts.dumpAsync(), 'EBADF')
    assertNativeError(() => object.programs(), 'EBADF')
    assertNativeError(() => object.attach('on_getppid'), 'EBADF')
  })

  it('probes program types', () => {
    const { probeProgramType } = loadNative()
    assert.equal(probeProgramType(BPF_PROG_TYPE_SOCKET_FILTER), true)
    assert.equal(probeProgramType(BPF_PROG_TYPE_TRACEPOINT), true)
    assert.throws(() => probeProgramType(-1), NativeError)
  })
})
