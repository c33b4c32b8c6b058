#!/usr/bin/env bash
# CI hook: build the real-DUT test application (images A and B, HEX and signed DFU packages) into
# target/testapp, then check both packages the way a bench would use them: signature against the
# test key and the init packet against SDK 17.1's bootloader limits. Needs rustup and crates.io.
#
#   scripts/build-testapp.sh [OUT_DIR]      default OUT_DIR: target/testapp
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-$PWD/target/testapp}"
start=$(date +%s)

# The rig binary once, for packaging and for the checks below.
cargo build --quiet -p rig
rig="${CARGO_TARGET_DIR:-$PWD/target}/debug/rig"
RIG="$rig" bash firmware/testapp/build-images.sh "$out"

for letter in a b; do
  "$rig" pkg display "$out/app-$letter.zip"
  "$rig" pkg verify --key firmware/keys/rig-test-private.pem --sdk 17 "$out/app-$letter.zip"
done
echo "build-testapp: images and packages in $out ($(( $(date +%s) - start )) s)"
