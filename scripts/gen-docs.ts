// Regenerates the docs rendered from code: `node scripts/gen-docs.ts` writes them, `--check` exits 1 when a
// committed file is stale (test/docs/metrics.test.ts runs the same comparison).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { METRICS_DOC_PATH, renderMetricsDoc } from '../src/docs/metrics-doc.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const path = `${root}${METRICS_DOC_PATH}`
const wanted = renderMetricsDoc()
let current = ''
try {
  current = readFileSync(path, 'utf8')
} catch {
  current = ''
}
if (process.argv.includes('--check')) {
  if (current !== wanted) {
    process.stderr.write(`${METRICS_DOC_PATH} is stale: run node scripts/gen-docs.ts\n`)
    process.exit(1)
  }
} else if (current !== wanted) {
  writeFileSync(path, wanted)
  process.stdout.write(`wrote ${METRICS_DOC_PATH}\n`)
}
