// Builds MMDB files for tests with the real mmdb-writer (Python, in the venv scripts/setup.sh --test creates).
import { execFileSync } from 'node:child_process'
import { existsSync, renameSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const PYTHON = fileURLToPath(new URL('../../../.tools/python/bin/python', import.meta.url))
const WRITER = fileURLToPath(new URL('./write_mmdb.py', import.meta.url))

export type Networks = Array<[string, Record<string, unknown>]>

/** Writes the database to a temporary name next to `path`, then renames it over `path` (an atomic replace). */
export function writeMmdb(path: string, type: string, networks: Networks): void {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/setup.sh --test (it installs mmdb-writer)`)
  const temporary = `${path}.tmp`
  execFileSync(PYTHON, [WRITER, temporary], { input: JSON.stringify({ type, networks }), stdio: ['pipe', 'ignore', 'pipe'] })
  renameSync(temporary, path)
}
