#!/usr/bin/env bash
# The chat example in headless Chromium, on each runtime of the `ws` facade:
# builds `chat`, serves it on a free port of 127.0.0.1, runs chat.mjs
# (playwright-core) against it, and stops the server by its pid. `http2`
# does the same with the `http2_echo` example and http2.mjs: a page over
# HTTP/2 and a WebSocket the server saw arrive as an HTTP/2 stream (RFC
# 8441), through ws-tokio's `http2` feature.
#
#     tests/browser/run.sh [--screenshots DIR] [mio|tokio|http2]...   (default: mio tokio)
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
    mio|tokio|http2) RUNTIMES+=("$1"); shift ;;
    *) echo "usage: run.sh [--screenshots DIR] [mio|tokio|http2]..." >&2; exit 2 ;;
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
  if [ "$runtime" = http2 ]; then
    cargo build -q -p ws-examples --example http2_echo --features http2
    target/debug/examples/http2_echo 127.0.0.1:0 >"$LOG" 2>&1 & SERVER_PID=$!
    url=""
    for _ in $(seq 100); do
      url="$(sed -n 's#^open \(https://[^ ]*\) in your browser$#\1#p' "$LOG")"
      [ -n "$url" ] && break
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$url" ] || { echo "run.sh: http2_echo did not start:" >&2; cat "$LOG" >&2; exit 1; }
    echo "run.sh: http2_echo at $url"
    rc=0
    timeout 90 node "$HERE/http2.mjs" "$url" || rc=$?
    stop_server
    # The server's own word: it saw the WebSocket as an HTTP/2 stream.
    if [ "$rc" != 0 ] || ! grep -q '^WebSocket over HTTP/2 at /echo' "$LOG"; then
      echo "run.sh: the HTTP/2 check failed; the server said:" >&2
      cat "$LOG" >&2
      exit 1
    fi
    cat "$LOG"
    continue
  fi
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
echo "run.sh: the pages work in Chromium on: ${RUNTIMES[*]}"
