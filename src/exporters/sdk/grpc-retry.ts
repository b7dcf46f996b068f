// Retries of OTLP/gRPC exports as the OTLP specification asks of clients, which the JS gRPC exporter does not do
// (it reports every error as a plain failure): UNAVAILABLE and the other transient codes are retried with
// exponential backoff, RESOURCE_EXHAUSTED only when the server sends RetryInfo, and a RetryInfo delay is always
// honoured — retried within the export's time budget when it fits, otherwise no export is sent before it ends
// (the next one carries the totals, since temporality is cumulative by default).
import { status, type Metadata } from '@grpc/grpc-js'
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics'
import protobuf from 'protobufjs'

type ExportCallback = Parameters<PushMetricExporter['export']>[1]
type ExportResult = Parameters<ExportCallback>[0]

/** ExportResultCode in @opentelemetry/core. */
const SUCCESS = 0
const FAILED = 1
const STATUS_DETAILS_KEY = 'grpc-status-details-bin'
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo'
/** Codes the OTLP specification lists as retryable (RESOURCE_EXHAUSTED: only with RetryInfo). */
const TRANSIENT = new Set<number>([
  status.CANCELLED, status.DEADLINE_EXCEEDED, status.ABORTED, status.OUT_OF_RANGE, status.UNAVAILABLE, status.DATA_LOSS,
])
const FIRST_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 5_000

/** google.rpc.Status, google.protobuf.Any and google.rpc.RetryInfo: the fields read here. */
export const rpcStatusSchema = protobuf.Root.fromJSON({
  nested: {
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
    Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    RetryInfo: { fields: { retry_delay: { type: 'Duration', id: 1 } } },
    Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
  },
})
const StatusType = rpcStatusSchema.lookupType('Status')
const RetryInfoType = rpcStatusSchema.lookupType('RetryInfo')

interface GrpcError {
  code?: number
  metadata?: Metadata
}

/** The delay a google.rpc.Status asks for in its RetryInfo detail, ms; undefined without one or when unreadable. */
export function retryInfoDelayMs(statusDetails: Uint8Array): number | undefined {
  try {
    const decoded = StatusType.toObject(StatusType.decode(statusDetails), { longs: Number }) as { details?: Array<{ type_url?: string; value?: Uint8Array }> }
    const detail = decoded.details?.find((d) => d.type_url === RETRY_INFO_TYPE)
    if (!detail?.value) return undefined
    const info = RetryInfoType.toObject(RetryInfoType.decode(detail.value), { longs: Number }) as { retry_delay?: { seconds?: number; nanos?: number } }
    if (!info.retry_delay) return undefined
    return Math.max(0, (info.retry_delay.seconds ?? 0) * 1000 + Math.ceil((info.retry_delay.nanos ?? 0) / 1e6))
  } catch {
    return undefined
  }
}

/** What a failed export asks for: a delay before the next attempt (`server`: from RetryInfo), or none (not retryable). */
export function retryAdvice(error: unknown, attempt: number): { delayMs: number; server: boolean } | undefined {
  const { code, metadata } = (error ?? {}) as GrpcError
  if (code === undefined) return undefined
  const details = metadata?.get(STATUS_DETAILS_KEY)[0]
  const serverDelay = details instanceof Uint8Array ? retryInfoDelayMs(details) : undefined
  if (serverDelay !== undefined && (TRANSIENT.has(code) || code === status.RESOURCE_EXHAUSTED)) {
    return { delayMs: serverDelay, server: true }
  }
  if (!TRANSIENT.has(code)) return undefined
  const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt)
  return { delayMs: backoff / 2 + Math.random() * (backoff / 2), server: false }
}

export interface RetryOptions {
  /** The reader's time budget for one export, ms: retries that cannot finish within it are not started. */
  timeoutMs: number
  /** Milliseconds; Date.now unless a test injects its own clock. */
  now?: () => number
}

export function retryingExporter(inner: PushMetricExporter, options: RetryOptions): PushMetricExporter {
  const now = options.now ?? Date.now
  /** The server asked for no export before this time (ms). */
  let notBefore = 0
  /** Retries waiting for their delay, with the callback to fail if shutdown comes first. */
  const waiting = new Map<NodeJS.Timeout, ExportCallback>()

  return {
    export(metrics: ResourceMetrics, resultCallback: ExportCallback): void {
      const started = now()
      if (started < notBefore) {
        resultCallback({ code: FAILED, error: new Error(`not sent: the server asked to wait ${notBefore - started} ms more`) })
        return
      }
      const attempt = (count: number) => {
        inner.export(metrics, (result: ExportResult) => {
          const advice = result.code === SUCCESS ? undefined : retryAdvice(result.error, count)
          if (!advice) return resultCallback(result)
          // The attempt itself needs time too: retry only if it starts before half the budget is spent.
          if (now() + advice.delayMs > started + options.timeoutMs / 2) {
            if (advice.server) notBefore = now() + advice.delayMs
            return resultCallback(result)
          }
          const timer = setTimeout(() => {
            waiting.delete(timer)
            attempt(count + 1)
          }, advice.delayMs)
          waiting.set(timer, resultCallback)
        })
      }
      attempt(0)
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => {
      for (const [timer, callback] of waiting) {
        clearTimeout(timer)
        callback({ code: FAILED, error: new Error('not retried: shutting down') })
      }
      waiting.clear()
      return inner.shutdown()
    },
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  }
}
