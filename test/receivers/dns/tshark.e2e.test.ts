// Acceptance: the receiver decodes the same traffic the way tshark does. tshark captures on the server's veth
// (root side) while kdig asks knotd a mix of names, types, transports and response codes; tshark's question
// name, type, rcode and transaction id (-T fields) pair each query with its response, and the exchanges it saw
// must be exactly the receiver's records.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { typeName } from '../../../src/receivers/dns/parse.ts'
import { rcodeName } from '../../../src/receivers/dns/rcodes.ts'
import { LOSS_REASONS, startHarness, ZONE, type DnsHarness } from './harness.ts'

const LONG_LABEL = `l${'0123456789'.repeat(6)}ab` // 63 bytes, the longest a label may be
const PROBE = `tshark-ready.${ZONE}`
const FIELDS = ['udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport', 'dns.flags.response', 'dns.id', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode']

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** tshark on `iface`, DNS on `port` (UDP and TCP), one tab-separated line per DNS message. */
function startTshark(iface: string, port: number): { child: ChildProcess; output: () => string; errors: () => string } {
  const child = spawn('tshark', [
    '-i', iface, '-f', `port ${port}`, '-l', '-n',
    '-d', `udp.port==${port},dns`, '-d', `tcp.port==${port},dns`, '-Y', 'dns',
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...FIELDS.flatMap((field) => ['-e', field]),
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2000) })
  return { child, output: () => stdout, errors: () => stderr }
}

/** tshark's lines paired by (transport, client port, id) into `transport port name type rcode` exchanges. */
function tsharkExchanges(output: string, port: number): string[] {
  const queries = new Map<string, { name: string; type: number }>()
  const exchanges: string[] = []
  for (const line of output.split('\n').filter(Boolean)) {
    const [udpSource, udpDestination, tcpSource, tcpDestination, response, id, name, type, rcode] = line.split('\t')
    const transport = udpSource ? 'udp' : 'tcp'
    const source = Number(udpSource || tcpSource)
    const destination = Number(udpDestination || tcpDestination)
    const isResponse = response === '1' || response === 'True'
    const client = isResponse ? destination : source
    assert.equal(isResponse ? source : destination, port, line)
    const key = `${transport} ${client} ${Number(id)}`
    if (!isResponse) {
      queries.set(key, { name: name!, type: Number(type) })
      continue
    }
    const query = queries.get(key)
    assert.ok(query, `tshark saw a response without its query: ${line}`)
    assert.equal(name, query.name, line)
    assert.equal(Number(type), query.type, line)
    queries.delete(key)
    exchanges.push(`${transport} ${client} ${query.name.toLowerCase()} ${typeName(query.type)} ${rcodeName(Number(rcode))}`)
  }
  assert.equal(queries.size, 0, `tshark saw queries without responses: ${[...queries.keys()].join(', ')}`)
  return exchanges.sort()
}

describe('dns receiver acceptance: decoded names agree with tshark on the same traffic', function () {
  this.timeout(60_000)
  let h: DnsHarness
  let tshark: ReturnType<typeof startTshark> | undefined

  before(async () => {
    h = await startHarness({
      id: 'dns/tshark', slot: 3,
      records: [
        'www IN A 198.18.99.40', 'www IN AAAA fd00:198:18:99::40', 'mail IN MX 10 www', '_sip._tcp IN SRV 0 0 5060 www',
        'text IN TXT "netlens"', `${LONG_LABEL}.deep.sub IN A 198.18.99.41`, 'xn--bcher-kva IN A 198.18.99.42',
        ...Array.from({ length: 60 }, (_, i) => `big IN A 198.18.202.${i + 1}`),
      ],
      unloadableZones: ['broken.test'],
    })
  })

  after(async () => {
    if (tshark && tshark.child.exitCode === null && tshark.child.signalCode === null) tshark.child.kill('SIGKILL')
    await h?.stop()
  })

  it('reports the exchanges tshark decodes: names, types, response codes, over UDP and TCP', async () => {
    const { server } = h
    tshark = startTshark(server.hostInterface, h.port)
    // Capturing once tshark prints the probe: queries before that may have gone unseen by it, so it is left out.
    // tshark takes about a second to start here, more on a loaded machine.
    const deadline = Date.now() + 30_000
    while (!tshark.output().includes(PROBE)) {
      const running = tshark.child.exitCode === null && tshark.child.signalCode === null
      assert.ok(running && Date.now() < deadline, `tshark never saw the probe query (${running ? 'running' : 'exited'}): ${tshark.errors()}`)
      h.ask(server.ipv4, PROBE, 'A', '+timeout=1')
      await sleep(100)
    }

    const asked: Array<[string, string, string, ...string[]]> = [
      [server.ipv4, `WWW.NetLens.Test`, 'A'],
      [server.ipv6, `www.${ZONE}`, 'AAAA', '+tcp'],
      [server.ipv6, `_sip._tcp.${ZONE}`, 'SRV'],
      [server.ipv4, `mail.${ZONE}`, 'MX', '+tcp'],
      [server.ipv4, `text.${ZONE}`, 'TXT'],
      [server.ipv6, `${LONG_LABEL}.Deep.SUB.${ZONE}`, 'A'],
      [server.ipv4, `xn--bcher-kva.${ZONE}`, 'A', '+tcp'],
      [server.ipv4, `${ZONE}`, 'SOA'],
      [server.ipv6, `nothere.${ZONE}`, 'CAA'],
      [server.ipv4, `nothere.${ZONE}`, 'TYPE65280'],
      [server.ipv4, 'example.org', 'NS'],
      [server.ipv6, '2.99.18.198.in-addr.arpa', 'PTR', '+tcp'],
      [server.ipv4, 'www.broken.test', 'A'],
      [server.ipv4, `big.${ZONE}`, 'A', '+noedns'], // TC=1 over UDP, then the TCP retry: two exchanges
    ]
    for (const [address, name, type, ...extra] of asked) assert.match(h.ask(address, name, type, ...extra), /status: /)
    await h.waitForDns(asked.length + 1)
    await sleep(200)
    tshark.child.kill('SIGINT')
    await once(tshark.child, 'exit')

    const fromTshark = tsharkExchanges(tshark.output(), h.port).filter((exchange) => !exchange.includes(PROBE))
    const fromNetlens = h.dns().filter((r) => r.questionName !== PROBE)
      .map((r) => `${r.transport} ${r.client.port} ${r.questionName} ${r.questionType} ${r.responseCode}`).sort()
    assert.equal(fromTshark.length, asked.length + 1, tshark.output())
    assert.deepEqual(fromNetlens, fromTshark)
    // Every response code and type the mix was meant to cover did come out.
    const codes = new Set(fromNetlens.map((line) => line.split(' ')[4]))
    assert.deepEqual([...codes].sort(), ['NOERROR', 'NXDOMAIN', 'REFUSED', 'SERVFAIL'])
    for (const reason of LOSS_REASONS) assert.equal(h.dropped(reason), 0, reason)
  })
})
