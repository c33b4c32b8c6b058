#!/usr/bin/env bash
# CI hook (issue 17): `rig lab up --cpu emulated` end to end with the project's own firmware:
# flash firmware/emutest through probe-rs (the lab's SWD socket), then talk to it on the DUT's
# UART pseudo-terminal: every check it reports must pass, the 8 bytes it asks for are echoed
# back in upper case, and its watchdog reset must show in RESETREAS.DOG on the second boot.
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
  rm -rf "$tmp"
}
trap cleanup EXIT

"$rig" lab up --dir "$dir" --cpu emulated >/dev/null
# The reader first, so nothing the firmware prints right after the flash is missed.
python3 - "$dir/dut-0.tty" >"$tmp/uart.txt" <<'PY' &
import os, select, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
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
reader=$!
sleep 0.5
"$rig" flash --bench "$dir/bench.yaml" --dut dut-0 "$hex" >/dev/null
wait "$reader"
cat "$tmp/uart.txt"
status=$("$rig" lab status --dir "$dir")
echo "$status"

fail() { echo "lab-emulated-check: $*" >&2; exit 1; }
grep -q "FAIL" "$tmp/uart.txt" && fail "a check failed"
done_line=$(grep "^emutest: done " "$tmp/uart.txt") || fail "the firmware did not finish its checks"
read -r passed total <<<"$(echo "$done_line" | sed 's|emutest: done \([0-9a-f]*\)/\([0-9a-f]*\)|\1 \2|')"
[ "$passed" = "$total" ] || fail "$done_line"
grep -q "^emutest: echo ABCDEFGH" "$tmp/uart.txt" || fail "no UARTE echo"
grep -q "^emutest: wdt ok" "$tmp/uart.txt" || fail "no watchdog reset"
echo "$status" | grep -q "emulated Cortex-M4F runs the firmware in flash; 0 unmodelled" \
  || fail "lab status does not show the emulated core running without unmodelled accesses"
echo "lab-emulated-check: ok ($done_line)"
