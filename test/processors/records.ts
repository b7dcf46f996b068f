// Small record builders for processor tests.
import type { DnsAnswerRecord, DnsRecord, FlowRecord, HttpRecord } from '../../src/records.ts'

export function flow(source: string, destination: string, overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    kind: 'flow', transport: 'tcp', family: destination.includes(':') ? 'ipv6' : 'ipv4', direction: 'outgoing',
    source: { address: source, port: 0 }, destination: { address: destination, port: 443 },
    netns: 4026531840, pid: 42, comm: 'curl', bytesSent: 100, bytesReceived: 200, established: 1, closed: 0,
    retransmits: 0, attributes: {}, ...overrides,
  }
}

export function http(source: string, destination: string, side: HttpRecord['side'] = 'client'): HttpRecord {
  return {
    kind: 'http', side, family: destination.includes(':') ? 'ipv6' : 'ipv4',
    source: { address: source, port: 0 }, destination: { address: destination, port: 80 }, pid: 7,
    method: 'GET', path: '/', pathTruncated: false, statusCode: 200, protocolVersion: '1.1', durationsSeconds: [0.01],
    attributes: {},
  }
}

export function dnsQuery(client: string, server: string, questionName: string): DnsRecord {
  return {
    kind: 'dns', transport: 'udp', family: server.includes(':') ? 'ipv6' : 'ipv4',
    client: { address: client, port: 40000 }, server: { address: server, port: 53 }, questionName,
    questionType: 'A', responseCode: 'NOERROR', durationSeconds: 0.001, attributes: {},
  }
}

export function answer(client: string, questionName: string, addresses: Array<[string, number]>): DnsAnswerRecord {
  return {
    kind: 'dns.answer', client, questionName,
    addresses: addresses.map(([address, ttlSeconds]) => ({ address, ttlSeconds })), attributes: {},
  }
}
