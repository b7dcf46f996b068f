import type { ReceiverFactory } from '../../component/types.ts'
import { netflowSchema, validateNetflow, type NetflowConfig } from './config.ts'
import { NetflowReceiver } from './receiver.ts'

export const netflowReceiverFactory: ReceiverFactory<NetflowConfig> = {
  kind: 'receiver',
  type: 'netflow',
  schema: netflowSchema,
  validate: validateNetflow,
  create: (settings, config, next) => new NetflowReceiver(settings, config, next),
}
