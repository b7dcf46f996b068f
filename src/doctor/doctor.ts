// `netlens doctor`: what will and will not work on this machine with this configuration — kernel features,
// capabilities, each BPF program type and hook netlens uses (probed for real), each receiver's verdict, and the
// collector endpoints. Exit 0 when everything the configuration needs works, 1 otherwise.
import type { AgentConfig } from '../config/types.ts'
import { label } from '../pipeline/build.ts'
import { CAPABILITIES } from '../system/capabilities.ts'
import { BTF_PATH, readSystemFacts, type SystemFacts } from '../system/facts.ts'
import { receiverProblem } from '../system/preflight.ts'
import { tlsEnabled } from '../system/requirements.ts'
import type { HooksSetting } from '../receivers/netflow/hooks.ts'
import { bpfChecks, type BpfNeeds } from './bpf-checks.ts'
import { outcome, type CheckResult } from './check.ts'
import { endpointChecks } from './endpoints.ts'

export interface DoctorOptions {
  /** TCP connect timeout per collector endpoint. */
  connectTimeoutMs?: number
  facts?: SystemFacts
}

export interface DoctorReport {
  facts: SystemFacts
  checks: CheckResult[]
  /** Receivers that will run and those that will not, by id. */
  runnable: string[]
  disabled: string[]
  ok: boolean
}

/** Receivers some pipeline uses, with their type and config. */
function usedReceivers(config: AgentConfig) {
  return [...config.receivers.values()].filter((r) => config.pipelines.some((p) => p.receivers.includes(r.id)))
}

function needsOf(config: AgentConfig): BpfNeeds {
  const receivers = usedReceivers(config)
  const netflow = receivers.filter((r) => r.type === 'netflow')
  const http = receivers.filter((r) => r.type === 'http')
  return {
    netflow: netflow.length > 0,
    netflowHooks: [...new Set(netflow.map((r) => (r.config as { hooks: HooksSetting }).hooks))],
    netflowUdp: netflow.some((r) => (r.config as { udp?: boolean }).udp !== false),
    netflowSockops: netflow.some((r) => (r.config as { tcp_sockops?: boolean }).tcp_sockops !== false),
    capture: receivers.some((r) => r.type === 'dns' || r.type === 'http'),
    httpExchanges: http.some((r) => (r.config as { kernel_exchanges?: boolean }).kernel_exchanges !== false),
    uprobes: http.some((r) => tlsEnabled(r.config)),
  }
}

function systemChecks(facts: SystemFacts, needs: BpfNeeds): CheckResult[] {
  const held = facts.capabilities.names()
  const lacking = CAPABILITIES.filter((c) => !facts.capabilities.has(c))
  return [
    { name: 'kernel', status: 'info', detail: facts.kernelRelease },
    outcome('kernel BTF', facts.btf, needs.netflow, facts.btf ? BTF_PATH : `${BTF_PATH} missing (CONFIG_DEBUG_INFO_BTF)`),
    outcome('cgroup v2 mount', facts.cgroup2 !== undefined, needs.netflowUdp || needs.netflowSockops,
      facts.cgroup2 ?? 'not mounted (netflow UDP accounting and TCP sock_ops witness attach there)'),
    // Only classic tracepoints (netflow's fallback hooks) go through tracefs; tp_btf and PMU uprobes do not.
    {
      name: 'tracefs',
      status: facts.tracefs ? 'ok' : needs.netflowHooks.includes('classic') ? 'fail' : 'info',
      detail: facts.tracefs ?? 'not mounted (netflow attaches classic tracepoints through it: hooks: classic, or auto where tp_btf fails)',
    },
    {
      name: 'unprivileged BPF',
      status: 'info',
      detail: facts.unprivilegedBpfDisabled === 0 ? 'allowed (socket filters load without CAP_BPF)' : 'disabled (every program needs CAP_BPF)',
    },
    {
      name: 'capabilities (effective)',
      status: 'info',
      detail: `${held.length > 0 ? held.join(' ') : 'none of those netlens uses'}${lacking.length > 0 ? `; lacking ${lacking.join(' ')}` : ''}`,
    },
  ]
}

export async function runDoctor(config: AgentConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const facts = options.facts ?? readSystemFacts()
  const needs = needsOf(config)
  const checks = [...systemChecks(facts, needs), ...bpfChecks(facts, needs)]
  const runnable: string[] = []
  const disabled: string[] = []
  for (const receiver of usedReceivers(config)) {
    const problem = receiverProblem(config, receiver.id, facts)
    const name = label('receiver', receiver.id)
    if (problem) {
      disabled.push(receiver.id)
      checks.push({ name, status: 'fail', detail: problem.slice(name.length + 1) })
    } else {
      runnable.push(receiver.id)
      checks.push({ name, status: 'ok', detail: 'will run' })
    }
  }
  checks.push(...(await endpointChecks(config, options.connectTimeoutMs ?? 2000)))
  return { facts, checks, runnable, disabled, ok: !checks.some((c) => c.status === 'fail') }
}

const STATUS_TEXT: Record<CheckResult['status'], string> = { ok: 'ok', fail: 'FAIL', warn: 'warn', info: '-' }

/** The table and a closing verdict, as printed on stdout. */
export function renderReport(report: DoctorReport, source: string): string {
  const width = Math.max(5, ...report.checks.map((c) => c.name.length))
  const row = (name: string, status: string, detail: string) => `${name.padEnd(width)}  ${status.padEnd(6)}  ${detail}`
  const lines = [
    `netlens doctor: ${source}`,
    '',
    row('CHECK', 'STATUS', 'DETAIL'),
    ...report.checks.map((c) => row(c.name, STATUS_TEXT[c.status], c.detail)),
    '',
    `will run: ${report.runnable.length > 0 ? report.runnable.join(', ') : 'no receiver'}` +
      (report.disabled.length > 0 ? `; will NOT run: ${report.disabled.join(', ')}` : ''),
    report.ok ? 'everything this configuration needs works' : 'some of what this configuration needs does not work (rows marked FAIL)',
  ]
  return lines.join('\n') + '\n'
}
