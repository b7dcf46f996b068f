// What a NOERROR response says the asked name resolves to: the A and AAAA records reachable from the question
// name through the answer section's CNAME chain, keyed on the name the client asked (not the chain's end), so
// the rdns processor can name the flows this client opens to those addresses.
import type { DnsAnswerRecord } from '../../records.ts'
import { TYPE_A, TYPE_AAAA, TYPE_CNAME, type DnsMessage } from './parse.ts'

export function answerRecord(message: DnsMessage, clientAddress: string): DnsAnswerRecord | undefined {
  if (message.rcode !== 0 || message.answers.length === 0) return undefined
  // Names that stand for the question: the question itself and every CNAME target reached from it. Records may
  // come in any order, so repeat until the set stops growing (at most once per CNAME).
  // Most answers have no CNAME: then the question is the only alias, and no Set is built (one per response).
  const hasAlias = message.answers.some((answer) => answer.type === TYPE_CNAME)
  const aliases = hasAlias ? new Set([message.questionName]) : undefined
  for (let grew = hasAlias; grew && aliases; ) {
    grew = false
    for (const answer of message.answers) {
      if (answer.type === TYPE_CNAME && aliases.has(answer.name) && !aliases.has(answer.data)) {
        aliases.add(answer.data)
        grew = true
      }
    }
  }
  const addresses: DnsAnswerRecord['addresses'] = []
  let seen: Set<string> | undefined // from the second address on
  for (const answer of message.answers) {
    if (answer.type !== TYPE_A && answer.type !== TYPE_AAAA) continue
    if (aliases ? !aliases.has(answer.name) : answer.name !== message.questionName) continue
    if (addresses.length > 0) {
      seen ??= new Set(addresses.map((a) => a.address))
      if (seen.has(answer.data)) continue
      seen.add(answer.data)
    }
    addresses.push({ address: answer.data, ttlSeconds: answer.ttl })
  }
  if (addresses.length === 0) return undefined
  return { kind: 'dns.answer', client: clientAddress, questionName: message.questionName, addresses, attributes: {} }
}
