import type { ReceiverFactory } from '../../component/types.ts'
import { httpSchema, validateHttp, type HttpConfig } from './config.ts'
import { HttpReceiver } from './receiver.ts'

/** `http`: HTTP/1.x exchanges from captured plaintext traffic and from OpenSSL's plaintext through uprobes. */
export const httpReceiverFactory: ReceiverFactory<HttpConfig> = {
  kind: 'receiver',
  type: 'http',
  schema: httpSchema,
  validate: validateHttp,
  create: (settings, config, next) => new HttpReceiver(settings, config, next),
}
