// The attribute sets each record kind contributes to its metrics, with OpenTelemetry semantic-convention names.
// Enrichment added by processors (`record.attributes`, e.g. `destination.domain`) is carried on every metric.
import type { Attributes, DnsRecord, FlowRecord, HttpRecord } from '../records.ts'

/**
 * Flow attributes. `source.port` is omitted when 0: the receiver collapsed an ephemeral client port, and a
 * series per ephemeral port is the cardinality explosion users complain about most. `process.pid` and
 * `process.executable.name` are omitted when unknown (pid 0, empty comm).
 */
export function flowAttributes(record: FlowRecord): Attributes {
  const attributes: Attributes = {
    'source.address': record.source.address,
    'destination.address': record.destination.address,
    'destination.port': record.destination.port,
    'network.transport': record.transport,
    'network.type': record.family,
    'flow.direction': record.direction,
  }
  if (record.source.port !== 0) attributes['source.port'] = record.source.port
  if (record.pid !== 0) attributes['process.pid'] = record.pid
  if (record.comm !== '') attributes['process.executable.name'] = record.comm
  return { ...attributes, ...record.attributes }
}

/** DNS attributes; `dns.question.name` is produced here and removed by the default view (opt-in). */
export function dnsAttributes(record: DnsRecord): Attributes {
  return {
    'dns.response_code': record.responseCode,
    'dns.question.type': record.questionType,
    'dns.question.name': record.questionName,
    'server.address': record.server.address,
    'server.port': record.server.port,
    'network.transport': record.transport,
    'network.type': record.family,
    ...record.attributes,
  }
}

/** HTTP attributes; the server is the destination of the exchange. `url.path` is opt-in. */
export function httpAttributes(record: HttpRecord): Attributes {
  return {
    'http.request.method': record.method,
    'http.response.status_code': record.statusCode,
    'network.protocol.version': record.protocolVersion,
    'server.address': record.destination.address,
    'server.port': record.destination.port,
    'url.path': record.path,
    ...record.attributes,
  }
}
