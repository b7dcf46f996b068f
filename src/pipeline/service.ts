// The running agent's lifecycle over a built graph: start exporters → processors → receivers, shut down in reverse,
// every call bounded in time and every failure collected with the component's identity.
import type { Component, ComponentKind, Host } from '../component/types.ts'
import { HealthState } from '../telemetry/health.ts'
import type { Logger } from '../telemetry/logger.ts'
import { label, type Graph, type GraphNode } from './build.ts'
import { withTimeout } from './timeout.ts'

export interface ServiceOptions {
  logger: Logger
  health?: HealthState
  /** Bound on each component's start(). */
  startTimeoutMs?: number
  /** Bound on each component's shutdown(). */
  shutdownTimeoutMs?: number
  /** Bound on all exporters' flush() together. */
  flushTimeoutMs?: number
  /** Runs before each receiver's start(); an Error it throws (naming what is missing) disables that receiver. */
  receiverPreflight?: (id: string) => void
}

export class Service {
  readonly health: HealthState
  private readonly graph: Graph
  private readonly logger: Logger
  private readonly startTimeoutMs: number
  private readonly shutdownTimeoutMs: number
  private readonly flushTimeoutMs: number
  private readonly receiverPreflight: ((id: string) => void) | undefined
  private starting: Promise<void> | undefined
  /** The start() call in flight, so a shutdown during start waits for that one step only. */
  private step: Promise<void> | undefined
  private stopping: Promise<Error[]> | undefined

  constructor(graph: Graph, options: ServiceOptions) {
    this.graph = graph
    this.logger = options.logger
    this.health = options.health ?? new HealthState()
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000
    this.flushTimeoutMs = options.flushTimeoutMs ?? 5_000
    this.receiverPreflight = options.receiverPreflight
  }

  /**
   * Starts everything. An exporter or processor that fails to start is fatal; a receiver that fails is marked
   * failed (health 503) while the others run, unless none starts. On a fatal failure everything is shut down
   * before the error is thrown; shutdown() then gives the failures met while doing so.
   */
  start(): Promise<void> {
    this.starting ??= this.startAll()
    return this.starting
  }

  private async startAll(): Promise<void> {
    this.health.phase = 'starting'
    try {
      for (const node of [...this.graph.exporters, ...this.graph.processors]) {
        if (this.stopping) return
        await this.startOne(node)
      }
    } catch (error) {
      await this.shutdownAfterFailedStart()
      throw error
    }
    let started = 0
    for (const node of this.graph.receivers) {
      if (this.stopping) return
      try {
        this.receiverPreflight?.(node.id)
        await this.startOne(node)
        started++
      } catch (error) {
        this.health.markFailed(label(node.kind, node.id), error as Error)
        this.logger.error((error as Error).message)
        const log = libbpfLog(error)
        if (log) this.logger.debug(`${label(node.kind, node.id)}: libbpf log\n${log}`)
      }
    }
    if (this.stopping) return
    if (started === 0 && this.graph.receivers.length > 0) {
      await this.shutdownAfterFailedStart()
      throw new Error('no receiver could start')
    }
    this.health.phase = 'running'
    this.logger.info('started', {
      receivers: started,
      processors: this.graph.processors.length,
      exporters: this.graph.exporters.length,
    })
  }

  private async startOne(node: GraphNode<Component>): Promise<void> {
    const name = label(node.kind, node.id)
    try {
      this.step = withTimeout(() => node.component.start(this.hostFor(node.kind, node.id)), this.startTimeoutMs, 'start')
      await this.step
    } catch (error) {
      throw new Error(`failed to start ${name}: ${(error as Error).message}`, { cause: error })
    }
    this.logger.debug(`started ${name}`)
  }

  private hostFor(kind: ComponentKind, id: string): Host {
    return {
      reportFatal: (error: Error) => {
        const name = label(kind, id)
        this.health.markFailed(name, error)
        this.logger.error(`${name} reported a fatal error: ${error?.message ?? String(error)}`)
      },
    }
  }

  /** Cleans up after a fatal start failure; shutdown() then returns (again) what failed while cleaning up. */
  private async shutdownAfterFailedStart(): Promise<void> {
    await this.shutdown()
  }

  /** Idempotent; resolves with every failure (never rejects). */
  shutdown(): Promise<Error[]> {
    this.stopping ??= this.shutdownAll()
    return this.stopping
  }

  private async shutdownAll(): Promise<Error[]> {
    this.health.phase = 'shutting_down'
    // A start in progress stops after its current step (itself bounded); wait for that step, not the whole start
    // (which may be the caller, shutting down after a failure).
    await this.step?.catch(() => {})
    const failures: Error[] = []
    const stop = async (node: GraphNode<Component>) => {
      try {
        await withTimeout(() => node.component.shutdown(), this.shutdownTimeoutMs, 'shutdown')
      } catch (error) {
        failures.push(new Error(`failed to shut down ${label(node.kind, node.id)}: ${(error as Error).message}`, { cause: error }))
      }
    }
    for (const node of [...this.graph.receivers].reverse()) await stop(node)
    for (const node of [...this.graph.processors].reverse()) await stop(node)
    await Promise.all(
      this.graph.exporters.map(async (node) => {
        const flush = node.component.flush
        if (!flush) return
        try {
          await withTimeout(() => flush.call(node.component), this.flushTimeoutMs, 'flush')
        } catch (error) {
          failures.push(new Error(`failed to flush ${label(node.kind, node.id)}: ${(error as Error).message}`, { cause: error }))
        }
      }),
    )
    for (const node of [...this.graph.exporters].reverse()) await stop(node)
    this.health.phase = 'stopped'
    return failures
  }
}

/** The libbpf log a NativeError carries somewhere in the cause chain (a rejected program's verifier log, long). */
function libbpfLog(error: unknown): string | undefined {
  for (let e = error as { log?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.log === 'string' && e.log) return e.log
  }
  return undefined
}
