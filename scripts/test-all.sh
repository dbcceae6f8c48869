#!/usr/bin/env bash
# Every check and test Kontor has: formatting, clippy, the Rust tests on SQLite and on PostgreSQL,
# and the browser tests in Debian's Chromium. Installs what is missing (PostgreSQL, Chromium,
# npm packages) and starts a throwaway PostgreSQL cluster that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reuse build artefacts between runs when the folder exists (CI runs on the developer's machine).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kontor-target}"
mkdir -p "$CARGO_TARGET_DIR"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
# A CJK font, so that screenshots of Chinese pages show characters, not boxes.
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# The browser tests check downloaded calendars with an independent iCalendar parser.
python3 -c "import icalendar" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check icalendar
# The newsletter tests verify DKIM signatures with an independent verifier (dkimpy).
python3 -c "import dkim" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check dkimpy

echo "== starting a throwaway PostgreSQL"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGTMP=$(mktemp -d /tmp/kontor-pg.XXXXXX)
chmod 755 "$PGTMP"
pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$PGTMP"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pg "$PGBIN/initdb" -D "$PGTMP/data" -A trust -U kontor -E UTF8 --locale=C.UTF-8 >/dev/null
pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
  -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
cleanup() { pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGTMP"; }
trap cleanup EXIT
export KONTOR_TEST_DATABASE_URL="postgres://kontor@127.0.0.1:$PGPORT/postgres"
export KONTOR_REQUIRE_POSTGRES=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== the message catalogue is what tools/messages.py generates"
python3 tools/messages.py --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked
echo "== browser tests (Chromium)"
cargo build -p kontor --locked
KONTOR_BIN="$CARGO_TARGET_DIR/debug/kontor" bash tests/browser/run.sh
