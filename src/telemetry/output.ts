// stdout and stderr as netlens writes them. When the reader goes away (EPIPE: `netlens run | head`, a log shipper
// restarting), the stream emits an error per write; unhandled, each becomes an uncaught exception whose report is
// itself a write to the same stream: a loop that burns a core and grows memory. Here the first error closes the
// output for good and later writes fail fast, synchronously, for the caller to handle once.
export interface Output {
  /** Throws once the stream is closed. */
  write(text: string): void
}

function guarded(stream: NodeJS.WriteStream, name: string): Output {
  let closed: Error | undefined
  stream.on('error', (error: Error) => { closed ??= error })
  return {
    write(text) {
      if (closed) throw new Error(`${name} is closed: ${closed.message}`)
      stream.write(text)
    },
  }
}

let stdout: Output | undefined
let stderr: Output | undefined

export function standardOutput(): Output {
  stdout ??= guarded(process.stdout, 'stdout')
  return stdout
}

export function standardError(): Output {
  stderr ??= guarded(process.stderr, 'stderr')
  return stderr
}
