// `prometheus` exporter configuration, with the OpenTelemetry Collector's keys: `endpoint` to serve /metrics on,
// `namespace` as a name prefix, `resource_to_telemetry_conversion` to copy resource attributes onto every series;
// plus the resource and per-metric selection shared by SDK-based exporters.
import { resourceSchema, type ResourceAttribute } from '../sdk/resource.ts'
import { selectionSchema, type MetricSelection } from '../sdk/selection.ts'

export interface PrometheusConfig {
  endpoint: string
  namespace: string
  resource_to_telemetry_conversion: { enabled: boolean }
  resource: ResourceAttribute[]
  metrics: MetricSelection[]
  cardinality_limit: number
}

export const prometheusSchema = {
  endpoint: {
    doc: 'Address to serve /metrics on, host:port (":9464" for every interface; port 0 picks a free one).',
    default: '127.0.0.1:9464',
    format: 'endpoint',
  },
  namespace: {
    doc: 'Prefix of every metric name, e.g. "netlens" gives netlens_netflow_bytes_total.',
    default: '',
    format: (value: unknown) => {
      if (typeof value !== 'string' || !/^([a-zA-Z_][a-zA-Z0-9_]*)?$/.test(value)) {
        throw new Error('must be a Prometheus name prefix (letters, digits, _), or ""')
      }
    },
  },
  resource_to_telemetry_conversion: {
    enabled: {
      doc: 'Copy every resource attribute (service.name, host.name, ...) onto each series as a label.',
      default: false,
      format: Boolean,
    },
  },
  ...resourceSchema,
  ...selectionSchema,
}
