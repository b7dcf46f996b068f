// Alloy's own parser (github.com/grafana/alloy/syntax, built from test/peers/alloy-syntax with Go; cached by Go's
// build cache) reading an Alloy configuration into its blocks, or failing with Alloy's error message.
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SOURCE = `${ROOT}test/peers/alloy-syntax`
const BINARY = `${ROOT}build/alloy-syntax`

export interface AlloyBlock {
  name: string
  label?: string
  attributes: string[]
  blocks: AlloyBlock[]
}

let built = false

function build(): void {
  if (built) return
  execFileSync('go', ['build', '-o', BINARY, '.'], {
    cwd: SOURCE,
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  built = true
}

/** The file's top-level blocks; throws with Alloy's parse errors. */
export function parseAlloy(file: string): AlloyBlock[] {
  build()
  const result = spawnSync(BINARY, [file], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`alloy syntax: ${result.stderr.trim()}`)
  return JSON.parse(result.stdout) as AlloyBlock[]
}
