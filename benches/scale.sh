#!/usr/bin/env bash
# Ten thousand connections, half of them never reading, while the server
# broadcasts to all of them: prints the server's resident memory every
# second (it must plateau) beside how many healthy connections received
# data in that second (all of them, every second).
#
#   benches/scale.sh [CONNECTIONS] [STALLED] [SECONDS] [INTERVAL_MS] [MESSAGE_BYTES]
#
# Not part of CI: it needs about 2 x CONNECTIONS file descriptors (client and
# server run as separate processes, each raising its soft limit).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONNS="${1:-10000}"
STALLED="${2:-$((CONNS / 2))}"
SECS="${3:-20}"
INTERVAL="${4:-50}"
SIZE="${5:-1024}"
# Below Linux's ephemeral range (32768 and up), where the client's own ports are.
PORT=$((20000 + RANDOM % 12000))

cargo build --release -q -p ws-benches --bin scale_server --bin scale_client
ulimit -n "$(( CONNS + 1000 > 20000 ? 20000 : CONNS + 1000 ))"

target/release/scale_server "127.0.0.1:$PORT" "$INTERVAL" "$SIZE" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
sleep 0.5
kill -0 "$SERVER" 2>/dev/null || { echo "scale_server did not start" >&2; exit 1; }

rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$SERVER/status"; }
echo "server: $CONNS connections ($STALLED stalled), broadcast of $SIZE B every $INTERVAL ms, $SECS s"
echo "server RSS before: $(rss) KiB"

target/release/scale_client "127.0.0.1:$PORT" "$CONNS" "$STALLED" "$SECS" > /tmp/scale_client.$$ &
CLIENT=$!
printf '%6s %12s\n' time_s server_RSS_KiB > /tmp/scale_rss.$$
t=0
while kill -0 "$CLIENT" 2>/dev/null; do
  sleep 1
  t=$((t + 1))
  printf '%6s %12s\n' "$t" "$(rss)" >> /tmp/scale_rss.$$
done
wait "$CLIENT"
paste /tmp/scale_rss.$$ /tmp/scale_client.$$ | column -t
echo "server peak RSS (VmHWM): $(hwm) KiB"
rm -f /tmp/scale_rss.$$ /tmp/scale_client.$$
