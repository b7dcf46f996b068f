// Configuration problems are collected, never thrown one at a time: the user fixes them all in one go.

/** A key path in the Collector's notation: `receivers::netflow::map_size`. */
export function keyPath(path: readonly string[]): string {
  return path.join('::')
}

export class ConfigError extends Error {
  /** One line per problem, each starting with the file name. */
  readonly problems: string[]

  constructor(source: string, problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${source}: ${problems.length} problems\n${problems.join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Collects problems for one file, each formatted `file: key::path: message`. */
export class Problems {
  readonly lines: string[] = []
  readonly source: string

  constructor(source: string) {
    this.source = source
  }

  add(path: readonly string[], message: string): void {
    const where = path.length > 0 ? `${keyPath(path)}: ` : ''
    this.lines.push(`${this.source}: ${where}${message}`)
  }

  /** A problem with a position in the file instead of a key path (YAML syntax). */
  addAt(line: number, column: number, message: string): void {
    this.lines.push(`${this.source}:${line}:${column}: ${message}`)
  }

  get empty(): boolean {
    return this.lines.length === 0
  }

  throwIfAny(): void {
    if (!this.empty) throw new ConfigError(this.source, this.lines)
  }
}
