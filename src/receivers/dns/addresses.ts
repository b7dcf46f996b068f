// Address text for packets and DNS answers alike, so a name learnt from an answer keys the same string a flow
// carries: dotted quad for IPv4, RFC 5952 canonical form for IPv6 (lower case, longest zero run compressed),
// the same text src/net/address.ts gives the netflow receiver.

export function ipv4Text(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`
}

export function ipv6Text(buf: Buffer, offset: number): string {
  const groups: number[] = new Array(8)
  for (let i = 0; i < 8; i++) groups[i] = buf.readUInt16BE(offset + 2 * i)
  // IPv4-mapped addresses stay all-hex (::ffff:c000:201), like src/net/address.ts and URL: one spelling everywhere.
  // The longest run of two or more zero groups (the first one on a tie) becomes "::".
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':')
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':')
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16)).join(':')
  return `${head}::${tail}`
}
