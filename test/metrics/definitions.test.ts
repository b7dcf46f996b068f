import assert from 'node:assert/strict'
import { ATTRIBUTE_DOCS, findMetric, measure, METRICS, type Measurement } from '../../src/metrics/definitions.ts'
import { renderMetricReference } from '../../src/metrics/reference.ts'
import type { AnyRecord } from '../../src/records.ts'
import { FLOW_ATTRIBUTES, dnsAnswerRecord, dnsRecord, flowRecord, httpRecord } from './samples.ts'

function measured(name: string, record: AnyRecord): Measurement[] {
  const definition = findMetric(name)
  assert.ok(definition, name)
  return measure(definition, record)
}


describe('metric definitions', () => {
  it('have unique names, UCUM units and documented attributes', () => {
    assert.equal(new Set(METRICS.map((m) => m.name)).size, METRICS.length)
    for (const m of METRICS) {
      assert.match(m.unit, /^(By|s|\{[a-z]+\})$/, m.name)
      for (const a of [...m.attributes, ...m.optionalAttributes]) assert.ok(ATTRIBUTE_DOCS[a], `${m.name}: ${a} undocumented`)
      if (m.instrument === 'histogram') {
        assert.ok(m.buckets && m.buckets.every((b, i, all) => i === 0 || b > (all[i - 1] as number)), `${m.name} buckets`)
      }
    }
  })

  it('netflow.bytes: transmit and receive, source port omitted when collapsed, enrichment carried', () => {
    assert.deepEqual(measured('netflow.bytes', flowRecord()), [
      { value: 1500, attributes: { ...FLOW_ATTRIBUTES, 'network.io.direction': 'transmit' } },
      { value: 64000, attributes: { ...FLOW_ATTRIBUTES, 'network.io.direction': 'receive' } },
    ])
    const withPort = measured('netflow.bytes', flowRecord({ source: { address: '10.0.0.1', port: 40000 }, bytesReceived: 0 }))
    assert.equal(withPort.length, 1, 'zero bytes add no series')
    assert.equal(withPort[0]?.attributes['source.port'], 40000)
    const unknown = measured('netflow.bytes', flowRecord({ pid: 0, comm: '' }))
    assert.ok(!('process.pid' in (unknown[0]?.attributes ?? {})) && !('process.executable.name' in (unknown[0]?.attributes ?? {})))
  })

  it('netflow.tcp.*: counts and RTT in seconds for TCP, nothing for UDP', () => {
    assert.deepEqual(measured('netflow.tcp.connections.established', flowRecord()), [{ value: 1, attributes: FLOW_ATTRIBUTES }])
    assert.deepEqual(measured('netflow.tcp.connections.closed', flowRecord({ closed: 3 })), [{ value: 3, attributes: FLOW_ATTRIBUTES }])
    assert.deepEqual(measured('netflow.tcp.retransmits', flowRecord()), [{ value: 2, attributes: FLOW_ATTRIBUTES }])
    assert.deepEqual(measured('netflow.tcp.rtt', flowRecord()), [{ value: 0.00025, attributes: FLOW_ATTRIBUTES }])
    assert.deepEqual(measured('netflow.tcp.rtt', flowRecord({ rttUs: undefined })), [])
    assert.deepEqual(measured('netflow.tcp.retransmits', flowRecord({ retransmits: 0 })), [])
    const udp = flowRecord({ transport: 'udp', rttUs: 100, established: 1 })
    for (const name of ['netflow.tcp.connections.established', 'netflow.tcp.retransmits', 'netflow.tcp.rtt']) {
      assert.deepEqual(measured(name, udp), [], name)
    }
    assert.equal(measured('netflow.bytes', udp)[0]?.attributes['network.transport'], 'udp')
  })

  it('dnsflow.*: one request per record, duration for answered queries only', () => {
    const attributes = {
      'dns.response_code': 'NOERROR',
      'dns.question.type': 'A',
      'dns.question.name': 'example.com',
      'server.address': '10.0.0.53',
      'server.port': 53,
      'network.transport': 'udp',
      'network.type': 'ipv4',
    }
    assert.deepEqual(measured('dnsflow.requests', dnsRecord()), [{ value: 1, attributes }])
    assert.deepEqual(measured('dnsflow.duration', dnsRecord()), [{ value: 0.002, attributes }])
    const timeout = dnsRecord({ responseCode: 'timeout', durationSeconds: undefined })
    assert.equal(measured('dnsflow.requests', timeout)[0]?.attributes['dns.response_code'], 'timeout')
    assert.deepEqual(measured('dnsflow.duration', timeout), [])
    assert.deepEqual(findMetric('dnsflow.requests')?.optionalAttributes, ['dns.question.name'])
  })

  it('http.*.request.duration: by side, semconv attributes, url.path optional', () => {
    const attributes = {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'server.address': '10.0.0.80',
      'server.port': 8080,
      'url.path': '/api/items',
    }
    assert.deepEqual(measured('http.client.request.duration', httpRecord()), [{ value: 0.12, attributes }])
    assert.deepEqual(measured('http.server.request.duration', httpRecord()), [])
    assert.equal(measured('http.server.request.duration', httpRecord({ side: 'server' })).length, 1)
    assert.deepEqual(findMetric('http.server.request.duration')?.buckets, [
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ])
  })

  it('http.*.request.duration: one value per request a record stands for, all with one attributes object', () => {
    const values = measured('http.server.request.duration', httpRecord({ side: 'server', durationsSeconds: [0.1, 0.3, 0.2] }))
    assert.deepEqual(values.map((m) => m.value), [0.1, 0.3, 0.2])
    assert.ok(values.every((m) => m.attributes === values[0]!.attributes))
  })

  it('measure nothing from records of other kinds, dns.answer included', () => {
    for (const m of METRICS) {
      assert.deepEqual(measure(m, dnsAnswerRecord()), [], m.name)
      const other = m.source === 'flow' ? dnsRecord() : flowRecord()
      assert.deepEqual(measure(m, other), [], m.name)
    }
  })

  it('render a Markdown reference naming every metric, unit and attribute', () => {
    const markdown = renderMetricReference()
    assert.match(markdown, /^# Metrics reference/)
    for (const m of METRICS) {
      assert.ok(markdown.includes(`### \`${m.name}\``), m.name)
      assert.ok(markdown.includes(`- Unit: \`${m.unit}\``), m.name)
    }
    assert.match(markdown, /\| `dns\.question\.name` \| optional \|/)
    assert.match(markdown, /\| `source\.port` \| default \| Client port; omitted when .*port 0/)
    assert.equal(renderMetricReference(), markdown, 'deterministic')
  })
})
