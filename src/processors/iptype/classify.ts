// Classifies an address by the most specific range of src/processors/iptype/ranges.ts that holds it.
// Tables are compiled once into masks, longest prefix first, so the first match is the answer.
import { parseAddress, parseIpv4, parseIpv6 } from './address.ts'
import { IPV4_RANGES, IPV6_RANGES, type IpType, type RangeEntry } from './ranges.ts'

interface V4Rule {
  base: number
  mask: number
  length: number
  type: IpType
}

interface V6Rule {
  base: number[]
  mask: number[]
  length: number
  type: IpType
}

function maskWord(length: number, wordIndex: number): number {
  const bits = Math.min(32, Math.max(0, length - wordIndex * 32))
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

function splitCidr(entry: RangeEntry): [string, number] {
  const [address, length] = entry.cidr.split('/')
  return [address as string, Number(length)]
}

function compileV4(entries: readonly RangeEntry[]): V4Rule[] {
  return entries
    .map((entry) => {
      const [address, length] = splitCidr(entry)
      const mask = maskWord(length, 0)
      const value = parseIpv4(address)
      if (value === undefined) throw new Error(`iptype: bad range ${entry.cidr}`)
      return { base: (value & mask) >>> 0, mask, length, type: entry.type }
    })
    .sort((a, b) => b.length - a.length)
}

function compileV6(entries: readonly RangeEntry[]): V6Rule[] {
  return entries
    .map((entry) => {
      const [address, length] = splitCidr(entry)
      const words = parseIpv6(address)
      if (!words) throw new Error(`iptype: bad range ${entry.cidr}`)
      const mask = [0, 1, 2, 3].map((i) => maskWord(length, i))
      return { base: words.map((w, i) => (w & mask[i]!) >>> 0), mask, length, type: entry.type }
    })
    .sort((a, b) => b.length - a.length)
}

const V4 = compileV4(IPV4_RANGES)
const V6 = compileV6(IPV6_RANGES)

export function classifyIpv4(value: number): IpType {
  for (const rule of V4) if (((value & rule.mask) >>> 0) === rule.base) return rule.type
  return 'other'
}

export function classifyIpv6(words: readonly number[]): IpType {
  // ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return classifyIpv4(words[3] as number)
  for (const rule of V6) {
    if (
      ((words[0]! & rule.mask[0]!) >>> 0) === rule.base[0] &&
      ((words[1]! & rule.mask[1]!) >>> 0) === rule.base[1] &&
      ((words[2]! & rule.mask[2]!) >>> 0) === rule.base[2] &&
      ((words[3]! & rule.mask[3]!) >>> 0) === rule.base[3]
    ) {
      return rule.type
    }
  }
  return 'other'
}

/** The type of an address given as text; undefined when the text is not an IP address. */
export function classify(text: string): IpType | undefined {
  const parsed = parseAddress(text)
  if (!parsed) return undefined
  return parsed.family === 4 ? classifyIpv4(parsed.value) : classifyIpv6(parsed.words)
}

/** True for addresses a public database cannot know about (everything but `other`). */
export function isPublic(text: string): boolean {
  return classify(text) === 'other'
}

/**
 * Datakit's three values for `src_ip_type` / `dst_ip_type`: addresses that stay inside a site are `private`
 * (private, loopback, link-local, shared CGNAT space), one-to-many ones `multicast` (multicast and broadcast),
 * everything else `other`.
 */
export function datakitType(type: IpType): 'private' | 'multicast' | 'other' {
  switch (type) {
    case 'private':
    case 'loopback':
    case 'link_local':
    case 'cgnat':
      return 'private'
    case 'multicast':
    case 'broadcast':
      return 'multicast'
    default:
      return 'other'
  }
}
