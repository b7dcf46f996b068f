import assert from 'node:assert/strict'
import { Problems } from '../../../src/config/errors.ts'
import { validateSection } from '../../../src/config/section.ts'
import type { HttpConfig } from '../../../src/receivers/http/config.ts'
import { httpReceiverFactory } from '../../../src/receivers/http/factory.ts'
import { findLibssl, libsslFromLdconfig } from '../../../src/receivers/http/libssl.ts'
import { decodeTlsEvent, TLS_EVENT_HEADER_SIZE } from '../../../src/receivers/http/tls-event.ts'

function load(section: unknown): { config?: HttpConfig; problems: string[] } {
  const problems = new Problems('test.yaml')
  const config = validateSection(httpReceiverFactory.schema, section, ['receivers', 'http'], problems)
  if (config && problems.lines.length === 0) {
    try {
      httpReceiverFactory.validate?.(config)
    } catch (error) {
      return { problems: [(error as Error).message] }
    }
  }
  return { config, problems: problems.lines }
}

describe('http receiver factory and helpers', () => {
  it('has defaults that validate', () => {
    const { config, problems } = load(undefined)
    assert.deepEqual(problems, [])
    assert.deepEqual(config, {
      ports: [80, 8080, 8000, 3000, 5000, 9000], interface: '', tls: { enabled: true, libssl: '' }, max_path_length: 150,
      redact_query: true, timeout: 30_000, max_connections: 65_536, flush_interval: 1000, kernel_exchanges: true,
    })
  })

  it('rejects bad settings naming the key', () => {
    assert.match(load({ ports: [0] }).problems.join(), /ports/)
    assert.match(load({ ports: Array.from({ length: 17 }, (_, i) => 1000 + i) }).problems.join(), /ports: must list 1 to 16/)
    assert.match(load({ max_path_length: 5000 }).problems.join(), /max_path_length/)
    assert.match(load({ timeout: '5ms' }).problems.join(), /timeout/)
    assert.match(load({ tls: { enabled: 3, libsl: '/x' } }).problems.join(), /tls/)
    assert.match(load({ interface: 'a b' }).problems.join(), /interface/)
  })

  it('finds libssl.so.3 through ldconfig, for this architecture', () => {
    const listing = [
      '\tlibssl.so.3 (libc6) => /usr/lib/i386-linux-gnu/libssl.so.3',
      '\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3',
    ].join('\n')
    assert.equal(libsslFromLdconfig(listing), process.arch === 'x64' ? '/lib/x86_64-linux-gnu/libssl.so.3' : '/usr/lib/i386-linux-gnu/libssl.so.3')
    assert.equal(libsslFromLdconfig('\tlibssl.so.1.1 (libc6,x86-64) => /lib/libssl.so.1.1'), undefined)
    assert.match(findLibssl() ?? '', /libssl\.so\.3$/, 'the test machine has OpenSSL 3 (Debian libssl3)')
  })

  it('decodes TLS events and refuses records of the wrong size', () => {
    const record = Buffer.alloc(TLS_EVENT_HEADER_SIZE + 3)
    record.writeBigUInt64LE(123n, 0)
    record.writeBigUInt64LE(0x7f00deadn, 8)
    record.writeUInt32LE(42, 16)
    record.writeUInt32LE(5000, 24)
    record.writeUInt32LE(3, 28)
    record[32] = 1
    Buffer.from([198, 18, 0, 1]).copy(record, 40)
    Buffer.from([198, 18, 0, 2]).copy(record, 56)
    record.writeUInt16LE(443, 76)
    record.writeUInt16LE(50000, 78)
    record[80] = 2
    record.write('GET', 88)
    const event = decodeTlsEvent(record)!
    assert.deepEqual(
      { timestampNs: event.timestampNs, pid: event.pid, ssl: event.ssl, direction: event.direction, length: event.length, data: event.data.toString(), socket: event.socket },
      {
        timestampNs: 123, pid: 42, ssl: 0x7f00dead, direction: 1, length: 5000, data: 'GET',
        socket: { family: 'ipv4', local: { address: '198.18.0.1', port: 443 }, remote: { address: '198.18.0.2', port: 50000 } },
      },
    )
    // The header and `captured` (3) bytes, no fewer.
    assert.equal(decodeTlsEvent(record.subarray(0, TLS_EVENT_HEADER_SIZE + 2)), undefined)
    assert.equal(decodeTlsEvent(record.subarray(0, 40)), undefined)
  })
})
