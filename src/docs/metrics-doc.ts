// docs/metrics.md, whole: the metric reference rendered from the definitions, then the Datakit mapping.
// scripts/gen-docs.ts writes it; test/docs/metrics.test.ts fails when the committed file differs.
import { renderMetricReference } from '../metrics/reference.ts'
import { renderDatakitMapping } from './datakit.ts'

export const METRICS_DOC_PATH = 'docs/metrics.md'

export function renderMetricsDoc(): string {
  return `${renderMetricReference().trimEnd()}\n\n${renderDatakitMapping().trimEnd()}\n`
}
