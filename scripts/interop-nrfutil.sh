#!/usr/bin/env bash
# Interoperability check of `rig pkg` / `rig keys` against Nordic's nrfutil 6.1.7 (the last
# open-source pc-nrfutil), the reference implementation of DFU packages and keys.
#
# Usage: scripts/interop-nrfutil.sh [VENV_DIR]
#   VENV_DIR: a virtualenv holding nrfutil 6.1.7; made there if missing (default
#   target/nrfutil-venv). Set RIG=/path/to/rig to test a given binary instead of building one.
#
# Checks, for app, bootloader, SoftDevice, SD+BL, SD+BL+app, SD+app, debug, ECDSA boot
# validation, version string, external app and multi-entry sd_req packages:
#   - `nrfutil pkg display` reads every package `rig pkg generate` writes, and prints exactly
#     what `rig pkg display` prints for it;
#   - unsigned packages equal nrfutil's: every zip entry identical (data, time, attributes),
#     and the whole file byte-identical when nrfutil's directory-listing order matches ours;
#   - `rig pkg verify --key` accepts the signed packages nrfutil writes;
#   - `rig keys display` prints what `nrfutil keys display` prints, and nrfutil reads the keys
#     `rig keys generate` writes.
# Exits non-zero on any mismatch.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${1:-$ROOT/target/nrfutil-venv}
mkdir -p "$VENV" && VENV=$(cd "$VENV" && pwd)   # the checks run from a scratch directory
FIX=$ROOT/rig/nrf-dfu/tests/fixtures/nrfutil

# Make a virtualenv with nrfutil 6.1.7. It declares Python < 3.11 and needs pc_ble_driver_py,
# whose wheels stop at 3.10: with a Python 3.10 it installs normally; otherwise it installs on
# the default python3 with a minimal stand-in for pc_ble_driver_py (enough for keys, pkg,
# install_nrfutil DIR: nrfutil 6.1.7 into a virtual environment.
source "$ROOT/scripts/nrfutil-venv.sh"

if ! "$VENV/bin/nrfutil" version 2>/dev/null | grep -q "6\.1\.7"; then
  echo "installing nrfutil 6.1.7 into $VENV"
  install_nrfutil "$VENV"
fi
NRFUTIL=$VENV/bin/nrfutil
PY=$VENV/bin/python

if [ -z "${RIG:-}" ]; then
  (cd "$ROOT" && cargo build -q -p rig)
  RIG=${CARGO_TARGET_DIR:-$ROOT/target}/debug/rig
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp" "$WORK/in"
# nrfutil leaves nrf_dfu_* folders in TMPDIR. Zip times are local time: make that UTC for both.
export TMPDIR=$WORK/tmp TZ=UTC
cp "$FIX"/app.hex "$FIX"/bl.hex "$FIX"/sd.hex "$FIX"/private.key "$WORK/in/"
cd "$WORK/in"

FAILED=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; FAILED=1; }

# Compare two zips: byte-identical, or identical entries in another order. Prints which.
cat > "$WORK/zipcmp.py" <<'PY'
import sys, zipfile
a, b = sys.argv[1], sys.argv[2]
if open(a, 'rb').read() == open(b, 'rb').read():
    print("byte-identical"); sys.exit(0)
za, zb = zipfile.ZipFile(a), zipfile.ZipFile(b)
def entries(z):
    return {i.filename: (i.date_time, i.compress_type, i.create_version, i.extract_version, i.create_system,
                         i.external_attr, i.flag_bits, i.extra, i.CRC, i.file_size, z.read(i.filename))
            for i in z.infolist()}
ea, eb = entries(za), entries(zb)
if ea != eb:
    for n in sorted(set(ea) | set(eb)):
        if ea.get(n) != eb.get(n):
            print("entry differs:", n)
    sys.exit(1)
print("same entries, order %s vs %s" % ([i.filename for i in za.infolist()], [i.filename for i in zb.infolist()]))
PY
# Whether every entry of a zip has the same time stamp. nrfutil stamps each entry with the time it
# writes it; a run that crosses a 2-second zip time boundary stamps them differently, and one
# SOURCE_DATE_EPOCH cannot match that, so such a package is generated again.
one_stamp() { "$PY" -c 'import sys,zipfile; sys.exit(len({i.date_time for i in zipfile.ZipFile(sys.argv[1]).infolist()}) != 1)' "$1"; }
# Seconds since the epoch of a zip's first entry time (UTC, as TZ=UTC made nrfutil stamp it).
zip_epoch() { "$PY" -c 'import sys,zipfile,calendar; print(calendar.timegm(zipfile.ZipFile(sys.argv[1]).infolist()[0].date_time + (0,0,0)))' "$1"; }

CASES=(
  "app|--application app.hex --application-version 1 --sd-req 0x8C"
  "app_version_string|--application app.hex --application-version-string 2.7.31 --sd-req 0x8C"
  "app_multi_sd_req|--application app.hex --application-version 3 --sd-req 0x8C,0x91,0xFFFE,0x101"
  "bl|--bootloader bl.hex --bootloader-version 2 --sd-req 0x8C"
  "sd|--softdevice sd.hex --sd-req 0x8C"
  "sdbl|--softdevice sd.hex --bootloader bl.hex --bootloader-version 2 --sd-req 0x8C"
  "sdblapp|--softdevice sd.hex --bootloader bl.hex --bootloader-version 2 --application app.hex --application-version 5 --sd-req 0x8C,0x91 --sd-id 0xA8,0xB7"
  "sdapp|--softdevice sd.hex --application app.hex --application-version 5 --sd-req 0x8C --sd-id 0x101"
  "debug|--application app.hex --debug-mode"
  "external|--application app.hex --application-version 1 --external-app"
  "app_no_validation|--application app.hex --application-version 1 --sd-req 0x8C --app-boot-validation NO_VALIDATION"
)
SIGNED_ONLY=(
  "app_ecdsa|--application app.hex --application-version 1 --sd-req 0x8C --app-boot-validation VALIDATE_ECDSA_P256_SHA256"
  "sdbl_ecdsa|--softdevice sd.hex --bootloader bl.hex --bootloader-version 2 --sd-req 0x8C --sd-boot-validation VALIDATE_ECDSA_P256_SHA256"
)

for entry in "${CASES[@]}" "${SIGNED_ONLY[@]}"; do
  name=${entry%%|*}; read -r -a args <<< "${entry#*|}"
  # rig, signed: nrfutil must read it and display what rig displays.
  "$RIG" pkg generate --hw-version 52 "${args[@]}" --key-file private.key "rig_$name.zip" > /dev/null
  if "$NRFUTIL" pkg display "rig_$name.zip" > "nrfutil_display_$name.txt" 2> "nrfutil_display_$name.err" \
      && [ ! -s "nrfutil_display_$name.err" ]; then
    if "$RIG" pkg display "rig_$name.zip" | cmp -s - "nrfutil_display_$name.txt"; then
      pass "$name: nrfutil pkg display reads rig's package, same text as rig pkg display"
    else
      fail "$name: nrfutil and rig display rig's package differently"
      "$RIG" pkg display "rig_$name.zip" | diff - "nrfutil_display_$name.txt" | head -20 || true
    fi
  else
    fail "$name: nrfutil pkg display rejects rig's package"; cat "nrfutil_display_$name.err"
  fi
  # nrfutil, signed: rig must verify it with the key.
  "$NRFUTIL" pkg generate --hw-version 52 "${args[@]}" --key-file private.key "nrfutil_$name.zip" > /dev/null
  if out=$("$RIG" pkg verify "nrfutil_$name.zip" --key private.key 2>&1); then
    pass "$name: rig pkg verify accepts nrfutil's signed package"
  else
    fail "$name: rig pkg verify rejects nrfutil's package"; echo "$out"
  fi
done

for entry in "${CASES[@]}"; do
  name=${entry%%|*}; read -r -a args <<< "${entry#*|}"
  for _ in 1 2 3 4 5; do
    "$NRFUTIL" pkg generate --hw-version 52 "${args[@]}" "nrfutil_unsigned_$name.zip" > /dev/null
    one_stamp "nrfutil_unsigned_$name.zip" && break
    echo "note  $name: nrfutil's entries straddle a zip time stamp; generating it again"
  done
  SOURCE_DATE_EPOCH=$(zip_epoch "nrfutil_unsigned_$name.zip") \
    "$RIG" pkg generate --hw-version 52 "${args[@]}" "rig_unsigned_$name.zip" > /dev/null
  if how=$("$PY" "$WORK/zipcmp.py" "rig_unsigned_$name.zip" "nrfutil_unsigned_$name.zip"); then
    pass "$name: unsigned package equals nrfutil's ($how)"
  else
    fail "$name: unsigned package differs from nrfutil's"; echo "$how"
  fi
done

# The fixture package, generated as its README says, must come out byte for byte.
SOURCE_DATE_EPOCH=1795514928 "$RIG" pkg generate --hw-version 52 --application app.hex \
  --application-version 1 --sd-req 0x8C fixture_unsigned.zip > /dev/null
if cmp -s fixture_unsigned.zip "$FIX/unsigned.zip"; then
  pass "unsigned.zip fixture: byte-identical"
else
  fail "unsigned.zip fixture differs"
fi

# Keys: same display texts (the C code's timestamp line aside); nrfutil reads rig's keys.
"$RIG" keys generate rig.key > /dev/null
for keyfile in private.key rig.key; do
  for k in pk sk; do
    for f in hex pem code dbgcode; do
      [ "$k" = sk ] && { [ "$f" = code ] || [ "$f" = dbgcode ]; } && continue
      mask='s/generated by nrfutil on .* \*\//generated by nrfutil on TIME *\//'
      if diff <("$NRFUTIL" keys display --key "$k" --format "$f" "$keyfile" | sed "$mask") \
              <("$RIG" keys display --key "$k" --format "$f" "$keyfile" | sed "$mask") > /dev/null; then
        pass "keys display --key $k --format $f $keyfile: same output"
      else
        fail "keys display --key $k --format $f $keyfile differs"
      fi
    done
  done
done

if [ "$FAILED" -ne 0 ]; then
  echo "interop-nrfutil: MISMATCHES FOUND"
  exit 1
fi
echo "interop-nrfutil: all checks passed"
