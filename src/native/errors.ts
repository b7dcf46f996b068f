// The one error class of the native boundary. The addon throws it directly (index.ts registers it), so every
// failure of a libbpf or socket call, and every bad argument, arrives as a NativeError.

export class NativeError extends Error {
  /** errno name, e.g. 'EPERM', 'ENOENT', 'EINVAL' (bad arguments), 'EBADF' (use after close). */
  readonly code: string
  /** The failing call, e.g. `bpf_object__load(build/bpf/port_filter.bpf.o)`, `bind(AF_PACKET, eth0)`. */
  readonly op: string
  /** libbpf's output for BPF failures: for a rejected program, the verifier log. */
  readonly log: string | undefined

  constructor(message: string, code: string, op: string, log?: string) {
    super(message)
    this.name = 'NativeError'
    this.code = code
    this.op = op
    this.log = log
  }
}
