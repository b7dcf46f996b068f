// A hard cap on the series one metric ever gets, for cumulative temporality. OpenTelemetry JS applies a view's
// cardinality limit to each collection only; with cumulative temporality every collection's new series join the
// cumulative state, which then grows without bound (measured: 12k series and growing under a limit of 5000 after
// 15 s of a 5-tuple flood, and no overflow series). Here, once `limit - 1` attribute sets have been seen, any new
// set is recorded as OTel's overflow series, which the SDK then never exceeds.
import type { Attributes } from '../../records.ts'

export const OVERFLOW_ATTRIBUTES: Readonly<Attributes> = Object.freeze({ 'otel.metric.overflow': true })

export class SeriesLimit {
  private readonly seen = new Set<string>()
  private readonly limit: number
  private readonly kept: (name: string) => boolean

  /** `kept`: the attributes the metric's view keeps (the others do not make a series of their own). */
  constructor(limit: number, kept: (name: string) => boolean) {
    this.limit = limit
    this.kept = kept
  }

  /** The attributes to record: these, or the overflow set once the metric is full. */
  admit(attributes: Attributes): Attributes {
    const key = seriesKey(attributes, this.kept)
    if (this.seen.has(key)) return attributes
    if (this.seen.size >= this.limit - 1) return OVERFLOW_ATTRIBUTES
    this.seen.add(key)
    return attributes
  }
}

/** A string naming an attribute set (the attributes `kept` keeps), for maps of series. */
export function seriesKey(attributes: Attributes, kept: (name: string) => boolean = () => true): string {
  let key = ''
  for (const name in attributes) if (kept(name)) key += `${name}\u0000${String(attributes[name])}\u0001`
  return key
}
