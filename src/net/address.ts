// IP addresses from raw bytes (BPF maps, packet headers) to their canonical text forms.

/** Dotted quad from 4 bytes at `offset`. */
export function ipv4ToString(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`
}

/** RFC 5952 text from 16 bytes at `offset`: lower case, longest run of zero groups (≥ 2) compressed. */
export function ipv6ToString(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!)
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':')
  if (bestStart < 0) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`
}

