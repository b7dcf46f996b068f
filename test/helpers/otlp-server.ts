// A real OTLP/gRPC metrics endpoint for tests: a @grpc/grpc-js server on 127.0.0.1 implementing
// `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`, decoding requests with protobufjs and the
// OTLP v1 metrics schema below, and keeping what it received. It can fail on demand (UNAVAILABLE) and be stopped
// and restarted on the same port. The request's `grpc-encoding` is seen through Node's http2 diagnostics channel
// (grpc-js strips it from the metadata handed to handlers).
import dc from 'node:diagnostics_channel'
import type { ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2'
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { rpcStatusSchema } from '../../src/exporters/sdk/grpc-retry.ts'
import { attributesOf, metricOf, type AttributeValue, type ReceivedMetric } from './otlp-metrics.ts'

// opentelemetry-proto v1 (common, resource, metrics, collector/metrics), the parts metrics use.
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
  double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric { string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10;
  Summary summary = 11; } repeated KeyValue metadata = 12; }
enum AggregationTemporality { AGGREGATION_TEMPORALITY_UNSPECIFIED = 0; AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; }
message ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; } repeated Exemplar exemplars = 5; uint32 flags = 8; }
message HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3; fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7; repeated Exemplar exemplars = 8; uint32 flags = 10; optional double min = 11;
  optional double max = 12; }
message ExponentialHistogramDataPoint { repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3; fixed64 count = 4; optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7;
  Buckets positive = 8; Buckets negative = 9; uint32 flags = 10; repeated Exemplar exemplars = 11;
  optional double min = 12; optional double max = 13; double zero_threshold = 14;
  message Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; } }
message SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;
  message ValueAtQuantile { double quantile = 1; double value = 2; } }
message Exemplar { repeated KeyValue filtered_attributes = 7; fixed64 time_unix_nano = 2;
  oneof value { double as_double = 3; sfixed64 as_int = 6; } bytes span_id = 4; bytes trace_id = 5; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
`

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root
const RequestType = root.lookupType('otlp.ExportMetricsServiceRequest')
const ResponseType = root.lookupType('otlp.ExportMetricsServiceResponse')
const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'

export type { AttributeValue, DataPoint, ReceivedMetric } from './otlp-metrics.ts'
export interface ReceivedExport {
  resource: Record<string, AttributeValue>
  metrics: ReceivedMetric[]
  metadata: Record<string, string[]>
  /** The request's grpc-encoding header (`gzip`, `identity`, or undefined when absent). */
  encoding: string | undefined
}

/* Decoded protobufjs objects (toObject with longs as numbers, enums as strings). */
type Decoded = Record<string, any>

function decodeRequest(buffer: Buffer): Decoded {
  const message = RequestType.decode(buffer)
  return RequestType.toObject(message, { longs: Number, enums: Number, defaults: false, oneofs: false })
}

const SERVICE: ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (buffer: Buffer) => buffer,
    responseSerialize: (value: Decoded) => Buffer.from(ResponseType.encode(ResponseType.fromObject(value)).finish()),
    responseDeserialize: (buffer: Buffer) => ResponseType.toObject(ResponseType.decode(buffer)),
  },
}

/** A google.rpc.Status with one google.rpc.RetryInfo detail, encoded. */
function statusWithRetryInfo(code: number, message: string, retryDelayMs: number): Buffer {
  const retryInfo = rpcStatusSchema.lookupType('RetryInfo').encode({
    retry_delay: { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 },
  }).finish()
  const details = [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }]
  return Buffer.from(rpcStatusSchema.lookupType('Status').encode({ code, message, details }).finish())
}

export class OtlpTestServer {
  /** Every export received, in order; one entry per ResourceMetrics. */
  readonly exports: ReceivedExport[] = []
  private server: Server | undefined
  private port = 0
  /** When each Export call arrived (Date.now()), failed or not. */
  readonly calls: number[] = []
  private failure: { code: status; details: string; retryDelayMs?: number } | undefined
  private readonly encodings: string[] = []
  private readonly onStreamStart = (message: unknown) => {
    const { stream, headers } = message as { stream: ServerHttp2Stream; headers: IncomingHttpHeaders }
    if (headers[':path'] !== EXPORT_PATH || stream.session?.socket?.localPort !== this.port) return
    const encoding = headers['grpc-encoding']
    this.encodings.push(typeof encoding === 'string' ? encoding : '')
  }

  /** Starts on 127.0.0.1 at `port` (0: any free port). */
  static async start(port = 0): Promise<OtlpTestServer> {
    const server = new OtlpTestServer()
    await server.listen(port)
    return server
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`
  }

  /**
   * Answer every export with this status (default UNAVAILABLE) until succeed() is called; with `retryDelayMs`, the
   * status carries a google.rpc.RetryInfo detail asking the client to wait that long.
   */
  failWith(code: status = status.UNAVAILABLE, details = 'test server failing on demand', retryDelayMs?: number): void {
    this.failure = { code, details, ...(retryDelayMs === undefined ? {} : { retryDelayMs }) }
  }

  succeed(): void {
    this.failure = undefined
  }

  private async listen(port: number): Promise<void> {
    const server = new Server()
    server.addService(SERVICE, {
      Export: (call: ServerUnaryCall<Buffer, Decoded>, callback: sendUnaryData<Decoded>) => {
        this.calls.push(Date.now())
        if (this.failure) {
          const { code, details, retryDelayMs } = this.failure
          const metadata = new Metadata()
          if (retryDelayMs !== undefined) metadata.set('grpc-status-details-bin', statusWithRetryInfo(code, details, retryDelayMs))
          callback({ code, details, metadata })
          return
        }
        let request: Decoded
        try {
          request = decodeRequest(call.request)
        } catch (error) {
          callback({ code: status.INVALID_ARGUMENT, details: `cannot decode request: ${(error as Error).message}` })
          return
        }
        const metadata = call.metadata.getMap() as Record<string, string | Buffer>
        const encoding = this.encodings.shift()
        for (const rm of (request.resourceMetrics ?? []) as Decoded[]) {
          this.exports.push({
            resource: attributesOf(rm.resource?.attributes),
            metrics: ((rm.scopeMetrics ?? []) as Decoded[]).flatMap((sm) => ((sm.metrics ?? []) as Decoded[]).map((m) => metricOf(m, 'otlp-server'))),
            metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, [String(v)]])),
            encoding: encoding === '' ? undefined : encoding,
          })
        }
        callback(null, {})
      },
    })
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      )
    })
    dc.subscribe('http2.server.stream.start', this.onStreamStart)
    this.server = server
  }

  /** Stops listening and drops open connections; the port stays reserved for restart(). */
  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    dc.unsubscribe('http2.server.stream.start', this.onStreamStart)
    this.encodings.length = 0
    await new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve())
      server.forceShutdown()
    })
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.stop()
    await this.listen(this.port)
  }

  /** Metrics of every export so far with this name, oldest first. */
  metricsNamed(name: string): ReceivedMetric[] {
    return this.exports.flatMap((e) => e.metrics.filter((m) => m.name === name))
  }

  /** Resolves when `predicate` holds after some export; polls without asserting on timing. */
  async waitFor(predicate: (server: OtlpTestServer) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`otlp-server: timed out waiting for ${what} (${this.exports.length} exports received)`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}
