import assert from 'node:assert/strict'
import { Problems } from '../../../src/config/errors.ts'
import { validateSection } from '../../../src/config/section.ts'
import { dnsReceiverFactory } from '../../../src/receivers/dns/factory.ts'
import type { DnsConfig } from '../../../src/receivers/dns/config.ts'
import { createLogger } from '../../../src/telemetry/logger.ts'
import { SelfTelemetry } from '../../../src/telemetry/self.ts'

function load(section: unknown): { config?: DnsConfig; problems: string[] } {
  const problems = new Problems('test.yaml')
  const config = validateSection(dnsReceiverFactory.schema, section, ['receivers', 'dns'], problems)
  if (config) {
    try {
      dnsReceiverFactory.validate?.(config)
    } catch (error) {
      return { problems: [(error as Error).message] }
    }
  }
  return { config, problems: problems.lines }
}

describe('dns receiver factory', () => {
  it('has defaults that validate', () => {
    const { config, problems } = load(undefined)
    assert.deepEqual(problems, [])
    assert.deepEqual(config, { ports: [53], transports: ['udp', 'tcp'], interface: '', timeout: 5000, max_pending: 65536, flush_interval: 1000 })
  })

  it('reads durations and lists', () => {
    const { config } = load({ ports: [53, 5353], transports: ['udp'], timeout: '2s', flush_interval: '250ms' })
    assert.deepEqual(config?.ports, [53, 5353])
    assert.equal(config?.timeout, 2000)
    assert.equal(config?.flush_interval, 250)
  })

  it('rejects bad settings naming the key', () => {
    assert.match(load({ transports: ['sctp'] }).problems.join(), /transports/)
    assert.match(load({ ports: [0] }).problems.join(), /ports/)
    assert.match(load({ ports: Array.from({ length: 17 }, (_, i) => 1000 + i) }).problems.join(), /ports: must list 1 to 16/)
    assert.match(load({ timeout: '5 parsecs' }).problems.join(), /timeout/)
    assert.match(load({ interface: 'eth0 eth1' }).problems.join(), /interface/)
  })

  it('shuts down without start, twice', async () => {
    const receiver = dnsReceiverFactory.create(
      { id: 'dns', logger: createLogger('error'), telemetry: new SelfTelemetry() },
      load(undefined).config as DnsConfig,
      { consume: () => {} },
    )
    await receiver.shutdown()
    await receiver.shutdown()
  })
})
