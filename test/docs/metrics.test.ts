// docs/metrics.md is generated from the code (scripts/gen-docs.ts); this fails when the committed file is stale,
// and checks that the generated reference covers every metric and the Datakit mapping.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DATAKIT_MAPPING } from '../../src/docs/datakit.ts'
import { METRICS_DOC_PATH, renderMetricsDoc } from '../../src/docs/metrics-doc.ts'
import { METRICS } from '../../src/metrics/definitions.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('docs/metrics.md', () => {
  const rendered = renderMetricsDoc()

  it('is up to date with the metric definitions (regenerate: node scripts/gen-docs.ts)', () => {
    const committed = readFileSync(`${ROOT}${METRICS_DOC_PATH}`, 'utf8')
    assert.ok(committed === rendered, `${METRICS_DOC_PATH} is stale: run node scripts/gen-docs.ts`)
  })

  it('documents every metric with its unit, and every Datakit tag and field in the mapping', () => {
    for (const metric of METRICS) {
      assert.ok(rendered.includes(`### \`${metric.name}\``), metric.name)
      assert.ok(rendered.includes(`- Unit: \`${metric.unit}\``), `${metric.name} unit`)
    }
    for (const row of DATAKIT_MAPPING) assert.ok(rendered.includes(`| \`${row.datakit}\` |`), `${row.set}/${row.datakit}`)
    for (const field of ['bytes_read', 'bytes_written', 'retransmits', 'rtt', 'tcp_established', 'tcp_closed', 'latency_max', 'rcode', 'status_code']) {
      assert.ok(DATAKIT_MAPPING.some((row) => row.datakit === field), `Datakit ${field} is mapped`)
    }
  })

  it('gen-docs --check agrees', () => {
    execFileSync(process.execPath, [`${ROOT}scripts/gen-docs.ts`, '--check'], { stdio: 'pipe' })
  })
})
