// DNS message decoding for captured traffic. dns-packet is lenient where a sniffer must be strict (A/AAAA ignore
// rdlength, truncated TXT decodes, streamDecode ignores the TCP length prefix) and strict where it must be
// lenient (legal forward compression pointers throw), and it decodes every section into objects. So one bounded
// walk here validates the whole message (counts against size, names, every rdlength against its data and type,
// trailing bytes) and decodes only what the receiver uses: header, first question, and for responses the A,
// AAAA and CNAME records of the answer section. dns-packet supplies the type names, and is the oracle the tests
// compare against. Never throws: input is untrusted and arrives at line rate.
import { createRequire } from 'node:module'
import { ipv4ToString, ipv6ToString } from '../../net/address.ts'
import {
  NAME_BAD_LABEL, NAME_BAD_POINTER, NAME_POINTER_LOOP, NAME_TOO_LONG, nameText, readName,
} from './wire-name.ts'

const require = createRequire(import.meta.url)
const dnsTypes = require('dns-packet/types.js') as { toString(type: number): string }

export const TYPE_A = 1
export const TYPE_NS = 2
export const TYPE_CNAME = 5
export const TYPE_SOA = 6
export const TYPE_PTR = 12
export const TYPE_MX = 15
export const TYPE_AAAA = 28
export const TYPE_DNAME = 39
export const TYPE_OPT = 41
const CLASS_IN = 1
const HEADER_SIZE = 12
const MIN_QUESTION = 5
const MIN_RECORD = 11

/** An answer-section record the receiver uses: `data` is the address (A/AAAA) or the target name (CNAME). */
export interface DnsAnswer {
  name: string
  type: number
  ttl: number
  data: string
}

export interface DnsMessage {
  id: number
  response: boolean
  opcode: number
  /** TC: the answer did not fit and the client should retry over TCP. */
  truncated: boolean
  /** Header RCODE, extended with the OPT record's upper bits when present. */
  rcode: number
  /** Lower case, no trailing dot (`.` for the root). */
  questionName: string
  questionType: number
  /** Empty for queries. */
  answers: DnsAnswer[]
}

/** Why a payload is not a DNS message we can use; counted as `netlens.dns.parse_errors{reason}`. */
export type DnsParseError =
  | 'truncated_header'
  | 'no_question'
  | 'bad_counts'
  | 'truncated_record'
  | 'bad_label'
  | 'name_too_long'
  | 'pointer_loop'
  | 'bad_pointer'
  | 'bad_rdlength'
  | 'trailing_garbage'
  | 'decode_error'

/** dns-packet's name for a record type (`A`, `AAAA`, `HTTPS`, ... or `UNKNOWN_<n>`). */
export function typeName(type: number): string {
  return dnsTypes.toString(type)
}

function nameError(code: number): DnsParseError {
  switch (code) {
    case NAME_BAD_LABEL: return 'bad_label'
    case NAME_TOO_LONG: return 'name_too_long'
    case NAME_POINTER_LOOP: return 'pointer_loop'
    case NAME_BAD_POINTER: return 'bad_pointer'
    default: return 'truncated_record'
  }
}

/** Decodes one DNS message (no TCP length prefix): the message, or why it was rejected. */
export function parseDns(msg: Buffer): DnsMessage | DnsParseError {
  try {
    return parseUnchecked(msg)
  } catch {
    // Every read above is bounds-checked; reaching here is a bug, still counted rather than crashing the agent.
    return 'decode_error'
  }
}

function parseUnchecked(msg: Buffer): DnsMessage | DnsParseError {
  if (msg.length < HEADER_SIZE) return 'truncated_header'
  const flags = msg.readUInt16BE(2)
  const qdcount = msg.readUInt16BE(4)
  const ancount = msg.readUInt16BE(6)
  const nscount = msg.readUInt16BE(8)
  const arcount = msg.readUInt16BE(10)
  if (qdcount * MIN_QUESTION + (ancount + nscount + arcount) * MIN_RECORD > msg.length - HEADER_SIZE) return 'bad_counts'
  if (qdcount === 0) return 'no_question'
  const response = (flags & 0x8000) !== 0

  let offset = readName(msg, HEADER_SIZE, true)
  if (offset < 0) return nameError(offset)
  const questionName = nameText
  decodedCount = 0
  remember(HEADER_SIZE, questionName)
  if (offset + 4 > msg.length) return 'truncated_record'
  const questionType = msg.readUInt16BE(offset)
  offset += 4
  for (let i = 1; i < qdcount; i++) {
    offset = readName(msg, offset, false)
    if (offset < 0) return nameError(offset)
    offset += 4
    if (offset > msg.length) return 'truncated_record'
  }

  const answers: DnsAnswer[] = []
  let extendedRcode = 0
  const records = ancount + nscount + arcount
  for (let i = 0; i < records; i++) {
    const inAnswers = i < ancount
    const ownerStart = offset
    offset = readName(msg, offset, false)
    if (offset < 0) return nameError(offset)
    if (offset + 10 > msg.length) return 'truncated_record'
    const type = msg.readUInt16BE(offset)
    const klass = msg.readUInt16BE(offset + 2)
    const ttl = msg.readUInt32BE(offset + 4)
    const rdlength = msg.readUInt16BE(offset + 8)
    const rdata = offset + 10
    offset = rdata + rdlength
    if (offset > msg.length) return 'truncated_record'
    const problem = checkRdata(msg, type, klass, rdata, offset)
    if (problem) return problem
    if (type === TYPE_OPT && i >= ancount + nscount) extendedRcode = ttl >>> 24
    if (inAnswers && response && (type === TYPE_A || type === TYPE_AAAA || type === TYPE_CNAME) && klass === CLASS_IN) {
      const name = decodedName(msg, ownerStart)
      let data: string
      if (type === TYPE_A) data = ipv4ToString(msg, rdata)
      else if (type === TYPE_AAAA) data = ipv6ToString(msg, rdata)
      else data = decodedName(msg, rdata)
      answers.push({ name, type, ttl, data })
    }
  }
  if (offset !== msg.length) return 'trailing_garbage'

  return {
    id: msg.readUInt16BE(0),
    response,
    opcode: (flags >> 11) & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    rcode: (extendedRcode << 4) | (flags & 0x000f),
    questionName,
    questionType,
    answers,
  }
}

/**
 * Names decoded in the message being parsed, by offset. An answer's owner is nearly always a bare compression
 * pointer to the question or to the previous CNAME's target: its text is then already known, and a CNAME answer
 * costs two name decodes instead of four. Module scratch, reset per message: parsing is synchronous.
 */
const DECODED_MAX = 8
const decodedOffsets = new Int32Array(DECODED_MAX)
const decodedTexts: string[] = new Array<string>(DECODED_MAX).fill('')
let decodedCount = 0

function remember(offset: number, text: string): void {
  if (decodedCount === DECODED_MAX) return
  decodedOffsets[decodedCount] = offset
  decodedTexts[decodedCount++] = text
}

/** The text of the (already validated) name at `offset`. */
function decodedName(msg: Buffer, offset: number): string {
  const first = msg[offset] as number
  const target = (first & 0xc0) === 0xc0 ? ((first & 0x3f) << 8) | (msg[offset + 1] as number) : offset
  for (let i = 0; i < decodedCount; i++) if (decodedOffsets[i] === target) return decodedTexts[i]!
  readName(msg, offset, true)
  remember(offset, nameText)
  return nameText
}

/** Record data must be exactly what its type says: an address of the right size, or names ending at rdlength. */
function checkRdata(msg: Buffer, type: number, klass: number, start: number, end: number): DnsParseError | undefined {
  const length = end - start
  switch (type) {
    case TYPE_A:
      return klass === CLASS_IN && length !== 4 ? 'bad_rdlength' : undefined
    case TYPE_AAAA:
      return klass === CLASS_IN && length !== 16 ? 'bad_rdlength' : undefined
    case TYPE_CNAME:
    case TYPE_NS:
    case TYPE_PTR:
    case TYPE_DNAME:
      return namesFill(msg, start, end, 1, 0)
    case TYPE_MX:
      return length < 3 ? 'bad_rdlength' : namesFill(msg, start + 2, end, 1, 0)
    case TYPE_SOA:
      return namesFill(msg, start, end, 2, 20)
    default:
      return undefined
  }
}

/** `count` names then `fixed` bytes must end exactly at `end` (a name running past it shows as a mismatch). */
function namesFill(msg: Buffer, start: number, end: number, count: number, fixed: number): DnsParseError | undefined {
  let offset = start
  for (let i = 0; i < count; i++) {
    if (offset >= end) return 'bad_rdlength'
    offset = readName(msg, offset, false)
    if (offset < 0) return nameError(offset)
  }
  return offset + fixed === end ? undefined : 'bad_rdlength'
}
