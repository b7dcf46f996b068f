// Renders the metric reference (docs/metrics.md) from the definitions, so the docs cannot drift from the code.
import { ATTRIBUTE_DOCS, METRICS, type AnyMetricDefinition } from './definitions.ts'

const KIND_TITLES: Record<AnyMetricDefinition['source'], string> = {
  flow: 'netflow (from flow records)',
  dns: 'dnsflow (from DNS records)',
  http: 'httpflow (from HTTP records)',
}

function attributeRows(definition: AnyMetricDefinition): string[] {
  const rows = definition.attributes.map((name) => `| \`${name}\` | default | ${ATTRIBUTE_DOCS[name] ?? ''} |`)
  for (const name of definition.optionalAttributes) rows.push(`| \`${name}\` | optional | ${ATTRIBUTE_DOCS[name] ?? ''} |`)
  return rows
}

function renderMetric(definition: AnyMetricDefinition): string[] {
  const lines = [
    `### \`${definition.name}\``,
    '',
    definition.description,
    '',
    `- Instrument: ${definition.instrument}`,
    `- Unit: \`${definition.unit}\``,
  ]
  if (definition.buckets) lines.push(`- Buckets (s): ${definition.buckets.join(', ')}`)
  lines.push('', '| Attribute | Kept | Meaning |', '| --- | --- | --- |', ...attributeRows(definition), '')
  return lines
}

/** The Markdown reference of every metric, grouped by the record kind it comes from. */
export function renderMetricReference(): string {
  const lines = [
    '# Metrics reference',
    '',
    '<!-- Generated from src/metrics/definitions.ts by renderMetricReference(); do not edit by hand. -->',
    '',
    'Every metric also carries the enrichment attributes processors add to records (for example',
    '`destination.domain` from `rdns`). An exporter may keep fewer attributes, or opt in to optional ones, per',
    'metric with its `metrics` list (`- name: netflow.bytes` / `attributes: [...]`); each metric is capped at',
    '`cardinality_limit` series (default 2000), beyond which points go to one series with',
    '`otel.metric.overflow=true`. Counters add nothing for zero values, so idle series are not created.',
    '`dns.answer` records produce no metric.',
    '',
  ]
  for (const kind of ['flow', 'dns', 'http'] as const) {
    lines.push(`## ${KIND_TITLES[kind]}`, '')
    for (const definition of METRICS.filter((m) => m.source === kind)) lines.push(...renderMetric(definition))
  }
  lines.push(
    '## netlens self-telemetry',
    '',
    "Every exporter also exports netlens's own counters and gauges under their `netlens.*` names, for example",
    '`netlens.records.received`, `netlens.records.dropped{component,reason}` and',
    '`netlens.exporter.exports{exporter,outcome}`; and the health of its process under the OpenTelemetry',
    'semantic-convention names: `process.memory.usage` (resident bytes), `process.cpu.time{cpu.mode}` (s), and',
    '`nodejs.eventloop.delay.p50`, `.p99`, `.max` (s, over the last 10 s: how late the event loop runs callbacks).',
    '',
  )
  return lines.join('\n')
}
