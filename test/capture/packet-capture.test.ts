import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { PacketCapture } from '../../src/capture/packet-capture.ts'
import { framesOf, PacketType, type Frame } from '../../src/native/frames.ts'
import { decodeFrame, isFragment } from '../../src/net/packet.ts'
import { createTestHost, type TestHost } from '../helpers/netns.ts'
import { openFdCount, waitFor } from '../native/native-test-object.ts'
import { fragmentsOf } from '../net/fragments.ts'
import { udpSegment } from '../receivers/dns/builders.ts'
import { runInHost, sendRawPackets, sendUdp, sendUdpFromHost, tcpPingPong, transportOf } from './traffic.ts'

const PORT = 39253
const OTHER_PORT = 39254
const N = 20

function ifindexOf(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'))
}

function collect(options: Parameters<typeof PacketCapture.open>[0]) {
  const frames: Frame[] = []
  const capture = PacketCapture.open({ blockSize: 1 << 16, blockCount: 8, ...options }, (batch) => {
    for (const frame of framesOf(batch)) frames.push({ ...frame, data: Buffer.from(frame.data) })
  })
  return { frames, capture }
}

/** Lets frames still in flight arrive (a block is retired after at most blockTimeoutMs = 50 ms). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300))

describe('PacketCapture (port filter + TPACKET_V3 ring, real namespaces)', () => {
  let host: TestHost
  before(() => { host = createTestHost() })
  after(() => host?.destroy())

  for (const where of ['the host-side veth', 'all interfaces'] as const) {
    it(`captures exactly the UDP datagrams of its port, each way, on ${where}`, async () => {
      const { frames, capture } = collect({ ports: [PORT], ...(where === 'all interfaces' ? {} : { interface: host.hostInterface }) })
      try {
        await sendUdp(host.ipv4, PORT, N, 'q')
        sendUdpFromHost(host, host.gatewayIpv4, PORT, N, 'a')
        await sendUdp(host.ipv6, PORT, N, 'v6')
        await sendUdp(host.ipv4, OTHER_PORT, N, 'other')
        sendUdpFromHost(host, host.gatewayIpv4, OTHER_PORT, N, 'other')
        await waitFor(`${3 * N} frames`, () => frames.length >= 3 * N)
        await settle()
        assert.equal(frames.length, 3 * N, 'nothing of other ports')
        const veth = ifindexOf(host.hostInterface)
        assert.ok(frames.every((f) => f.ifindex === veth))
        const udp = frames.map((f) => ({ frame: f, ...transportOf(f.data) }))
        assert.ok(udp.every((u) => u.protocol === 17 && (u.destinationPort === PORT || u.sourcePort === PORT)))
        const payloads = (type: number, ethertype: number) =>
          udp.filter((u) => u.frame.pktType === type && u.frame.ethertype === ethertype).map((u) => u.payload.toString())
        const numbered = (prefix: string) => [...Array(N).keys()].map((i) => `${prefix}${i}`)
        assert.deepEqual(payloads(PacketType.OUTGOING, 0x0800), numbered('q'))
        assert.deepEqual(payloads(PacketType.HOST, 0x0800), numbered('a'))
        assert.deepEqual(payloads(PacketType.OUTGOING, 0x86dd), numbered('v6'))

        const { filter, ring } = capture.stats()
        assert.equal(filter.matched, 3 * N)
        assert.ok(filter.notMatched >= 2 * N)
        assert.equal(filter.seen, filter.matched + filter.fragmentKept + filter.loopbackDuplicate + filter.notIp +
          filter.fragment + filter.malformed + filter.notMatched + filter.tcpNoPayload)
        assert.equal(ring.delivered, 3 * N)
        assert.deepEqual([ring.drops, ring.queueDrops], [0, 0])
        assert.deepEqual(capture.takeDrops(), [])
      } finally {
        capture.close()
      }
    })
  }

  it('captures a TCP exchange on its port, leaving its bare ACKs in the kernel', async () => {
    const { frames, capture } = collect({ ports: [PORT], udp: false, interface: host.hostInterface })
    try {
      await sendUdp(host.ipv4, PORT, 5, 'udp is off')
      await tcpPingPong(host, host.gatewayIpv4, PORT)
      const flags = (f: Frame) => f.data[33]! // IPv4 header of 20 bytes, then TCP byte 13
      await waitFor('the FIN exchange', () => frames.filter((f) => flags(f) & 0x01).length >= 2)
      await settle()
      const tcp = frames.map((f) => transportOf(f.data))
      assert.ok(tcp.every((t) => t.protocol === 6 && (t.sourcePort === PORT || t.destinationPort === PORT)))
      const payloads = tcp.map((t) => t.payload.toString()).filter((p) => p.length > 0)
      assert.deepEqual(payloads, ['ping', 'pong'])
      assert.equal(flags(frames.filter((f) => f.pktType === PacketType.HOST)[0]!) & 0x02, 0x02, 'first incoming is the SYN')
      assert.ok(frames.every((f, i) => tcp[i]!.payload.length > 0 || (flags(f) & 0x07) !== 0), 'no bare ACK reached user space')
      assert.ok(capture.stats().filter.tcpNoPayload > 0, 'the bare ACKs were counted')
    } finally {
      capture.close()
    }
  })

  it('hands over TCP segments inside a range user space skips without their payload, their length kept', async () => {
    const { frames, capture } = collect({ ports: [PORT], udp: false, interface: host.hostInterface, skipMinPayload: 1024 })
    const BODY = 256 * 1024
    let send: (() => void) | undefined
    const server = net.createServer((socket) => {
      socket.write('head')
      send = () => socket.end(Buffer.alloc(BODY, 0x78))
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(PORT, host.gatewayIpv4, resolve))
    try {
      const client = runInHost(host, 'python3', ['-c', [
        'import socket',
        `s = socket.create_connection((${JSON.stringify(host.gatewayIpv4)}, ${PORT}), timeout=10)`,
        'n = 0',
        'while True:',
        '    d = s.recv(65536)',
        '    if not d: break',
        '    n += len(d)',
        'print(n)',
      ].join('\n')])
      const fromServer = () => frames.filter((f) => transportOf(f.data).sourcePort === PORT)
      await waitFor('the head segment', () => fromServer().some((f) => transportOf(f.data).payload.toString() === 'head'))
      const head = fromServer().find((f) => transportOf(f.data).payload.toString() === 'head')!
      const seq = head.data.readUInt32BE(20 + 4)
      const [sourcePort, destinationPort] = [PORT, transportOf(head.data).destinationPort]
      const word = (at: number) => head.data.readUInt32BE(at)
      capture.skips.set({
        family: 4, source: [word(12), 0, 0, 0], sourcePort, destination: [word(16), 0, 0, 0], destinationPort,
      }, seq + 4, seq + 4 + BODY)
      send!()
      assert.equal(Number(await client), 4 + BODY)
      await settle()
      const headers = (f: Frame) => 20 + (f.data[32]! >> 4) * 4 // IPv4 header, then the TCP header's length
      const body = fromServer().filter((f) => f.origlen > headers(f) && f !== head)
      assert.ok(body.length > 0)
      // Every body segment lies inside the range: headers only, its payload accounted for by origlen; except a
      // segment carrying less than skipMinPayload (how TCP cut the body varies, the last piece may be small), which
      // comes whole.
      const cut = body.filter((f) => f.data.length === headers(f))
      const whole = body.filter((f) => f.data.length !== headers(f))
      const shapes = body.map((f) => `${f.data.length}/${f.origlen}`).join(' ')
      assert.ok(cut.length > 0, shapes)
      assert.ok(whole.every((f) => f.data.length === f.origlen && f.origlen - headers(f) < 1024), shapes)
      assert.equal(body.reduce((sum, f) => sum + f.origlen - headers(f), 0), BODY)
      assert.equal(capture.stats().filter.payloadSkipped, cut.length)
    } finally {
      capture.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('sees each loopback datagram once, not twice', async () => {
    const { frames, capture } = collect({ ports: [PORT], interface: 'lo' })
    // Other tests may use loopback meanwhile: only frames carrying this test's tag count.
    const tag = `lo${process.pid}-`
    const tagged = () => frames.filter((f) => transportOf(f.data).payload.toString().startsWith(tag))
    try {
      await sendUdp('127.0.0.1', PORT, N, tag)
      await sendUdp('::1', PORT, N, tag)
      await waitFor(`${2 * N} frames`, () => tagged().length >= 2 * N)
      await settle()
      assert.equal(tagged().length, 2 * N)
      assert.ok(tagged().every((f) => f.ifindex === 1 && f.pktType === PacketType.HOST))
      assert.deepEqual(tagged().map((f) => f.ethertype), [...Array(N).fill(0x0800), ...Array(N).fill(0x86dd)])
      const { filter } = capture.stats()
      assert.ok(filter.loopbackDuplicate >= 2 * N)
      assert.ok(filter.matched >= 2 * N)
    } finally {
      capture.close()
    }
  })

  it('keeps the later fragments of a datagram whose first fragment matched, and drops other datagrams\' ones', async () => {
    const { frames, capture } = collect({ ports: [PORT], interface: host.hostInterface })
    try {
      // veth MTU 1500: 3 fragments each, IPv4 and IPv6 alike.
      await sendUdp(host.ipv4, PORT, 3, 'frag', 4000)
      await sendUdp(host.ipv6, PORT, 2, 'frag6', 4000)
      await sendUdp(host.ipv4, OTHER_PORT, 2, 'other', 4000)
      await waitFor('15 fragments', () => frames.length >= 15)
      await settle()
      assert.equal(frames.length, 15)
      const pieces = frames.map((f) => decodeFrame(f.data, f.ethertype))
      assert.ok(pieces.every(isFragment))
      assert.equal(new Set(pieces.map((p) => isFragment(p) && `${p.family} ${p.fragmentId}`)).size, 5)
      const { filter } = capture.stats()
      assert.deepEqual([filter.matched, filter.fragmentKept, filter.fragment], [5, 10, 4])
      assert.deepEqual(capture.takeDrops(), [{ reason: 'ip_fragment', count: 4 }])
      assert.deepEqual(capture.takeDrops(), [])
    } finally {
      capture.close()
    }
  })

  it('drops a later fragment captured before its first one (the filter cannot wait for it)', async () => {
    const { frames, capture } = collect({ ports: [PORT], interface: host.hostInterface })
    try {
      const packets = [host.ipv4, host.ipv6].flatMap((address, i) => {
        const gateway = i === 0 ? host.gatewayIpv4 : host.gatewayIpv6
        const e = { src: gateway, sport: 40000, dst: address, dport: PORT }
        const [first, second] = fragmentsOf(e, udpSegment(e, Buffer.alloc(2000, 'r')), [1200], { id: 0x4e4c0001 + i })
        return [second!, first!, second!]
      })
      sendRawPackets(host.hostInterface, packets)
      await waitFor('4 frames', () => frames.length >= 4)
      await settle()
      assert.deepEqual(frames.map((f) => f.data.length), [packets[1], packets[2], packets[4], packets[5]].map((p) => p!.data.length))
      const { filter } = capture.stats()
      assert.deepEqual([filter.matched, filter.fragmentKept, filter.fragment], [2, 2, 2])
    } finally {
      capture.close()
    }
  })

  it('leaves no socket, fd or program behind after close, and keeps its last counters', async () => {
    const fds = openFdCount()
    for (let round = 0; round < 5; round++) {
      const { capture } = collect({ ports: [PORT, OTHER_PORT], interface: host.hostInterface })
      await sendUdp(host.ipv4, PORT, 2, 'x')
      await waitFor('2 frames', () => capture.stats().ring.delivered === 2)
      capture.close()
      capture.close()
      assert.equal(capture.stats().ring.delivered, 2)
    }
    assert.equal(openFdCount(), fds)
  })

  it('rejects bad port lists', () => {
    assert.throws(() => PacketCapture.open({ ports: [] }, () => {}), RangeError)
    assert.throws(() => PacketCapture.open({ ports: [70000] }, () => {}), RangeError)
    assert.throws(() => PacketCapture.open({ ports: [...Array(17).keys()].map((i) => i + 1) }, () => {}), RangeError)
    assert.throws(() => PacketCapture.open({ ports: [53], udp: false, tcp: false }, () => {}), RangeError)
  })
})
