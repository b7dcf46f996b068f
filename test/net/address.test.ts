import assert from 'node:assert/strict'
import { ipv4ToString, ipv6ToString } from '../../src/net/address.ts'

const v6 = (text: string) => {
  // Expand with Node's URL parser to bytes, then format back: the round trip must give RFC 5952 text.
  const groups = new URL(`http://[${text}]/`).hostname.slice(1, -1)
  const [head, tail = ''] = groups.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const all = groups.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
}

describe('net/address', () => {
  it('formats IPv4', () => assert.equal(ipv4ToString(Buffer.from([198, 18, 0, 1])), '198.18.0.1'))
  for (const text of ['::1', '::', 'fd00:198:18:1::2', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', 'fe80::1:2', '1::']) {
    it(`formats ${text} canonically`, () => assert.equal(ipv6ToString(v6(text)), text))
  }
  it('compresses the first of two equal zero runs', () => assert.equal(ipv6ToString(v6('2001:0:0:1:0:0:1:1')), '2001::1:0:0:1:1'))
})
