#!/usr/bin/env bash
# Runs each fuzz target for a fixed time, one after the other, and fails at
# the first crash (its input is kept in fuzz/artifacts/<target>/). New
# inputs go to a scratch directory; fuzz/corpus/ keeps the seeds and the
# regression cases (add a crash there as regression-* once it is fixed).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 20 s, every target)
#   FUZZ_RUNS=N [FUZZ_SEED=S] fuzz/run.sh [SECONDS] [TARGET...]
#                                         N executions from seed S (default
#                                         1) instead of SECONDS: reproducible
#
# Needs the nightly toolchain (installed with rustup when missing) and
# cargo-fuzz (installed with `cargo install cargo-fuzz --locked` when
# missing). When nightly cannot be had it prints why and exits 0: the
# corpus is still replayed on stable by `cargo test -p ws-proto --test
# fuzz_replay`. Prints each target's executions (-print_final_stats=1).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECS="${1:-20}"
[ $# -gt 0 ] && shift
cd "$HERE"
if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(ls fuzz_targets | sed -n 's/\.rs$//p')
fi

if ! cargo +nightly --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal >&2 || true
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: skipped: the nightly toolchain cannot be had (no rustup, or its install failed)"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/ws-fuzz.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
for target in "${TARGETS[@]}"; do
  mkdir -p "$SCRATCH/$target"
  log="$SCRATCH/$target.log"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    # A fixed number of runs from a fixed seed: the same inputs every time,
    # so a green run here is a green run in CI.
    budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
  else
    budget=(-max_total_time="$SECS")
  fi
  started=$SECONDS
  if cargo +nightly fuzz run "$target" "$SCRATCH/$target" "corpus/$target" -- \
      "${budget[@]}" -print_final_stats=1 >"$log" 2>&1; then
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz/run.sh: $target: $((SECONDS - started)) s, ${execs:-?} executions, no crash"
  else
    # The panic and libFuzzer's report, not only the tail of the log.
    grep -n -A20 -m1 "panicked at\|ERROR: libFuzzer\|ERROR: AddressSanitizer" "$log" >&2 || true
    tail -n 40 "$log" >&2
    echo "fuzz/run.sh: $target: crashed (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
done
