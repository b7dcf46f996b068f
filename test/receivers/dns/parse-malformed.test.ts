// A corpus of malformed DNS messages: each is rejected with its reason, never by throwing.
import assert from 'node:assert/strict'
import { parseDns } from '../../../src/receivers/dns/parse.ts'
import { query, response } from './builders.ts'

function message(counts: [number, number, number, number], body: number[], flags = 0x8180): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0x1234, 0)
  header.writeUInt16BE(flags, 2)
  counts.forEach((c, i) => header.writeUInt16BE(c, 4 + 2 * i))
  return Buffer.concat([header, Buffer.from(body)])
}

const name = (...labels: string[]) => [...labels.flatMap((l) => [l.length, ...Buffer.from(l)]), 0]
const ptr = (offset: number) => [0xc0 | (offset >> 8), offset & 0xff]
const question = [...name('q', 'test'), 0, 1, 0, 1]
const rr = (type: number, rdata: number[], owner = ptr(12)) =>
  [...owner, type >> 8, type & 0xff, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 0xff, ...rdata]

const corpus: Array<[string, Buffer, string]> = [
  ['empty', Buffer.alloc(0), 'truncated_header'],
  ['11-byte header', Buffer.alloc(11), 'truncated_header'],
  ['no question', message([0, 0, 0, 0], []), 'no_question'],
  ['huge question count', message([65535, 0, 0, 0], question), 'bad_counts'],
  ['huge answer count', message([1, 65535, 0, 0], question), 'bad_counts'],
  ['counts larger than the records present', message([1, 2, 0, 0], [...question, ...rr(1, [1, 2, 3, 4]), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'truncated_record'],
  ['name running off the end', message([1, 0, 0, 0], [5, 0x61, 0x62]), 'bad_counts'],
  ['label running off the end', message([1, 0, 0, 0], [9, 0x61, 0x62, 0x63, 0x64, 0x65]), 'truncated_record'],
  ['question missing type and class', message([1, 0, 0, 0], [...name('abcdef')]), 'truncated_record'],
  ['label over 63 bytes', message([1, 0, 0, 0], [...name('a'.repeat(64)), 0, 1, 0, 1]), 'bad_label'],
  ['extended label type 0x40', message([1, 0, 0, 0], [0x41, 0x61, 0, 0, 1, 0, 1]), 'bad_label'],
  ['name over 255 bytes', message([1, 0, 0, 0], [...name(...Array(5).fill('b'.repeat(63))), 0, 1, 0, 1]), 'name_too_long'],
  ['name over 255 bytes through pointers', message([1, 1, 0, 0], [
    ...name(...Array(3).fill('c'.repeat(63))), 0, 1, 0, 1,
    ...rr(1, [1, 2, 3, 4], [63, ...Buffer.from('d'.repeat(63)), ...ptr(12)]),
  ]), 'name_too_long'],
  ['pointer to itself', message([1, 0, 0, 0], [...ptr(12), 0, 1, 0, 1]), 'pointer_loop'],
  ['two pointers in a cycle', message([1, 0, 0, 0], [...ptr(14), ...ptr(12), 0, 1, 0, 1]), 'pointer_loop'],
  ['label then pointer back to it', message([1, 0, 0, 0], [1, 0x61, ...ptr(12), 0, 1, 0, 1]), 'name_too_long'],
  ['pointer into the header', message([1, 0, 0, 0], [...ptr(4), 0, 1, 0, 1]), 'bad_pointer'],
  ['pointer past the end', message([1, 0, 0, 0], [...ptr(500), 0, 1, 0, 1]), 'bad_pointer'],
  ['cut pointer', message([1, 0, 0, 0], [0xc0]), 'bad_counts'],
  ['A with rdlength 3', message([1, 1, 0, 0], [...question, ...rr(1, [1, 2, 3])]), 'bad_rdlength'],
  ['A with rdlength 5', message([1, 1, 0, 0], [...question, ...rr(1, [1, 2, 3, 4, 5])]), 'bad_rdlength'],
  ['AAAA with rdlength 4', message([1, 1, 0, 0], [...question, ...rr(28, [1, 2, 3, 4])]), 'bad_rdlength'],
  ['CNAME rdata longer than its name', message([1, 1, 0, 0], [...question, ...rr(5, [...name('x'), 7])]), 'bad_rdlength'],
  ['CNAME name running past rdlength', message([1, 1, 0, 0], [...question, ...rr(5, [3, 0x61]), 0x62, 0x63, 0]), 'bad_rdlength'],
  ['SOA missing its numbers', message([1, 0, 1, 0], [...question, ...rr(6, [...ptr(12), ...ptr(12), 0, 0, 0, 1])]), 'bad_rdlength'],
  ['MX without exchange', message([1, 1, 0, 0], [...question, ...rr(15, [0, 10])]), 'bad_rdlength'],
  ['rdlength past the end', message([1, 1, 0, 0], [...question, ...rr(16, [1, 2, 3]).slice(0, -1), 0].map((b, i, all) => (i === all.length - 4 ? 40 : b))), 'truncated_record'],
  ['record header cut', message([1, 0, 0, 1], [...question, ...ptr(12), 0, 1, 0, 1, 0, 0, 0, 60, 0]), 'truncated_record'],
  ['trailing garbage', Buffer.concat([query(1, 'a.test'), Buffer.from([0xde, 0xad])]), 'trailing_garbage'],
  ['TXT truncated inside', (() => {
    const ok = response(9, 'a.test', 'TXT', [{ type: 'TXT', name: 'a.test', ttl: 1, data: 'hello world' }])
    return ok.subarray(0, ok.length - 4)
  })(), 'truncated_record'],
  ['TCP length prefix left in', (() => {
    const q = query(1, 'a.test')
    return Buffer.concat([Buffer.from([0, q.length]), q])
  })(), 'bad_counts'],
]

describe('dns message parsing: malformed corpus', () => {
  for (const [what, buf, reason] of corpus) {
    it(`rejects ${what} as ${reason}`, () => {
      assert.equal(parseDns(buf), reason)
    })
  }

  it('rejects every truncation of a valid response, never throwing', () => {
    const ok = response(5, 'www.example.com', 'A', [
      { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'web.example.net' },
      { type: 'A', name: 'web.example.net', ttl: 60, data: '192.0.2.10' },
    ])
    for (let length = 0; length < ok.length; length++) {
      const result = parseDns(ok.subarray(0, length))
      assert.equal(typeof result, 'string', `length ${length}`)
    }
  })
})
