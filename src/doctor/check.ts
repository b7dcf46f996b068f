// One line of `netlens doctor`'s table. A check is `needed` when the configuration uses what it tests: a needed
// check that does not pass fails the doctor (exit 1); one that is not needed only warns.

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'info'

export interface CheckResult {
  /** What was checked, e.g. `tp_btf/sock_send_length`, `receiver "dns"`. */
  name: string
  status: CheckStatus
  detail: string
}

/** ok when it works; otherwise fail when needed, warn when not. */
export function outcome(name: string, works: boolean, needed: boolean, detail: string): CheckResult {
  return { name, status: works ? 'ok' : needed ? 'fail' : 'warn', detail }
}

/** The first line of an error (verifier logs and stacks stay out of the table). */
export function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n')[0] ?? text
}
