#!/usr/bin/env bash
# Tests of ci/nightly.sh with the real `rig report` and `rig bench check` (virtual bench). Only
# `rig run` is stood in for, by a script that writes a known journal and has the real `rig report`
# derive the results from it, as `rig run` does.
#
#   bash ci/tests/nightly-test.sh      (RIG_REAL=PATH to use a built rig; else cargo builds it)
# shellcheck disable=SC2016 # the expected texts hold Markdown backticks, not commands
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [ -z "${RIG_REAL:-}" ]; then
  cargo build -q -p rig --bin rig
  RIG_REAL="${CARGO_TARGET_DIR:-$ROOT/target}/debug/rig"
fi
export RIG_REAL
[ -x "$RIG_REAL" ] || { echo "no rig binary at $RIG_REAL" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

ok() {
  passed=$((passed + 1))
  echo "ok   $1"
}

not_ok() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/     | /'
  return 0
}

# expect NAME HAYSTACK NEEDLE: the text contains the line fragment.
expect() {
  if grep -qF -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1: no '$3' in" "$2"; fi
}

expect_not() {
  if grep -qF -- "$3" <<<"$2"; then not_ok "$1: unexpected '$3' in" "$2"; else ok "$1"; fi
}

expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', expected '$3'"; fi
}

mk() { python3 ci/tests/make_journal.py "$@"; }

# Two benches with known counts. bench-a: dut0 soak 7 pass, 1 fail, 1 flaky, 1 infra error;
# dut0 other 2 pass, 1 brick; dut1 soak 10 pass. bench-b: dut0 soak 4 pass, 1 flaky.
mk "$T/a" bench-a 20260901 dut0:soak:pppppppfke dut0:other:ppb dut1:soak:pppppppppp
mk "$T/b" bench-b 20260901 dut0:soak:ppppk
"$RIG_REAL" report "$T/a" >/dev/null 2>&1
"$RIG_REAL" report "$T/b" >/dev/null 2>&1

# --- summary: one row per DUT with the sums over its cases ---------------------------------------
out=$(RIG_TITLE="bench a" ci/nightly.sh summary "$T/a")
expect "summary heading" "$out" "## bench a"
expect "summary run line" "$out" '`nightly-soak` seed **20260901** on bench `bench-a` (23 iterations, complete'
expect "summary totals" "$out" "Total: 23 iterations, 19 passed, 2 failed, 1 flaky, 1 infrastructure errors, 1 bricked"
expect "row dut0 sums both cases" "$out" \
  "| bench-a | dut0 | nRF52832_xxAA | SDK 17.1 ble | BRICKED | 13 | 9 | 2 | 1 | 1 | 1 | 75.0 % (46.8-91.1) |"
expect "row dut0 failure classes" "$out" \
  '`dut.brick` 1, `dut.protocol.create.operation-failed` 1, `dut.timeout.create` 1, `infra.adapter` 1 |'
expect "flaky failure marked" "$out" 'soak on bench-a/dut0, iteration 8 (flaky): `dut.timeout.create` - no response to CREATE'
expect "row dut1 passes" "$out" "| bench-a | dut1 | nRF52832_xxAA | SDK 17.1 ble | PASS | 10 | 10 | 0 | 0 | 0 | 0 | 100.0 % (72.2-100.0) | - |"
expect "per-case table" "$out" "| other | bench-a | dut0 | BRICKED | 3 | 2 | 1 | 0 | 0 | 1 |"
expect "bricked banner" "$out" "1 iteration(s) left a device that needed an SWD reflash"
expect "replay command of a failure" "$out" \
  '`rig run suites/nightly-soak.yaml --seed 20260901 --bench benches/bench-a.yaml --replay soak:7`'
if [ -f "$T/a/job-summary.md" ]; then ok "summary written to job-summary.md"; else not_ok "no job-summary.md"; fi

# The per-DUT interval is computed by the script; with one case per DUT it must equal rig's own.
out=$(ci/nightly.sh summary "$T/b")
rig_rate=$(python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))["groups"][0]["success"]
print("%.1f %% (%.1f-%.1f)" % (100 * g["rate"], 100 * g["low"], 100 * g["high"]))' "$T/b/summary.json")
expect "per-DUT Wilson interval equals rig's ($rig_rate)" "$out" "| FLAKY | 5 | 4 | 0 | 1 | 0 | 0 | $rig_rate |"
expect_not "single case: no per-case table" "$out" "<details>"

# --- run: a stand-in for `rig run` ---------------------------------------------------------------
cat >"$T/fake-rig" <<'EOF'
#!/usr/bin/env bash
# Stand-in for rig: `run` copies $FAKE_JOURNAL into --out and lets the real rig derive the
# reports; everything else is the real rig.
set -euo pipefail
case $1 in
  bench)
    echo "bench $*" >>"$FAKE_CALLS"
    if [ "${FAKE_CHECK_FAIL:-0}" = 1 ]; then echo "v0 probe FAIL (infra.probe)"; exit 1; fi
    exec "$RIG_REAL" "$@" --virtual-dir "$FAKE_VIRT" ;;
  run) ;;
  *) exec "$RIG_REAL" "$@" ;;
esac
echo "$*" >>"$FAKE_CALLS"
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = --out ]; then out=$2; fi
  shift
done
cp "$FAKE_JOURNAL" "$out/journal.jsonl"
if [ -n "${FAKE_SLEEP:-}" ]; then
  stop=0
  trap 'echo INT >>"$FAKE_SIGNALS"; stop=1' INT
  touch "$FAKE_SIGNALS.started"
  for _ in $(seq "$FAKE_SLEEP"); do
    [ "$stop" = 1 ] && break
    sleep 0.1
  done
  "$RIG_REAL" report "$out" >/dev/null 2>&1
  [ "$stop" = 1 ] && exit 130
fi
"$RIG_REAL" report "$out" >/dev/null 2>&1
exit "${FAKE_EXIT:-0}"
EOF
chmod +x "$T/fake-rig"
printf 'duts:\n  v0:\n    virtual: true\n' >"$T/bench.yaml"
export FAKE_CALLS="$T/calls" FAKE_VIRT="$T/virt" FAKE_JOURNAL="$T/a/journal.jsonl" \
  FAKE_SIGNALS="$T/signals" RIG="$T/fake-rig"
# A bench whose board runs a bootloader and an app, as a bench's does after its first night
# (the health check fails on a blank device: the next test shows that).
"$RIG_REAL" flash --bench "$T/bench.yaml" --virtual-dir "$FAKE_VIRT" firmware/sim/s132-7.2.0.hex \
  firmware/sim/bootloader-17.1-ble.hex firmware/sim/app-a.hex >/dev/null

run_nightly() {
  local rc=0
  : >"$FAKE_CALLS"
  : >"$T/step-summary"
  GITHUB_STEP_SUMMARY="$T/step-summary" ci/nightly.sh "$@" >"$T/log" 2>&1 || rc=$?
  echo "$rc"
}

rc=$(FAKE_EXIT=1 run_nightly --bench "$T/bench.yaml" --out "$T/r1" --iterations 7)
expect_eq "run exits with rig run's 1" "$rc" 1
calls=$(cat "$FAKE_CALLS")
expect "health check first, on the bench file" "$(head -1 "$FAKE_CALLS")" "bench check --bench $T/bench.yaml"
expect "rig run with suite, bench, default seed (today), out, iterations" "$calls" \
  "run suites/nightly-soak.yaml --bench $T/bench.yaml --seed $(date -u +%Y%m%d) --out $T/r1 --iterations 7"
expect "real bench check passed and was kept" "$(cat "$T/r1/bench-check.txt")" "passed, 0 failed"
summary=$(cat "$T/step-summary")
expect "step summary has the DUT row" "$summary" "| bench-a | dut1 | nRF52832_xxAA | SDK 17.1 ble | PASS | 10 |"
expect "step summary says what rig run said" "$summary" "rig run: iterations failed or errored (exit 1)"
expect_eq "results directory has the reports" "$(cd "$T/r1" && printf '%s ' *)" \
  "bench-check.txt job-summary.md journal.jsonl junit.xml report.html summary.json summary.txt "

rc=$(FAKE_EXIT=0 RIG_SUITE=suites/smoke.yaml RIG_SEED=42 RIG_BENCH="$T/bench.yaml" RIG_OUT="$T/r0" \
  run_nightly)
expect_eq "run exits 0 when rig run passed" "$rc" 0
expect "environment sets suite, seed and bench; no --iterations by default" "$(cat "$FAKE_CALLS")" \
  "run suites/smoke.yaml --bench $T/bench.yaml --seed 42 --out $T/r0"
expect_not "no --iterations unless asked" "$(cat "$FAKE_CALLS")" "--iterations"

rc=$(FAKE_EXIT=2 run_nightly --bench "$T/bench.yaml" --out "$T/r2")
expect_eq "run exits with rig run's 2" "$rc" 2

# A health check that fails in a directory with last night's results: those are not reported.
rc=$(FAKE_CHECK_FAIL=1 run_nightly --bench "$T/bench.yaml" --out "$T/r1")
expect_eq "failed check over old results exits 3" "$rc" 3
expect_not "last night's table is not shown as tonight's" "$(cat "$T/step-summary")" "| bench-a | dut1 |"
expect_eq "last night's journal is gone" "$(find "$T/r1" -name journal.jsonl | wc -l)" 0

printf 'duts:\n  blank:\n    virtual: true\n' >"$T/blank.yaml"
rc=$(run_nightly --bench "$T/blank.yaml" --out "$T/r3b")
expect_eq "real health check of a blank device fails: exit 3" "$rc" 3
expect "its finding is in the summary" "$(cat "$T/step-summary")" "blank        device     FAIL (dut)"
rc=$(FAKE_CHECK_FAIL=1 run_nightly --bench "$T/bench.yaml" --out "$T/r3")
expect_eq "failed health check exits 3" "$rc" 3
expect_not "no campaign after a failed health check" "$(cat "$FAKE_CALLS")" "run suites/"
expect "summary says no campaign ran" "$(cat "$T/step-summary")" "bench health check failed: no campaign ran"
expect "summary shows the failed check" "$(cat "$T/step-summary")" "v0 probe FAIL (infra.probe)"

rc=$(run_nightly --bench "$T/bench.yaml" --seed 12x --out "$T/r4")
expect_eq "a seed that is not a number is bad input" "$rc" 2
expect "bad seed message" "$(cat "$T/log")" "seed must be a non-negative integer, got '12x'"
rc=$(run_nightly --bench "$T/missing.yaml" --out "$T/r4")
expect_eq "missing bench file is bad input" "$rc" 2
expect "missing bench file message" "$(cat "$T/log")" "bench file $T/missing.yaml not found"
rc=$(run_nightly --bench "$T/bench.yaml" --iterations 0 --out "$T/r4")
expect_eq "zero iterations is bad input" "$rc" 2
rc=$(run_nightly --bench "$T/bench.yaml" --frobnicate)
expect_eq "unknown option is bad input" "$rc" 2

# --- interruption ---------------------------------------------------------------------------------
# CI cancels with SIGINT or SIGTERM to the step's process; a terminal's Ctrl-C sends SIGINT to the
# whole foreground group. Either way rig must get exactly one SIGINT (a second would cut its
# report writing short), and the summary must follow. Started with job control so that the
# background job does not begin with SIGINT ignored.
interrupt() {
  local how=$1 out=$2 pid rc=0
  : >"$FAKE_SIGNALS"
  rm -f "$FAKE_SIGNALS.started"
  : >"$T/step-summary"
  set -m
  FAKE_SLEEP=300 GITHUB_STEP_SUMMARY="$T/step-summary" \
    ci/nightly.sh --bench "$T/bench.yaml" --out "$out" --no-check >"$T/log5" 2>&1 &
  pid=$!
  set +m
  for _ in $(seq 100); do [ -f "$FAKE_SIGNALS.started" ] && break; sleep 0.1; done
  case $how in
    TERM) kill -TERM "$pid" ;;
    group-INT) kill -INT -- "-$pid" ;;
  esac
  wait "$pid" || rc=$?
  echo "$rc"
}
for how in TERM group-INT; do
  rc=$(interrupt "$how" "$T/r5-$how")
  expect_eq "$how: cancelled run exits 130" "$rc" 130
  expect_eq "$how: rig got exactly one SIGINT" "$(tr '\n' ' ' <"$FAKE_SIGNALS")" "INT "
  expect "$how: summary written after the interruption" "$(cat "$T/step-summary")" \
    "interrupted, results so far (exit 130)"
  expect "$how: table written after the interruption" "$(cat "$T/step-summary")" "| bench-a | dut1 |"
  if [ -f "$T/r5-$how/junit.xml" ]; then ok "$how: JUnit written"; else not_ok "$how: no junit.xml"; fi
done

# --- merge: the benches' journals into one report ------------------------------------------------
mkdir -p "$T/empty"
rc=0
merged=$(GITHUB_STEP_SUMMARY="$T/merge-summary" ci/nightly.sh merge --out "$T/m" "$T/a" "$T/empty" "$T/b" 2>"$T/merge-err") || rc=$?
expect_eq "merge exits 0" "$rc" 0
expect "merge names the skipped directory" "$(cat "$T/merge-err")" "$T/empty has no journal.jsonl"
expect "merged table has bench-a" "$merged" "| bench-a | dut0 |"
expect "merged table has bench-b" "$merged" "| bench-b | dut0 | nRF52832_xxAA | SDK 17.1 ble | FLAKY | 5 |"
expect "merge status line" "$merged" "merged 2 of 3 bench results"
expect_eq "merged summary.json has both runs" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"]))' "$T/m/summary.json")" 2
expect_eq "merged JUnit has a testsuite per case, DUT and bench" \
  "$(grep -c '<testsuite ' "$T/m/junit.xml")" 4
expect "merge wrote the step summary" "$(cat "$T/merge-summary")" "| bench-b | dut0 |"
rc=0
ci/nightly.sh merge --out "$T/m2" "$T/empty" >/dev/null 2>&1 || rc=$?
expect_eq "merge with no journal at all is bad input" "$rc" 2

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
