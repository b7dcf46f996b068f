// Reads CRLF- (or LF-) terminated lines out of a byte stream that arrives in arbitrary pieces, keeping at most
// `cap` bytes of a line (plus its last TAIL bytes, where a request line keeps its version). A line held in one
// piece is decoded in place; only a line split across pieces is copied, and never more than cap + TAIL bytes.

const LF = 0x0a
const CR = 0x0d
const TAIL = 16

export class LineReader {
  /** The last line completed by take(), without its line end. */
  line = ''
  /** Whether the last line was longer than the cap: `line` then holds its head and last TAIL bytes. */
  cut = false
  /** Bytes of the line being read so far (all of them, kept or not). */
  pendingBytes = 0
  private parts: Buffer[] = []
  private kept = 0
  private tail: Buffer | undefined

  /**
   * Consumes `data[start, end)` up to and including the next line feed. Returns the index after it once a line
   * is complete (read `line` and `cut`), or -1 when the piece ended first (the bytes are held for the next call).
   */
  take(data: Buffer, start: number, end: number, cap: number): number {
    let newline = data.indexOf(LF, start)
    if (newline >= end) newline = -1
    const stop = newline < 0 ? end : newline
    if (this.pendingBytes === 0 && newline >= 0) {
      let lineEnd = stop
      if (lineEnd > start && data[lineEnd - 1] === CR) lineEnd--
      this.cut = lineEnd - start > cap
      this.line = this.cut
        ? data.toString('latin1', start, start + cap) + data.toString('latin1', Math.max(start + cap, lineEnd - TAIL), lineEnd)
        : data.toString('latin1', start, lineEnd)
      this.pendingBytes = 0
      return newline + 1
    }
    this.hold(data, start, stop, cap)
    if (newline < 0) return -1
    this.finish(cap)
    return newline + 1
  }

  /** Forgets a partly read line. */
  reset(): void {
    this.parts = []
    this.kept = 0
    this.tail = undefined
    this.pendingBytes = 0
  }

  private hold(data: Buffer, start: number, stop: number, cap: number): void {
    this.pendingBytes += stop - start
    const room = cap + 1 - this.kept
    if (room > 0 && stop > start) {
      // One byte past the cap is kept so that finish() can tell a line of exactly `cap` bytes from a longer one.
      const piece = Buffer.from(data.subarray(start, Math.min(stop, start + room)))
      this.parts.push(piece)
      this.kept += piece.length
    }
    if (this.kept > cap) {
      const recent = data.subarray(Math.max(start, stop - TAIL), stop)
      const joined = this.tail ? Buffer.concat([this.tail, recent]) : Buffer.from(recent)
      this.tail = joined.subarray(Math.max(0, joined.length - TAIL))
    }
  }

  private finish(cap: number): void {
    const whole = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts)
    // The line end may be CR LF with the CR at the end of an earlier piece: the last byte held tells.
    const last = this.tail ? this.tail[this.tail.length - 1] : whole[whole.length - 1]
    const length = this.pendingBytes - (last === CR ? 1 : 0)
    this.cut = length > cap
    if (this.cut) {
      const tail = this.tail as Buffer
      this.line = whole.toString('latin1', 0, cap) + tail.toString('latin1', 0, tail.length - (last === CR ? 1 : 0))
    } else {
      this.line = whole.toString('latin1', 0, length)
    }
    this.reset()
  }
}
