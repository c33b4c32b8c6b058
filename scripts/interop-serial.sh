#!/usr/bin/env bash
# Interoperability check: Nordic's nrfutil 6.1.7 (the reference Secure DFU serial client) updates a
# virtual nRF52832 served by `rig sim serve --serial` on a pseudo-terminal.
#
#   scripts/interop-serial.sh [PATH-TO-NRFUTIL]
#
# Without an argument (or $NRFUTIL) nrfutil 6.1.7 is installed into a virtual environment under
# the work directory. Steps: serve a blank device (MBR + SDK 17.1 UART bootloader trusting
# firmware/keys/rig-test-private.pem, no SoftDevice); a package signed with another key must fail
# and leave the device state unchanged; a package signed with the test key must succeed, after
# which `rig sim inspect` shows bank_0 VALID_APP with the package's size, CRC and version.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-interop.XXXXXX")
NRFUTIL=${1:-${NRFUTIL:-}}
PROFILE=${PROFILE:-sdk17.1}
SERVE_PID=""

cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then kill -INT "$SERVE_PID"; wait "$SERVE_PID" || true; fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# nrfutil 6.1.7 declares Python < 3.11 and needs pc_ble_driver_py (wheels up to 3.10). With a
# Python 3.10 it installs normally; otherwise it goes onto the default python3 with a minimal
# install_nrfutil DIR: nrfutil 6.1.7 into a virtual environment.
source "$ROOT/scripts/nrfutil-venv.sh"

if [ -z "$NRFUTIL" ]; then
  echo "installing nrfutil 6.1.7 into $WORK/venv"
  install_nrfutil "$WORK/venv"
  NRFUTIL=$WORK/venv/bin/nrfutil
fi
mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp   # nrfutil leaves nrf_dfu_* folders there

(cd "$ROOT" && cargo build -q -p rig)
# A private copy: a shared target directory may be rebuilt by someone else meanwhile.
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/rig" "$WORK/rig"
RIG=$WORK/rig
STATE=$WORK/device.state
TTY=$WORK/ttyDFU
KEY=$ROOT/firmware/keys/rig-test-private.pem

serve_start() {
  "$RIG" sim serve --serial --link "$TTY" --state "$STATE" --profile "$PROFILE" > "$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 100); do [ -L "$TTY" ] && return 0; sleep 0.1; done
  echo "rig sim serve did not create $TTY"; cat "$WORK/serve.log"; exit 1
}
serve_stop() {
  kill -INT "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
}
dfu() {
  "$NRFUTIL" dfu serial -pkg "$1" -p "$TTY" -b 115200 -fc 0 -cd 0 -t 5
}

echo "== packages"
"$NRFUTIL" keys generate "$WORK/other.pem" > /dev/null
"$NRFUTIL" pkg generate --hw-version 52 --sd-req 0x00 --application-version 2 \
  --application "$ROOT/firmware/sim/app-b.hex" --key-file "$KEY" "$WORK/good.zip" > /dev/null
"$NRFUTIL" pkg generate --hw-version 52 --sd-req 0x00 --application-version 2 \
  --application "$ROOT/firmware/sim/app-b.hex" --key-file "$WORK/other.pem" "$WORK/bad.zip" > /dev/null

echo "== a fresh device"
serve_start; sleep 1; serve_stop
"$RIG" sim inspect --state "$STATE" --json > "$WORK/before.json"
cp "$STATE" "$WORK/before.state"

echo "== package signed with another key: must fail"
serve_start
if dfu "$WORK/bad.zip" > "$WORK/bad.log" 2>&1; then
  echo "FAIL: nrfutil accepted a package signed with the wrong key"; cat "$WORK/bad.log"; exit 1
fi
tail -n 3 "$WORK/bad.log"
serve_stop
"$RIG" sim inspect --state "$STATE" --json > "$WORK/after-bad.json"
if ! cmp -s "$WORK/before.json" "$WORK/after-bad.json"; then
  echo "FAIL: the device state changed after the refused update"; diff "$WORK/before.json" "$WORK/after-bad.json" || true; exit 1
fi
cmp -s "$WORK/before.state" "$STATE" && echo "device state file byte-identical" || echo "device state decodes the same (wear counters differ)"

echo "== package signed with the test key: must succeed"
serve_start
if ! dfu "$WORK/good.zip" > "$WORK/good.log" 2>&1; then
  echo "FAIL: nrfutil could not update the device:"; tail -n 4 "$WORK/good.log"
  serve_stop; echo "rig sim serve said:"; cat "$WORK/serve.log"; exit 1
fi
tail -n 2 "$WORK/good.log"
sleep 1   # activation and the reset into the new application
serve_stop
"$RIG" sim inspect --state "$STATE" > "$WORK/after.txt"
"$RIG" sim inspect --state "$STATE" --json > "$WORK/after.json"
cat "$WORK/after.txt"

python3 - "$WORK/good.zip" "$WORK/after.json" <<'PY'
import json, sys, zipfile, zlib
z = zipfile.ZipFile(sys.argv[1])
m = json.loads(z.read("manifest.json"))["manifest"]["application"]
image = z.read(m["bin_file"])
r = json.load(open(sys.argv[2]))
s = r["settings"]["settings"]
want = {"bank_code": "VALID_APP", "image_size": len(image), "image_crc": zlib.crc32(image) & 0xFFFFFFFF}
got = {k: s["bank_0"][k] for k in want}
assert got == want, f"bank_0 {got} != {want}"
assert s["app_version"] == 2, s["app_version"]
assert r["application"]["crc_matches"] is True, r["application"]
assert r["next_boot"]["next"]["action"] == "run_app", r["next_boot"]
print(f"PASS: bank_0 VALID_APP, {want['image_size']} bytes, CRC {want['image_crc']:#010x}, app_version 2; next boot runs it")
PY
