// Reads CRLF- (or LF-) terminated lines out of a byte stream that arrives in arbitrary pieces, keeping at most
// `cap` bytes of a line (plus its last TAIL bytes, where a request line keeps its version). Lines stay bytes: the
// parsers read what they need from them and make text only of what a record keeps (a method, a path). A line held
// in one piece is read in place; only a line split across pieces, or cut, is copied, never more than cap + TAIL
// bytes, into a buffer the reader keeps.

const LF = 0x0a
const CR = 0x0d
const TAIL = 16
/** Bytes searched in JS before handing the rest of a range to the native search. */
const SHORT_SEARCH = 128

/**
 * The index of `byte` in `data[start, end)`, or -1. Buffer.indexOf has no end and `data` may be a whole capture
 * batch, so it would search on through the frames after this one: short ranges (most lines) are searched here,
 * long ones through a view of the range.
 */
export function findByte(data: Buffer, byte: number, start: number, end: number): number {
  const short = Math.min(end, start + SHORT_SEARCH)
  for (let i = start; i < short; i++) if (data[i] === byte) return i
  if (short === end) return -1
  const found = data.subarray(short, end).indexOf(byte)
  return found < 0 ? -1 : short + found
}

export class LineReader {
  /** The last line completed by take(), without its line end: `bytes[start, end)`, valid until the next take(). */
  bytes: Buffer = Buffer.alloc(0)
  start = 0
  end = 0
  /** Whether the last line was longer than the cap: it then holds its first `cap` bytes and its last TAIL bytes. */
  cut = false
  /** Bytes of the line being read so far (all of them, kept or not). */
  pendingBytes = 0
  /** The head of a line split across pieces (up to cap + 1 bytes), then the line made of head and tail. */
  private held: Buffer = Buffer.alloc(0)
  private kept = 0
  /** The last TAIL bytes of a line longer than the cap, as a ring of the most recent bytes. */
  private readonly tail = Buffer.alloc(TAIL)
  private tailLength = 0

  get length(): number {
    return this.end - this.start
  }

  /**
   * Consumes `data[start, end)` up to and including the next line feed. Returns the index after it once a line
   * is complete (read `bytes`, `start`, `end` and `cut`), or -1 when the piece ended first (the bytes are held).
   */
  take(data: Buffer, start: number, end: number, cap: number): number {
    const newline = findByte(data, LF, start, end)
    const stop = newline < 0 ? end : newline
    if (this.pendingBytes === 0 && newline >= 0) {
      let lineEnd = stop
      if (lineEnd > start && data[lineEnd - 1] === CR) lineEnd--
      if (lineEnd - start <= cap) {
        this.bytes = data
        this.start = start
        this.end = lineEnd
        this.cut = false
      } else {
        const held = this.room(cap)
        data.copy(held, 0, start, start + cap)
        const tailStart = Math.max(start + cap, lineEnd - TAIL)
        data.copy(held, cap, tailStart, lineEnd)
        this.line(held, cap + lineEnd - tailStart, true)
      }
      return newline + 1
    }
    this.hold(data, start, stop, cap)
    if (newline < 0) return -1
    this.finish(cap)
    return newline + 1
  }

  /** The line as latin1 text (for the rare paths that want a string). */
  text(from = this.start, to = this.end): string {
    return this.bytes.toString('latin1', from, to)
  }

  /** Forgets a partly read line. */
  reset(): void {
    this.kept = 0
    this.tailLength = 0
    this.pendingBytes = 0
  }

  private room(cap: number): Buffer {
    if (this.held.length < cap + 1 + TAIL) this.held = Buffer.allocUnsafe(cap + 1 + TAIL)
    return this.held
  }

  private line(bytes: Buffer, end: number, cut: boolean): void {
    this.bytes = bytes
    this.start = 0
    this.end = end
    this.cut = cut
  }

  private hold(data: Buffer, start: number, stop: number, cap: number): void {
    this.pendingBytes += stop - start
    const held = this.room(cap)
    // One byte past the cap is kept so that finish() can tell a line of exactly `cap` bytes from a longer one.
    const room = cap + 1 - this.kept
    if (room > 0 && stop > start) this.kept += data.copy(held, this.kept, start, Math.min(stop, start + room))
    if (this.kept > cap) {
      // The most recent TAIL bytes of the line, oldest first.
      const recent = Math.min(stop - start, TAIL)
      const keep = Math.min(this.tailLength, TAIL - recent)
      this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength)
      data.copy(this.tail, keep, stop - recent, stop)
      this.tailLength = keep + recent
    }
  }

  private finish(cap: number): void {
    const held = this.held
    // The line end may be CR LF with the CR at the end of an earlier piece: the last byte held tells.
    const last = this.tailLength > 0 ? this.tail[this.tailLength - 1] : held[this.kept - 1]
    const length = this.pendingBytes - (last === CR ? 1 : 0)
    if (length > cap) {
      const tailBytes = this.tailLength - (last === CR ? 1 : 0)
      this.tail.copy(held, cap, 0, tailBytes)
      this.line(held, cap + tailBytes, true)
    } else {
      this.line(held, length, false)
    }
    this.reset()
  }
}
