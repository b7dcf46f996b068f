// Regenerates the docs rendered from code: `node scripts/gen-docs.ts` writes them, `--check` exits 1 when a
// committed file is stale (test/docs/ runs the same comparison).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CONFIG_DOC_PATH, renderConfigDoc } from '../src/docs/config-doc.ts'
import { METRICS_DOC_PATH, renderMetricsDoc } from '../src/docs/metrics-doc.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const check = process.argv.includes('--check')
let stale = false
for (const [relative, render] of [[METRICS_DOC_PATH, renderMetricsDoc], [CONFIG_DOC_PATH, renderConfigDoc]] as const) {
  const path = `${root}${relative}`
  const wanted = render()
  let current = ''
  try {
    current = readFileSync(path, 'utf8')
  } catch {
    current = ''
  }
  if (current === wanted) continue
  if (check) {
    process.stderr.write(`${relative} is stale: run node scripts/gen-docs.ts\n`)
    stale = true
  } else {
    writeFileSync(path, wanted)
    process.stdout.write(`wrote ${relative}\n`)
  }
}
if (stale) process.exit(1)
