#!/usr/bin/env bash
# interrupt-recovery through the hardware path on a lab (issue 12): the UART twin of its SDK 15.3
# and 17.1 cases, ITERATIONS per fault action (reset, power cut, link drop; 50 by default), on a
# lab at SPEED simulated seconds per wall second (10 by default), run in-process too and compared
# (scripts/lab-compare.py): the lab run must pass every iteration and agree with the in-process
# bench. Lab speed 10 scales the device's own durations (flash operations, bootloader timers);
# the rig's hardware path and its timeouts are unchanged. Costs ~1.7 s per iteration on the
# 2-core development machine (about 9 minutes at 50 per action).
#
#   scripts/lab-interrupt-recovery.sh [PATH-TO-RIG]      env: ITERATIONS (50), SPEED (10)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RIG=${1:-$ROOT/target/debug/rig}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-lab-ir.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$ROOT/scripts/uart-twin.sh" "$ROOT/suites/interrupt-recovery.yaml" sdk15.3 sdk17.1 > "$WORK/ir-uart.yaml"
python3 "$ROOT/scripts/lab-compare.py" --rig "$RIG" --suite "$WORK/ir-uart.yaml" \
  --iterations "${ITERATIONS:-50}" --speed "${SPEED:-10}" --require-pass
