#!/usr/bin/env bash
# The virtual lab as a user meets it: `rig lab up --duts 2` in the background, the rig's hardware
# backends through DIR/bench.yaml (probe-rs through the lab probe driver, the PPK2 driver, the
# command switch, the serial DFU client on the UART pty): serial DFU, inspect, resets, power, the
# bench check, campaigns through the hardware path (smoke and interrupt-recovery, as UART twins),
# then `rig flash` of MBR + S132 + bootloader (probe-rs' flash algorithm on the
# lab's core), a DFU, `rig reset --dfu` and another DFU; then `rig lab down`; afterwards no lab
# process, socket or pseudo-terminal may be left.
#
#   scripts/lab-check.sh [PATH-TO-RIG]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIG=${1:-$ROOT/target/debug/rig}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-lab.XXXXXX")
LAB=$WORK/lab
BENCH=$LAB/bench.yaml

cleanup() {
  if [ -f "$LAB/lab.pid" ]; then kill -9 "$(cat "$LAB/lab.pid")" 2>/dev/null || true; fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "lab-check: $*" >&2; [ -f "$LAB/lab.log" ] && tail -n 40 "$LAB/lab.log" >&2; exit 1; }

"$RIG" sim images --out "$WORK/images" >/dev/null
"$RIG" lab up --dir "$LAB" --duts 2 --fresh uart-bootloader >/dev/null
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
# The lab serves UART only, so the shipped suites (BLE) are refused up front (exit 2); their UART
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
echo "lab-check: ok"
