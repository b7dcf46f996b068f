// Bounds a lifecycle call in time: a component that hangs in shutdown() must not hang the agent.

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TimeoutError'
  }
}

/** Resolves or rejects like `work`, or rejects with a TimeoutError after `ms`. Sync throws become rejections. */
export async function withTimeout<T>(work: () => Promise<T> | T, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${formatMs(ms)}`)), ms)
    timer.unref()
  })
  try {
    return await Promise.race([Promise.resolve().then(work), deadline])
  } finally {
    clearTimeout(timer)
  }
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
