// Where the system's OpenSSL 3 libssl is: the dynamic linker's cache first (what processes really load), then
// the usual Debian/Ubuntu and Fedora/RHEL paths.
import { execFileSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'

const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  '/usr/lib/aarch64-linux-gnu/libssl.so.3',
  '/usr/lib64/libssl.so.3',
  '/usr/lib/libssl.so.3',
  '/lib/x86_64-linux-gnu/libssl.so.3',
]

/** `ldconfig -p` lines such as `libssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3`. */
export function libsslFromLdconfig(listing: string): string | undefined {
  for (const line of listing.split('\n')) {
    const match = /^\s*libssl\.so\.3 \(([^)]*)\) => (\S+)$/.exec(line)
    if (match && (process.arch !== 'x64' || (match[1] as string).includes('x86-64'))) return match[2]
  }
  return undefined
}

/** The real path of libssl.so.3, or undefined when this system has none. */
export function findLibssl(): string | undefined {
  let found: string | undefined
  try {
    found = libsslFromLdconfig(execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  } catch {
    // No ldconfig (minimal images): fall back to the known paths.
  }
  found ??= CANDIDATES.find((path) => existsSync(path))
  // Uprobes are placed on the inode: the real file, whichever symlink processes open it through.
  return found && existsSync(found) ? realpathSync(found) : undefined
}
