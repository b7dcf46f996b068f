import assert from 'node:assert/strict'
import { QueryMatcher, type Exchange } from '../../../src/receivers/dns/matcher.ts'
import type { DnsMessage } from '../../../src/receivers/dns/parse.ts'
import type { DnsRecord } from '../../../src/records.ts'

const message = (id: number, questionName: string, response: boolean): DnsMessage => ({
  id, response, opcode: 0, truncated: false, rcode: 0, questionName, questionType: 1, answers: [],
})
const exchange = (clientAddress: string, timestampNs: bigint): Exchange => ({
  transport: 'udp', family: 'ipv4', clientAddress, clientPort: 40000, serverAddress: '10.0.0.53', serverPort: 53, timestampNs,
})

describe('dns query matcher', () => {
  it('tells apart queries whose numeric key parts are equal (one hash chain): address and name decide', () => {
    const drops: string[] = []
    const matcher = new QueryMatcher({ timeoutNs: 1000n, maxPending: 16 }, (reason) => drops.push(reason))
    matcher.query(message(7, 'a.example', false), exchange('10.0.0.1', 0n))
    matcher.query(message(7, 'a.example', false), exchange('10.0.0.2', 10n))
    matcher.query(message(7, 'b.example', false), exchange('10.0.0.1', 20n))
    matcher.query(message(7, 'a.example', false), exchange('10.0.0.2', 30n)) // a retransmission
    assert.equal(matcher.size, 3)
    assert.equal(matcher.retransmits, 1)

    const second = matcher.response(message(7, 'a.example', true), exchange('10.0.0.2', 110n))
    assert.equal(second?.client.address, '10.0.0.2')
    assert.equal(second?.durationSeconds, 100 / 1e9)
    const third = matcher.response(message(7, 'b.example', true), exchange('10.0.0.1', 220n))
    assert.equal(third?.questionName, 'b.example')
    assert.equal(matcher.response(message(7, 'b.example', true), exchange('10.0.0.1', 230n)), undefined)
    assert.deepEqual(drops, ['unmatched_response'])
    assert.equal(matcher.size, 1)

    const timeouts: DnsRecord[] = []
    matcher.expire(2000n, timeouts)
    assert.deepEqual(timeouts.map((r) => [r.client.address, r.questionName, r.responseCode]), [['10.0.0.1', 'a.example', 'timeout']])
    assert.equal(matcher.size, 0)
  })

  it('expires a whole chain in arrival order, and stops at the first query still in time', () => {
    const matcher = new QueryMatcher({ timeoutNs: 100n, maxPending: 16 }, () => {})
    for (let i = 0; i < 4; i++) matcher.query(message(7, 'a.example', false), exchange(`10.0.0.${i}`, BigInt(i * 10)))
    const timeouts: DnsRecord[] = []
    matcher.expire(125n, timeouts) // cutoff 25: the queries of 0, 10 and 20
    assert.deepEqual(timeouts.map((r) => r.client.address), ['10.0.0.0', '10.0.0.1', '10.0.0.2'])
    assert.equal(matcher.size, 1)
    assert.equal(matcher.clear(), 1)
  })

  it('counts a query beyond max_pending as pending_full', () => {
    const drops: string[] = []
    const matcher = new QueryMatcher({ timeoutNs: 100n, maxPending: 2 }, (reason) => drops.push(reason))
    for (let i = 0; i < 3; i++) matcher.query(message(i, 'a.example', false), exchange('10.0.0.1', 0n))
    assert.equal(matcher.size, 2)
    assert.deepEqual(drops, ['pending_full'])
  })
})
