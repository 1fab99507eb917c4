#!/usr/bin/env bash
# Installs Node's `ws` (npm) for ws/tests/node_interop.rs into a git-ignored
# directory: target/node-interop/node_modules (or $WS_NODE_DIR). Does
# nothing when the wanted version is there already.
#
#   ws/tests/node/install.sh
#
# Environment: WS_NODE_DIR (install prefix), WS_NODE_WS (the npm spec,
# default ws@8.18.3).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DIR="${WS_NODE_DIR:-$REPO/target/node-interop}"
SPEC="${WS_NODE_WS:-ws@8.18.3}"
WANT="${SPEC#ws@}"
# A half-done install (its package.json there, its code not) must not pass.
HAVE="$(node -p "require('$DIR/node_modules/ws'); require('$DIR/node_modules/ws/package.json').version" 2>/dev/null || true)"
if [ "$HAVE" = "$WANT" ]; then
  exit 0
fi
# Whatever is there is broken or another version: start from nothing
# (npm does not repair a half-done install).
rm -rf "$DIR/node_modules" "$DIR/package-lock.json"
mkdir -p "$DIR"
echo "ws/tests/node/install.sh: npm install $SPEC into $DIR" >&2
cd "$DIR"
[ -f package.json ] || echo '{"private": true}' > package.json
timeout 300 npm install --no-audit --no-fund --silent "$SPEC"
