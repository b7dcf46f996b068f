// The setting of the dns receiver's acceptance tests: knotd serving a zone in a test namespace, the receiver
// capturing in the root namespace (where kdig asks from, like a node's agent seeing a pod's traffic), and the
// records it hands on collected here.
import type { Batch } from '../../../src/component/types.ts'
import type { AnyRecord, DnsAnswerRecord, DnsRecord } from '../../../src/records.ts'
import type { DnsConfig } from '../../../src/receivers/dns/config.ts'
import { dnsReceiverFactory } from '../../../src/receivers/dns/factory.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { SelfTelemetry, type SelfCounter } from '../../../src/telemetry/self.ts'
import { kdig, startKnot, type KnotOptions, type KnotServer } from '../../helpers/knot.ts'
import { createTestHost, type TestHost } from '../../helpers/netns.ts'

export const ZONE = 'netlens.test'

export interface DnsHarness {
  server: TestHost
  knot: KnotServer
  port: number
  records: AnyRecord[]
  telemetry: SelfTelemetry
  /** kdig from the root namespace to the server at `address` (the port is added; no retries unless asked). */
  ask(address: string, ...args: string[]): string
  /** ask() with kdig at real-time priority, for its own timing to be about the network (see kdig()). */
  askRealtime(address: string, ...args: string[]): string
  dns(): DnsRecord[]
  answers(): DnsAnswerRecord[]
  /** Waits (bounded, not a timing assertion) until `count` DNS records arrived, then a little more for extras. */
  waitForDns(count: number): Promise<void>
  /** `netlens.records.dropped{component, reason}` so far. */
  dropped(reason: string): number
  stop(): Promise<void>
}

export interface HarnessOptions extends Omit<KnotOptions, 'host' | 'port' | 'zone'> {
  id: string
  /** 0..3, different for every test file using the harness: with the process id it makes the server port. */
  slot: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function startHarness(options: HarnessOptions): Promise<DnsHarness> {
  const { id, slot, ...knotOptions } = options
  // One port per test file and process, below the ephemeral range (32768+) so no client socket takes it.
  const port = 20_000 + (process.pid % 3000) * 4 + slot
  const server = createTestHost()
  let knot: KnotServer
  try {
    knot = await startKnot({ ...knotOptions, host: server, port, zone: ZONE })
  } catch (error) {
    server.destroy()
    throw error
  }
  const records: AnyRecord[] = []
  const telemetry = new SelfTelemetry()
  const config: DnsConfig = { ports: [port], transports: ['udp', 'tcp'], interface: '', timeout: 1000, max_pending: 1024, flush_interval: 100 }
  const receiver = dnsReceiverFactory.create(
    { id, logger: createLogger('warn'), telemetry },
    config,
    { consume: (batch: Batch) => { records.push(...batch.records) } },
  )
  try {
    await receiver.start({ reportFatal: (error) => { throw error } })
  } catch (error) {
    await knot.stop()
    server.destroy()
    throw error
  }

  const dns = () => records.filter((r): r is DnsRecord => r.kind === 'dns')
  return {
    server, knot, port, records, telemetry,
    ask: (address, ...args) => kdig([`@${address}`, '-p', String(port), '+timeout=2', '+retry=0', ...args]),
    askRealtime: (address, ...args) =>
      kdig([`@${address}`, '-p', String(port), '+timeout=2', '+retry=0', ...args], { realtime: true }),
    dns,
    answers: () => records.filter((r): r is DnsAnswerRecord => r.kind === 'dns.answer'),
    async waitForDns(count) {
      for (let i = 0; i < 100 && dns().length < count; i++) await sleep(100)
      await sleep(300)
    },
    dropped: (reason) => (telemetry.get('netlens.records.dropped') as SelfCounter).value({ component: id, reason }),
    async stop() {
      try {
        await receiver.shutdown()
      } finally {
        await knot.stop()
        server.destroy()
      }
    },
  }
}

/** Drops that mean the receiver lost or misread traffic: none may happen in these tests. */
export const LOSS_REASONS = [
  'parse_error', 'unmatched_response', 'duplicate', 'capture_ring_full', 'capture_queue_full', 'tcp_desync', 'internal_error',
  'ip_reassembly_timeout', 'ip_reassembly_full', 'ip_reassembly_invalid',
]
