// Domain names in DNS wire format (RFC 1035 4.1.4), read with every bound checked: labels ≤ 63 bytes, names
// ≤ 255 bytes, compression pointers inside the message and past the header, a bounded number of jumps (a loop
// can only exceed it). Pointers to later offsets are legal and accepted (dns-packet rejects them).
// Returns a negative code instead of throwing: this runs on every captured packet.

export const NAME_TRUNCATED = -1
export const NAME_BAD_LABEL = -2
export const NAME_TOO_LONG = -3
export const NAME_POINTER_LOOP = -4
export const NAME_BAD_POINTER = -5

const MAX_LABEL = 63
const MAX_NAME = 255
const HEADER_SIZE = 12
/** A legal name has at most 127 labels, each reachable through one pointer; more jumps can only be a loop. */
const MAX_JUMPS = 127

/** The decoded text of the last readName(…, true): lower case, no trailing dot, `.` for the root. */
export let nameText = ''

/**
 * Walks the name at `offset` in `msg` (the whole DNS message). Returns the offset just past the name where it
 * sits (after its first pointer, if any), or a NAME_* code. With `decode`, leaves the text in `nameText`.
 */
export function readName(msg: Buffer, offset: number, decode: boolean): number {
  const end = msg.length
  let position = offset
  let resume = -1
  let jumps = 0
  let length = 1
  // Decoded bytes, lower-cased with dots between labels; `plain` turns false when a byte needs escaping.
  let written = 0
  let plain = true
  for (;;) {
    if (position >= end) return NAME_TRUNCATED
    const label = msg[position] as number
    if (label === 0) {
      if (resume < 0) resume = position + 1
      break
    }
    const kind = label & 0xc0
    if (kind === 0xc0) {
      if (position + 1 >= end) return NAME_TRUNCATED
      const target = ((label & 0x3f) << 8) | (msg[position + 1] as number)
      if (target < HEADER_SIZE || target >= end) return NAME_BAD_POINTER
      if (++jumps > MAX_JUMPS) return NAME_POINTER_LOOP
      if (resume < 0) resume = position + 2
      position = target
      continue
    }
    // 0x40 and 0x80 are the obsolete extended label types (RFC 6891 deprecates them): not a valid name.
    if (kind !== 0 || label > MAX_LABEL) return NAME_BAD_LABEL
    const start = position + 1
    position = start + label
    if (position > end) return NAME_TRUNCATED
    length += label + 1
    if (length > MAX_NAME) return NAME_TOO_LONG
    if (decode && plain) {
      if (written > 0) scratch[written++] = 0x2e
      for (let i = start; i < position; i++) {
        const c = msg[i] as number
        if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2a) scratch[written++] = c
        else if (c >= 0x41 && c <= 0x5a) scratch[written++] = c + 0x20
        else { plain = false; break }
      }
    }
  }
  if (decode) {
    if (written === 0 && plain) nameText = '.'
    else nameText = plain ? scratch.toString('latin1', 0, written) : escapedText(msg, offset)
  }
  return resume
}

/** Room for the longest name: 255 wire bytes decode to at most 254 characters before escaping. */
const scratch = Buffer.alloc(MAX_NAME)

/** The slow path for names with bytes outside letters, digits, `-`, `_`, `*`: the name is known valid by now. */
function escapedText(msg: Buffer, offset: number): string {
  const labels: string[] = []
  let position = offset
  for (let label = msg[position] as number; label !== 0; label = msg[position] as number) {
    if ((label & 0xc0) === 0xc0) {
      position = ((label & 0x3f) << 8) | (msg[position + 1] as number)
      continue
    }
    labels.push(labelText(msg, position + 1, position + 1 + label))
    position += 1 + label
  }
  return labels.join('.')
}

/** A label in presentation form, lower-cased; bytes outside printable ASCII, dots and backslashes as \DDD. */
function labelText(msg: Buffer, start: number, end: number): string {
  let text = ''
  for (let i = start; i < end; i++) {
    const c = msg[i] as number
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) text += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c)
    else text += `\\${String(c).padStart(3, '0')}`
  }
  return text
}
