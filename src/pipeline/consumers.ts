// The consumers the pipeline puts between components: they count records per component in self-telemetry and
// contain failures, so a throwing processor or exporter costs that batch (counted) and never the receiver's loop.
import type { Batch, Consumer, Exporter, Processor } from '../component/types.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { SelfCounter } from '../telemetry/self.ts'
import { RateLimitedLog } from './ratelimit.ts'

export interface Counters {
  received: SelfCounter
  dropped: SelfCounter
}

/** Feeds one exporter: counts what it took in; an exception (or a rejected promise) drops the batch, counted. */
export function exporterConsumer(id: string, exporter: Exporter, counters: Counters, logger: Logger): Consumer {
  const log = new RateLimitedLog(logger)
  const fail = (count: number, error: unknown) => {
    counters.dropped.add(count, { component: id, reason: 'export_error' })
    log.error(`"${id}" exporter failed to consume a batch; records dropped`, error)
  }
  return {
    consume(batch: Batch): void {
      const count = batch.records.length
      if (count === 0) return
      counters.received.add(count, { component: id })
      try {
        // The contract says void, but an async consume() must not become an unhandled rejection.
        const result = exporter.consume(batch) as unknown
        if (isThenable(result)) result.then(undefined, (error: unknown) => fail(count, error))
      } catch (error) {
        fail(count, error)
      }
    },
  }
}

export interface ProcessorStage {
  id: string
  processor: Processor
}

/**
 * One pipeline: its processors in order, then every exporter. Records a processor removes are counted as dropped
 * (reason `filtered`); a processor that throws drops the batch (reason `process_error`).
 */
export function pipelineConsumer(processors: ProcessorStage[], exporters: Consumer[], counters: Counters, logger: Logger): Consumer {
  const logs = new Map(processors.map((stage) => [stage.id, new RateLimitedLog(logger)]))
  return {
    consume(batch: Batch): void {
      let current = batch
      for (const { id, processor } of processors) {
        const taken = current.records.length
        if (taken === 0) return
        counters.received.add(taken, { component: id })
        try {
          const result = processor.process(current)
          if (!result || !Array.isArray(result.records)) throw new TypeError('process() did not return a batch')
          current = result
        } catch (error) {
          counters.dropped.add(taken, { component: id, reason: 'process_error' })
          logs.get(id)?.error(`"${id}" processor failed on a batch; records dropped`, error)
          return
        }
        const kept = current.records.length
        if (kept < taken) counters.dropped.add(taken - kept, { component: id, reason: 'filtered' })
      }
      if (current.records.length === 0) return
      for (const exporter of exporters) exporter.consume(current)
    },
  }
}

/**
 * What a receiver's `next` is: counts the records it produced and the ones it says it lost, then hands the batch to
 * every pipeline that lists it. Each pipeline gets its own records array, so one pipeline's processors cannot change
 * what another sees in it (the record objects themselves are shared and must be treated as read-only by exporters).
 */
export function receiverFanOut(id: string, pipelines: Consumer[], counters: Counters, logger: Logger): Consumer {
  const log = new RateLimitedLog(logger)
  return {
    consume(batch: Batch): void {
      const records = Array.isArray(batch?.records) ? batch.records : []
      counters.received.add(records.length, { component: id })
      if (batch?.lost) counters.dropped.add(batch.lost, { component: id, reason: 'lost' })
      if (records.length === 0) return
      for (const pipeline of pipelines) {
        const own = pipelines.length === 1 ? batch : { records: records.slice(), lost: batch.lost }
        try {
          pipeline.consume(own)
        } catch (error) {
          // The stages above already contain their own failures; this is the last guard for the receiver's loop.
          counters.dropped.add(records.length, { component: id, reason: 'pipeline_error' })
          log.error(`pipeline failed on a batch from "${id}"`, error)
        }
      }
    },
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}
