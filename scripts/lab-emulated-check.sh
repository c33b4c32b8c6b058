#!/usr/bin/env bash
# CI hook (issue 17): `rig lab up --cpu emulated` end to end with the project's own firmware:
# flash firmware/emutest through probe-rs (the lab's SWD socket), then talk to it on the DUT's
# UART pseudo-terminal: every check it reports must pass, the 8 bytes it asks for are echoed
# back in upper case, and its watchdog reset must show in RESETREAS.DOG on the second boot.
# Then the same firmware preloaded with `rig lab up --firmware` (no probe-rs, no `rig flash`)
# in a lab of two whose dut-0 runs the firmware models and dut-1 the emulated core
# (`--cpu dut-1=emulated`): the same checks on dut-1's pseudo-terminal.
#
#   scripts/lab-emulated-check.sh RIG EMUTEST_HEX      (scripts/build-emutest.sh makes the HEX)
set -euo pipefail
cd "$(dirname "$0")/.."

rig=${1:?usage: scripts/lab-emulated-check.sh RIG EMUTEST_HEX}
hex=${2:?usage: scripts/lab-emulated-check.sh RIG EMUTEST_HEX}
tmp=$(mktemp -d)
dir=$tmp/lab
cleanup() {
  "$rig" lab down --dir "$dir" >/dev/null 2>&1 || true
  "$rig" lab down --dir "$tmp/lab2" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$rig" lab up --dir "$dir" --cpu emulated >/dev/null
# Talk to emutest on a DUT's pseudo-terminal until its watchdog reset reports. The lab keeps
# the line raw; no tcsetattr here, which would flush what the firmware already sent.
read_uart() {
python3 - "$1" <<'PY'
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
out, sent, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    if select.select([fd], [], [], 0.5)[0]:
        out += os.read(fd, 4096)
    if not sent and b"emutest: send 8 bytes" in out:
        os.write(fd, b"abcdefgh")
        sent = True
    if b"emutest: wdt " in out and out.endswith(b"\n"):
        break
sys.stdout.write(out.decode(errors="replace"))
PY
}
fail() { echo "lab-emulated-check: $*" >&2; exit 1; }
# What emutest said on UART file $1 and `rig lab status` ($2) must show every check passed.
check() {
  grep -q "FAIL" "$1" && fail "a check failed ($3)"
  done_line=$(grep "^emutest: done " "$1") || fail "the firmware did not finish its checks ($3)"
  read -r passed total <<<"$(echo "$done_line" | sed 's|emutest: done \([0-9a-f]*\)/\([0-9a-f]*\)|\1 \2|')"
  [ "$passed" = "$total" ] || fail "$done_line ($3)"
  grep -q "^emutest: echo ABCDEFGH" "$1" || fail "no UARTE echo ($3)"
  grep -q "^emutest: wdt ok" "$1" || fail "no watchdog reset ($3)"
  echo "$2" | grep -q "emulated Cortex-M4F runs the firmware in flash; 0 unmodelled" \
    || fail "lab status does not show the emulated core running without unmodelled accesses ($3)"
}

# 1. Flashed through probe-rs: the reader first, so nothing printed right after the flash is missed.
read_uart "$dir/dut-0.tty" >"$tmp/uart.txt" &
reader=$!
sleep 0.5
"$rig" flash --bench "$dir/bench.yaml" --dut dut-0 "$hex" >/dev/null
wait "$reader"
cat "$tmp/uart.txt"
status=$("$rig" lab status --dir "$dir")
echo "$status"
check "$tmp/uart.txt" "$status" "rig flash"
echo "lab-emulated-check: rig flash ok ($done_line)"

# 2. Preloaded with --firmware into dut-1 of a lab whose dut-0 runs the firmware models. emutest
# starts at once; the pseudo-terminal keeps what it prints until the reader opens it.
dir2=$tmp/lab2
"$rig" lab up --dir "$dir2" --duts 2 --cpu dut-1=emulated --firmware "dut-1=$hex" >/dev/null
read_uart "$dir2/dut-1.tty" >"$tmp/uart2.txt"
cat "$tmp/uart2.txt"
status2=$("$rig" lab status --dir "$dir2")
echo "$status2"
"$rig" lab down --dir "$dir2" >/dev/null
check "$tmp/uart2.txt" "$status2" "--firmware"
echo "$status2" | grep -q "dut-0: nRF52832_xxAA (model CPU)" || fail "dut-0 does not run the models"
echo "$status2" | grep -q "dut-1: nRF52832_xxAA (emulated CPU)" || fail "dut-1 is not emulated"
echo "lab-emulated-check: ok ($done_line, flashed through probe-rs and preloaded with --firmware)"
