// What the push exporters (`otlp` over gRPC, `otlphttp`) share once their transport is built: a periodic reader
// exporting every `interval` through the health watcher, the metrics bridge, and the Exporter lifecycle. Each
// exporter only supplies `connect`, which builds its OTLP exporter from the config.
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import type { Batch, CreateSettings, Exporter, Host } from '../../component/types.ts'
import type { LogFields } from '../../telemetry/logger.ts'
import { standardCounters } from '../../telemetry/self.ts'
import { exportsCounter, MetricsBridge } from './bridge.ts'
import { watchExports } from './health.ts'
import type { PushConfig } from './push-config.ts'
import { parseDuration } from './values.ts'

export interface Transport {
  exporter: PushMetricExporter
  /** Logged once at start: where and how it exports (never the headers). */
  details: LogFields
}

/** Builds the transport; `timeoutMs` is the deadline of one export, already capped at the interval. */
export type Connect = (timeoutMs: number) => Promise<Transport>

export class PushExporter implements Exporter {
  protected readonly settings: CreateSettings
  private readonly config: PushConfig
  private readonly connect: Connect
  private bridge: MetricsBridge | undefined
  private stopped = false

  constructor(settings: CreateSettings, config: PushConfig, connect: Connect) {
    this.settings = settings
    this.config = config
    this.connect = connect
    standardCounters(settings.telemetry)
    exportsCounter(settings.telemetry)
  }

  async start(_host: Host): Promise<void> {
    if (this.bridge || this.stopped) return
    const { config, settings } = this
    const intervalMs = parseDuration(config.interval, 'interval')
    // The SDK requires timeout <= interval; an export still pending at the next tick would only queue up.
    const timeoutMs = Math.min(parseDuration(config.timeout, 'timeout'), intervalMs)
    const transport = await this.connect(timeoutMs)
    if (this.stopped || this.bridge) {
      await transport.exporter.shutdown()
      return
    }
    let bridge: MetricsBridge | undefined
    const watched = watchExports(transport.exporter, {
      id: settings.id,
      logger: settings.logger,
      exports: exportsCounter(settings.telemetry),
      beforeExport: () => bridge?.syncSelfTelemetry(),
    })
    bridge = new MetricsBridge({
      id: settings.id,
      telemetry: settings.telemetry,
      resource: config.resource,
      selection: config,
      reader: (producers) =>
        new PeriodicExportingMetricReader({ exporter: watched, exportIntervalMillis: intervalMs, exportTimeoutMillis: timeoutMs, ...producers }),
      temporality: config.temporality,
    })
    this.bridge = bridge
    settings.logger.info(`${settings.id}: exporting every ${intervalMs} ms`, {
      ...transport.details,
      compression: config.compression,
      temporality: config.temporality,
    })
  }

  consume(batch: Batch): void {
    if (this.bridge) {
      this.bridge.consume(batch)
      return
    }
    const reason = this.stopped ? 'shutdown' : 'not_started'
    standardCounters(this.settings.telemetry).dropped.add(batch.records.length, { component: this.settings.id, reason })
  }

  async flush(): Promise<void> {
    await this.bridge?.forceFlush()
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    await this.bridge?.shutdown()
  }
}
