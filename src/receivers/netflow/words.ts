// Dump buffers read as 32-bit words (and u64 fields from them), and the hash of a run of words: the tables of a harvest (EntryTable,
// FlowTable) key on raw words instead of strings.

/** The 32-bit words of a dump buffer (keys or values), read in place when aligned. */
export function wordsOf(buffer: Buffer): Uint32Array {
  const source = buffer.byteOffset % 4 === 0 ? buffer : Buffer.from(buffer)
  return new Uint32Array(source.buffer, source.byteOffset, source.length >>> 2)
}

/** The u64 at word `index` (little-endian) as a Number: exact below 2^53 (years of traffic on one flow; socket ids). */
export function u64At(words: Uint32Array, index: number): number {
  return words[index]! + words[index + 1]! * 0x1_0000_0000
}

/** A 32-bit hash of `words[at..at+count]`. */
export function hashWords(words: Uint32Array, at: number, count: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < count; i++) {
    h = Math.imul(h ^ words[at + i]!, 0x9e3779b1)
    h ^= h >>> 15
  }
  return h >>> 0
}
