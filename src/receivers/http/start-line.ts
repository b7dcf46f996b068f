// The first line of an HTTP/1.x message: a request line (`GET /path HTTP/1.1`) or a status line
// (`HTTP/1.1 200 OK`), parsed from raw bytes. The request target is reduced to what may be recorded: userinfo
// always removed, the query (and fragment) removed unless configured otherwise, then cut at a maximum length.

export interface RequestLine {
  method: string
  path: string
  pathTruncated: boolean
  /** `1.0` or `1.1`. */
  version: string
}

export interface StatusLine {
  version: string
  status: number
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

/**
 * Parses a request line without its CRLF. `line` is latin1 text (targets are ASCII; anything else is kept as is).
 * `cut`: the middle of an overlong line was left out (its head and its last bytes are here), so the path is
 * known to be truncated.
 */
export function parseRequestLine(line: string, policy: TargetPolicy, cut = false): RequestLine | StartLineError {
  const firstSpace = line.indexOf(' ')
  const lastSpace = line.lastIndexOf(' ')
  if (firstSpace <= 0 || lastSpace === firstSpace || firstSpace > MAX_METHOD_LENGTH) return 'bad_request_line'
  const method = line.slice(0, firstSpace)
  const versionText = line.slice(lastSpace + 1)
  if (method === 'PRI' && versionText === 'HTTP/2.0') return 'http2_preface'
  if (!versionText.startsWith('HTTP/')) return 'bad_request_line'
  const version = versionText.slice(5)
  if (version !== '1.1' && version !== '1.0') return 'unsupported_version'
  const target = line.slice(firstSpace + 1, lastSpace)
  if (target.length === 0 || /[\s\x00-\x1f\x7f]/.test(target)) return 'bad_request_line'
  const { path, truncated } = recordablePath(target, policy)
  // A cut inside a redacted query loses nothing that would have been recorded.
  const cutInPath = cut && !(policy.redactQuery && /[?#]/.test(target))
  return { method, path, pathTruncated: truncated || cutInPath, version }
}

/** Parses a status line without its CRLF. */
export function parseStatusLine(line: string): StatusLine | StartLineError {
  if (!line.startsWith('HTTP/1.') || line.length < 12 || line[8] !== ' ') return 'bad_status_line'
  const minor = line[7]
  if (minor !== '0' && minor !== '1') return 'unsupported_version'
  const code = line.slice(9, 12)
  if (!/^[1-5]\d\d$/.test(code) || (line.length > 12 && line[12] !== ' ')) return 'bad_status_line'
  return { version: `1.${minor}`, status: Number(code) }
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
