import assert from 'node:assert/strict'
import { FlowAggregation } from '../../../src/receivers/netflow/flow-aggregation.ts'
import type { FlowRecord } from '../../../src/records.ts'

function flow(i: number, overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    kind: 'flow', transport: 'tcp', family: 'ipv4', direction: 'outgoing',
    source: { address: '10.0.0.1', port: 0 }, destination: { address: `10.1.${i >> 8 & 255}.${i & 255}`, port: 1000 + (i % 50_000) },
    netns: 1, pid: 100 + (i % 7), comm: `p${i % 7}`, bytesSent: 0, bytesReceived: 0, established: 0, closed: 0, retransmits: 0,
    attributes: {}, ...overrides,
  }
}

describe('netflow FlowAggregation', () => {
  it('keeps one record per identity, many identities sharing hash chains', () => {
    const aggregation = new FlowAggregation()
    const first = Array.from({ length: 60_000 }, (_, i) => aggregation.recordOf(flow(i)))
    assert.equal(new Set(first).size, 60_000)
    for (let i = 0; i < 60_000; i++) assert.equal(aggregation.recordOf(flow(i)), first[i])
    assert.equal(aggregation.records().length, 60_000)
  })

  it('tells apart identities that differ in one field only', () => {
    const aggregation = new FlowAggregation()
    const base = aggregation.recordOf(flow(1))
    const variants: Array<Partial<FlowRecord>> = [
      { netns: 2 }, { pid: 999 }, { comm: 'other' }, { transport: 'udp' }, { family: 'ipv6' }, { direction: 'incoming' },
      { source: { address: '10.0.0.9', port: 0 } }, { source: { address: '10.0.0.1', port: 5 } },
      { destination: { address: '10.9.9.9', port: 1001 } }, { destination: { address: '10.1.0.1', port: 7 } },
    ]
    for (const variant of variants) assert.notEqual(aggregation.recordOf(flow(1, variant)), base, JSON.stringify(variant))
    assert.equal(aggregation.recordOf(flow(1)), base)
  })

  it('averages RTT over the sockets folded into a record', () => {
    const aggregation = new FlowAggregation()
    const record = aggregation.recordOf(flow(1))
    aggregation.addRtt(record, 100, 10)
    aggregation.addRtt(record, 300, 30)
    assert.equal(record.rttUs, 200)
    assert.equal(record.rttVarUs, 20)
  })
})
