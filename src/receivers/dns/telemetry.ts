// The dns receiver's self-telemetry: every frame that does not become (part of) a record is counted in
// `netlens.records.dropped{component, reason}`; DNS decoding failures also in `netlens.dns.parse_errors{reason}`.
import { standardCounters, type SelfTelemetry } from '../../telemetry/self.ts'

export class DnsTelemetry {
  private readonly component: string
  private readonly standard: ReturnType<typeof standardCounters>
  private readonly parseErrors
  private readonly retransmits
  private readonly forgottenByDedup

  constructor(telemetry: SelfTelemetry, component: string) {
    this.component = component
    this.standard = standardCounters(telemetry)
    this.parseErrors = telemetry.counter({
      name: 'netlens.dns.parse_errors',
      description: 'Captured DNS payloads that could not be decoded, by reason (bad_label, pointer_loop, bad_rdlength, ...).',
      unit: '{message}',
    })
    this.retransmits = telemetry.counter({
      name: 'netlens.dns.retransmitted_queries',
      description: 'Queries seen again (same client, id and question) while the first was pending; latency counts from the first.',
      unit: '{query}',
    })
    this.forgottenByDedup = telemetry.counter({
      name: 'netlens.dns.dedup_forgotten',
      description: 'Datagrams the copy detector forgot before its window passed (its table filled up): a copy of one would count twice.',
      unit: '{datagram}',
    })
  }

  dropped(reason: string, count = 1): void {
    this.standard.dropped.add(count, { component: this.component, reason })
  }

  parseError(reason: string): void {
    this.parseErrors.add(1, { component: this.component, reason })
    this.dropped(`parse_error`)
  }


  retransmitted(count: number): void {
    this.retransmits.add(count, { component: this.component })
  }

  dedupForgotten(count: number): void {
    this.forgottenByDedup.add(count, { component: this.component })
  }
}
