#!/usr/bin/env bash
# The virtual lab as a user meets it: `rig lab up --duts 2` in the background, the rig's hardware
# backends through DIR/bench.yaml (probe-rs through the lab probe driver, the PPK2 driver, the
# command switch, the serial DFU client on the UART pty): serial DFU, inspect, resets, power, the
# bench check, campaigns through the hardware path (smoke and interrupt-recovery, as UART twins),
# then `rig flash` of MBR + S132 + bootloader (probe-rs' flash algorithm on the
# lab's core), a DFU, `rig reset --dfu` and another DFU; then `rig lab down`; afterwards no lab
# process, socket or pseudo-terminal may be left.
#
# BLE through the lab (issue 11/12): dut-2 of the same lab is on the air (`--ble dut-2`, the
# lab's virtual BlueZ on its own dbus-daemon): the bench check, `rig dfu` by name and by address
# (buttonless, the bootloader re-found at address + 1), a link drop from the lab, and smoke
# through the hardware path; then interrupt-recovery (IR_ITERATIONS per sub-case, default 13: 52
# per fault action over its four builds) on a QFAA lab at 10x, and seed-sdk12-qfab (sampled) on a
# QFAB lab at 10x, each with a BLE DUT and a UART DUT. No dbus-daemon may outlive its lab.
#
#   scripts/lab-check.sh [PATH-TO-RIG]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIG=${1:-$ROOT/target/debug/rig}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-lab.XXXXXX")
LAB=$WORK/lab
BENCH=$LAB/bench.yaml

IR_ITERATIONS=${IR_ITERATIONS:-13}

cleanup() {
  for d in "$LAB" "$WORK/lab-ir" "$WORK/lab-qfab" "$WORK/lab-zoo" "$WORK/lab-pls"; do
    if [ -f "$d/lab.pid" ]; then kill -9 "$(cat "$d/lab.pid")" 2>/dev/null || true; fi
  done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "lab-check: $*" >&2; [ -f "$LAB/lab.log" ] && tail -n 40 "$LAB/lab.log" >&2; exit 1; }

"$RIG" sim images --out "$WORK/images" >/dev/null
"$RIG" lab up --dir "$LAB" --duts 3 --ble dut-2 --fresh uart-bootloader >/dev/null
PID=$(cat "$LAB/lab.pid")
PTYS=$(ls -l "$LAB"/*.tty "$LAB"/*.ppk2 | awk '{print $NF}')

echo "== lab up (pid $PID): serial DFU, inspect, resets, power through the hardware backends"
(cd "$ROOT" && "$RIG" dfu --bench "$BENCH" --dut dut-0 --port "$LAB/dut-0.tty" \
  --image "$WORK/images/app-a.hex" --version next) || fail "rig dfu --port"
"$RIG" inspect --bench "$BENCH" --dut dut-0 --json > "$WORK/inspect.json" || fail "rig inspect"
"$RIG" reset --bench "$BENCH" --dut dut-0 || fail "rig reset"
"$RIG" reset --pin --bench "$BENCH" --dut dut-0 || fail "rig reset --pin"
"$RIG" power cycle --bench "$BENCH" --dut dut-0 || fail "rig power cycle (PPK2)"
"$RIG" power cycle --bench "$BENCH" --dut dut-1 || fail "rig power cycle (command switch)"
"$RIG" bench check --bench "$BENCH" --dut dut-1 || fail "rig bench check"

echo "== campaigns through the hardware path (HardwareDut) on dut-0: smoke and interrupt-recovery"
# dut-0 is a UART DUT, so the shipped suites (BLE) are refused on it up front (exit 2); their UART
# twins run: transport uart, the SDK 17.1 UART stand-in bootloader, SWD instead of buttonless
# entry (rig/runner/tests/lab_campaign.rs derives smoke's the same way).
set +e; "$RIG" run "$ROOT/suites/smoke.yaml" --bench "$BENCH" --dut dut-0 --out "$WORK/ble" \
  >/dev/null 2>"$WORK/ble.err"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "updates over BLE" "$WORK/ble.err" || fail "a BLE suite on a UART DUT: $(cat "$WORK/ble.err")"
uart_twin() {
  # Over UART a link drop leaves every SDK's transfer in RAM, so 17.1 resumes where over BLE it
  # restarts (scripts/uart-twin.sh says more; the resume oracle judges each resume).
  sed -e 's/transport: ble/transport: uart/; s/bootloader-17.1-ble/bootloader-17.1-uart/' \
      -e 's/enter_dfu: buttonless/enter_dfu: swd/; s/^name: \(.*\)$/name: \1-uart/' \
      -e 's/expect: { outcome: \[restarted\] }/expect: { outcome: [resumed, restarted] }/' "$ROOT/suites/$1.yaml"
}
uart_twin smoke > "$WORK/smoke-uart.yaml"
# interrupt-recovery's SDK 17.1 default-build case only: 12.3 has no UART stand-in bootloader,
# and the other builds' cases expect BLE-specific resumes.
uart_twin interrupt-recovery | awk '
  /^  - name: / { keep = ($3 == "sdk17.1") }
  /^cases:/ { print; in_cases = 1; next }
  !in_cases || keep' > "$WORK/interrupt-recovery-uart.yaml"
"$RIG" run "$WORK/smoke-uart.yaml" --bench "$BENCH" --dut dut-0 --seed 1 --out "$WORK/smoke" \
  --json >/dev/null || fail "rig run smoke (UART twin) through the lab"
grep -q '"kind":"lab"' "$WORK/smoke/journal.jsonl" || fail "the journal does not say bench kind lab"
"$RIG" run "$WORK/interrupt-recovery-uart.yaml" --bench "$BENCH" --dut dut-0 --seed 1 \
  --iterations 3 --out "$WORK/ir" --json >/dev/null \
  || fail "rig run interrupt-recovery (UART twin of its 17.1 case, 3 per fault action) through the lab"

echo "== BLE on the lab: dut-2 on the air, btleplug -> bluez-async -> libdbus -> the lab's virtual BlueZ"
BUS=$(sed -n 's/.*dbus: "unix:path=\([^",]*\).*/\1/p' "$BENCH" | head -n 1)
[ -S "$BUS" ] || fail "no virtual BlueZ bus socket in $BENCH"
ADDR=$(sed -n 's/.*address: "\([0-9A-F:]*\)".*/\1/p' "$BENCH" | head -n 1)
"$RIG" bench check --bench "$BENCH" --dut dut-2 || fail "rig bench check (BLE)"
(cd "$ROOT" && "$RIG" dfu --bench "$BENCH" --dut dut-2 --name DfuTarg \
  --image "$WORK/images/app-a.hex" --version next) || fail "rig dfu --name DfuTarg"
for _ in $(seq 100); do
  "$RIG" lab status --dir "$LAB" | grep -q 'dut-2: .*runs application' && break; sleep 0.1
done
(cd "$ROOT" && "$RIG" dfu --bench "$BENCH" --dut dut-2 --address "$ADDR" \
  --image "$WORK/images/app-b.hex" --version next 2>&1) | tee "$WORK/dfu-addr.txt" \
  || fail "rig dfu --address (buttonless)"
grep -q "bootloader expected at" "$WORK/dfu-addr.txt" || fail "no re-find at address + 1"
set +e; "$RIG" lab link-drop --dir "$LAB" dut-2 2>"$WORK/drop.err"; set -e
grep -q "no radio link" "$WORK/drop.err" || fail "rig lab link-drop without a link: $(cat "$WORK/drop.err")"
"$RIG" run "$ROOT/suites/smoke.yaml" --bench "$BENCH" --dut dut-2 --seed 1 --out "$WORK/smoke-ble" \
  --json >/dev/null || fail "rig run smoke (BLE) through the lab"
grep -q '"kind":"lab"' "$WORK/smoke-ble/journal.jsonl" || fail "BLE journal: bench kind is not lab"

echo "== rig flash (MBR + S132 + bootloader) through probe-rs' flash loader, reset --dfu, DFU"
# probe-rs runs its nRF52 flash algorithm on the lab's core; the files overlap where the S132
# hex carries the MBR (same bytes, accepted).
"$RIG" flash --bench "$BENCH" --dut dut-1 --erase-all --allow-erase-all "$WORK/images/mbr.hex" \
  "$WORK/images/s132-7.2.0.hex" "$WORK/images/bootloader-17.1-uart.hex" || fail "rig flash"
(cd "$ROOT" && "$RIG" dfu --bench "$BENCH" --dut dut-1 --port "$LAB/dut-1.tty" \
  --image "$WORK/images/app-a.hex" --version next) || fail "rig dfu --port after rig flash"
for _ in $(seq 100); do
  "$RIG" lab status --dir "$LAB" | grep -q 'dut-1: .*runs application' && break; sleep 0.1
done
"$RIG" reset --dfu --bench "$BENCH" --dut dut-1 || fail "rig reset --dfu"
(cd "$ROOT" && "$RIG" dfu --bench "$BENCH" --dut dut-1 --port "$LAB/dut-1.tty" \
  --image "$WORK/images/app-b.hex" --version next) || fail "rig dfu --port after rig reset --dfu"
"$RIG" inspect --bench "$BENCH" --dut dut-1 --json | grep -q '"softdevice":{' \
  || fail "rig inspect: no SoftDevice after rig flash"
"$RIG" lab status --dir "$LAB"

echo "== lab down: nothing may be left"
"$RIG" lab down --dir "$LAB"
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "lab process $PID still running after rig lab down"
if pgrep -f "rig lab up --foreground --dir $LAB" >/dev/null; then fail "a lab process is left"; fi
LEFT=$(find "$LAB" \( -type s -o -type l \) -print)
[ -z "$LEFT" ] || fail "left behind: $LEFT"
for p in $PTYS; do
  # A pty whose master is closed is gone from /dev/pts (or reused by someone else's terminal).
  if [ -e "$p" ] && fuser "$p" 2>/dev/null | grep -qw "$PID"; then fail "pty $p still held by the lab"; fi
done
[ -f "$LAB/dut-0.state" ] || fail "device state not kept"
[ -e "$BUS" ] && fail "the lab's bus $BUS outlived rig lab down"
if pgrep -f "dbus-daemon.*$(dirname "$BUS")" >/dev/null; then fail "a dbus-daemon of the lab is left"; fi

# A lab with a BLE DUT and a UART DUT at 10x: campaigns over BLE through HardwareDut.
campaign_lab() { # DIR CHIP SUITE ITERATIONS [EXIT: the run's expected exit status, default 0; any: 0 or 1]
  local dir=$1 chip=$2 suite=$3 n=$4 want=${5:-0} t0 t1 bus name rc
  name=$(basename "$suite" .yaml)
  "$RIG" lab up --dir "$dir" --duts 2 --ble dut-0 --chip "$chip" --speed 10 \
    --fresh uart-bootloader >/dev/null
  bus=$(sed -n 's/.*dbus: "unix:path=\([^",]*\).*/\1/p' "$dir/bench.yaml" | head -n 1)
  t0=$(date +%s.%N)
  rc=0
  "$RIG" run "$suite" --bench "$dir/bench.yaml" --dut dut-0 --seed 1 --iterations "$n" \
    --out "$WORK/$name" --json > "$WORK/$name.json" || rc=$?
  if [ "$want" = any ]; then
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || { LAB=$dir; fail "rig run $suite (BLE, lab): exit $rc"; }
  else
    [ "$rc" = "$want" ] || { LAB=$dir; fail "rig run $suite (BLE, lab): exit $rc, expected $want"; }
  fi
  t1=$(date +%s.%N)
  python3 - "$WORK/$name/journal.jsonl" "$t0" "$t1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
it = [r for r in rows if r.get("record") == "iteration"]
wall = sum(r.get("wall_ms", 0) for r in it) / 1000
print(f"  {len(it)} iterations, {wall:.1f} s in iterations ({wall / max(len(it), 1):.2f} s each), "
      f"{float(sys.argv[3]) - float(sys.argv[2]):.1f} s with case setups")
PY
  grep -q '"kind":"lab"' "$WORK/$name/journal.jsonl" || fail "$suite journal: bench kind is not lab"
  "$RIG" lab down --dir "$dir" >/dev/null
  [ -e "$bus" ] && fail "the bus $bus outlived rig lab down"
  return 0
}
echo "== interrupt-recovery over BLE on a QFAA lab at 10x ($IR_ITERATIONS per sub-case)"
campaign_lab "$WORK/lab-ir" nRF52832_xxAA interrupt-recovery "$IR_ITERATIONS"
echo "== seed-sdk12-qfab over BLE on a QFAB lab at 10x (sampled: 2 per case)"
# The lab switches on the seed case's defect (stuck-after-create-failure, shown with p >= 0.68 per
# iteration), so the run may fail, but only on that defect; the healthy control must pass.
campaign_lab "$WORK/lab-qfab" nRF52832_xxAB seed-sdk12-qfab 2 any
python3 - "$WORK/seed-sdk12-qfab/journal.jsonl" <<'PY' || fail "seed-sdk12-qfab on the lab failed outside its defect"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if r.get("record") == "iteration" and r.get("verdict") != "pass"
       and not (r.get("case") == "update-again-and-again"
                and r.get("failure_class", "").startswith("dut.protocol.create"))]
shown = sum(1 for r in rows if r.get("record") == "iteration" and r.get("verdict") != "pass")
print(f"  the seed's CREATE defect shown in {shown} iteration(s); other failures: {len(bad)}")
sys.exit(1 if bad else 0)
PY
# The suites only a virtual device's model can serve (issue 12: the lab's defects, flash-op
# counts and cuts at a flash operation): bug-zoo, one iteration per case, its sweeps over every
# flash operation, must catch every defect it holds (so the run fails: exit 1); power-loss-sweep
# sampled at 4 of its flash operations must pass. Opt-in (LAB_CHECK_SUITES=1, ~14 min, kept out
# of .ci/run for time; one run on the 2-core development machine caught 9 of 9). Which operation
# catches execute-before-flash-drain depends on the link's pace against the device's flash. The
# default suite runs a sampled version (rig/runner/tests/lab_ble/hooks.rs).
if [ "${LAB_CHECK_SUITES:-0}" = 1 ]; then
echo "== bug-zoo over BLE on a QFAA lab at 10x (1 per case, every flash operation swept)"
campaign_lab "$WORK/lab-zoo" nRF52832_xxAA bug-zoo 1 1
python3 - "$WORK/bug-zoo.json" <<'PY' || fail "bug-zoo on the lab missed a defect"
import json, sys
d = json.load(open(sys.argv[1]))["defects"]
missed = [x["defect"] for x in d if not x["caught"]]
print(f"  {len(d) - len(missed)} of {len(d)} defects caught")
sys.exit(1 if missed or not d else 0)
PY
sed 's/flash_op: all/flash_op: [0, 22, 44, 66]/' "$ROOT/suites/power-loss-sweep.yaml" > "$WORK/power-loss-sampled.yaml"
echo "== power-loss-sweep over BLE on a QFAA lab at 10x (cuts in flash operations 0, 22, 44, 66)"
campaign_lab "$WORK/lab-pls" nRF52832_xxAA "$WORK/power-loss-sampled.yaml" 1
fi
echo "lab-check: ok"
