// One MMDB file: loaded whole into memory (maxmind's Reader), and optionally reloaded when the file changes.
// The directory is watched, not the file, so an atomic replace (write elsewhere, rename over) is seen too; a
// burst of events is debounced into one reload, and a file that fails to load leaves the previous data in place.
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { Reader } from 'maxmind'

const DEBOUNCE_MS = 100

export interface DatabaseEvents {
  reloaded(path: string): void
  reloadFailed(path: string, error: Error): void
}

export class GeoDatabase {
  readonly path: string
  private reader: Reader<any> | undefined
  private watcher: FSWatcher | undefined
  private debounce: NodeJS.Timeout | undefined
  private loading: Promise<void> | undefined
  private closed = false

  constructor(path: string) {
    this.path = path
  }

  /** Loads the file; rejects with a message naming it when it is missing or not an MMDB. */
  async open(): Promise<void> {
    this.reader = await load(this.path)
  }

  get(address: string): unknown {
    return this.reader?.get(address) ?? undefined
  }

  watch(events: DatabaseEvents): void {
    if (this.watcher || this.closed) return
    const name = basename(this.path)
    this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return
      clearTimeout(this.debounce)
      this.debounce = setTimeout(() => this.reload(events), DEBOUNCE_MS).unref()
    })
    this.watcher.on('error', (error) => events.reloadFailed(this.path, error))
  }

  /** Re-reads the file now; the previous data stays when that fails. */
  reload(events: DatabaseEvents): Promise<void> {
    const run = async () => {
      try {
        const reader = await load(this.path)
        if (this.closed) return
        this.reader = reader
        events.reloaded(this.path)
      } catch (error) {
        if (!this.closed) events.reloadFailed(this.path, error as Error)
      }
    }
    // One reload at a time; a change during a reload gets its own after it.
    this.loading = (this.loading ?? Promise.resolve()).then(run)
    return this.loading
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.debounce)
    this.watcher?.close()
    this.watcher = undefined
    await this.loading
  }
}

async function load(path: string): Promise<Reader<any>> {
  let buffer: Buffer
  try {
    buffer = await readFile(path)
  } catch (error) {
    throw new Error(`cannot read "${path}": ${(error as Error).message}`)
  }
  try {
    return new Reader(buffer)
  } catch (error) {
    throw new Error(`"${path}" is not an MMDB database: ${(error as Error).message}`)
  }
}
