#!/usr/bin/env bash
# Render an HTML report to a PNG with headless Chromium (Debian's `chromium`
# package), to look at it the way a reader will.
#   docs/screenshot.sh report.html report.png [width] [height]
set -euo pipefail
html=$(realpath "$1")
png=$2
width=${3:-1000}
height=${4:-2400}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars \
  --window-size="$width,$height" --screenshot="$png" "file://$html" 2>/dev/null
echo "wrote $png"
