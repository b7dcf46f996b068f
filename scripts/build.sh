#!/usr/bin/env bash
# Builds what is not plain TypeScript: BPF objects (clang, CO-RE) and the native addon (node-gyp).
# TypeScript runs as is on Node 24 (type stripping); `tsc --noEmit` type-checks it in the test command.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NETLENS_ROOT"
make -s -C bpf
if [[ ! -f native/build/config.gypi ]]; then (cd native && node-gyp configure --nodedir="$NODE_DIR" >/dev/null 2>&1); fi
(cd native && node-gyp build -j 2 >/dev/null 2>&1) || (cd native && node-gyp build -j 2)
