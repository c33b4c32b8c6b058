#!/usr/bin/env bash
# Build the rig's MBR-only test application (firmware/mbrapp, no dependencies, issue 17) twice,
# versions A and B, for thumbv7em-none-eabihf; convert each to Intel HEX and make the signed DFU
# packages an SDK 17 MBR-only bootloader takes (sd_req 0x00 and hw_version 52, as in the SDK's
# blinky_mbr.zip); then run both images on the emulated Cortex-M4F
# (rig/virtual-nrf52/tests/mbr_app.rs: the version block in RAM, LED 1 toggling, WFE sleep).
#
#   scripts/build-mbrapp.sh [OUT_DIR]      default OUT_DIR: target/mbrapp
#
# Environment:
#   RIG_APP_VERSION_A / RIG_APP_VERSION_B   versions of the two images (default 1 and 2)
#   RIG                                     the rig command (default: cargo run -p rig)
#   RIG_KEY                                 signing key (default firmware/keys/rig-test-private.pem)
#   SOURCE_DATE_EPOCH                       zip entry times (default: the last commit's time)
#   RIG_APP_FILL                            bytes of filler in flash (default 0): a larger image
#                                           spans several 4 KB DFU data objects
#   MBRAPP_NO_TEST=1                        build and package only
#
# Writes OUT_DIR/app-a.{elf,hex,zip} and app-b.{elf,hex,zip}; cargo's tree goes to OUT_DIR/cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

out="${1:-$repo/target/mbrapp}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
version_a="${RIG_APP_VERSION_A:-1}"
version_b="${RIG_APP_VERSION_B:-2}"
key="${RIG_KEY:-$repo/firmware/keys/rig-test-private.pem}"
target="thumbv7em-none-eabihf"

if [[ -z "${SOURCE_DATE_EPOCH:-}" ]] && git rev-parse --git-dir >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"
  export SOURCE_DATE_EPOCH
fi

rustup target add "$target"
rustup component add llvm-tools
host="$(rustc -vV | sed -n 's/^host: //p')"
objcopy="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-objcopy"
if [[ ! -x "$objcopy" ]]; then
  echo "build-mbrapp: $objcopy not found after 'rustup component add llvm-tools'" >&2
  exit 1
fi
if [[ -n "${RIG:-}" ]]; then
  read -r -a rig <<<"$RIG"
else
  rig=(cargo run --quiet --manifest-path "$repo/Cargo.toml" -p rig --)
fi

build() { # build <letter> <version>
  local letter="$1" version="$2"
  echo "build-mbrapp: app-$letter, version $version"
  # cargo reads firmware/mbrapp/.cargo/config.toml (target, linker script) from there.
  (cd firmware/mbrapp && RIG_APP_VERSION="$version" cargo build --release --locked --target-dir "$out/cargo")
  cp "$out/cargo/$target/release/rig-mbrapp" "$out/app-$letter.elf"
  "$objcopy" -O ihex "$out/app-$letter.elf" "$out/app-$letter.hex"
  # No SoftDevice: sd_req 0x00 (the SDK's blinky_mbr.zip has the same; `rig pkg display`).
  "${rig[@]}" pkg generate "$out/app-$letter.zip" \
    --application "$out/app-$letter.hex" --application-version "$version" \
    --hw-version 52 --sd-req 0x00 --key-file "$key"
}

build a "$version_a"
build b "$version_b"
echo "build-mbrapp: images and packages in $out"

if [[ -z "${MBRAPP_NO_TEST:-}" ]]; then
  RIG_MBRAPP_DIR="$out" RIG_APP_VERSION_A="$version_a" RIG_APP_VERSION_B="$version_b" \
    RIG_REQUIRE_MBRAPP=1 cargo test -p virtual-nrf52 --test mbr_app -- --nocapture
fi
