// One line per record, for the debug exporter's detailed verbosity.
import type { AnyRecord, Attributes } from '../../records.ts'
import { hostPort, millis } from './format.ts'

function extra(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort()
  return keys.map((k) => ` ${k}=${String(attributes[k])}`).join('')
}

/** One request's duration, or how many requests a record stands for with their mean and maximum. */
function durations(seconds: number[]): string {
  if (seconds.length === 1) return `${millis(seconds[0])}ms`
  let sum = 0
  let max = 0
  for (const s of seconds) {
    sum += s
    max = Math.max(max, s)
  }
  return `${seconds.length} requests mean=${millis(sum / seconds.length)}ms max=${millis(max)}ms`
}

export function recordLine(record: AnyRecord): string {
  switch (record.kind) {
    case 'flow': {
      const from = hostPort(record.source.address, record.source.port)
      const to = hostPort(record.destination.address, record.destination.port)
      const rtt = record.rttUs === undefined ? '' : ` rtt=${millis(record.rttUs / 1e6)}ms`
      return (
        `flow ${record.transport} ${record.direction} ${from} → ${to} ${record.comm || '?'}/${record.pid}` +
        ` tx=${record.bytesSent} rx=${record.bytesReceived} est=${record.established} closed=${record.closed}` +
        ` retrans=${record.retransmits}${rtt}${extra(record.attributes)}`
      )
    }
    case 'dns': {
      const from = hostPort(record.client.address, record.client.port)
      const to = hostPort(record.server.address, record.server.port)
      const took = record.durationSeconds === undefined ? '' : ` ${millis(record.durationSeconds)}ms`
      return (
        `dns ${record.transport} ${from} → ${to} ${record.questionType} ${record.questionName}` +
        ` ${record.responseCode}${took}${extra(record.attributes)}`
      )
    }
    case 'dns.answer': {
      const addresses = record.addresses.map((a) => `${a.address} (ttl ${a.ttlSeconds}s)`).join(', ')
      return `dns.answer ${record.client} ${record.questionName} → ${addresses || '-'}${extra(record.attributes)}`
    }
    case 'http': {
      const from = hostPort(record.source.address, record.source.port)
      const to = hostPort(record.destination.address, record.destination.port)
      const path = record.pathTruncated ? `${record.path}…` : record.path
      return (
        `http ${record.side} ${record.method} ${path} ${record.statusCode} HTTP/${record.protocolVersion}` +
        ` ${from} → ${to} pid=${record.pid} ${durations(record.durationsSeconds)}${extra(record.attributes)}`
      )
    }
  }
}
