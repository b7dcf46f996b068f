// Configuration of the `iptype` processor (YAML `processors: iptype:`).
import type { Schema } from 'convict'

export type IpTypeMode = 'full' | 'datakit'

export interface IpTypeConfig {
  mode: IpTypeMode
}

export const ipTypeSchema: Schema<IpTypeConfig> = {
  mode: {
    doc:
      '"full": private, loopback, link_local, multicast, broadcast, unspecified, cgnat, documentation, reserved or ' +
      'other (public), from the IANA special-purpose registries; "datakit": Datakit\'s other|private|multicast.',
    format: ['full', 'datakit'],
    default: 'full',
  },
}
