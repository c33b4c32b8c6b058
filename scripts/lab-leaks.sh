#!/usr/bin/env bash
# Leak check of the hardware path (issue 12): `rig run nightly-soak --iterations N` on a lab, with
# the rig's open file descriptors, threads and resident memory sampled from /proc while it runs.
# The baseline is the largest value seen while iterations WARM..WARM+WINDOW are written
# (connections, workers and caches exist by then), the end value the smallest seen during the last
# WINDOW iterations, so a serial port or probe connection that is open for a moment is not taken
# for a leak while one left behind per iteration still is. Fails if the rig holds more file
# descriptors or threads at the end than at the baseline, or if its RSS grew by more than
# MAX_GROWTH_KB.
#
# TRANSPORT=ble (the default) runs the shipped suites/nightly-soak.yaml on a DUT on the lab's air
# (btleplug -> bluez-async -> libdbus -> the lab's virtual BlueZ), and counts the rig's D-Bus
# connections too: the bus's unique names whose owner is the rig's process (ListNames and
# GetConnectionUnixProcessID, asked of the bench's bus with dbus-send). TRANSPORT=uart runs
# nightly-soak's UART twin (transport uart, the SDK 17.1 UART stand-in bootloader, SWD entry).
#
#   scripts/lab-leaks.sh [PATH-TO-RIG]     env: TRANSPORT (ble), ITERATIONS (200), WARM (10), SPEED (10),
#                                               MAX_GROWTH_KB (4096), KEEP_WORK
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIG=${1:-$ROOT/target/debug/rig}
TRANSPORT=${TRANSPORT:-ble}
ITERATIONS=${ITERATIONS:-200}
WARM=${WARM:-10}
SPEED=${SPEED:-10}
MAX_GROWTH_KB=${MAX_GROWTH_KB:-4096}
WINDOW=${WINDOW:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-leaks.XXXXXX")
LAB=$WORK/lab
BENCH=$LAB/bench.yaml
RUN_PID=

cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
  "$RIG" lab down --dir "$LAB" >/dev/null 2>&1 || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "lab-leaks: $*" >&2; exit 1; }

fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# The rig's connections to the bench's D-Bus daemon (BLE DUTs only): the bus's unique names whose
# owner process is the rig (org.freedesktop.DBus ListNames, GetConnectionUnixProcessID).
count_dbus() {
  local addr name p n=0
  addr=$(sed -n 's/.*dbus: *"\{0,1\}\(unix:[^",}]*\).*/\1/p' "$BENCH" | head -n 1)
  [ -n "$addr" ] || { echo "n/a"; return; }
  for name in $(dbus-send --bus="$addr" --print-reply --dest=org.freedesktop.DBus \
      /org/freedesktop/DBus org.freedesktop.DBus.ListNames 2>/dev/null \
      | sed -n 's/.*string "\(:[^"]*\)".*/\1/p'); do
    p=$(dbus-send --bus="$addr" --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.GetConnectionUnixProcessID "string:$name" 2>/dev/null \
      | sed -n 's/.*uint32 \([0-9]*\).*/\1/p')
    [ "$p" = "$1" ] && n=$((n + 1))
  done
  echo "$n"
}
done_iterations() {
  local n
  n=$(grep -c '"record":"iteration"' "$WORK/run/journal.jsonl" 2>/dev/null) || true
  echo "${n:-0}"
}

case "$TRANSPORT" in
  ble)
    command -v dbus-send >/dev/null 2>&1 || fail "dbus-send not found (Debian package dbus-bin): it counts the rig's D-Bus connections"
    "$RIG" lab up --dir "$LAB" --duts 1 --ble dut-0 --fresh uart-bootloader --speed "$SPEED" >/dev/null 2>&1
    SUITE=$ROOT/suites/nightly-soak.yaml ;;
  uart)
    "$RIG" lab up --dir "$LAB" --duts 1 --fresh uart-bootloader --speed "$SPEED" >/dev/null 2>&1
    sed -e 's/transport: ble/transport: uart/; s/bootloader-17.1-ble/bootloader-17.1-uart/' \
        -e 's/enter_dfu: buttonless/enter_dfu: swd/; s/^name: \(.*\)$/name: \1-uart/' \
        "$ROOT/suites/nightly-soak.yaml" > "$WORK/nightly-soak-uart.yaml"
    SUITE=$WORK/nightly-soak-uart.yaml ;;
  *) fail "TRANSPORT=$TRANSPORT: ble or uart" ;;
esac

start=$(date +%s)
"$RIG" run "$SUITE" --bench "$BENCH" --dut dut-0 --seed 1 \
  --iterations "$ITERATIONS" --out "$WORK/run" --json >"$WORK/run.json" 2>"$WORK/run.err" &
RUN_PID=$!

# Per metric (fds threads rss dbus): the baseline's maximum and the end's minimum.
b=(-1 -1 -1 -1); e=(-1 -1 -1 -1); n0=; n1=
while kill -0 "$RUN_PID" 2>/dev/null; do
  n=$(done_iterations)
  read -r -a v <<<"$(fds $RUN_PID) $(threads $RUN_PID) $(rss_kb $RUN_PID) $(count_dbus $RUN_PID)"
  if [ "${#v[@]}" = 4 ]; then
    if [ "$n" -ge "$WARM" ] && [ "$n" -lt $((WARM + WINDOW)) ]; then
      n0=${n0:-$n}
      for i in 0 1 2 3; do
        [ "${v[$i]}" = n/a ] && { b[$i]=n/a; continue; }
        [ "${v[$i]}" -gt "${b[$i]}" ] && b[$i]=${v[$i]}
      done
    fi
    if [ "$n" -ge $((ITERATIONS - WINDOW)) ]; then
      n1=$n
      for i in 0 1 2 3; do
        [ "${v[$i]}" = n/a ] && { e[$i]=n/a; continue; }
        { [ "${e[$i]}" = -1 ] || [ "${v[$i]}" -lt "${e[$i]}" ]; } && e[$i]=${v[$i]}
      done
    fi
  fi
  sleep 0.2
done
rc=0; wait "$RUN_PID" || rc=$?
RUN_PID=
elapsed=$(( $(date +%s) - start ))
[ "$rc" = 0 ] || fail "rig run exited $rc: $(tail -n 5 "$WORK/run.err")"
[ -n "$n0" ] || fail "the run ended before $WARM iterations"
[ -n "$n1" ] || fail "no sample during the last $WINDOW iterations"
echo "lab-leaks: $(done_iterations) iterations of $(basename "$SUITE") ($TRANSPORT) in ${elapsed} s (lab speed ${SPEED}x)"
echo "lab-leaks: iterations $n0..$((n0 + WINDOW)) (max) -> last $WINDOW (min): fds ${b[0]} -> ${e[0]}, threads ${b[1]} -> ${e[1]}, RSS ${b[2]} -> ${e[2]} kB, D-Bus connections ${b[3]} -> ${e[3]}"
[ "${e[0]}" -le "${b[0]}" ] || fail "file descriptors grew from ${b[0]} to ${e[0]}"
[ "${e[1]}" -le "${b[1]}" ] || fail "threads grew from ${b[1]} to ${e[1]}"
[ $((e[2] - b[2])) -le "$MAX_GROWTH_KB" ] || fail "RSS grew by $((e[2] - b[2])) kB (more than $MAX_GROWTH_KB)"
if [ "${b[3]}" != n/a ]; then
  [ "${b[3]}" -gt 0 ] || fail "no D-Bus connection of the rig seen on the bench's bus: the count is broken"
  [ "${e[3]}" -le "${b[3]}" ] || fail "D-Bus connections grew from ${b[3]} to ${e[3]}"
fi
echo "lab-leaks: no leak"
