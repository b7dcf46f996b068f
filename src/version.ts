// The agent's version, read from package.json once (the single place it is written).
import { readFileSync } from 'node:fs'

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string }

export const NAME: string = packageJson.name
export const VERSION: string = packageJson.version
