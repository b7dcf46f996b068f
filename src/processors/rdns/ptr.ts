// Active PTR lookups for addresses the wire gave no name (`ptr_lookups`, off by default). Never in the way of the
// pipeline: a miss queues the address and returns; the answer lands in a PtrCache that later records read.
// Rate-limited by a token bucket, deduplicated while queued or in flight, with a bounded queue, a hard deadline per
// lookup and negative caching. The query is `resolvePtr()` on the address's in-addr.arpa / ip6.arpa name rather than
// `reverse()`: c-ares' gethostbyaddr behind reverse() reports every failure (timeout, refused, SERVFAIL) as
// ENOTFOUND, so outcomes could not be told apart.
import { promises as dns } from 'node:dns'
import { parseAddress } from '../iptype/address.ts'
import { classifyIpv4, classifyIpv6 } from '../iptype/classify.ts'
import type { IpType } from '../iptype/ranges.ts'
import type { PtrLookupsConfig } from './config.ts'
import { PtrCache } from './ptr-cache.ts'
import { normalizeName } from './store.ts'

export type PtrOutcome = 'resolved' | 'no_name' | 'timeout' | 'error'

/** Where lookups that end, and addresses dropped off the queue, are counted (as they happen: off the hot path). */
export interface PtrEvents {
  lookedUp(outcome: PtrOutcome): void
  dropped(reason: 'shutdown', count: number): void
}

/** Counted in plain numbers on the hot path; the processor reports and zeroes them once per batch. */
export interface PtrStats {
  /** Wire misses a cached PTR name answered. */
  hits: number
  /** Addresses not asked about because of their type (skip_ip_types) or because they are not IP addresses. */
  skipped: number
  /** Addresses that waited in the queue for a token. */
  rateLimited: number
  /** Addresses not queued because max_pending were already queued or in flight. */
  queueFull: number
}

/** c-ares codes for "the name has no PTR": NXDOMAIN, and NOERROR without a PTR record. */
const NO_NAME = new Set(['ENOTFOUND', 'ENODATA'])

export class PtrLookups {
  readonly cache: PtrCache
  readonly stats: PtrStats = { hits: 0, skipped: 0, rateLimited: 0, queueFull: 0 }
  private readonly config: PtrLookupsConfig
  private readonly events: PtrEvents
  private readonly skip: ReadonlySet<string>
  private readonly resolver: dns.Resolver
  private readonly bucket: TokenBucket
  /** Addresses waiting for a token, oldest first, with the name to ask. */
  private readonly queue = new Map<string, string>()
  private readonly inFlight = new Map<string, Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private state: 'new' | 'running' | 'stopped' = 'new'

  constructor(config: PtrLookupsConfig, maxEntries: number, now: () => number, events: PtrEvents) {
    this.config = config
    this.events = events
    this.cache = new PtrCache(maxEntries, now)
    this.skip = new Set(config.skip_ip_types)
    this.bucket = new TokenBucket(config.rate)
    // One try per server; the per-try timeout shares the lookup's deadline, which ask() enforces on its own too
    // (c-ares 1.34 took ~600 ms to give up on a silent server with a 300 ms timeout).
    const servers = config.servers.length > 0 ? config.servers.length : dns.getServers().length
    const perTry = Math.max(1, Math.floor(config.timeout / Math.max(1, servers)))
    this.resolver = new dns.Resolver({ timeout: perTry, tries: 1, maxTimeout: config.timeout })
    if (config.servers.length > 0) this.resolver.setServers(config.servers)
  }

  /** Addresses queued or being looked up. */
  get pending(): number {
    return this.queue.size + this.inFlight.size
  }

  start(): void {
    if (this.state === 'new') this.state = 'running'
  }

  /** Drops the queue (counted), cancels what is in flight, and resolves once every lookup has settled. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    clearTimeout(this.timer)
    this.timer = undefined
    this.events.dropped('shutdown', this.queue.size + this.inFlight.size)
    this.queue.clear()
    this.resolver.cancel()
    await Promise.all(this.inFlight.values())
  }

  /**
   * The PTR name of `address` when one is cached. On a cache miss the address is queued for a lookup (unless it
   * is already, or its type is skipped) and undefined is returned at once. Only while running.
   */
  name(address: string): string | undefined {
    const cached = this.cache.get(address)
    if (cached !== undefined) {
      if (cached === null) return undefined
      this.stats.hits++
      return cached
    }
    if (this.state === 'running') this.request(address)
    return undefined
  }

  private request(address: string): void {
    if (this.queue.has(address) || this.inFlight.has(address)) return
    const question = this.question(address)
    if (question === undefined) {
      this.stats.skipped++
      return
    }
    if (this.pending >= this.config.max_pending) {
      this.stats.queueFull++
      return
    }
    if (this.queue.size === 0 && this.bucket.take()) {
      this.send(address, question)
      return
    }
    this.stats.rateLimited++
    this.queue.set(address, question)
    this.timer ??= setTimeout(() => this.drain(), this.bucket.wait()).unref()
  }

  /** Sends what the bucket allows from the head of the queue; comes back when the next token is due. */
  private drain(): void {
    this.timer = undefined
    if (this.state !== 'running') return
    for (const [address, question] of this.queue) {
      if (!this.bucket.take()) break
      this.queue.delete(address)
      this.send(address, question)
    }
    if (this.queue.size > 0) this.timer = setTimeout(() => this.drain(), this.bucket.wait()).unref()
  }

  /** The name to ask for `address` (in-addr.arpa / ip6.arpa), or undefined when it is skipped. */
  private question(address: string): string | undefined {
    const parsed = parseAddress(address)
    if (parsed === undefined) return undefined
    if (parsed.family === 6 && parsed.words[0] === 0 && parsed.words[1] === 0 && parsed.words[2] === 0xffff) {
      return this.question4(parsed.words[3]) // ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket
    }
    if (parsed.family === 4) return this.question4(parsed.value)
    if (this.skipped(classifyIpv6(parsed.words))) return undefined
    const nibbles: string[] = []
    for (let i = 3; i >= 0; i--) {
      const word = parsed.words[i] as number
      for (let shift = 0; shift < 32; shift += 4) nibbles.push(((word >>> shift) & 0xf).toString(16))
    }
    return `${nibbles.join('.')}.ip6.arpa`
  }

  private question4(value: number): string | undefined {
    if (this.skipped(classifyIpv4(value))) return undefined
    return `${value & 0xff}.${(value >>> 8) & 0xff}.${(value >>> 16) & 0xff}.${value >>> 24}.in-addr.arpa`
  }

  private skipped(type: IpType): boolean {
    return this.skip.has(type)
  }

  private send(address: string, question: string): void {
    const lookup = this.lookup(address, question).finally(() => this.inFlight.delete(address))
    this.inFlight.set(address, lookup)
  }

  private async lookup(address: string, question: string): Promise<void> {
    const [outcome, name] = await this.ask(question)
    if (this.state !== 'running') return // cancelled by stop(), which counted it
    this.cache.set(address, name, name === null ? this.config.negative_ttl : this.config.ttl)
    this.events.lookedUp(outcome)
  }

  /** One PTR query, bounded by `timeout` whatever c-ares does; never rejects. */
  private async ask(question: string): Promise<[PtrOutcome, string | null]> {
    let deadline: NodeJS.Timeout | undefined
    const timedOut = new Promise<[PtrOutcome, null]>((resolve) => {
      deadline = setTimeout(() => resolve(['timeout', null]), this.config.timeout).unref()
    })
    const answered = this.resolver.resolvePtr(question).then(
      (names): [PtrOutcome, string | null] => {
        const name = names.map(normalizeName).find((n) => n !== '')
        return name === undefined ? ['no_name', null] : ['resolved', name]
      },
      (error: NodeJS.ErrnoException): [PtrOutcome, null] => {
        if (NO_NAME.has(error.code ?? '')) return ['no_name', null]
        return [error.code === 'ETIMEOUT' ? 'timeout' : 'error', null]
      },
    )
    try {
      return await Promise.race([answered, timedOut])
    } finally {
      clearTimeout(deadline)
    }
  }
}

/** `rate` tokens a second, holding at most one second's worth; real (monotonic) time, whatever clock tests inject. */
class TokenBucket {
  private readonly rate: number
  private tokens: number
  private refilledAt = performance.now()

  constructor(rate: number) {
    this.rate = rate
    this.tokens = rate
  }

  take(): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }

  /** Milliseconds until the next token. */
  wait(): number {
    this.refill()
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate))
  }

  private refill(): void {
    const now = performance.now()
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) * this.rate) / 1000)
    this.refilledAt = now
  }
}
