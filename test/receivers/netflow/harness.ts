// A netflow receiver started for real on the kernel, with what it hands on collected, for the netflow tests and
// bench/netflow.ts.
import { netflowReceiverFactory } from '../../../src/receivers/netflow/factory.ts'
import type { HookMode } from '../../../src/receivers/netflow/hooks.ts'
import type { NetflowReceiver } from '../../../src/receivers/netflow/receiver.ts'
import type { FlowRecord } from '../../../src/records.ts'
import type { SelfCounter } from '../../../src/telemetry/self.ts'
import { CollectingConsumer, configOf, testHost, testSettings, type TestSettings } from '../../helpers/components.ts'

/** Both sets of hooks, for the suites that must hold on either. */
export const HOOK_MODES: HookMode[] = ['tp_btf', 'classic']

export interface NetflowHarness {
  receiver: NetflowReceiver
  consumer: CollectingConsumer
  settings: TestSettings
  flows(): FlowRecord[]
  /** `netlens.records.dropped{component: netflow, reason}` so far. */
  dropped(reason: string): number
}

/** `section` is the receiver's YAML section; pass a long `interval` and call harvest() to drive it by hand. */
export async function startNetflow(section: Record<string, unknown>): Promise<NetflowHarness> {
  const consumer = new CollectingConsumer()
  const settings = testSettings('netflow')
  const receiver = netflowReceiverFactory.create(settings, configOf(netflowReceiverFactory, section), consumer) as NetflowReceiver
  await receiver.start(testHost)
  return {
    receiver, consumer, settings,
    flows: () => consumer.records.filter((r): r is FlowRecord => r.kind === 'flow'),
    dropped: (reason) => (settings.telemetry.get('netlens.records.dropped') as SelfCounter | undefined)?.value({ component: 'netflow', reason }) ?? 0,
  }
}
