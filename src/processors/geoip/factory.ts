import type { ProcessorFactory } from '../../component/types.ts'
import { geoIpSchema, validateGeoIp, type GeoIpConfig } from './config.ts'
import { GeoIpProcessor } from './processor.ts'

/** `geoip`: country, city and AS of public addresses from MMDB files (embedded DB-IP country data, CC BY 4.0). */
export const geoIpProcessorFactory: ProcessorFactory<GeoIpConfig> = {
  kind: 'processor',
  type: 'geoip',
  schema: geoIpSchema,
  validate: validateGeoIp,
  create: (settings, config) => new GeoIpProcessor(settings.id, settings.logger, settings.telemetry, config),
}
