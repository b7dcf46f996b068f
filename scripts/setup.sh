#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian 12 machine: system packages, Node 24, npm packages, build.
#   scripts/setup.sh          what `netlens run` needs
#   scripts/setup.sh --test   plus the real peers the test suite talks to (DNS servers, nginx, iperf3, ...)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NETLENS_ROOT"

build_packages=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make g++ python3 pkg-config iproute2 libcap2-bin iputils-ping)
test_packages=(knot knot-dnsutils dnsutils nftables iperf3 tshark nginx wrk dnsperf procps python3-venv curl openssl libssl-dev)
packages=("${build_packages[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${test_packages[@]}")

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tracefs is where tracepoints are attached; some images do not mount it.
if [[ ! -d /sys/kernel/tracing/events ]]; then as_root mount -t tracefs nodev /sys/kernel/tracing || true; fi

if [[ "$(node --version 2>/dev/null)" != "v$NODE_VERSION" ]]; then
  echo "setup: installing Node $NODE_VERSION into .tools/"
  mkdir -p "$NETLENS_TOOLS"
  npm install --no-save --no-audit --no-fund --prefix "$NETLENS_TOOLS" "node@$NODE_VERSION" >/dev/null
  [[ "$(node --version)" == "v$NODE_VERSION" ]] || { echo "setup: Node $NODE_VERSION did not install" >&2; exit 1; }
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.netlens-lock.sha
if [[ ! -f $stamp || "$(sha256sum package-lock.json)" != "$(cat $stamp)" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --ignore-scripts >/dev/null
  sha256sum package-lock.json > $stamp
fi

# Python packages the tests use, in a venv under .tools/ (Debian's python3 is externally managed):
# mmdb-writer builds the GeoIP databases of test/processors/geoip.
if [[ "${1:-}" == "--test" ]] && ! "$NETLENS_TOOLS/python/bin/python" -c 'import mmdb_writer' 2>/dev/null; then
  echo "setup: installing mmdb-writer into .tools/python"
  /usr/bin/python3 -m venv "$NETLENS_TOOLS/python"
  "$NETLENS_TOOLS/python/bin/pip" install -q mmdb-writer
fi

bash scripts/build.sh
# The OpenTelemetry Collector the end-to-end tests export to (built with Go; cached under build/otelcol/).
if [[ "${1:-}" == "--test" ]]; then bash scripts/build-collector.sh; fi
