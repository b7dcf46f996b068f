// Sample records shared by the metrics and exporter tests.
import type { DnsAnswerRecord, DnsRecord, FlowRecord, HttpRecord } from '../../src/records.ts'

export function flowRecord(overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    kind: 'flow',
    transport: 'tcp',
    family: 'ipv4',
    direction: 'outgoing',
    source: { address: '10.0.0.1', port: 0 },
    destination: { address: '10.0.0.2', port: 443 },
    netns: 4026531840,
    pid: 1234,
    comm: 'curl',
    bytesSent: 1500,
    bytesReceived: 64000,
    established: 1,
    closed: 1,
    retransmits: 2,
    rttUs: 250,
    rttVarUs: 40,
    attributes: { 'destination.domain': 'example.com' },
    ...overrides,
  }
}

/** The metric attributes every netflow metric carries for flowRecord() with no overrides. */
export const FLOW_ATTRIBUTES = {
  'source.address': '10.0.0.1',
  'destination.address': '10.0.0.2',
  'destination.port': 443,
  'network.transport': 'tcp',
  'network.type': 'ipv4',
  'flow.direction': 'outgoing',
  'process.pid': 1234,
  'process.executable.name': 'curl',
  'destination.domain': 'example.com',
}

export function dnsRecord(overrides: Partial<DnsRecord> = {}): DnsRecord {
  return {
    kind: 'dns',
    transport: 'udp',
    family: 'ipv4',
    client: { address: '10.0.0.1', port: 40000 },
    server: { address: '10.0.0.53', port: 53 },
    questionName: 'example.com',
    questionType: 'A',
    responseCode: 'NOERROR',
    durationSeconds: 0.002,
    attributes: {},
    ...overrides,
  }
}

export function httpRecord(overrides: Partial<HttpRecord> = {}): HttpRecord {
  return {
    kind: 'http',
    side: 'client',
    family: 'ipv4',
    source: { address: '10.0.0.1', port: 0 },
    destination: { address: '10.0.0.80', port: 8080 },
    pid: 99,
    method: 'GET',
    path: '/api/items',
    pathTruncated: false,
    statusCode: 200,
    protocolVersion: '1.1',
    durationsSeconds: [0.12],
    attributes: {},
    ...overrides,
  }
}

export function dnsAnswerRecord(): DnsAnswerRecord {
  return {
    kind: 'dns.answer',
    client: '10.0.0.1',
    questionName: 'example.com',
    addresses: [{ address: '93.184.215.14', ttlSeconds: 300 }],
    attributes: {},
  }
}
