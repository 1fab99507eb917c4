#!/usr/bin/env bash
# Autobahn|Testsuite conformance gate: run the suite against our testees and
# compare the results with autobahn/expected/<config>.json.
#
#   autobahn/run.sh [options] [CONFIG...]
#
# CONFIG is server-mio, client-mio, server-tokio, client-tokio, server-native,
# client-native or server-axum (default: all seven). server-RT starts
# target/release/examples/autobahn_server --runtime RT on a free 127.0.0.1 port
# and lets wstest's fuzzing client test it; client-RT runs
# target/release/examples/autobahn_client --runtime RT {url} {agent} against
# wstest's fuzzing server. The -native configurations do the same with
# autobahn_native_server and autobahn_native_client, written on ws-tokio's
# native async API (Stream + Sink) instead of the facade, and server-axum with
# autobahn_axum_server, an axum server that upgrades through ws-tokio's
# extractor (ws_tokio::axum::WebSocketUpgrade). Reports go to
# autobahn/reports/CONFIG/.
#
# Options:
#   --cases P1,P2   case patterns to run (wstest syntax, e.g. '6.*,7.7.1');
#                   default: 1.* to 10.*, 12.* and 13.* (every case; 11 does not
#                   exist); the testees turn permessage-deflate on for 12.* and 13.*
#   --update        rewrite autobahn/expected/CONFIG.json from the results
#                   instead of comparing (with --cases: only those cases)
#   --timeout SECS  per run: kill wstest (server) or the client testee after SECS
#                   (default: 600)
#   --no-build      do not run the build command
#   -h, --help      this text
#
# Environment:
#   AUTOBAHN_SHARED      the suite's scripts (default: <repo>/../shared/autobahn)
#   AUTOBAHN_VENV        venv for wstest (default: <repo>/.autobahn-venv; made or
#                        refreshed by the suite's install.sh, which is idempotent)
#   AUTOBAHN_BUILD_CMD   build command, run by bash in the repository root
#                        (default: cargo build --release -p ws-examples --features tokio,axum
#                        --example autobahn_server --example autobahn_client
#                        --example autobahn_native_server --example autobahn_native_client
#                        --example autobahn_axum_server)
#   AUTOBAHN_SERVER_BIN  server testee (default: <repo>/target/release/examples/autobahn_server)
#   AUTOBAHN_CLIENT_BIN  client testee (default: <repo>/target/release/examples/autobahn_client)
#   AUTOBAHN_NATIVE_SERVER_BIN, AUTOBAHN_NATIVE_CLIENT_BIN
#                        the same for the -native configurations (default:
#                        <repo>/target/release/examples/autobahn_native_{server,client})
#   AUTOBAHN_AXUM_SERVER_BIN
#                        the same for server-axum (default:
#                        <repo>/target/release/examples/autobahn_axum_server)
#
# A configuration passes when its report matches its expected file exactly
# (behavior, behaviorClose and remoteCloseCode of every case, see compare.py),
# and, for server configurations, the server testee is still running at the
# end. Without an expected file it passes when the suite's summary reports no
# failure (--fail-on-non-strict --fail-on-close-behavior). Exit status: 0 when
# every configuration passes, 1 otherwise, 2 for usage or setup errors.
set -euo pipefail
# (the whole script is one block, so bash has read all of it before running it)
{

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
die() { echo "autobahn/run.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }

SHARED="${AUTOBAHN_SHARED:-$HERE/../../shared/autobahn}"
VENV="${AUTOBAHN_VENV:-$REPO/.autobahn-venv}"
BUILD_CMD="${AUTOBAHN_BUILD_CMD:-cargo build --release -p ws-examples --features tokio,axum --example autobahn_server --example autobahn_client --example autobahn_native_server --example autobahn_native_client --example autobahn_axum_server}"
SERVER_BIN="${AUTOBAHN_SERVER_BIN:-$REPO/target/release/examples/autobahn_server}"
CLIENT_BIN="${AUTOBAHN_CLIENT_BIN:-$REPO/target/release/examples/autobahn_client}"
NATIVE_SERVER_BIN="${AUTOBAHN_NATIVE_SERVER_BIN:-$REPO/target/release/examples/autobahn_native_server}"
NATIVE_CLIENT_BIN="${AUTOBAHN_NATIVE_CLIENT_BIN:-$REPO/target/release/examples/autobahn_native_client}"
AXUM_SERVER_BIN="${AUTOBAHN_AXUM_SERVER_BIN:-$REPO/target/release/examples/autobahn_axum_server}"
REPORTS="$HERE/reports"
EXPECTED_DIR="$HERE/expected"
ALL_CONFIGS=(server-mio client-mio server-tokio client-tokio server-native client-native server-axum)
DEFAULT_CASES='1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.*,13.*'

CASES="$DEFAULT_CASES"
CASES_SET=0
UPDATE=0
TIMEOUT=600
BUILD=1
CONFIGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) [ $# -ge 2 ] || die "--cases needs a value"; CASES="$2"; CASES_SET=1; shift 2 ;;
    --cases=*) CASES="${1#--cases=}"; CASES_SET=1; shift ;;
    --update) UPDATE=1; shift ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; TIMEOUT="$2"; shift 2 ;;
    --timeout=*) TIMEOUT="${1#--timeout=}"; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    server-mio|client-mio|server-tokio|client-tokio|server-native|client-native|server-axum)
      CONFIGS+=("$1"); shift ;;
    *) die "unknown configuration $1 (expected one of: ${ALL_CONFIGS[*]})" ;;
  esac
done
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=("${ALL_CONFIGS[@]}")
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout needs a number of seconds"
[ -n "$CASES" ] || die "--cases needs at least one pattern"

[ -f "$SHARED/run-suite.sh" ] || die "no Autobahn suite at $SHARED (set AUTOBAHN_SHARED)"
SHARED="$(cd "$SHARED" && pwd)"

# ---- suite (idempotent) and testees
bash "$SHARED/install.sh" "$VENV"
PY="$VENV/bin/python"
if [ "$BUILD" = 1 ]; then
  echo "autobahn/run.sh: building: $BUILD_CMD"
  (cd "$REPO" && bash -c "$BUILD_CMD") || die "build failed"
fi
testee() {  # CONFIG: the testee binary that plays it
  case "$1" in
    server-native) echo "$NATIVE_SERVER_BIN" ;;
    client-native) echo "$NATIVE_CLIENT_BIN" ;;
    server-axum) echo "$AXUM_SERVER_BIN" ;;
    server-*) echo "$SERVER_BIN" ;;
    client-*) echo "$CLIENT_BIN" ;;
  esac
}
for c in "${CONFIGS[@]}"; do
  bin="$(testee "$c")"
  [ -x "$bin" ] || die "no testee $bin for $c"
done

# ---- helpers
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVER_PID=""   # the server testee
SUITE_PID=""    # run-suite.sh, leader of its own process group (wstest, client testee)
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
descendants() {  # PID: its child processes, recursively
  local c
  for c in $(pgrep -P "$1" 2>/dev/null || true); do echo "$c"; descendants "$c"; done
}
cleanup() {
  if [ -n "$SUITE_PID" ]; then
    # the process group, plus descendants that left it (`timeout` makes its own group)
    # shellcheck disable=SC2046
    kill -TERM -- "-$SUITE_PID" $(descendants "$SUITE_PID") 2>/dev/null || true
    wait "$SUITE_PID" 2>/dev/null || true
    SUITE_PID=""
  fi
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_suite ARGS...: run-suite.sh ARGS, output shown and kept in $out/run.log;
# sets suite_rc. It runs in its own process group (set -m) so that an interrupt
# or a timeout of this script also stops wstest and the client testee.
run_suite() {
  local log_fd tee_pid
  exec {log_fd}> >(tee "$out/run.log")
  tee_pid=$!
  set -m
  bash "$SHARED/run-suite.sh" "$@" >&"$log_fd" 2>&1 &
  SUITE_PID=$!
  set +m
  exec {log_fd}>&-
  wait "$SUITE_PID"
  suite_rc=$?
  SUITE_PID=""
  wait "$tee_pid" 2>/dev/null || true   # let tee finish printing
}

wait_listening() {  # PORT SECS: 0 once something accepts on 127.0.0.1:PORT
  local port="$1" tries=$(( $2 * 10 ))
  while [ "$tries" -gt 0 ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
    tries=$(( tries - 1 ))
  done
  return 1
}

# ---- runs (one at a time)
SUITE_FLAGS=(--include "$CASES" --exclude '' --timeout "$TIMEOUT" -q
             --fail-on-non-strict --fail-on-close-behavior --venv "$VENV")
COMPARE_FLAGS=()
[ "$CASES_SET" = 1 ] && COMPARE_FLAGS+=(--cases "$CASES")
RESULTS=()
GATE_RC=0

for config in "${CONFIGS[@]}"; do
  mode="${config%%-*}"
  runtime="${config#*-}"
  # the native and axum testees take and ignore it
  case "$runtime" in native|axum) runtime=tokio ;; esac
  bin="$(testee "$config")"
  agent="ws-$config"
  out="$REPORTS/$config"
  expected="$EXPECTED_DIR/$config.json"
  rm -rf "$out"
  mkdir -p "$out"
  echo
  echo "==== autobahn $config: cases $CASES"

  server_state=ok
  set +e
  if [ "$mode" = server ]; then
    port="$(free_port)"
    "$bin" --runtime "$runtime" "127.0.0.1:$port" >"$out/testee.log" 2>&1 &
    SERVER_PID=$!
    if wait_listening "$port" 30; then
      run_suite server "127.0.0.1:$port" --agent "$agent" --out "$out" "${SUITE_FLAGS[@]}"
      kill -0 "$SERVER_PID" 2>/dev/null || server_state=died
    else
      echo "autobahn/run.sh: the server testee did not start listening on 127.0.0.1:$port (log: $out/testee.log)" >&2
      suite_rc=2
      server_state=nostart
    fi
    stop_server
  else
    port="$(free_port)"
    run_suite client "$port" --agent "$agent" --out "$out" "${SUITE_FLAGS[@]}" \
      -- "$bin" --runtime "$runtime" '{url}' '{agent}'
  fi
  set -e
  # run-suite.sh's last summary line, `autobahn: N passed, M failed`, for the recap
  summary="$(grep '^autobahn: ' "$out/run.log" 2>/dev/null | tail -n 1 || true)"
  [ -n "$summary" ] || summary="autobahn: no summary"
  verdict=""
  rc=0
  if [ "$server_state" = died ]; then
    echo "autobahn/run.sh: the server testee was not running at the end of the run (log: $out/testee.log)" >&2
    verdict="server testee died; "
    rc=1
  elif [ "$server_state" = nostart ]; then
    verdict="server testee did not start; "
  fi
  if [ "$suite_rc" -ge 2 ] || [ ! -f "$out/index.json" ]; then
    verdict+="suite error (status $suite_rc), no usable report"
    rc=1
  elif [ "$UPDATE" = 1 ] && { [ "$server_state" = died ] || grep -q '^  MISSING ' "$out/run.log"; }; then
    verdict+="expected file NOT updated (cases missing or testee died)"
    rc=1
  elif [ "$UPDATE" = 1 ]; then
    if "$PY" "$HERE/compare.py" "$out" "$expected" --agent "$agent" "${COMPARE_FLAGS[@]}" --update; then
      verdict+="expected file updated"
    else
      verdict+="expected file NOT updated"
      rc=1
    fi
  elif [ -f "$expected" ]; then
    set +e
    "$PY" "$HERE/compare.py" "$out" "$expected" --agent "$agent" "${COMPARE_FLAGS[@]}"
    crc=$?
    set -e
    case "$crc" in
      0) verdict+="matches expected" ;;
      1) verdict+="DIFFERS from expected"; rc=1 ;;
      *) verdict+="comparison error"; rc=1 ;;
    esac
  else
    echo "autobahn/run.sh: no expected file ${expected#"$REPO"/}; judging by the summary" \
         "(record the results with --update once they are right)"
    if [ "$suite_rc" = 0 ]; then verdict+="no expected file, summary passed"
    else verdict+="no expected file, summary FAILED"; rc=1; fi
  fi
  [ "$rc" = 0 ] || GATE_RC=1
  RESULTS+=("$(printf '%-13s %-5s %s (%s)' "$config" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$verdict" "$summary")")
done

echo
echo "==== autobahn gate (cases $CASES)"
printf '  %s\n' "${RESULTS[@]}"
exit "$GATE_RC"
}
