// Loads the native addon (native/build/Release/netlens_native.node) on first use and types it. Importing this module
// costs nothing; the first call to loadNative() loads the addon, so commands that need no BPF (config checks,
// docs) run where it was never built.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { NativeError } from './errors.ts'
import type { NativeBinding } from './types.ts'

export { NativeError } from './errors.ts'
export type * from './types.ts'

export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/netlens_native.node', import.meta.url))

/** Where scripts/build.sh puts the object compiled from bpf/<name>.bpf.c. */
export function bpfObjectPath(name: string): string {
  return fileURLToPath(new URL(`../../build/bpf/${name}.bpf.o`, import.meta.url))
}

interface RawBinding extends NativeBinding {
  setErrorClass(errorClass: typeof NativeError): void
}

let binding: NativeBinding | undefined

/** The addon, loaded once. Throws NativeError (code ENOENT, op 'load') when it was not built. */
export function loadNative(): NativeBinding {
  if (binding) return binding
  const require = createRequire(import.meta.url)
  let raw: RawBinding
  try {
    raw = require(ADDON_PATH) as RawBinding
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
    throw new NativeError(
      missing ? `native addon not built: run scripts/setup.sh (${ADDON_PATH})` : `native addon failed to load: ${reason}`,
      missing ? 'ENOENT' : 'ELIBBAD', 'load')
  }
  raw.setErrorClass(NativeError)
  binding = raw
  return binding
}
