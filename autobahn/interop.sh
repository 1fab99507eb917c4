#!/usr/bin/env bash
# permessage-deflate interop with Python's `websockets` (a peer no one here
# wrote), in both directions:
#
#   1. websockets clients, one per deflate offer in interop.py, against our
#      echo server (examples/autobahn_server.rs, deflate on);
#   2. our client (examples/interop_client.rs) against websockets echo
#      servers, one per server configuration in interop.py.
#
#   autobahn/interop.sh [--runtime mio|tokio] [--no-build]
#
# Environment:
#   INTEROP_VENV       venv for websockets (default: ${TMPDIR:-/tmp}/ws-interop-venv;
#                      made and filled with pip when websockets is missing)
#   INTEROP_WEBSOCKETS the pip requirement (default: websockets==17.4)
#   PYTHON             python for the venv (default: python3)
#
# Each side gives up after a few minutes (timeout(1)). Exit status: 0 when
# both directions pass, 1 otherwise, 2 on setup errors.
set -euo pipefail
{

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
die() { echo "autobahn/interop.sh: $*" >&2; exit 2; }

RUNTIME=mio
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) [ $# -ge 2 ] || die "--runtime needs a value"; RUNTIME="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

VENV="${INTEROP_VENV:-${TMPDIR:-/tmp}/ws-interop-venv}"
REQ="${INTEROP_WEBSOCKETS:-websockets==17.4}"
PYTHON="${PYTHON:-python3}"
if ! "$VENV/bin/python" -c 'import websockets' >/dev/null 2>&1; then
  echo "autobahn/interop.sh: installing $REQ into $VENV"
  "$PYTHON" -m venv "$VENV" || die "cannot make a venv at $VENV"
  "$VENV/bin/python" -m pip --disable-pip-version-check --no-input install -q "$REQ" \
    || die "pip could not install $REQ"
fi
PY="$VENV/bin/python"
echo "autobahn/interop.sh: websockets $("$PY" -c 'import websockets; print(websockets.__version__)')"

if [ "$BUILD" = 1 ]; then
  # The same features as autobahn/run.sh builds with, so that neither undoes
  # the other's binaries.
  (cd "$REPO" && cargo build --release -p ws-examples --features tokio \
    --example autobahn_server --example autobahn_client --example interop_client) \
    || die "build failed"
fi
SERVER_BIN="$REPO/target/release/examples/autobahn_server"
CLIENT_BIN="$REPO/target/release/examples/interop_client"

SERVER_PID=""
PEER_PID=""
PEER_OUT="$(mktemp)"
cleanup() {
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  [ -z "$PEER_PID" ] || kill "$PEER_PID" 2>/dev/null || true
  rm -f "$PEER_OUT"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listening() {  # PORT
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

RC=0

echo
echo "==== websockets clients -> our server ($RUNTIME)"
port="$(free_port)"
"$SERVER_BIN" --runtime "$RUNTIME" "127.0.0.1:$port" &
SERVER_PID=$!
wait_listening "$port" || die "our server did not start"
if timeout 300 "$PY" "$HERE/interop.py" client "ws://127.0.0.1:$port"; then A=PASS; else A=FAIL; RC=1; fi
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

echo
echo "==== our client ($RUNTIME) -> websockets servers"
"$PY" "$HERE/interop.py" server >"$PEER_OUT" &
PEER_PID=$!
for _ in $(seq 100); do
  grep -q '^ready$' "$PEER_OUT" && break
  kill -0 "$PEER_PID" 2>/dev/null || die "the websockets server did not start"
  sleep 0.1
done
grep -q '^ready$' "$PEER_OUT" || die "the websockets server did not start"
B=PASS
while IFS=$'\t' read -r name port; do
  [ "$name" = ready ] && continue
  echo "-- $name"
  if ! timeout 120 "$CLIENT_BIN" --runtime "$RUNTIME" "ws://127.0.0.1:$port/"; then B=FAIL; RC=1; fi
done <"$PEER_OUT"

echo
echo "==== interop with websockets: clients -> our server: $A; our client -> servers: $B"
exit "$RC"
}
