#!/usr/bin/env bash
# The end-to-end load harness of issue 8: builds the echo servers (this
# project's facade on mio and on tokio, its native async API, tokio-tungstenite,
# fastwebsockets, tokio-websockets, ws-rs 0.9.2 and a raw TCP echo) and the
# load generator in release mode, then runs every server under every load (server on CPU 0,
# generator on CPU 1) and writes benches/RESULTS.md.
#
#   benches/load.sh                         # everything: 3 runs, ~10 minutes
#   benches/load.sh --servers raw,facade-mio,tungstenite --loads a,d --runs 1
#   benches/load.sh --duration 5 --out /tmp/results.md
#   benches/load.sh --loads f --runs 3      # the fan-out alone (about 2 minutes)
#   benches/load.sh --smoke                 # CI: every server echoes right under every load
#
# Options (passed to load_runner): --servers LIST, --loads LIST (a b c d t u e
# s f; t and u are mixed multi-byte UTF-8 text, s slow readers, f the fan-out:
# 10,000 subscribers of one topic, served by native-publish, native-loop and
# tungstenite-broadcast only, 200 subscribers in --smoke), --fanout-conns N,
# --runs N, --duration S, --warmup S, --idle-conns N, --out FILE, --charts DIR,
# --no-pin, --smoke. A full run writes benches/RESULTS.md and the charts in
# benches/charts/ (one SVG per load) unless --out or --charts say otherwise;
# --smoke writes no table unless --out is given, and its charts go to
# target/load/charts/. With LOAD_PROFILE=debug the
# binaries are built without optimisation (enough for --smoke).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROFILE="${LOAD_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release -q -p ws-benches --bins --examples
  BIN=target/release
else
  cargo build -q -p ws-benches --bins --examples
  BIN=target/debug
fi

# Loads e and f open 10,000 connections: raise the soft limit on open files to the
# hard one for the runner and everything it starts (which raise it too).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

COMMAND="benches/load.sh${*:+ $*}"
ARGS=(--bin-dir "$BIN" --jsonl target/load/results.jsonl --command "$COMMAND")
smoke=false
has_out=false
has_charts=false
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=true ;;
    --out) has_out=true ;;
    --charts) has_charts=true ;;
  esac
done
if [ "$smoke" = false ] && [ "$has_out" = false ]; then
  ARGS+=(--out benches/RESULTS.md)
  [ "$has_charts" = true ] || ARGS+=(--charts benches/charts)
elif [ "$has_charts" = false ]; then
  # A smoke run (or one written elsewhere) still renders its charts, so
  # that a chart that cannot be drawn fails here too.
  ARGS+=(--charts target/load/charts)
fi
exec "$BIN/load_runner" "${ARGS[@]}" "$@"
