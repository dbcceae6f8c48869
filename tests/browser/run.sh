#!/usr/bin/env bash
# Runs the browser end-to-end tests: Debian's Chromium driven by playwright-core, under
# `node --test`. The tests start their own `kontor demo` server.
#
#   KONTOR_BIN     the kontor binary (default: ${CARGO_TARGET_DIR:-target}/debug/kontor)
#   CHROMIUM_PATH  the browser (default: /usr/bin/chromium)
#
# Screenshots and the server log end up in tests/browser/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

KONTOR_BIN="${KONTOR_BIN:-${CARGO_TARGET_DIR:-target}/debug/kontor}"
case "$KONTOR_BIN" in /*) ;; *) KONTOR_BIN="$root/$KONTOR_BIN" ;; esac
export KONTOR_BIN
if [ ! -x "$KONTOR_BIN" ]; then
  echo "run.sh: no kontor binary at $KONTOR_BIN (cargo build -p kontor, or set KONTOR_BIN)" >&2
  exit 1
fi
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "run.sh: no Chromium at $chromium (apt-get install chromium, or set CHROMIUM_PATH)" >&2
  exit 1
fi
# Chinese pages need a CJK font, or the screenshots show boxes (the assertions do not care).
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
  echo "run.sh: note: no Chinese font installed; screenshots will show boxes" \
    "(apt-get install fonts-wqy-microhei)" >&2
fi

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

exec node --test --test-concurrency=1 "$here"/*.test.mjs
