// Ring events as the capture filter sends them (struct http_exchange_event, bpf/http_exchange.h), for tests and
// bench/http-kernel-exchanges.ts.
import { EVENT, REQUEST } from '../../../src/capture/http-exchanges.ts'

export interface EventFields {
  line: string
  status?: number
  startNs?: number
  responseNs?: number
  side?: 0 | 1
  client?: [number, number, number, number]
  clientPort?: number
  server?: [number, number, number, number]
  serverPort?: number
}

export function exchangeEvent(f: EventFields): Buffer {
  const event = Buffer.alloc(EVENT.SIZE)
  const line = Buffer.from(f.line, 'latin1')
  event.writeBigUInt64LE(BigInt(f.startNs ?? 1_000_000), REQUEST.START_NS)
  event.writeUInt16LE(line.length, REQUEST.LINE_LENGTH)
  line.copy(event, REQUEST.LINE)
  event.writeBigUInt64LE(BigInt(f.responseNs ?? 1_250_000), EVENT.RESPONSE_NS)
  event.writeUInt16LE(f.status ?? 200, EVENT.STATUS)
  event[EVENT.FAMILY] = 4
  event[EVENT.SIDE] = f.side ?? 0
  event.writeUInt16BE(f.clientPort ?? 40000, EVENT.CLIENT_PORT)
  event.writeUInt16BE(f.serverPort ?? 80, EVENT.SERVER_PORT)
  Buffer.from(f.client ?? [198, 18, 2, 1]).copy(event, EVENT.CLIENT)
  Buffer.from(f.server ?? [198, 18, 2, 2]).copy(event, EVENT.SERVER)
  return event
}
