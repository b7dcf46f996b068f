// The http receiver's self-telemetry: every loss is counted in `netlens.records.dropped{component, reason}`, in
// requests (a record carries several of a connection's) or, before any request is known, in packets and TLS events;
// bytes that could not be read as HTTP/1.x also in `netlens.http.parse_errors{component, reason}` (not_http,
// http2_preface, capture_gap, headers_too_large, ...), so traffic netlens cannot decode is visible, never silent.
import { standardCounters, type SelfCounter, type SelfTelemetry } from '../../telemetry/self.ts'

export class HttpTelemetry {
  private readonly component: string
  private readonly standard: ReturnType<typeof standardCounters>
  private readonly parseErrors: SelfCounter
  private readonly kernel: SelfCounter

  constructor(telemetry: SelfTelemetry, component: string) {
    this.component = component
    this.standard = standardCounters(telemetry)
    this.parseErrors = telemetry.counter({
      name: 'netlens.http.parse_errors',
      description: 'HTTP streams or messages that could not be decoded, by reason (not_http, http2_preface, capture_gap, ...).',
      unit: '{error}',
    })
    this.kernel = telemetry.counter({
      name: 'netlens.http.kernel_exchanges',
      description: 'What the capture filter did with HTTP connections it reads itself, by event: sent (exchanges read ' +
        'whole), tableFull (connections left to user space), handover* (connections handed to user space, by why).',
      unit: '{event}',
    })
  }

  kernelExchanges(event: string, count: number): void {
    this.kernel.add(count, { component: this.component, event })
  }

  dropped(reason: string, count = 1): void {
    this.standard.dropped.add(count, { component: this.component, reason })
  }

  parseError(reason: string): void {
    this.parseErrors.add(1, { component: this.component, reason })
    this.dropped('parse_error')
  }

}
