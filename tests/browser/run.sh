#!/usr/bin/env bash
# The chat example in headless Chromium, on each runtime of the `ws` facade:
# builds `chat`, serves it on a free port of 127.0.0.1, runs chat.mjs
# (playwright-core) against it, and stops the server by its pid.
#
#     tests/browser/run.sh [--screenshots DIR] [mio|tokio]...   (default: mio tokio)
#
# Installs what it lacks itself: Debian's chromium and node (apt-get), and
# playwright-core into tests/browser/node_modules (npm, git-ignored).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHOTS=""
RUNTIMES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --screenshots) SHOTS="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    mio|tokio) RUNTIMES+=("$1"); shift ;;
    *) echo "usage: run.sh [--screenshots DIR] [mio|tokio]..." >&2; exit 2 ;;
  esac
done
[ ${#RUNTIMES[@]} -gt 0 ] || RUNTIMES=(mio tokio)

APT_UPDATED=""
need_apt() {  # PACKAGE COMMAND: install PACKAGE unless COMMAND exists
  command -v "$2" >/dev/null 2>&1 && return
  [ -n "$APT_UPDATED" ] || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}
need_apt chromium chromium
need_apt nodejs node
need_apt npm npm
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
  (cd "$HERE" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi

cd "$REPO"
SERVER_PID=""
LOG="$(mktemp)"
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap 'stop_server; rm -f "$LOG"' EXIT

for runtime in "${RUNTIMES[@]}"; do
  features=()
  [ "$runtime" = tokio ] && features=(--no-default-features --features tokio)
  cargo build -q -p ws-examples --example chat "${features[@]}"
  target/debug/examples/chat 127.0.0.1:0 >"$LOG" 2>&1 & SERVER_PID=$!
  url=""
  for _ in $(seq 100); do
    url="$(sed -n 's#^open \(http://[^ ]*\) in your browser$#\1#p' "$LOG")"
    [ -n "$url" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "run.sh: chat ($runtime) did not start:" >&2; cat "$LOG" >&2; exit 1; }
  echo "run.sh: chat on $runtime at $url"
  shots=()
  if [ -n "$SHOTS" ]; then mkdir -p "$SHOTS/$runtime"; shots=("$SHOTS/$runtime"); fi
  rc=0
  timeout 90 node "$HERE/chat.mjs" "$url" "${shots[@]}" || rc=$?
  stop_server
  if [ "$rc" != 0 ]; then
    echo "run.sh: the chat check failed on $runtime; the server said:" >&2
    cat "$LOG" >&2
    exit 1
  fi
done
echo "run.sh: the chat page works in Chromium on: ${RUNTIMES[*]}"
