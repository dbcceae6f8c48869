#!/usr/bin/env bash
# Newsletter throughput: Kontor's sender against the sink's own acceptance rate, same run.
# Usage: bench/newsletter/run.sh [messages=100000] [connections=4] [nagle_messages=1000] [pin=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/kontor-target-release}
cargo build --release -q -p kontor-mail --example newsletter_bench
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$CARGO_TARGET_DIR/release/examples/newsletter_bench" "${1:-100000}" "${2:-4}" "${3:-1000}" "${4:-1}"
