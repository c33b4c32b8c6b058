#!/usr/bin/env bash
# The one entry point of nightly CI on a bench; the GitHub and GitLab templates only call it.
#
#   ci/nightly.sh [run] [OPTIONS]          health check, campaign, job summary (default mode)
#   ci/nightly.sh merge --out DIR DIR...   merge the benches' results into one report and JUnit
#   ci/nightly.sh summary DIR              the job summary table of DIR/summary.json
#   ci/nightly.sh seed                     print the seed a run would use (the default: today)
#
# Run with --help for the options. Exit codes of `run`: rig run's own (0 every iteration passed,
# flaky included; 1 an iteration failed or errored; 2 bad suite or bench; 130 interrupted, the
# reports are still written), and 3 when `rig bench check` failed (a probe, adapter or switch,
# or the device itself, did not answer): no campaign ran, the firmware was not tested.
set -euo pipefail

readonly EXIT_BENCH_CHECK=3

usage() {
  cat <<'EOF'
Usage: ci/nightly.sh [run] [OPTIONS]
       ci/nightly.sh merge --out DIR DIR...
       ci/nightly.sh summary DIR
       ci/nightly.sh seed

run: `rig bench check`, then `rig run`, then a table with one row per DUT written to
$GITHUB_STEP_SUMMARY (when set), to OUT/job-summary.md and to the log. Exits with rig run's code
(0 pass, 1 failures, 2 bad input, 130 interrupted), or 3 when the bench health check failed.

Options (each also read from the environment variable in brackets):
  --bench FILE       bench file [RIG_BENCH]; none: the virtual bench
  --suite FILE       suite file [RIG_SUITE] (default: suites/nightly-soak.yaml)
  --seed N           campaign seed [RIG_SEED] (default: today's UTC date as YYYYMMDD, so every
                     night draws new fault points and any night can be replayed)
  --iterations N     iterations per case instead of the suite's [RIG_ITERATIONS]
  --out DIR          results directory [RIG_OUT] (default: rig-results)
  --rig PATH         the rig binary [RIG] (default: rig on PATH, else target/release/rig)
  --title TEXT       heading of the job summary [RIG_TITLE] (default: the bench file's name)
  --no-check         skip `rig bench check` [RIG_NO_CHECK=1]
  -h, --help         this help

merge: runs `rig report DIR... --out OUT` over every DIR that holds a journal.jsonl (others are
named and skipped) and writes the merged table like `run` does. Exits 0 once the merged report is
written, whatever the iterations' verdicts (the bench jobs carry those); 2 when no DIR has a
journal.
EOF
}

die() {
  echo "nightly.sh: $*" >&2
  exit 2
}

# The default seed: today's UTC date as a number (20260901). GitLab's pipeline start time is used
# when present so every bench of one pipeline gets the same seed even if one starts after midnight.
default_seed() {
  local created=${CI_PIPELINE_CREATED_AT:-}
  if [[ $created =~ ^([0-9]{4})-([0-9]{2})-([0-9]{2}) ]]; then
    echo "${BASH_REMATCH[1]}${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
  else
    date -u +%Y%m%d
  fi
}

# Foldable log sections on GitHub; plain headings elsewhere.
log_group() {
  if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::group::$1"; else echo "--- $1"; fi
}

log_group_end() {
  if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::endgroup::"; fi
}

is_uint() {
  [[ $1 =~ ^[0-9]+$ ]] && [ "${#1}" -le 20 ]
}

find_rig() {
  if [ -n "${RIG:-}" ]; then
    [ -x "$RIG" ] || die "RIG=$RIG is not an executable file"
    echo "$RIG"
  elif command -v rig >/dev/null 2>&1; then
    command -v rig
  elif [ -x target/release/rig ]; then
    echo target/release/rig
  else
    die "no rig binary: put it on PATH, set RIG=PATH or pass --rig PATH (build: cargo build --release -p rig)"
  fi
}

# Markdown for a person from a summary.json written by rig (Summary::to_json): one row per bench
# and DUT, then per case, then the first failures with the command that replays each. Python 3
# because every bench host has it and bash cannot read JSON.
summary_markdown() {
  local json=$1 title=$2 status=$3
  python3 - "$json" "$title" "$status" <<'PY'
import json, math, sys
from collections import OrderedDict

path, title, status = sys.argv[1:4]
with open(path, encoding="utf-8") as f:
    s = json.load(f)

def wilson(k, n, z=1.959963984540054):
    # Same interval as rig's campaign::stats::Rate, for the per-DUT sums.
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo = 0.0 if k == 0 else min(max(c - h, 0.0), p)
    hi = 1.0 if k == n else max(min(c + h, 1.0), p)
    return p, lo, hi

def pct(r):
    if r is None:
        return "-"
    p, lo, hi = r
    return f"{100 * p:.1f} % ({100 * lo:.1f}-{100 * hi:.1f})"

def verdict(g):
    if g["bricked"]:
        return "BRICKED"
    if g["failed"]:
        return "FAIL"
    if g["errors"]:
        return "INFRA"
    if g["flaky"]:
        return "FLAKY"
    return "PASS" if g["iterations"] else "NO RUN"

def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")

keys = ("iterations", "passed", "failed", "flaky", "errors", "bricked")
duts = OrderedDict()
for g in s["groups"]:
    d = duts.setdefault((g["bench"], g["dut"]), {
        "chip": g.get("chip") or "-", "bootloader": g.get("bootloader") or "-",
        "classes": {}, **{k: 0 for k in keys}})
    for k in keys:
        d[k] += g[k]
    for c, n in g["failure_classes"].items():
        d["classes"][c] = d["classes"].get(c, 0) + n

out = [f"## {cell(title)}", ""]
for r in s["runs"]:
    state = "complete" if r["complete"] else "interrupted"
    out.append(f"- `{cell(r['suite'])}` seed **{r['seed']}** on bench `{cell(r['bench'])}`"
               f" ({r['iterations']} iterations, {state}, rig {cell(r['tool_version'])})")
if status:
    out.append(f"- {cell(status)}")
t = s["totals"]
out.append(f"- Total: {t['iterations']} iterations, {t['passed']} passed, {t['failed']} failed, "
           f"{t['flaky']} flaky, {t['errors']} infrastructure errors, {t['bricked']} bricked")
out.append("")
if t["bricked"]:
    out += [f"> **{t['bricked']} iteration(s) left a device that needed an SWD reflash.**", ""]

out.append("| Bench | DUT | Chip | Bootloader | Verdict | Iterations | Passed | Failed | Flaky"
           " | Infra errors | Bricked | First-try success (95 % CI) | Failure classes |")
out.append("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---|")
for (bench, dut), d in duts.items():
    n = d["passed"] + d["failed"] + d["flaky"]
    top = sorted(d["classes"].items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    classes = ", ".join(f"`{cell(c)}` {k}" for c, k in top) or "-"
    out.append(f"| {cell(bench)} | {cell(dut)} | {cell(d['chip'])} | {cell(d['bootloader'])}"
               f" | {verdict(d)} | {d['iterations']} | {d['passed']} | {d['failed']}"
               f" | {d['flaky']} | {d['errors']} | {d['bricked']}"
               f" | {pct(wilson(d['passed'], n))} | {classes} |")
if not duts:
    out.append("| - | - | - | - | NO RUN | 0 | 0 | 0 | 0 | 0 | 0 | - | - |")
out.append("")

if len(s["groups"]) > 1:
    out += ["<details><summary>Per case</summary>", "",
            "| Case | Bench | DUT | Verdict | Iterations | Passed | Failed | Flaky | Infra errors"
            " | Bricked | First-try success (95 % CI) |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for g in s["groups"]:
        r = g.get("success")
        rate = pct((r["rate"], r["low"], r["high"]) if r else None)
        out.append(f"| {cell(g['sub_case'])} | {cell(g['bench'])} | {cell(g['dut'])}"
                   f" | {verdict(g)} | {g['iterations']} | {g['passed']} | {g['failed']}"
                   f" | {g['flaky']} | {g['errors']} | {g['bricked']} | {rate} |")
    out += ["", "</details>", ""]

failures = [(g, f) for g in s["groups"] for f in g["first_failures"]]
if failures:
    out += ["### First failures", "", "Each line replays one iteration exactly on a bench:", ""]
    for g, f in failures[:10]:
        what = f.get("failure_class") or f["verdict"]
        msg = f" - {cell(f['message'])}" if f.get("message") else ""
        kind = "" if f["verdict"] == "fail" else f" ({f['verdict']})"
        out.append(f"- {cell(g['sub_case'])} on {cell(g['bench'])}/{cell(g['dut'])},"
                   f" iteration {f['iteration']}{kind}: `{cell(what)}`{msg}")
        out.append(f"  `{f['replay']}`")
    if len(failures) > 10:
        out.append(f"- ... {len(failures) - 10} more in summary.txt")
    out.append("")
if s.get("quarantines"):
    out += ["### Quarantined", ""] + [f"- {cell(q)}" for q in s["quarantines"]] + [""]
print("\n".join(out))
PY
}

# Write the summary of DIR/summary.json to DIR/job-summary.md, the log, and $GITHUB_STEP_SUMMARY.
# A missing summary.json or python3 is reported, never fatal: the job's verdict is rig's.
publish_summary() {
  local dir=$1 title=$2 status=$3 md
  if [ ! -f "$dir/summary.json" ]; then
    md=$(printf '## %s\n\n- %s\n- no %s/summary.json: rig wrote no results (see the log)\n' \
      "$title" "$status" "$dir")
  elif ! command -v python3 >/dev/null 2>&1; then
    md=$(printf '## %s\n\n- %s\n- python3 not found: no table; see %s/summary.txt\n' \
      "$title" "$status" "$dir")
  elif ! md=$(summary_markdown "$dir/summary.json" "$title" "$status"); then
    echo "nightly.sh: could not read $dir/summary.json; see $dir/summary.txt" >&2
    return 0
  fi
  # A failed health check says what broke, where a person reads first.
  if [ -f "$dir/bench-check.txt" ] && grep -q 'FAIL' "$dir/bench-check.txt"; then
    # shellcheck disable=SC2016 # a Markdown code fence, not a command
    md+=$(printf '\n\n### Bench check\n\n```\n%s\n```\n' "$(grep 'FAIL' "$dir/bench-check.txt")")
  fi
  mkdir -p "$dir"
  printf '%s\n' "$md" >"$dir/job-summary.md"
  printf '%s\n' "$md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '%s\n' "$md" >>"$GITHUB_STEP_SUMMARY"
  fi
}

status_text() {
  case $1 in
    0) echo "rig run: every iteration passed (exit 0)" ;;
    1) echo "rig run: iterations failed or errored (exit 1)" ;;
    2) echo "rig run: bad input, suite or bench (exit 2)" ;;
    130) echo "rig run: interrupted, results so far (exit 130)" ;;
    "$EXIT_BENCH_CHECK") echo "bench health check failed: no campaign ran, the firmware was not tested (exit $EXIT_BENCH_CHECK)" ;;
    *) echo "rig run: exit $1" ;;
  esac
}

# Run rig in its own process group and pass it one SIGINT when this script is told to stop (CI
# cancel sends SIGINT or SIGTERM to the step's process; a terminal's Ctrl-C reaches only this
# script's group), so rig ends its iteration, writes its reports and exits 130, and the summary
# and artifacts still follow.
run_forwarding_signals() {
  local child rc
  set -m
  "$@" &
  child=$!
  set +m
  # shellcheck disable=SC2064 # the child's pid is fixed now
  trap "kill -INT $child 2>/dev/null || true" INT TERM
  while true; do
    rc=0
    wait "$child" || rc=$?
    # wait also returns when a trapped signal arrives; the child may still be finishing.
    kill -0 "$child" 2>/dev/null || break
  done
  trap - INT TERM
  return "$rc"
}

cmd_run() {
  local bench=${RIG_BENCH:-} suite=${RIG_SUITE:-suites/nightly-soak.yaml} seed=${RIG_SEED:-}
  local iterations=${RIG_ITERATIONS:-} out=${RIG_OUT:-rig-results} title=${RIG_TITLE:-}
  local check=1 rig rc
  [ "${RIG_NO_CHECK:-0}" = 1 ] && check=0
  while [ $# -gt 0 ]; do
    case $1 in
      --bench) bench=${2:?--bench needs a FILE}; shift 2 ;;
      --suite) suite=${2:?--suite needs a FILE}; shift 2 ;;
      --seed) seed=${2:?--seed needs a number}; shift 2 ;;
      --iterations) iterations=${2:?--iterations needs a number}; shift 2 ;;
      --out) out=${2:?--out needs a DIR}; shift 2 ;;
      --rig) RIG=${2:?--rig needs a PATH}; shift 2 ;;
      --title) title=${2:?--title needs a TEXT}; shift 2 ;;
      --no-check) check=0; shift ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
  [ -n "$seed" ] || seed=$(default_seed)
  is_uint "$seed" || die "seed must be a non-negative integer, got '$seed'"
  if [ -n "$iterations" ]; then
    is_uint "$iterations" && [ "$iterations" -gt 0 ] ||
      die "iterations must be a positive integer, got '$iterations'"
  fi
  [ -f "$suite" ] || die "suite file $suite not found"
  if [ -n "$bench" ]; then
    [ -f "$bench" ] || die "bench file $bench not found (RIG_BENCH / --bench)"
  else
    echo "nightly.sh: no bench file given (RIG_BENCH / --bench): using the virtual bench" >&2
  fi
  if [ -z "$title" ]; then
    title="rig nightly: $(basename "${bench:-virtual bench}" .yaml)"
  fi
  rig=$(find_rig)
  local bench_args=()
  [ -n "$bench" ] && bench_args=(--bench "$bench")
  mkdir -p "$out"
  # An earlier run's results must not pass for tonight's if rig writes none.
  rm -f "$out"/{journal.jsonl,junit.xml,summary.txt,summary.json,report.html,job-summary.md,bench-check.txt}
  echo "nightly.sh: $("$rig" --version), suite $suite, seed $seed, bench ${bench:-virtual}, out $out"

  if [ "$check" = 1 ]; then
    log_group "rig bench check"
    rc=0
    "$rig" bench check "${bench_args[@]}" 2>&1 | tee "$out/bench-check.txt" || rc=$?
    log_group_end
    if [ "$rc" != 0 ]; then
      echo "nightly.sh: rig bench check failed (exit $rc): fix the bench before testing firmware" >&2
      publish_summary "$out" "$title" "$(status_text "$EXIT_BENCH_CHECK")"
      exit "$EXIT_BENCH_CHECK"
    fi
  fi

  local run_args=(run "$suite" "${bench_args[@]}" --seed "$seed" --out "$out")
  [ -n "$iterations" ] && run_args+=(--iterations "$iterations")
  echo "nightly.sh: rig ${run_args[*]}"
  rc=0
  run_forwarding_signals "$rig" "${run_args[@]}" || rc=$?
  publish_summary "$out" "$title" "$(status_text "$rc")"
  exit "$rc"
}

cmd_merge() {
  local out="" title=${RIG_TITLE:-rig nightly: all benches} rig d
  local dirs=()
  while [ $# -gt 0 ]; do
    case $1 in
      --out) out=${2:?--out needs a DIR}; shift 2 ;;
      --rig) RIG=${2:?--rig needs a PATH}; shift 2 ;;
      --title) title=${2:?--title needs a TEXT}; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $1 (see --help)" ;;
      *) dirs+=("$1"); shift ;;
    esac
  done
  [ -n "$out" ] || die "merge needs --out DIR"
  [ "${#dirs[@]}" -gt 0 ] || die "merge needs the benches' result directories"
  local found=()
  for d in "${dirs[@]}"; do
    if [ -f "$d/journal.jsonl" ]; then
      found+=("$d")
    else
      echo "nightly.sh: $d has no journal.jsonl (its bench job did not run a campaign): skipped" >&2
    fi
  done
  [ "${#found[@]}" -gt 0 ] || die "none of ${dirs[*]} has a journal.jsonl: nothing to merge"
  rig=$(find_rig)
  echo "nightly.sh: rig report ${found[*]} --out $out"
  "$rig" report "${found[@]}" --out "$out"
  publish_summary "$out" "$title" "merged ${#found[@]} of ${#dirs[@]} bench results"
}

# The seed of this pipeline: RIG_SEED when set, else today's. The GitHub workflow asks once and
# hands it to every bench so they all run the same campaign.
cmd_seed() {
  local seed=${RIG_SEED:-}
  [ -n "$seed" ] || seed=$(default_seed)
  is_uint "$seed" || die "seed must be a non-negative integer, got '$seed'"
  echo "$seed"
}

cmd_summary() {
  local dir=${1:?summary needs a results DIR} title=${RIG_TITLE:-rig nightly}
  [ -f "$dir/summary.json" ] || die "$dir/summary.json not found"
  publish_summary "$dir" "$title" ""
}

case ${1:-run} in
  run) [ $# -gt 0 ] && shift; cmd_run "$@" ;;
  merge) shift; cmd_merge "$@" ;;
  summary) shift; cmd_summary "$@" ;;
  seed) cmd_seed ;;
  -h | --help) usage ;;
  -*) cmd_run "$@" ;;
  *) die "unknown mode $1: run, merge, summary or seed (see --help)" ;;
esac
