// rdns end to end on the real kernel: knotd in one namespace serves svc.test (a CNAME to an A and an AAAA record
// with a 2 s TTL), a client in another namespace resolves it with kdig and connects over IPv4 and IPv6 to the
// addresses it got. The real dns and netflow receivers feed two pipelines sharing one rdns processor, as in the
// agent: every flow of those connections is named svc.test, and once the TTL has passed (injected clock) with no
// new answer, the name is gone.
import assert from 'node:assert/strict'
import type { Receiver } from '../../../src/component/types.ts'
import { pipelineConsumer } from '../../../src/pipeline/consumers.ts'
import { rdnsProcessorFactory } from '../../../src/processors/rdns/factory.ts'
import type { RdnsConfig } from '../../../src/processors/rdns/config.ts'
import { RdnsProcessor } from '../../../src/processors/rdns/processor.ts'
import { dnsReceiverFactory } from '../../../src/receivers/dns/factory.ts'
import type { DnsConfig } from '../../../src/receivers/dns/config.ts'
import { netflowReceiverFactory } from '../../../src/receivers/netflow/factory.ts'
import type { NetflowConfig } from '../../../src/receivers/netflow/config.ts'
import type { NetflowReceiver } from '../../../src/receivers/netflow/receiver.ts'
import type { DnsAnswerRecord, FlowRecord } from '../../../src/records.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { standardCounters, type SelfCounter } from '../../../src/telemetry/self.ts'
import { CollectingConsumer, configOf, testHost, testSettings } from '../../helpers/components.ts'
import { startKnot, type KnotServer } from '../../helpers/knot.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'
import { exited, printed, runPeer } from '../../helpers/peers.ts'

const DNS_PORT = 20_000 + (process.pid % 20_000)
const TTL_SECONDS = 2

async function waitFor(what: string, done: () => boolean): Promise<void> {
  // Waiting for the capture to deliver, not a timing assertion: the bound only turns a hang into a failure.
  for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  assert.ok(done(), `timed out waiting for ${what}`)
}

describe('rdns end to end (knotd, kdig and TCP peers in namespaces; real dns and netflow receivers)', function () {
  this.timeout(60_000)
  let server: TestHost | undefined
  let client: TestHost | undefined
  let knot: KnotServer | undefined
  const receivers: Receiver[] = []
  let netflow: NetflowReceiver
  let now = Date.now()
  const settings = testSettings('rdns')
  const rdns = new RdnsProcessor('rdns', settings.telemetry, configOf(rdnsProcessorFactory, { min_ttl: 0 }), {
    now: () => now,
  })
  const dnsOut = new CollectingConsumer()
  const flowOut = new CollectingConsumer()

  before(async () => {
    server = createTestHost()
    client = createTestHost()
    knot = await startKnot({
      host: server, port: DNS_PORT, zone: 'test',
      records: ['svc IN CNAME backend', `backend ${TTL_SECONDS} IN A ${server.ipv4}`, `backend ${TTL_SECONDS} IN AAAA ${server.ipv6}`],
    })
    const counters = standardCounters(settings.telemetry)
    const logger = createLogger('error')
    const stage = [{ id: 'rdns', processor: rdns }]
    const dnsConfig = configOf(dnsReceiverFactory, { ports: [DNS_PORT], flush_interval: '100ms' })
    receivers.push(dnsReceiverFactory.create(testSettings('dns'), dnsConfig, pipelineConsumer(stage, [dnsOut], counters, logger)))
    netflow = netflowReceiverFactory.create(testSettings('netflow'), configOf(netflowReceiverFactory, { interval: '1h' }),
      pipelineConsumer(stage, [flowOut], counters, logger)) as NetflowReceiver
    receivers.push(netflow)
    await rdns.start()
    for (const receiver of receivers) await receiver.start(testHost)
  })

  after(async () => {
    for (const receiver of receivers) await receiver.shutdown()
    await rdns.shutdown()
    await knot?.stop()
    client?.destroy()
    server?.destroy()
  })

  /** Opens one TCP connection from the client to `address` and returns the pids of both peers. */
  async function connect(address: string, port: number): Promise<number[]> {
    const serverPeer = runPeer(server!, ['tcp-server', address, port, 1000, 2000])
    await printed(serverPeer, 'ready')
    const clientPeer = runPeer(client!, ['tcp-client', address, port, 1000, 2000])
    await Promise.all([exited(clientPeer), exited(serverPeer)])
    await new Promise((resolve) => setTimeout(resolve, 200)) // the last FIN/ACK exchange after both exited
    netflow.harvest()
    return [clientPeer.pid!, serverPeer.pid!]
  }

  const flowsOf = (pids: number[]) => flowOut.records.filter((r): r is FlowRecord => r.kind === 'flow' && pids.includes(r.pid))

  it('names the flows to the answered addresses after the name the client asked, then forgets it after the TTL', async () => {
    const s = server!
    const c = client!
    for (const type of ['A', 'AAAA']) {
      const output = c.exec('kdig', [`@${s.ipv4}`, '-p', String(DNS_PORT), 'svc.test', type, '+timeout=2', '+retry=0'])
      assert.match(output, type === 'A' ? new RegExp(s.ipv4.replaceAll('.', '\\.')) : new RegExp(s.ipv6), knot?.log())
    }
    const answers = () => dnsOut.records.filter((r): r is DnsAnswerRecord => r.kind === 'dns.answer')
    await waitFor('both answers', () => answers().length >= 2)
    assert.deepEqual(answers().map((a) => [a.client, a.questionName, a.addresses.map((x) => `${x.address}/${x.ttlSeconds}`)]).sort(), [
      [c.ipv4, 'svc.test', [`${s.ipv4}/${TTL_SECONDS}`]],
      [c.ipv4, 'svc.test', [`${s.ipv6}/${TTL_SECONDS}`]],
    ])

    const v4 = await connect(s.ipv4, 7201)
    const v6 = await connect(s.ipv6, 7202)
    for (const [family, pids, clientAddress] of [['ipv4', v4, c.ipv4], ['ipv6', v6, c.ipv6]] as const) {
      const flows = flowsOf(pids)
      assert.deepEqual(flows.map((f) => f.direction).sort(), ['incoming', 'outgoing'], `${family}: both ends of the connection`)
      for (const f of flows) {
        assert.equal(f.family, family)
        assert.equal(f.source.address, clientAddress)
        assert.equal(f.attributes['destination.domain'], 'svc.test', `${family} ${f.direction}`)
        assert.equal(f.attributes['source.domain'], undefined, 'the client address was never in an answer')
      }
    }

    now += TTL_SECONDS * 1000 + 1 // no new answer within the TTL
    const late = flowsOf(await connect(s.ipv4, 7203))
    assert.equal(late.length, 2)
    for (const f of late) assert.equal(f.attributes['destination.domain'], undefined, `${f.direction} after expiry`)
    const expirations = settings.telemetry.get('netlens.rdns.expirations') as SelfCounter
    assert.ok(expirations.value({ component: 'rdns' }) >= 1)
  })
})
