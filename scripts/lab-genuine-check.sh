#!/usr/bin/env bash
# `rig run` of a UART suite on Nordic's genuine SDK 17 UART bootloader (issue 17): a lab with
# the emulated core (`rig lab up --cpu emulated`), Nordic's MBR and the debug UART bootloader
# patched to trust the rig's key (scripts/bootloader-with-key.py), the rig's MBR-only
# application (firmware/mbrapp, scripts/build-mbrapp.sh) updated by the suite
# firmware/mbrapp/suite/genuine-uart.yaml: clean updates, then updates interrupted at seeded
# random points by a reset, a power cut and a UART link drop, and resumed. Every iteration must
# pass, and every interruption must have fired (the journal says where each one landed).
#
#   RIG_NRF5_IMAGES=DIR scripts/lab-genuine-check.sh [RIG]
#
# DIR holds Nordic's mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex (nRF5 SDK
# 17, examples/dfu/secure_dfu_test_images/uart/nrf52832; not in this repository, and nothing
# derived from them is written outside a temporary directory). Without RIG_NRF5_IMAGES the
# check says so and exits 0. RIG defaults to target/release/rig: use a release build (a debug
# build's emulated core is too slow for the bootloader's signature check within the client's
# timeouts).
#
# Environment: SEED (campaign seed, default 17), FILL (filler bytes in the application,
# default 10000: about 10.5 KB, three DFU data objects, so cuts land after executed objects
# too), ITERATIONS (per case instead of the suite's
# counts; the interrupted case sweeps three fault actions, so give a multiple of 3), SPEED (lab
# speed, default 1), KEEP=1 (keep the work directory and print it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

if [[ -z "${RIG_NRF5_IMAGES:-}" ]]; then
  echo "lab-genuine-check: skipped: RIG_NRF5_IMAGES is not set (a directory with Nordic's mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex from the nRF5 SDK 17)"
  exit 0
fi
images="$(cd "$RIG_NRF5_IMAGES" && pwd)"
for f in mbr.hex bootloader_secure_uart_debug_without_bonds_mbr.hex; do
  [[ -f "$images/$f" ]] || { echo "lab-genuine-check: $images/$f not found" >&2; exit 1; }
done
rig="${1:-$repo/target/release/rig}"
[[ -x "$rig" ]] || { echo "lab-genuine-check: $rig not found: cargo build --release -p rig" >&2; exit 1; }
rig="$(cd "$(dirname "$rig")" && pwd)/$(basename "$rig")"
seed="${SEED:-17}"

work="$(mktemp -d "${TMPDIR:-/tmp}/rig-genuine.XXXXXX")"
lab="$work/lab"
cleanup() {
  "$rig" lab down --dir "$lab" >/dev/null 2>&1 || true
  if [[ -n "${KEEP:-}" ]]; then echo "lab-genuine-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "lab-genuine-check: FAIL: $*" >&2; exit 1; }

# The application, versions A and B, as HEX (its packages are made by the runner per update).
MBRAPP_NO_TEST=1 RIG_APP_FILL="${FILL:-10000}" RIG="$rig" \
  bash scripts/build-mbrapp.sh "$work/mbrapp" >/dev/null 2>&1 \
  || fail "scripts/build-mbrapp.sh failed (run it alone to see why)"
suite="$work/suite"
mkdir -p "$suite"
cp firmware/mbrapp/suite/genuine-uart.yaml "$suite/"
cp "$work/mbrapp/app-a.hex" "$work/mbrapp/app-b.hex" "$suite/"
cp "$images/mbr.hex" "$suite/mbr.hex"
echo "lab-genuine-check: mbrapp A and B: $(stat -c %s "$work/mbrapp/app-b.zip") bytes of package each; seed $seed" >&2
python3 scripts/bootloader-with-key.py "$images/bootloader_secure_uart_debug_without_bonds_mbr.hex" \
  firmware/keys/rig-test-public.pem "$suite/bl-rig.hex" >/dev/null

"$rig" lab up --dir "$lab" --cpu emulated --speed "${SPEED:-1}" >/dev/null
start=$(date +%s.%N)
iterations=()
[[ -n "${ITERATIONS:-}" ]] && iterations=(--iterations "$ITERATIONS")
set +e
"$rig" run "$suite/genuine-uart.yaml" --bench "$lab/bench.yaml" --seed "$seed" \
  --out "$work/out" --json "${iterations[@]}" >"$work/summary.json" 2>"$work/run.log"
status=$?
set -e
wall=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
"$rig" lab status --dir "$lab" || true
if [[ $status -ne 0 ]]; then
  tail -30 "$work/run.log" >&2
  cat "$work/out/summary.txt" >&2 2>/dev/null || true
  fail "rig run exited with $status (journal: $work/out/journal.jsonl; KEEP=1 keeps it)"
fi

# The verdicts (JUnit and the JSON summary) and where each interruption landed (the journal).
python3 - "$work/summary.json" "$work/out/junit.xml" "$work/out/journal.jsonl" "$wall" <<'PY'
import json, sys, xml.etree.ElementTree as ET
summary, junit, journal, wall = sys.argv[1:]
def fail(msg):
    sys.exit(f"lab-genuine-check: FAIL: {msg}")
s = json.loads(open(summary).read())
t = s["totals"]
if t["iterations"] == 0 or t["passed"] != t["iterations"] or t["failed"] or t["errors"] or t["bricked"]:
    fail(f"verdicts: {t}")
root = ET.parse(junit).getroot()
if int(root.get("failures")) or int(root.get("errors")) or int(root.get("tests")) != t["iterations"]:
    fail(f"JUnit: tests {root.get('tests')} failures {root.get('failures')} errors {root.get('errors')}")
cuts = {}
for line in open(journal):
    r = json.loads(line)
    if r.get("record") != "iteration":
        continue
    events = [e["text"] for e in r.get("evidence", {}).get("events", [])]
    planned = [e for e in events if e.startswith("fault planned:")]
    fired = [e for e in events if e.startswith("FAULT ")]
    if not r.get("planned_fault"):
        print(f"  {r['sub_case']} #{r['iteration']}: {r['outcome']}, {r['verdict']}")
        continue
    if not fired:
        fail(f"{r['sub_case']} #{r['iteration']}: the interruption never fired ({planned})")
    action = r["planned_fault"]["action"]
    action = action if isinstance(action, str) else next(iter(action))
    cuts.setdefault(action, []).append(r)
    print(f"  {r['sub_case']} #{r['iteration']}: {planned[0][len('fault planned: '):]}; "
          f"{fired[0]}; then {r['outcome']}, {r['verdict']}")
for a in ("reset", "power-cut", "link-drop"):
    if not cuts.get(a):
        fail(f"no iteration interrupted by {a}")
print(f"lab-genuine-check: ok: {t['passed']}/{t['iterations']} iterations passed, "
      f"{sum(len(v) for v in cuts.values())} interrupted ({', '.join(f'{k} {len(v)}' for k, v in cuts.items())}), "
      f"{wall} s wall")
PY
