#!/usr/bin/env bash
# Build the test application twice (versions A and B), convert each to Intel HEX, and make the
# two signed DFU packages a soak alternates between (firmware/README.md, "The test application").
#
#   firmware/testapp/build-images.sh [OUT_DIR]        default OUT_DIR: <repo>/target/testapp
#
# Environment:
#   RIG_APP_VERSION_A / RIG_APP_VERSION_B   versions of the two images (default 1 and 2)
#   RIG                                     the rig command (default: cargo run -p rig from the repo)
#   RIG_KEY                                 signing key (default firmware/keys/rig-test-private.pem)
#   SOURCE_DATE_EPOCH                       zip entry times (default: the last commit's time)
#
# Writes to OUT_DIR: app-a.elf, app-a.hex, app-a.zip, app-b.elf, app-b.hex, app-b.zip; cargo's
# build tree goes to OUT_DIR/cargo. Needs the network only for rustup and crates.io.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/target/testapp}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

version_a="${RIG_APP_VERSION_A:-1}"
version_b="${RIG_APP_VERSION_B:-2}"
key="${RIG_KEY:-$repo/firmware/keys/rig-test-private.pem}"
# S132 7.2.0's firmware ID (nrf-dfu's SoftDevice table; `rig pkg generate --help`).
sd_req="0x0101"
target="thumbv7em-none-eabihf"

if [[ -z "${SOURCE_DATE_EPOCH:-}" ]] && git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH="$(git -C "$repo" log -1 --format=%ct)"
  export SOURCE_DATE_EPOCH
fi

rustup target add "$target"
# llvm-objcopy for the HEX files (rustup component, no crates.io install).
rustup component add llvm-tools
host="$(rustc -vV | sed -n 's/^host: //p')"
objcopy="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-objcopy"
if [[ ! -x "$objcopy" ]]; then
  echo "build-images: $objcopy not found after 'rustup component add llvm-tools'" >&2
  exit 1
fi

if [[ -n "${RIG:-}" ]]; then
  read -r -a rig <<<"$RIG"
else
  rig=(cargo run --quiet --manifest-path "$repo/Cargo.toml" -p rig --)
fi

build() { # build <letter> <version>
  local letter="$1" version="$2"
  echo "build-images: app-$letter, version $version"
  # cargo reads firmware/testapp/.cargo/config.toml (target, linker script) from the working
  # directory, hence the cd.
  (cd "$here" && RIG_APP_VERSION="$version" cargo build --release --locked --target-dir "$out/cargo")
  cp "$out/cargo/$target/release/rig-testapp" "$out/app-$letter.elf"
  "$objcopy" -O ihex "$out/app-$letter.elf" "$out/app-$letter.hex"
  "${rig[@]}" pkg generate "$out/app-$letter.zip" \
    --application "$out/app-$letter.hex" --application-version "$version" \
    --hw-version 52 --sd-req "$sd_req" --key-file "$key"
}

build a "$version_a"
build b "$version_b"
echo "build-images: done, in $out"
