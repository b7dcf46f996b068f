// geoip against real MMDB files: the embedded DB-IP country database for well-known public addresses (countries
// as that database states them; no network needed), user databases built here with mmdb-writer in the MaxMind
// City/ASN and IPinfo shapes overriding it, reload when a file is replaced, and a bad file keeping the old data.
import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GeoIpConfig } from '../../../src/processors/geoip/config.ts'
import { geoIpProcessorFactory } from '../../../src/processors/geoip/factory.ts'
import type { GeoIpProcessor } from '../../../src/processors/geoip/processor.ts'
import type { AnyRecord } from '../../../src/records.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { configOf, testSettings } from '../../helpers/components.ts'
import { dnsQuery, flow, http } from '../records.ts'
import { writeMmdb } from './mmdb.ts'

function create(section: Partial<GeoIpConfig>) {
  const settings = testSettings('geoip')
  const processor = geoIpProcessorFactory.create(settings, configOf(geoIpProcessorFactory, section)) as GeoIpProcessor
  return { processor, telemetry: settings.telemetry }
}

const countryOf = (processor: GeoIpProcessor, address: string) => processor.lookup(address).countryIsoCode

describe('geoip processor', function () {
  this.timeout(20_000)
  const processors: GeoIpProcessor[] = []
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'netlens-geoip-')) })
  after(async () => {
    for (const p of processors) await p.shutdown()
    rmSync(dir, { recursive: true, force: true })
  })
  async function started(section: Partial<GeoIpConfig>) {
    const made = create(section)
    processors.push(made.processor)
    await made.processor.start()
    return made
  }

  it('finds the countries the embedded DB-IP database states, IPv4 and IPv6', async () => {
    const { processor } = await started({})
    const expected: Array<[string, string]> = [
      ['8.8.8.8', 'US'], ['193.0.6.139', 'NL'], ['2001:67c:2e8:22::c100:68b', 'NL'], ['133.242.0.3', 'JP'],
      ['200.160.2.3', 'BR'], ['2001:12ff:0:4::3', 'BR'], ['194.0.0.53', 'DE'], ['::ffff:8.8.8.8', 'US'],
    ]
    for (const [address, country] of expected) assert.equal(countryOf(processor, address), country, address)
  })

  it('adds source and destination attributes to flows, HTTP and DNS records; skips non-public addresses', async () => {
    const { processor } = await started({})
    const input = flow('10.0.0.1', '8.8.8.8')
    const out = processor.process({ records: [input, http('193.0.6.139', '192.168.1.1', 'server'),
      dnsQuery('10.0.0.1', '2001:db8::53', 'a.test'), flow('127.0.0.1', 'fe80::1')] }).records
    assert.deepEqual(out.map((r: AnyRecord) => r.attributes), [
      { 'destination.geo.country_iso_code': 'US' },
      { 'source.geo.country_iso_code': 'NL' },
      {},
      {},
    ])
    assert.equal(out[2], processor.process({ records: [out[2]!] }).records[0], 'unchanged records are passed as they are')
    assert.deepEqual(input.attributes, {}, 'input not mutated')
  })

  it('user databases come first, in order, with city and AS; fields they lack come from the next one', async () => {
    const city = join(dir, 'GeoLite2-City.mmdb')
    const asn = join(dir, 'GeoLite2-ASN.mmdb')
    const ipinfo = join(dir, 'ipinfo-country-asn.mmdb')
    writeMmdb(city, 'GeoLite2-City', [
      ['8.8.8.0/24', { country: { iso_code: 'AQ', names: { en: 'Antarctica' } }, city: { names: { en: 'McMurdo', de: 'McMurdo' } } }],
      ['2001:db8:1::/48', { country: { iso_code: 'FR' } }], // documentation space: never looked up
    ])
    writeMmdb(asn, 'GeoLite2-ASN', [['8.8.0.0/16', { autonomous_system_number: 64500, autonomous_system_organization: 'Example Transit' }]])
    writeMmdb(ipinfo, 'ipinfo country_asn.mmdb', [['133.242.0.0/16', { country: 'SE', asn: 'AS64501', as_name: 'IPinfo Example' }]])
    const { processor } = await started({ databases: [city, asn, ipinfo] })
    assert.deepEqual(processor.lookup('8.8.8.8'), { countryIsoCode: 'AQ', cityName: 'McMurdo', asNumber: 64500, asOrganization: 'Example Transit' })
    assert.deepEqual(processor.lookup('8.8.4.4'), { countryIsoCode: 'US', asNumber: 64500, asOrganization: 'Example Transit' })
    assert.deepEqual(processor.lookup('133.242.0.3'), { countryIsoCode: 'SE', asNumber: 64501, asOrganization: 'IPinfo Example' })
    assert.deepEqual(processor.lookup('193.0.6.139'), { countryIsoCode: 'NL' })
    const [out] = processor.process({ records: [flow('10.0.0.1', '8.8.8.8')] }).records
    assert.deepEqual(out!.attributes, {
      'destination.geo.country_iso_code': 'AQ', 'destination.geo.city_name': 'McMurdo',
      'destination.as.number': 64500, 'destination.as.organization.name': 'Example Transit',
    })
  })

  it('reloads a database replaced on disk, and keeps the old data when the new file is bad', async () => {
    const path = join(dir, 'reload.mmdb')
    writeMmdb(path, 'GeoIP2-Country', [['9.9.9.0/24', { country: { iso_code: 'CH' } }]])
    const { processor, telemetry } = await started({ databases: [path], embedded: false })
    assert.equal(countryOf(processor, '9.9.9.9'), 'CH')
    const reloads = telemetry.get('netlens.geoip.reloads') as SelfCounter
    const waitForReload = async (outcome: string, count: number) => {
      // Waiting for the file watcher, not a timing assertion: the bound only turns a hang into a failure.
      for (let i = 0; i < 100 && reloads.value({ outcome }) < count; i++) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal(reloads.value({ outcome }), count, `${outcome} reloads`)
    }

    writeMmdb(path, 'GeoIP2-Country', [['9.9.9.0/24', { country: { iso_code: 'LI' } }]])
    await waitForReload('success', 1)
    assert.equal(countryOf(processor, '9.9.9.9'), 'LI', 'the cache was emptied')

    writeFileSync(`${path}.tmp`, 'not an mmdb')
    renameSync(`${path}.tmp`, path)
    await waitForReload('failure', 1)
    assert.equal(countryOf(processor, '9.9.9.9'), 'LI', 'old data kept')
  })

  it('fails to start on a missing database, naming its key', async () => {
    const { processor } = create({ databases: [join(dir, 'absent.mmdb')] })
    processors.push(processor)
    await assert.rejects(processor.start(), /databases\[0\]: cannot read ".*absent\.mmdb"/)
  })

  it('rejects a configuration with no database at all', () => {
    assert.throws(() => configOf(geoIpProcessorFactory, { embedded: false }), /databases: list at least one database/)
  })
})
