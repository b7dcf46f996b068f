// Per-metric attribute selection and cardinality limits, the `metrics` and `cardinality_limit` keys shared by
// SDK-based exporters: the attributes each metric keeps (applied by the bridge, which records only those) and
// sdk-metrics Views for the cardinality limits.
import type { ViewOptions } from '@opentelemetry/sdk-metrics'
import { findMetric, METRICS } from '../../metrics/definitions.ts'

export const DEFAULT_CARDINALITY_LIMIT = 2000

/** One entry of an exporter's `metrics` list. */
export interface MetricSelection {
  name: string
  /** Attributes to keep (replaces the default set, enrichment included); omitted = the defaults. */
  attributes?: string[]
  cardinality_limit?: number
}

export interface SelectionConfig {
  metrics: MetricSelection[]
  cardinality_limit: number
}

/** The schema keys, to spread into an exporter's convict schema. */
export const selectionSchema = {
  metrics: {
    doc:
      'Per-metric settings: a list of { name, attributes?: [..], cardinality_limit?: n }. `attributes` replaces ' +
      'the default attribute set (optional attributes such as dns.question.name or url.path must be listed here).',
    default: [] as MetricSelection[],
    format: (value: unknown) => {
      parseSelections(value, 'metrics')
    },
  },
  cardinality_limit: {
    doc:
      'Maximum series per metric; further attribute sets are folded into one series with otel.metric.overflow=true. ' +
      'With cumulative temporality the cap holds for the life of the process (series are never forgotten); with ' +
      'delta, per export interval.',
    default: DEFAULT_CARDINALITY_LIMIT,
    format: (value: unknown) => {
      if (!isPositiveInteger(value)) throw new Error('cardinality_limit: expected a positive integer')
    },
  },
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

/** Checks a `metrics` list; errors name the offending entry, e.g. `metrics[1].name: unknown metric "x"`. */
export function parseSelections(value: unknown, key: string): MetricSelection[] {
  if (!Array.isArray(value)) throw new Error(`${key}: expected a list of { name, attributes, cardinality_limit }`)
  const seen = new Set<string>()
  return value.map((entry: unknown, index) => {
    const at = `${key}[${index}]`
    if (typeof entry !== 'object' || entry === null) throw new Error(`${at}: expected an object`)
    const { name, attributes, cardinality_limit: limit, ...rest } = entry as Record<string, unknown>
    const extra = Object.keys(rest)
    if (extra.length > 0) throw new Error(`${at}: unknown key "${extra[0]}"`)
    if (typeof name !== 'string' || !findMetric(name)) {
      throw new Error(`${at}.name: unknown metric ${JSON.stringify(name)} (known: ${METRICS.map((m) => m.name).join(', ')})`)
    }
    if (seen.has(name)) throw new Error(`${at}.name: ${name} is listed twice`)
    seen.add(name)
    const selection: MetricSelection = { name }
    if (attributes !== undefined) {
      if (!Array.isArray(attributes) || !attributes.every((a) => typeof a === 'string')) {
        throw new Error(`${at}.attributes: expected a list of attribute names`)
      }
      selection.attributes = attributes
    }
    if (limit !== undefined) {
      if (!isPositiveInteger(limit)) throw new Error(`${at}.cardinality_limit: expected a positive integer`)
      selection.cardinality_limit = limit
    }
    return selection
  })
}

/** What one metric's view keeps and how many series it may have. */
export interface MetricView {
  name: string
  /** The attributes the view keeps: an allow-list when the exporter selects them, else all but the optional ones. */
  kept(attribute: string): boolean
  cardinalityLimit: number
}

export function viewsOf(config: SelectionConfig): MetricView[] {
  const selections = parseSelections(config.metrics, 'metrics')
  return METRICS.map((definition) => {
    const selection = selections.find((s) => s.name === definition.name)
    const allowed = selection?.attributes
    const denied = [...definition.optionalAttributes]
    return {
      name: definition.name,
      kept: allowed ? (attribute) => allowed.includes(attribute) : (attribute) => !denied.includes(attribute),
      cardinalityLimit: selection?.cardinality_limit ?? config.cardinality_limit,
    }
  })
}

/**
 * One View per counter and gauge, for its cardinality limit (netlens aggregates histograms itself). No attribute
 * filter: the bridge hands the SDK only the attributes the metric keeps (MetricView.kept).
 */
export function metricViews(views: MetricView[]): ViewOptions[] {
  return views.filter((metric) => findMetric(metric.name)!.instrument !== 'histogram').map((metric) => ({
    instrumentName: metric.name,
    aggregationCardinalityLimit: metric.cardinalityLimit,
  }))
}
