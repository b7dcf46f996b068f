#!/usr/bin/env bash
# Builds `otelcol-netlens`, a real OpenTelemetry Collector for the end-to-end tests (test/collector/): the OTLP
# receiver (gRPC + HTTP) and the file and debug exporters, assembled by the Collector builder (ocb) from modules
# on the Go module proxy. Output: build/otelcol/otelcol-netlens. Cached: rebuilt only when the binary is missing
# or the manifest below (or the Go version) changed. Needs Go >= 1.26 (its go.mod files say so; looked for on PATH,
# then in /usr/local/go/bin).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NETLENS_ROOT"

# Core and contrib modules are released together; one version for all of them keeps the build consistent.
# v0.162.0: from v0.163.0 on, otlpreceiver imports go.opentelemetry.io/collector/internal/statusutil, which the
# module proxy does not serve.
OTELCOL_VERSION="0.162.0"
out=build/otelcol
binary=$out/otelcol-netlens
stamp=$out/.manifest.sha

manifest="dist:
  name: otelcol-netlens
  description: OpenTelemetry Collector for netlens end-to-end tests
  version: $OTELCOL_VERSION
  output_path: $out/src
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v$OTELCOL_VERSION
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter v$OTELCOL_VERSION
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter v$OTELCOL_VERSION
"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "build-collector: Go is not installed (https://go.dev/dl/, >= 1.26)" >&2; exit 1; }

wanted="$(printf '%s\n%s\n' "$manifest" "$(go version)" | sha256sum | cut -d' ' -f1)"
if [[ -x $binary && -f $stamp && "$(cat $stamp)" == "$wanted" ]]; then exit 0; fi

echo "build-collector: building otelcol-netlens $OTELCOL_VERSION (cold Go caches take several minutes)"
started=$SECONDS
mkdir -p "$out/bin"
rm -f "$stamp"
# The builder itself, kept under build/ so it never touches the user's GOBIN.
if [[ ! -x $out/bin/builder || "$("$out/bin/builder" version 2>/dev/null)" != *"$OTELCOL_VERSION"* ]]; then
  GOBIN="$NETLENS_ROOT/$out/bin" go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"
fi
printf '%s' "$manifest" > "$out/manifest.yaml"
# -e lets the builder's `go mod tidy` pass over a module the proxy refuses to serve (403) that only the tests of
# fileexporter import (extension/encoding/otlpencodingextension); `go build` still fails on any missing package
# the binary needs. Flags in GOFLAGS are ignored by go commands that do not define them.
GOFLAGS="${GOFLAGS:+$GOFLAGS }-e" "$out/bin/builder" --config "$out/manifest.yaml" > "$out/build.log" 2>&1 || {
  tail -n 40 "$out/build.log" >&2
  echo "build-collector: the Collector builder failed; full log in $out/build.log" >&2
  exit 1
}
install -m 0755 "$out/src/otelcol-netlens" "$binary"
"$binary" --version >/dev/null
echo "$wanted" > "$stamp"
echo "build-collector: built $binary in $((SECONDS - started)) s"
