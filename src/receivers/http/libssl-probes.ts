// Where in libssl.so.3 to put the read and write probes. A uprobe on an instruction the kernel cannot emulate is
// two traps (the breakpoint, then a single step of the displaced instruction); on the development VMs such a hit
// cost ~13 µs, an emulated one ~0.7 µs (perf probe, no BPF program; `node bench/tls-uprobes.ts` measures netlens's
// own: +14 µs per call on the exported functions, +1.6 µs on the internal ones), and wrk + nginx make ~5 probed
// calls per HTTPS request. OpenSSL 3's SSL_read, SSL_read_ex, SSL_write and SSL_write_ex all begin with a stack
// adjustment (single-stepped), and all four call one internal function per direction, ssl_read_internal(s, buf,
// num, &readbytes) and ssl_write_internal(s, buf, num, &written), whose first instruction is a push (emulated: one
// trap). So the probes go on those two when they can be found: the one call target that SSL_read and SSL_read_ex
// share (likewise the writes), read from the code of the exported functions. Their arguments and return value are
// those of the _ex functions. When the code does not show one shared target (another compiler, LTO inlining), the
// four exported functions are probed instead.
import { readFileSync } from 'node:fs'

export type ProbeTargets =
  /** Probe ssl_read_internal / ssl_write_internal at these file offsets (arguments as SSL_read_ex / SSL_write_ex). */
  | { kind: 'internal'; read: number; write: number }
  /** Probe the exported SSL_read, SSL_read_ex, SSL_write, SSL_write_ex by name. */
  | { kind: 'exported' }

interface Symbol {
  /** Virtual address and size of the function. */
  address: number
  size: number
}

const SHT_DYNSYM = 11
const PT_LOAD = 1
const STT_FUNC = 2
const CALL_REL32 = 0xe8

/** The probe targets in the ELF image `elf` (a libssl.so.3); `exported` when the internal functions are not clear. */
export function probeTargets(elf: Buffer): ProbeTargets {
  try {
    const image = new ElfImage(elf)
    const read = image.sharedCallTarget('SSL_read', 'SSL_read_ex')
    const write = image.sharedCallTarget('SSL_write', 'SSL_write_ex')
    if (read === undefined || write === undefined || read === write) return { kind: 'exported' }
    return { kind: 'internal', read, write }
  } catch {
    // Not an ELF this reader understands (32-bit, big-endian, truncated): the symbols still work.
    return { kind: 'exported' }
  }
}

export function probeTargetsOf(path: string): ProbeTargets {
  return probeTargets(readFileSync(path))
}

/** Just enough of a little-endian ELF64 shared object: dynamic function symbols and loadable segments. */
class ElfImage {
  private readonly elf: Buffer
  private readonly symbols = new Map<string, Symbol>()
  private readonly segments: Array<{ address: number; size: number; offset: number; executable: boolean }> = []

  constructor(elf: Buffer) {
    this.elf = elf
    if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a little-endian ELF64')
    const programHeaders = Number(elf.readBigUInt64LE(0x20))
    const sectionHeaders = Number(elf.readBigUInt64LE(0x28))
    const programHeaderSize = elf.readUInt16LE(0x36)
    const programHeaderCount = elf.readUInt16LE(0x38)
    const sectionHeaderSize = elf.readUInt16LE(0x3a)
    const sectionHeaderCount = elf.readUInt16LE(0x3c)
    for (let i = 0; i < programHeaderCount; i++) {
      const at = programHeaders + i * programHeaderSize
      if (elf.readUInt32LE(at) !== PT_LOAD) continue
      this.segments.push({
        offset: Number(elf.readBigUInt64LE(at + 8)),
        address: Number(elf.readBigUInt64LE(at + 16)),
        size: Number(elf.readBigUInt64LE(at + 32)),
        executable: (elf.readUInt32LE(at + 4) & 1) !== 0,
      })
    }
    const section = (i: number) => sectionHeaders + i * sectionHeaderSize
    for (let i = 0; i < sectionHeaderCount; i++) {
      if (elf.readUInt32LE(section(i) + 4) !== SHT_DYNSYM) continue
      const symbolsAt = Number(elf.readBigUInt64LE(section(i) + 24))
      const symbolsSize = Number(elf.readBigUInt64LE(section(i) + 32))
      const entrySize = Number(elf.readBigUInt64LE(section(i) + 56)) || 24
      const strings = Number(elf.readBigUInt64LE(section(elf.readUInt32LE(section(i) + 40)) + 24))
      for (let at = symbolsAt; at + entrySize <= symbolsAt + symbolsSize; at += entrySize) {
        if ((elf[at + 4]! & 0xf) !== STT_FUNC || elf.readUInt16LE(at + 6) === 0) continue
        const nameAt = strings + elf.readUInt32LE(at)
        const name = elf.toString('latin1', nameAt, elf.indexOf(0, nameAt))
        this.symbols.set(name, { address: Number(elf.readBigUInt64LE(at + 8)), size: Number(elf.readBigUInt64LE(at + 16)) })
      }
    }
  }

  /**
   * The one function that both functions call (rel32 calls), as a file offset; undefined when there is not
   * exactly one. Bytes are not decoded as instructions: an immediate that looks like a call names a target that the
   * other function does not also call, so the intersection holds only true calls.
   */
  sharedCallTarget(a: string, b: string): number | undefined {
    const first = this.callTargets(a)
    const shared = [...this.callTargets(b)].filter((target) => first.has(target))
    if (shared.length !== 1) return undefined
    return this.fileOffset(shared[0]!)
  }

  private callTargets(name: string): Set<number> {
    const symbol = this.symbols.get(name)
    const targets = new Set<number>()
    if (!symbol) return targets
    const start = this.fileOffset(symbol.address)
    if (start === undefined) return targets
    for (let i = 0; i + 5 <= symbol.size; i++) {
      if (this.elf[start + i] !== CALL_REL32) continue
      const target = symbol.address + i + 5 + this.elf.readInt32LE(start + i + 1)
      if (this.isCode(target)) targets.add(target)
    }
    return targets
  }

  private isCode(address: number): boolean {
    return this.segments.some((s) => s.executable && address >= s.address && address < s.address + s.size)
  }

  private fileOffset(address: number): number | undefined {
    const segment = this.segments.find((s) => address >= s.address && address < s.address + s.size)
    return segment && address - segment.address + segment.offset
  }
}
