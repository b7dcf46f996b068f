// What an MMDB record says about an address, whatever the database's shape:
//   MaxMind GeoLite2/GeoIP2 and DB-IP: country.iso_code, city.names.en, autonomous_system_number/_organization
//   ip-location-db (the embedded one): country_code, city, autonomous_system_number/_organization
//   IPinfo: country (a code) or country_code, city, asn ("AS15169"), as_name
export interface GeoInfo {
  countryIsoCode?: string
  cityName?: string
  asNumber?: number
  asOrganization?: string
}

type Json = Record<string, unknown>

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function country(record: Json): string | undefined {
  const nested = asObject(record.country)
  return text(nested?.iso_code) ?? text(record.country_code) ?? text(record.country)
}

function city(record: Json): string | undefined {
  const nested = asObject(record.city)
  return text(asObject(nested?.names)?.en) ?? text(record.city)
}

function asNumber(record: Json): number | undefined {
  const value = record.autonomous_system_number ?? record.asn
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  const match = typeof value === 'string' ? /^(?:AS)?(\d+)$/i.exec(value) : null
  return match ? Number(match[1]) : undefined
}

function asOrganization(record: Json): string | undefined {
  return text(record.autonomous_system_organization) ?? text(record.as_name)
}

function setIf<K extends keyof GeoInfo>(into: GeoInfo, key: K, value: GeoInfo[K]): void {
  if (value !== undefined) into[key] = value
}

/** Adds to `into` the fields it lacks that `record` has; returns whether every field is now known. */
export function mergeFields(into: GeoInfo, value: unknown): boolean {
  const record = asObject(value)
  if (record) {
    // Only fields found are set: an absent field stays absent (not an own property holding undefined).
    if (into.countryIsoCode === undefined) setIf(into, 'countryIsoCode', country(record))
    if (into.cityName === undefined) setIf(into, 'cityName', city(record))
    if (into.asNumber === undefined) setIf(into, 'asNumber', asNumber(record))
    if (into.asOrganization === undefined) setIf(into, 'asOrganization', asOrganization(record))
  }
  return into.countryIsoCode !== undefined && into.cityName !== undefined && into.asNumber !== undefined &&
    into.asOrganization !== undefined
}

/** The attributes of one side, e.g. `destination.geo.country_iso_code`. */
export function geoAttributes(prefix: string, info: GeoInfo, into: Record<string, string | number>): void {
  if (info.countryIsoCode !== undefined) into[`${prefix}.geo.country_iso_code`] = info.countryIsoCode
  if (info.cityName !== undefined) into[`${prefix}.geo.city_name`] = info.cityName
  if (info.asNumber !== undefined) into[`${prefix}.as.number`] = info.asNumber
  if (info.asOrganization !== undefined) into[`${prefix}.as.organization.name`] = info.asOrganization
}
