// The start-up check of each receiver against what the process and kernel offer: a receiver whose needs are not
// met is not started, with a message naming exactly what is missing; the pipeline marks it failed (health 503)
// and the other receivers run. Receivers that pass can still fail in start() (an LSM, a verifier rejection): that
// failure is reported as it comes.
import type { AgentConfig } from '../config/types.ts'
import { label } from '../pipeline/build.ts'
import type { Logger } from '../telemetry/logger.ts'
import { readSystemFacts, type SystemFacts } from './facts.ts'
import { describeUnmet, receiverRequirements, unmetRequirements } from './requirements.ts'

/** Throws an Error saying why the receiver `id` cannot run here; returns when nothing is known to be missing. */
export type ReceiverPreflight = (id: string) => void

/** The message for a receiver that cannot run, or undefined when it can as far as its requirements say. */
export function receiverProblem(config: AgentConfig, id: string, facts: SystemFacts): string | undefined {
  const entry = config.receivers.get(id)
  if (!entry) return undefined
  const unmet = unmetRequirements(receiverRequirements(entry.type, id, entry.config, facts), facts)
  if (unmet.length === 0) return undefined
  return `${label('receiver', id)} disabled: ${describeUnmet(unmet)}`
}

export function receiverPreflight(config: AgentConfig, logger: Logger, read: () => SystemFacts = readSystemFacts): ReceiverPreflight {
  let facts: SystemFacts | undefined
  try {
    facts = read()
  } catch (error) {
    // Without /proc the check cannot be made; each receiver's own start() still reports what fails.
    logger.warn('cannot read capabilities and kernel features; receivers start unchecked', { error })
  }
  return (id) => {
    if (!facts) return
    const problem = receiverProblem(config, id, facts)
    if (problem) throw new Error(problem)
  }
}
