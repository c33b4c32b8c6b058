#!/usr/bin/env bash
# The browser check of a campaign's report.html (issue 6): open it in Debian's headless Chromium,
# fail on console errors, page errors or any network request, check the numbers shown against
# summary.json and that every chart's SVG is drawn, and save a full-page screenshot report.png.
#
#   scripts/report-page-test.sh CAMPAIGN_DIR     (holding report.html and summary.json)
#
# Installs what it needs when missing: Debian's `chromium` (apt-get; needs root) and
# playwright-core from npm, pinned by scripts/page-test/package-lock.json, into
# target/page-test/ (never a browser download: Playwright drives /usr/bin/chromium).
set -euo pipefail

dir=${1:-}
if [[ -z "$dir" || ! -f "$dir/report.html" || ! -f "$dir/summary.json" ]]; then
    echo "usage: $0 CAMPAIGN_DIR (a directory holding report.html and summary.json, as written by" >&2
    echo "       rig run or rig report)" >&2
    exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "Chromium is missing: install Debian's package (sudo apt-get install chromium) and rerun" >&2
        exit 2
    fi
    echo "installing Debian's chromium ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

modules="$root/target/page-test"
lock="$root/scripts/page-test/package-lock.json"
if [[ ! -d "$modules/node_modules/playwright-core" ]] || ! cmp -s "$lock" "$modules/package-lock.json"; then
    echo "installing playwright-core into $modules ..." >&2
    mkdir -p "$modules"
    cp "$root/scripts/page-test/package.json" "$lock" "$modules/"
    # No browser download: playwright-core has none, and install scripts are not run.
    (cd "$modules" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

PAGE_TEST_MODULES="$modules" timeout 180 node "$root/scripts/page-test/check-report.mjs" "$dir"
