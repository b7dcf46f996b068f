// Test traffic for the capture tests: UDP datagrams and a TCP exchange between the root namespace and a test host.
import { execFileSync } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import type { TestHost } from '../helpers/netns.ts'

/** Sends `count` datagrams `<prefix><i>` from inside the test host to `address:port` (one python3 process). */
export function sendUdpFromHost(host: TestHost, address: string, port: number, count: number, prefix: string, size = 0): void {
  const family = address.includes(':') ? 'AF_INET6' : 'AF_INET'
  host.exec('python3', ['-c', [
    'import socket, sys',
    `s = socket.socket(socket.${family}, socket.SOCK_DGRAM)`,
    `for i in range(${count}):`,
    `    s.sendto((${JSON.stringify(prefix)} + str(i)).encode().ljust(${size}, b"x"), (${JSON.stringify(address)}, ${port}))`,
  ].join('\n')])
}

/** Sends `count` datagrams `<prefix><i>` from the root namespace. */
export async function sendUdp(address: string, port: number, count: number, prefix: string, size = 0): Promise<void> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4')
  try {
    for (let i = 0; i < count; i++) {
      const payload = Buffer.from(`${prefix}${i}`.padEnd(size, 'x'))
      await new Promise<void>((resolve, reject) => socket.send(payload, port, address, (e) => (e ? reject(e) : resolve())))
    }
  } finally {
    socket.close()
  }
}

/** A TCP server in the root namespace answering `pong` to `ping`; a client in the test host talks to it once. */
export async function tcpPingPong(host: TestHost, address: string, port: number): Promise<void> {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('pong'))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(port, address, resolve))
  try {
    // Asynchronously: the server runs on this event loop.
    const reply = await runInHost(host, 'python3', ['-c', [
      'import socket',
      `s = socket.create_connection((${JSON.stringify(address)}, ${port}), timeout=5)`,
      's.sendall(b"ping")',
      'print(s.recv(16).decode())',
      's.close()',
    ].join('\n')])
    if (reply.trim() !== 'pong') throw new Error(`tcp exchange: got ${JSON.stringify(reply)}`)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}

/** Runs `command` in the test host's namespace; resolves with its output once it exits 0. */
export function runInHost(host: TestHost, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = host.spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}: ${output}`))))
  })
}

/** Source and destination ports of an IPv4 or IPv6 UDP/TCP frame without extension headers, and its payload. */
export function transportOf(ip: Buffer): { protocol: number; sourcePort: number; destinationPort: number; payload: Buffer } {
  const version = ip[0]! >> 4
  const headerLength = version === 4 ? (ip[0]! & 0xf) * 4 : 40
  const protocol = version === 4 ? ip[9]! : ip[6]!
  const l4 = ip.subarray(headerLength)
  const l4Header = protocol === 6 ? (l4[12]! >> 4) * 4 : 8
  return { protocol, sourcePort: l4.readUInt16BE(0), destinationPort: l4.readUInt16BE(2), payload: l4.subarray(l4Header) }
}

/** Sends hand-made IP packets out of `interfaceName` as they are (AF_PACKET: no routing, no fragmentation). */
export function sendRawPackets(interfaceName: string, packets: Array<{ data: Buffer; ethertype: number }>): void {
  const list = packets.map((p) => `(${p.ethertype}, bytes.fromhex(${JSON.stringify(p.data.toString('hex'))}))`)
  execFileSync('python3', ['-c', [
    'import socket',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)',
    `for ethertype, data in [${list.join(', ')}]:`,
    `    s.sendto(data, (${JSON.stringify(interfaceName)}, ethertype, 0, 0, b"\\xff" * 6))`,
  ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] })
}
