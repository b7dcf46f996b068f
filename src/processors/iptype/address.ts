// IP address text → numbers, for range tests: IPv4 as one uint32, IPv6 as four uint32 words (network order).
// Accepts what receivers produce and what users write: dotted quads, RFC 4291 IPv6 text with `::`, an embedded
// IPv4 tail (`::ffff:1.2.3.4`) and a zone (`fe80::1%eth0`, ignored).

export type ParsedAddress = { family: 4; value: number } | { family: 6; words: [number, number, number, number] }

export function parseIpv4(text: string): number | undefined {
  let value = 0
  let parts = 0
  let part = -1
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46 // a final '.' closes the last part
    if (code === 46) {
      if (part < 0 || part > 255) return undefined
      value = value * 256 + part
      parts++
      part = -1
    } else if (code >= 48 && code <= 57) {
      if (part === 0) return undefined // no leading zeros: "010" is ambiguous (octal in some parsers)
      part = part < 0 ? code - 48 : part * 10 + code - 48
      if (part > 255) return undefined
    } else {
      return undefined
    }
  }
  return parts === 4 ? value >>> 0 : undefined
}

function parseGroups(text: string, into: number[]): boolean {
  if (text === '') return true
  for (const group of text.split(':')) {
    if (group.length === 0 || group.length > 4 || !/^[0-9a-fA-F]+$/.test(group)) return false
    into.push(parseInt(group, 16))
  }
  return true
}

export function parseIpv6(input: string): [number, number, number, number] | undefined {
  const zone = input.indexOf('%')
  let text = zone >= 0 ? input.slice(0, zone) : input
  const tail: number[] = []
  const lastColon = text.lastIndexOf(':')
  if (lastColon < 0) return undefined
  if (text.indexOf('.', lastColon) >= 0) {
    const v4 = parseIpv4(text.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    tail.push(v4 >>> 16, v4 & 0xffff)
    // Drop the quad and keep the grammar: "::ffff:" → "::ffff", "::" stays "::".
    text = text.slice(0, lastColon + 1)
    if (!text.endsWith('::')) text = text.slice(0, -1)
  }
  const gap = text.indexOf('::')
  const head: number[] = []
  const rest: number[] = []
  if (gap >= 0) {
    if (text.indexOf('::', gap + 1) >= 0) return undefined
    if (!parseGroups(text.slice(0, gap), head) || !parseGroups(text.slice(gap + 2), rest)) return undefined
    const missing = 8 - head.length - rest.length - tail.length
    if (missing < 1) return undefined
    head.push(...new Array<number>(missing).fill(0), ...rest)
  } else if (!parseGroups(text, head)) {
    return undefined
  }
  head.push(...tail)
  if (head.length !== 8) return undefined
  const word = (i: number) => ((head[i]! << 16) | head[i + 1]!) >>> 0
  return [word(0), word(2), word(4), word(6)]
}

export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.includes(':')) {
    const words = parseIpv6(text)
    return words && { family: 6, words }
  }
  const value = parseIpv4(text)
  return value === undefined ? undefined : { family: 4, value }
}
