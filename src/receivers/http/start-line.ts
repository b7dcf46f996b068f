// The first line of an HTTP/1.x message: a request line (`GET /path HTTP/1.1`) or a status line
// (`HTTP/1.1 200 OK`), parsed from raw bytes; text is made only of what a record keeps (common methods are shared
// strings, so a request costs one string: its path). The request target is reduced to what may be recorded:
// userinfo always removed, the query (and fragment) removed unless configured otherwise, then cut at a maximum length.
import { findByte } from './line-reader.ts'

/** A request as read from its request line, and what the exchange notes while it awaits its response. */
export interface RequestLine {
  method: string
  path: string
  pathTruncated: boolean
  /** `1.0` or `1.1`. */
  version: string
  /** When its first byte was captured (ns; set by the parser). */
  startNs: number
  /** Reported as `request_timeout` already: its response, if it comes, pairs with it but makes no record. */
  expired: boolean
}

export interface TargetPolicy {
  maxPathLength: number
  redactQuery: boolean
}

export type StartLineError = 'bad_request_line' | 'bad_status_line' | 'http2_preface' | 'unsupported_version'

/** The longest method netlens accepts (WebDAV's `VERSION-CONTROL` is 15); longer is not HTTP. */
export const MAX_METHOD_LENGTH = 20

const SPACE = 0x20
const isTokenChar = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f
/** What `\s` and `[\x00-\x1f\x7f]` match in latin1 text: never part of a request target. */
const isTargetForbidden = (c: number) => c <= 0x20 || c === 0x7f || c === 0xa0

/**
 * Whether `data[start, end)` can begin a request: a method token then a space (or still too short to tell).
 * Used to refuse binary or other protocols at their first bytes instead of waiting for a line end.
 */
export function couldStartRequest(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end && i - start <= MAX_METHOD_LENGTH; i++) {
    const c = data[i] as number
    if (c === SPACE) return i > start
    if (!isTokenChar(c)) return false
  }
  return end - start <= MAX_METHOD_LENGTH
}

const STATUS_PREFIX = Buffer.from('HTTP/1.')

/** Whether `data[start, end)` can begin a status line (`HTTP/1.`), or is too short to tell. */
export function couldStartResponse(data: Buffer, start: number, end: number): boolean {
  const n = Math.min(end - start, STATUS_PREFIX.length)
  for (let i = 0; i < n; i++) if (data[start + i] !== STATUS_PREFIX[i]) return false
  return true
}

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']

/** The method's text: the shared string of a common method, else a new one. */
function methodText(line: Buffer, start: number, end: number): string {
  for (const method of METHODS) if (bytesAre(line, start, end, method)) return method
  return line.toString('latin1', start, end)
}

/** Whether `line[at, end)` is exactly `text` (ASCII). */
function bytesAre(line: Buffer, at: number, end: number, text: string): boolean {
  if (end - at !== text.length) return false
  for (let i = 0; i < text.length; i++) if (line[at + i] !== text.charCodeAt(i)) return false
  return true
}

/**
 * Parses a request line `line[start, end)` without its CRLF (targets are ASCII; other bytes are kept as latin1).
 * `cut`: the middle of an overlong line was left out (its head and its last bytes are here), so the path is
 * known to be truncated.
 */
export function parseRequestLine(
  line: Buffer, start: number, end: number, policy: TargetPolicy, cut = false,
): RequestLine | StartLineError {
  const firstSpace = findByte(line, SPACE, start, end)
  let lastSpace = end - 1
  while (lastSpace >= start && line[lastSpace] !== SPACE) lastSpace--
  if (firstSpace <= start || lastSpace === firstSpace || firstSpace - start > MAX_METHOD_LENGTH) return 'bad_request_line'
  const version = end - lastSpace - 1
  if (bytesAre(line, start, firstSpace, 'PRI') && bytesAre(line, lastSpace + 1, end, 'HTTP/2.0')) return 'http2_preface'
  if (version < 5 || !bytesAre(line, lastSpace + 1, lastSpace + 6, 'HTTP/')) return 'bad_request_line'
  const versionText = bytesAre(line, lastSpace + 6, end, '1.1') ? '1.1' : bytesAre(line, lastSpace + 6, end, '1.0') ? '1.0' : ''
  if (versionText === '') return 'unsupported_version'
  const targetStart = firstSpace + 1
  const targetEnd = lastSpace
  if (targetEnd === targetStart) return 'bad_request_line'
  let query = -1
  for (let i = targetStart; i < targetEnd; i++) {
    const c = line[i] as number
    if (isTargetForbidden(c)) return 'bad_request_line'
    if (query < 0 && (c === 0x3f || c === 0x23)) query = i
  }
  let path: string
  let truncated: boolean
  if (line[targetStart] === 0x2f) {
    // Origin form (`/a?b`), nearly every request: no userinfo to remove, the path ends at the query (redacted) or
    // at the fragment (never sent by a conforming client; not part of the resource if it is).
    let pathEnd = targetEnd
    if (policy.redactQuery) {
      if (query >= 0) pathEnd = query
    } else {
      const fragment = findByte(line, 0x23, targetStart, targetEnd)
      if (fragment >= 0) pathEnd = fragment
    }
    truncated = pathEnd - targetStart > policy.maxPathLength
    path = line.toString('latin1', targetStart, truncated ? targetStart + policy.maxPathLength : pathEnd)
  } else {
    ;({ path, truncated } = recordablePath(line.toString('latin1', targetStart, targetEnd), policy))
  }
  // A cut inside a redacted query loses nothing that would have been recorded.
  const cutInPath = cut && !(policy.redactQuery && query >= 0)
  return {
    method: methodText(line, start, firstSpace), path, pathTruncated: truncated || cutInPath, version: versionText,
    startNs: 0, expired: false,
  }
}

/** A status line's code, or why `line[start, end)` (without its CRLF) is not one. */
export function parseStatusLine(line: Buffer, start: number, end: number): number | StartLineError {
  if (end - start < 12 || !couldStartResponse(line, start, start + 7) || line[start + 8] !== SPACE) return 'bad_status_line'
  const minor = line[start + 7]
  if (minor !== 0x30 && minor !== 0x31) return 'unsupported_version'
  const d0 = (line[start + 9] as number) - 0x30
  const d1 = (line[start + 10] as number) - 0x30
  const d2 = (line[start + 11] as number) - 0x30
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'bad_status_line'
  if (end - start > 12 && line[start + 12] !== SPACE) return 'bad_status_line'
  return d0 * 100 + d1 * 10 + d2
}

/**
 * What of a request target may be recorded. Origin form (`/a?b`) keeps its path; absolute form (a proxy request,
 * `http://user:pw@host/a?b`) keeps scheme, host and path without userinfo; `*` and authority form stay as they are
 * (an authority form's userinfo is removed too).
 */
export function recordablePath(target: string, policy: TargetPolicy): { path: string; truncated: boolean } {
  let path = target
  const schemeEnd = path.indexOf('://')
  if (schemeEnd > 0 && !path.startsWith('/')) {
    const authorityStart = schemeEnd + 3
    let authorityEnd = path.slice(authorityStart).search(/[/?#]/)
    authorityEnd = authorityEnd < 0 ? path.length : authorityStart + authorityEnd
    const at = path.lastIndexOf('@', authorityEnd - 1)
    if (at >= authorityStart) path = path.slice(0, authorityStart) + path.slice(at + 1)
  } else if (!path.startsWith('/')) {
    const at = path.lastIndexOf('@')
    if (at >= 0) path = path.slice(at + 1)
  }
  if (policy.redactQuery) {
    const query = path.search(/[?#]/)
    if (query >= 0) path = path.slice(0, query)
  } else {
    // A fragment is never sent by a conforming client; if one is, it is not part of the resource.
    const fragment = path.indexOf('#')
    if (fragment >= 0) path = path.slice(0, fragment)
  }
  if (path.length > policy.maxPathLength) return { path: path.slice(0, policy.maxPathLength), truncated: true }
  return { path, truncated: false }
}
