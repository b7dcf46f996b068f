import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { framesOf, PacketType, type Frame } from '../../src/native/frames.ts'
import { loadNative, NativeError, type PacketRing } from '../../src/native/index.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import { sendUdp, sendUdpFromHost, transportOf } from '../capture/traffic.ts'
import { openFdCount, waitFor } from './native-test-object.ts'

const PORT = 39153

function ifindexOf(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'))
}

/** Packet sockets of this process, as /proc/net/packet lists them (by inode). */
function packetSocketCount(): number {
  return readFileSync('/proc/net/packet', 'utf8').trim().split('\n').length - 1
}

describe('native PacketRing (AF_PACKET TPACKET_V3, real veth)', () => {
  let host: TestHost
  before(() => { host = createTestHost() })
  after(() => host?.destroy())

  it('delivers frames from the network header on, with ifindex, ethertype and pkt_type, both ways', async () => {
    const frames: Frame[] = []
    const sockets = packetSocketCount()
    const fds = openFdCount()
    const ring: PacketRing = new (loadNative().PacketRing)({ interface: host.hostInterface, blockSize: 1 << 16, blockCount: 8 }, (batch) => {
      for (const frame of framesOf(batch)) frames.push({ ...frame, data: Buffer.from(frame.data) })
    })
    try {
      assert.equal(packetSocketCount(), sockets + 1)
      await sendUdp(host.ipv4, PORT, 10, 'out')
      sendUdpFromHost(host, host.gatewayIpv4, PORT, 10, 'in')
      const ours = () => frames.filter((f) => f.ethertype === 0x0800 && f.data[9] === 17 && transportOf(f.data).destinationPort === PORT)
      await waitFor('20 UDP frames', () => ours().length >= 20)
      const veth = ifindexOf(host.hostInterface)
      assert.ok(frames.every((f) => f.ifindex === veth))
      const outgoing = ours().filter((f) => f.pktType === PacketType.OUTGOING)
      const incoming = ours().filter((f) => f.pktType === PacketType.HOST)
      assert.deepEqual(outgoing.map((f) => transportOf(f.data).payload.toString()), [...Array(10).keys()].map((i) => `out${i}`))
      assert.deepEqual(incoming.map((f) => transportOf(f.data).payload.toString()), [...Array(10).keys()].map((i) => `in${i}`))
      for (const frame of ours()) {
        assert.equal(frame.data[0]! >> 4, 4, 'offset 0 is the IPv4 header')
        assert.equal(frame.origlen, frame.data.length)
        assert.ok(frame.timestampNs > BigInt(Date.now() - 60_000) * 1_000_000n)
      }
      const stats = ring.stats()
      assert.equal(stats.queueDrops, 0)
      assert.equal(stats.drops, 0)
      assert.ok(stats.packets >= 20 && stats.delivered >= 20, JSON.stringify(stats))
    } finally {
      ring.close()
      ring.close()
    }
    assert.equal(packetSocketCount(), sockets, 'the packet socket is gone')
    assert.equal(openFdCount(), fds)
  })

  it('throws NativeError on bad options', () => {
    const { PacketRing } = loadNative()
    const code = (expected: string) => (e: unknown) => e instanceof NativeError && e.code === expected
    assert.throws(() => new PacketRing({ interface: 'nl-no-such-if' }, () => {}), code('ENODEV'))
    assert.throws(() => new PacketRing({ blockSize: 1000 }, () => {}), code('EINVAL'))
    assert.throws(() => new PacketRing({ filterProgramFd: 999_999 }, () => {}), code('EBADF'))
    assert.throws(() => new PacketRing({}, 42 as never), code('EINVAL'))
    assert.throws(() => new PacketRing(null as never, () => {}), code('EINVAL'))
  })
})
