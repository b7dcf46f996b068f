import type { ReceiverFactory } from '../../component/types.ts'
import { dnsSchema, validateDns, type DnsConfig } from './config.ts'
import { DnsReceiver } from './receiver.ts'

/** `dns`: DNS queries and responses sniffed from the wire (UDP and TCP), paired into records with latency. */
export const dnsReceiverFactory: ReceiverFactory<DnsConfig> = {
  kind: 'receiver',
  type: 'dns',
  schema: dnsSchema,
  validate: validateDns,
  create: (settings, config, next) => new DnsReceiver(settings, config, next),
}
