// Reads a Dockerfile into stages of instructions (continuation lines joined, comments dropped), enough for the tests
// to check its structure without a Docker engine.
import { readFileSync } from 'node:fs'

export interface Instruction {
  keyword: string
  /** The text after the keyword, continuation lines joined with single spaces. */
  args: string
}

export interface Stage {
  image: string
  name: string | undefined
  instructions: Instruction[]
}

export function parseDockerfile(path: string): Stage[] {
  const logical: string[] = []
  let pending = ''
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (line.startsWith('#')) continue // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trim() + ' '
      continue
    }
    logical.push((pending + line).trim())
    pending = ''
  }
  const stages: Stage[] = []
  for (const text of logical) {
    const [keyword = '', ...rest] = text.split(/\s+/)
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)
      if (!match) throw new Error(`cannot read FROM ${instruction.args}`)
      stages.push({ image: match[1]!, name: match[2], instructions: [] })
    } else {
      if (stages.length === 0) throw new Error(`${instruction.keyword} before any FROM`)
      stages.at(-1)!.instructions.push(instruction)
    }
  }
  return stages
}

export interface Copy {
  from: string | undefined
  sources: string[]
  destination: string
}

/** COPY instructions of a stage (shell form only: `COPY [--from=x] src... dest`). */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/)
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
      const paths = words.filter((w) => !w.startsWith('--'))
      return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! }
    })
}
