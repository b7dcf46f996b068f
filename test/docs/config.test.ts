// docs/config.md is generated from the components' schemas (scripts/gen-docs.ts); this fails when the committed
// file is stale and checks it documents every component and every key.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { factories } from '../../src/components.ts'
import { CONFIG_DOC_PATH, renderConfigDoc } from '../../src/docs/config-doc.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function leafPaths(schema: Record<string, unknown>, path: string[] = []): string[] {
  return Object.entries(schema).flatMap(([key, node]) => {
    const here = [...path, key]
    return typeof node === 'object' && node !== null && 'default' in node ? [here.join('::')] : leafPaths(node as Record<string, unknown>, here)
  })
}

describe('docs/config.md', () => {
  const rendered = renderConfigDoc()

  it('is up to date with the schemas (regenerate: node scripts/gen-docs.ts)', () => {
    assert.ok(readFileSync(`${ROOT}${CONFIG_DOC_PATH}`, 'utf8') === rendered, `${CONFIG_DOC_PATH} is stale: run node scripts/gen-docs.ts`)
  })

  it('documents every component and every key', () => {
    for (const factory of factories) {
      assert.ok(rendered.includes(`### ${factory.kind}s::${factory.type}`), `${factory.kind} ${factory.type}`)
      for (const key of leafPaths(factory.schema as Record<string, unknown>)) assert.ok(rendered.includes(`| \`${key}\` |`), `${factory.type}: ${key}`)
    }
  })
})
