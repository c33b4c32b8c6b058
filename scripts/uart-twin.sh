#!/usr/bin/env bash
# Print the UART twin of a shipped BLE suite, for DUTs the lab serves (UART only until BLE is on
# the lab): transport uart, each bootloader's UART stand-in build, SWD entry instead of buttonless,
# and, for cases whose bootloader restarts after a BLE link drop (SDK 16+ revert to the settings
# page on a disconnect), `[resumed, restarted]`: over UART every SDK keeps its transfer in RAM
# across a link drop, and the resume oracle still checks each resume against the SDK's rule.
# With CASE names, only those cases are kept (12.3 and the save-progress build have no UART
# stand-in bootloader).
#
#   scripts/uart-twin.sh suites/interrupt-recovery.yaml [CASE...] > twin.yaml
set -euo pipefail
suite=$1; shift
keep=" $* "
sed -e 's/transport: ble/transport: uart/; s/bootloader-\([0-9.]*\)-ble/bootloader-\1-uart/' \
    -e 's/enter_dfu: buttonless/enter_dfu: swd/; s/^name: \(.*\)$/name: \1-uart/' \
    -e 's/expect: { outcome: \[restarted\] }/expect: { outcome: [resumed, restarted] }/' "$suite" |
  awk -v keep="$keep" '
    /^  - name: / { k = (keep == "  ") || index(keep, " " $3 " ") > 0 }
    /^cases:/ { print; in_cases = 1; next }
    !in_cases || k'
