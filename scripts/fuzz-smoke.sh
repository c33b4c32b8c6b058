#!/usr/bin/env bash
# Every fuzz target in fuzz/ built with cargo-fuzz (nightly, AddressSanitizer) and run for a
# bounded time each: a crash fails CI. Longer runs: CONTRIBUTING.md, "Fuzzers".
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]  (default 8)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS="${1:-8}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
TARGETS=$(cargo +nightly fuzz list)
[ -n "$TARGETS" ] || { echo "fuzz: no targets listed" >&2; exit 1; }
for t in $TARGETS; do
  echo "fuzz: $t for ${SECS}s"
  # -rss_limit_mb: the virtual-device targets hold six devices; 2 GB is libFuzzer's default.
  cargo +nightly fuzz run "$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 2>"target/fuzz-$t.log" \
    || { tail -n 40 "target/fuzz-$t.log" >&2; echo "fuzz: $t crashed; the input is in fuzz/artifacts/$t/" >&2; exit 1; }
  grep -E "^Done [0-9]+ runs" "target/fuzz-$t.log" || true
done
