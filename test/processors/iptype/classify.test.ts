// Every range of the IANA IPv4 and IPv6 special-purpose registries (plus multicast, broadcast and the IPv6 space
// outside 2000::/3), checked at both ends from a hand-written table, and the classifier cross-checked against
// node's own subnet matcher (net.BlockList) on random addresses.
import assert from 'node:assert/strict'
import { BlockList } from 'node:net'
import fc from 'fast-check'
import { ipv6ToString } from '../../../src/net/address.ts'
import { parseIpv4, parseIpv6 } from '../../../src/processors/iptype/address.ts'
import { classify, datakitType } from '../../../src/processors/iptype/classify.ts'
import { IPV4_RANGES, IPV6_RANGES, type IpType, type RangeEntry } from '../../../src/processors/iptype/ranges.ts'

/** [address, expected type]: the first and last address of every range, and a neighbour outside where useful. */
const V4: Array<[string, IpType]> = [
  ['0.0.0.0', 'unspecified'], ['0.0.0.1', 'reserved'], ['0.255.255.255', 'reserved'], ['1.0.0.0', 'other'],
  ['10.0.0.0', 'private'], ['10.255.255.255', 'private'], ['11.0.0.0', 'other'], ['9.255.255.255', 'other'],
  ['100.63.255.255', 'other'], ['100.64.0.0', 'cgnat'], ['100.127.255.255', 'cgnat'], ['100.128.0.0', 'other'],
  ['127.0.0.0', 'loopback'], ['127.0.0.1', 'loopback'], ['127.255.255.255', 'loopback'],
  ['169.254.0.0', 'link_local'], ['169.254.255.255', 'link_local'], ['169.255.0.0', 'other'],
  ['172.15.255.255', 'other'], ['172.16.0.0', 'private'], ['172.31.255.255', 'private'], ['172.32.0.0', 'other'],
  ['192.0.0.0', 'reserved'], ['192.0.0.7', 'reserved'], ['192.0.0.8', 'reserved'], ['192.0.0.9', 'other'],
  ['192.0.0.10', 'other'], ['192.0.0.11', 'reserved'], ['192.0.0.170', 'reserved'], ['192.0.0.171', 'reserved'],
  ['192.0.0.255', 'reserved'], ['192.0.1.0', 'other'],
  ['192.0.2.0', 'documentation'], ['192.0.2.255', 'documentation'],
  ['192.31.196.0', 'other'], ['192.31.196.255', 'other'], ['192.52.193.0', 'other'], ['192.52.193.255', 'other'],
  ['192.88.99.0', 'reserved'], ['192.88.99.255', 'reserved'], ['192.88.100.0', 'other'],
  ['192.167.255.255', 'other'], ['192.168.0.0', 'private'], ['192.168.255.255', 'private'], ['192.169.0.0', 'other'],
  ['192.175.48.0', 'other'], ['192.175.48.255', 'other'],
  ['198.17.255.255', 'other'], ['198.18.0.0', 'reserved'], ['198.19.255.255', 'reserved'], ['198.20.0.0', 'other'],
  ['198.51.100.0', 'documentation'], ['198.51.100.255', 'documentation'],
  ['203.0.113.0', 'documentation'], ['203.0.113.255', 'documentation'], ['203.0.114.0', 'other'],
  ['223.255.255.255', 'other'], ['224.0.0.0', 'multicast'], ['224.0.0.251', 'multicast'], ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'], ['255.255.255.254', 'reserved'], ['255.255.255.255', 'broadcast'],
  ['8.8.8.8', 'other'], ['193.0.6.139', 'other'],
]

const V6: Array<[string, IpType]> = [
  ['::', 'unspecified'], ['::1', 'loopback'], ['::2', 'reserved'], ['ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['::ffff:10.1.2.3', 'private'], ['::ffff:8.8.8.8', 'other'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:0:0', 'unspecified'],
  ['64:ff9b::', 'other'], ['64:ff9b::ffff:ffff', 'other'], ['64:ff9b:1::', 'reserved'], ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['100::', 'reserved'], ['100::ffff:ffff:ffff:ffff', 'reserved'], ['100:0:0:1::', 'reserved'], ['100:0:0:1:ffff:ffff:ffff:ffff', 'reserved'],
  ['200::', 'reserved'], ['400::', 'reserved'], ['800::', 'reserved'], ['1000::', 'reserved'],
  ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'], ['2000::', 'other'],
  ['2001::', 'reserved'], ['2001:0:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'], ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['2001:1::1', 'other'], ['2001:1::2', 'other'], ['2001:1::3', 'other'], ['2001:1::4', 'reserved'],
  ['2001:2::', 'reserved'], ['2001:2:0:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['2001:3::', 'other'], ['2001:3:ffff:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['2001:4:112::', 'other'], ['2001:4:112:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['2001:10::', 'reserved'], ['2001:1f:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['2001:20::', 'other'], ['2001:2f:ffff:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['2001:30::', 'other'], ['2001:3f:ffff:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['2001:200::', 'other'], ['2001:4860:4860::8888', 'other'],
  ['2001:db8::', 'documentation'], ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'], ['2001:db9::', 'other'],
  ['2002::', 'other'], ['2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['2620:4f:8000::', 'other'], ['2620:4f:8000:ffff:ffff:ffff:ffff:ffff', 'other'],
  ['3fff::', 'documentation'], ['3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'], ['3fff:1000::', 'other'],
  ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'other'], ['4000::', 'reserved'],
  ['5f00::', 'reserved'], ['5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'], ['7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['8000::', 'reserved'], ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['fc00::', 'private'], ['fd00:198:18:1::2', 'private'], ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
  ['fe00::', 'reserved'], ['fe80::', 'link_local'], ['fe80::1%eth0', 'link_local'], ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link_local'],
  ['fec0::', 'reserved'], ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['ff00::', 'multicast'], ['ff02::fb', 'multicast'], ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
]

function blockList(entry: RangeEntry, family: 'ipv4' | 'ipv6'): BlockList {
  const [address, prefix] = entry.cidr.split('/')
  const list = new BlockList()
  list.addSubnet(address as string, Number(prefix), family)
  return list
}

describe('iptype classification', () => {
  for (const [address, type] of [...V4, ...V6]) {
    it(`${address} is ${type}`, () => assert.equal(classify(address), type))
  }

  for (const [ranges, table, family] of [[IPV4_RANGES, V4, 'ipv4'], [IPV6_RANGES, V6, 'ipv6']] as const) {
    it(`tests an address inside each of the ${ranges.length} ${family} ranges`, () => {
      for (const entry of ranges) {
        const list = blockList(entry, family)
        assert.ok(table.some(([address]) => !address.includes('%') && list.check(address, family)), `${entry.cidr} ${entry.name}`)
      }
    })
  }

  it('agrees with net.BlockList longest-prefix matching on random addresses', () => {
    const oracle = (address: string, family: 'ipv4' | 'ipv6', ranges: readonly RangeEntry[]) => {
      let best: RangeEntry | undefined
      for (const entry of ranges) {
        const length = Number(entry.cidr.split('/')[1])
        if (blockList(entry, family).check(address, family) && (!best || length > Number(best.cidr.split('/')[1]))) best = entry
      }
      return best?.type ?? 'other'
    }
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
    fc.assert(fc.property(v4, (address) => classify(address) === oracle(address, 'ipv4', IPV4_RANGES)), { numRuns: 3000 })
    // Random bytes rarely land in small ranges: start from a range's base and randomise the host part.
    const bases = IPV6_RANGES.map((entry) => parseIpv6(entry.cidr.split('/')[0] as string)!)
    const v6 = fc.tuple(fc.constantFrom(...bases, [0x20010db8, 0, 0, 0]), fc.array(fc.nat(0xffffffff), { minLength: 4, maxLength: 4 }), fc.nat(128))
      .map(([base, noise, keep]) => {
        const bytes = new Uint8Array(16)
        for (let i = 0; i < 4; i++) {
          const bits = Math.min(32, Math.max(0, keep - 32 * i))
          const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
          const word = ((base[i]! & mask) | (noise[i]! & ~mask)) >>> 0
          new DataView(bytes.buffer).setUint32(i * 4, word)
        }
        return ipv6ToString(bytes)
      })
      .filter((address) => !address.startsWith('::ffff:')) // mapped addresses are classified as IPv4
    fc.assert(fc.property(v6, (address) => classify(address) === oracle(address, 'ipv6', IPV6_RANGES)), { numRuns: 3000 })
  })

  it('maps to Datakit\'s other|private|multicast', () => {
    const cases: Array<[string, string]> = [
      ['10.1.1.1', 'private'], ['127.0.0.1', 'private'], ['169.254.1.1', 'private'], ['100.64.0.1', 'private'],
      ['fd00::1', 'private'], ['fe80::1', 'private'], ['::1', 'private'], ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'], ['255.255.255.255', 'multicast'], ['8.8.8.8', 'other'], ['192.0.2.1', 'other'],
    ]
    for (const [address, expected] of cases) assert.equal(datakitType(classify(address)!), expected, address)
  })
})

describe('iptype address parsing', () => {
  it('rejects what is not an address', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', 'a.b.c.d', ':', ':::', '1::2::3',
      '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', 'example.com']) {
      assert.equal(classify(text), undefined, JSON.stringify(text))
    }
  })

  it('reads IPv6 with an embedded IPv4 tail in every form', () => {
    assert.deepEqual(parseIpv6('::ffff:1.2.3.4'), [0, 0, 0xffff, 0x01020304])
    assert.deepEqual(parseIpv6('::1.2.3.4'), [0, 0, 0, 0x01020304])
    assert.deepEqual(parseIpv6('1:2:3:4:5:6:1.2.3.4'), [0x10002, 0x30004, 0x50006, 0x01020304])
    assert.deepEqual(parseIpv6('1::6:1.2.3.4'), [0x10000, 0, 0x6, 0x01020304])
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff)
  })

  it('reads back the bytes of every canonical IPv6 text', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const words = parseIpv6(ipv6ToString(bytes))
      const view = new DataView(bytes.buffer, bytes.byteOffset)
      return words !== undefined && words.every((word, i) => word === view.getUint32(i * 4))
    }), { numRuns: 5000 })
  })
})
