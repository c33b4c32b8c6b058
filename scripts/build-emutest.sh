#!/usr/bin/env bash
# CI hook (issue 17): build the emulated core's test firmware (firmware/emutest, no
# dependencies) for thumbv7em-none-eabihf, convert it to Intel HEX, and run it on the emulated
# Cortex-M4F (rig/virtual-nrf52/tests/emulated_firmware.rs), which fails if the image is missing.
#
#   scripts/build-emutest.sh [OUT_DIR]      default OUT_DIR: target/emutest
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-$PWD/target/emutest}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
target="thumbv7em-none-eabihf"

rustup target add "$target"
rustup component add llvm-tools
host="$(rustc -vV | sed -n 's/^host: //p')"
objcopy="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-objcopy"
if [[ ! -x "$objcopy" ]]; then
  echo "build-emutest: $objcopy not found after 'rustup component add llvm-tools'" >&2
  exit 1
fi

# cargo reads firmware/emutest/.cargo/config.toml (target, linker script) from there.
(cd firmware/emutest && cargo build --release --locked --target-dir "$out/cargo")
"$objcopy" -O ihex "$out/cargo/$target/release/rig-emutest" "$out/emutest.hex"
echo "build-emutest: $out/emutest.hex"

RIG_EMUTEST_HEX="$out/emutest.hex" RIG_REQUIRE_EMUTEST=1 \
  cargo test -p virtual-nrf52 --test emulated_firmware -- --nocapture
