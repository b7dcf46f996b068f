// `otlp` exporter configuration, with the OpenTelemetry Collector's keys: the gRPC `endpoint` and `tls.insecure`
// here, everything it shares with `otlphttp` in ../sdk/push-config.ts.
import { hasTlsFiles, pushSchema, tlsFilesSchema, validatePushConfig, type PushConfig } from '../sdk/push-config.ts'

export interface OtlpConfig extends PushConfig {
  endpoint: string
  tls: PushConfig['tls'] & { insecure: boolean }
}

export const otlpSchema = {
  endpoint: {
    doc: 'OTLP/gRPC collector address, host:port.',
    default: 'localhost:4317',
    format: 'endpoint',
  },
  tls: {
    insecure: { doc: 'Plain-text gRPC (no TLS).', default: false, format: Boolean },
    ...tlsFilesSchema,
  },
  ...pushSchema,
}

export function validateOtlpConfig(config: OtlpConfig): void {
  validatePushConfig(config)
  if (config.tls.insecure && hasTlsFiles(config.tls)) {
    throw new Error('tls: ca_file, cert_file and key_file need insecure: false')
  }
}
