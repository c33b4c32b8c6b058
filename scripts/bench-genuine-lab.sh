#!/usr/bin/env bash
# Benchmark (issue 17): the wall time of a 100 KB update through Nordic's genuine SDK UART
# bootloader on the lab's emulated Cortex-M4F, at lab speed K, with a release `rig`:
#
#   rig lab up --cpu emulated --speed K --firmware mbr.hex bootloader-rig-key.hex
#   rig dfu --port DIR/dut-0.tty app-100k.zip
#
# The bootloader is a copy trusting the rig's test key (scripts/bootloader-with-key.py); the
# package is blinky_mbr.hex padded with 0xFF to 100 KB (as the in-process benchmark in
# rig/virtual-nrf52/tests/genuine_firmware.rs does), sd_req 0x00, signed with that key by
# `rig pkg generate`. Per speed: wall time of `rig dfu`, the DUT's lab (device) time and core
# instructions over it (from `rig lab status --json`), and what the DUT runs afterwards.
#
#   RIG_NRF5_IMAGES=DIR scripts/bench-genuine-lab.sh [RIG] [K...]     (default K: 1 0.5 2 4)
#
# DIR holds mbr.hex, bootloader_secure_uart_debug_without_bonds_mbr.hex and blinky_mbr.hex
# (nRF5 SDK examples/dfu/secure_dfu_test_images/uart/nrf52832); without it the script says so
# and exits 0. Nordic's images and the copies made here stay in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${RIG_NRF5_IMAGES:-}" ]; then
  echo "bench-genuine-lab: skipped: set RIG_NRF5_IMAGES to a directory with Nordic's mbr.hex," \
    "bootloader_secure_uart_debug_without_bonds_mbr.hex and blinky_mbr.hex"
  exit 0
fi
img=$RIG_NRF5_IMAGES
rig=${1:-$PWD/target/release/rig}
shift || true
speeds=("$@")
[ ${#speeds[@]} -gt 0 ] || speeds=(1 0.5 2 4)
for f in mbr.hex bootloader_secure_uart_debug_without_bonds_mbr.hex blinky_mbr.hex; do
  [ -f "$img/$f" ] || { echo "bench-genuine-lab: $img/$f is missing" >&2; exit 1; }
done
[ -x "$rig" ] || { echo "bench-genuine-lab: no rig binary at $rig (cargo build --release -p rig)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rig-bench-genuine.XXXXXX")
labs=()
cleanup() {
  for d in "${labs[@]}"; do "$rig" lab down --dir "$d" >/dev/null 2>&1 || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

key=firmware/keys/rig-test-private.pem
python3 scripts/bootloader-with-key.py "$img/bootloader_secure_uart_debug_without_bonds_mbr.hex" \
  "$key" "$tmp/bootloader-rig-key.hex" >/dev/null
# blinky padded with 0xFF to 100 KB, from its start address.
python3 - "$img/blinky_mbr.hex" "$tmp/app-100k.hex" <<'PY'
import sys
data, base = {}, 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith(":"):
        continue
    b = bytes.fromhex(line[1:])
    n, addr, kind = b[0], (b[1] << 8) | b[2], b[3]
    if kind == 0:
        for i in range(n):
            data[base + addr + i] = b[4 + i]
    elif kind == 2:
        base = ((b[4] << 8) | b[5]) << 4
    elif kind == 4:
        base = ((b[4] << 8) | b[5]) << 16
    elif kind == 1:
        break
start = min(data)
image = bytearray(b"\xff" * (100 * 1024))
for a, v in data.items():
    image[a - start] = v
out, upper = [], None
def rec(kind, addr, payload):
    r = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, kind]) + payload
    return ":" + (r + bytes([(-sum(r)) & 0xFF])).hex().upper()
for off in range(0, len(image), 16):
    a = start + off
    if a >> 16 != upper:
        upper = a >> 16
        out.append(rec(4, 0, bytes([upper >> 8, upper & 0xFF])))
    out.append(rec(0, a & 0xFFFF, bytes(image[off:off + 16])))
out.append(":00000001FF")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
import zlib
open(sys.argv[2] + ".crc", "w").write(str(zlib.crc32(bytes(image))))
PY
"$rig" pkg generate --hw-version 52 --sd-req 0x00 --application "$tmp/app-100k.hex" \
  --application-version 1 --key-file "$key" "$tmp/app-100k.zip" >/dev/null

status() { "$rig" lab status --dir "$1" --json; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)["duts"][0]; print(d[sys.argv[1]])' "$1"; }

printf '%-6s %-8s %-10s %-10s %-12s %-10s %-8s %s\n' K result "wall s" "device s" "instr" "M instr/s" "bank 0" "then"
for k in "${speeds[@]}"; do
  dir=$tmp/lab-$k
  labs+=("$dir")
  "$rig" lab up --dir "$dir" --cpu emulated --speed "$k" \
    --firmware "$img/mbr.hex" "$tmp/bootloader-rig-key.hex" >/dev/null 2>&1
  # The bootloader boots and waits for the host (the SDK's main loop in WFE).
  sleep 1
  s0=$(status "$dir")
  t0=$(date +%s.%N)
  set +e
  "$rig" dfu --port "$dir/dut-0.tty" "$tmp/app-100k.zip" >"$tmp/dfu-$k.log" 2>&1
  rc=$?
  set -e
  t1=$(date +%s.%N)
  s1=$(status "$dir")
  sleep 2
  s2=$(status "$dir")
  wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  dev=$(python3 -c "print(f'{$(echo "$s1" | field lab_time_s) - $(echo "$s0" | field lab_time_s):.2f}')")
  instr=$(( $(echo "$s1" | field instructions) - $(echo "$s0" | field instructions) ))
  rate=$(python3 -c "print(f'{$instr / ($t1 - $t0) / 1e6:.1f}')")
  result=ok
  [ "$rc" = 0 ] || result="rc=$rc"
  # Bank 0 read back through probe-rs: the 100 KB image, and the settings page's CRC of it.
  bank0=$("$rig" inspect --bench "$dir/bench.yaml" --dut dut-0 --json 2>/dev/null | python3 -c '
import json, sys
a = json.load(sys.stdin)["application"]
print("image" if a["computed_crc"] == int(sys.argv[1]) and a["crc_matches"] else "OTHER")' \
    "$(cat "$tmp/app-100k.hex.crc")" || echo "?")
  printf '%-6s %-8s %-10s %-10s %-12s %-10s %-8s %s\n' "$k" "$result" "$wall" "$dev" "$instr" "$rate" \
    "$bank0" "$(echo "$s2" | field runs)"
  if [ "$rc" != 0 ]; then
    echo "  rig dfu (K=$k): $(tail -n 3 "$tmp/dfu-$k.log" | tr '\n' ' ')"
  fi
  "$rig" lab down --dir "$dir" >/dev/null 2>&1 || true
done
