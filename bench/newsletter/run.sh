#!/usr/bin/env bash
# Newsletter throughput: Kontor's sender against an SMTP sink's own acceptance rate, same run.
# Usage: bench/newsletter/run.sh [messages=100000] [connections=4] [nagle_messages=1000] [pin=1]
# Runs twice: against Postfix's smtp-sink (a real SMTP server built for this; its package is
# downloaded and unpacked, not installed) and against the benchmark's own minimal Rust sink.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/kontor-target-release}
cargo build --release -q -p kontor-mail --example newsletter_bench
bench="$CARGO_TARGET_DIR/release/examples/newsletter_bench"
n=${1:-100000} conns=${2:-4} nagle=${3:-1000} pin=${4:-1}
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

postfix=${POSTFIX_DIR:-/var/tmp/kontor-postfix}
if [ ! -x "$postfix/usr/sbin/smtp-sink" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download postfix >/dev/null 2>&1) || true
  if ls "$tmp"/postfix_*.deb >/dev/null 2>&1; then
    mkdir -p "$postfix" && dpkg-deb -x "$tmp"/postfix_*.deb "$postfix"
    dpkg-deb -f "$tmp"/postfix_*.deb Version >"$postfix/VERSION"
  fi
  rm -rf "$tmp"
fi
if [ -x "$postfix/usr/sbin/smtp-sink" ]; then
  export LD_LIBRARY_PATH="$postfix/usr/lib/postfix"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  core0=() core1=()
  if [ "$pin" = 1 ] && [ "$(nproc)" -ge 2 ]; then core0=(taskset -c 0) core1=(taskset -c "1-$(($(nproc) - 1))"); fi
  "${core0[@]}" "$postfix/usr/sbin/smtp-sink" -u nobody "127.0.0.1:$port" 256 &
  sink=$!
  trap 'kill $sink 2>/dev/null || true' EXIT
  sleep 0.3
  echo "-- Postfix smtp-sink $(cat "$postfix/VERSION" 2>/dev/null)"
  SINK_PORT=$port "$bench" "$n" "$conns" "$nagle" "$pin"
  # Postfix's own bare client (no PIPELINING: one round trip per command), for comparison.
  size=$(SINK_PORT=$port "$bench" --message-size)
  start=$(date +%s.%N)
  "${core1[@]}" "$postfix/usr/sbin/smtp-source" -d -s "$conns" -l "$size" -m "$n" \
    -f newsletter@kontor.example.org -t reader@example.org "127.0.0.1:$port"
  python3 -c "import sys; print(f'smtp-source (Postfix, no pipelining), {sys.argv[2]} sessions: {int(sys.argv[1]) / (float(sys.argv[4]) - float(sys.argv[3])):.0f} msg/s')" \
    "$n" "$conns" "$start" "$(date +%s.%N)"
  kill $sink; trap - EXIT
else
  echo "-- Postfix smtp-sink not available (apt-get download postfix failed); skipped"
fi
echo "-- the benchmark's own Rust sink"
"$bench" "$n" "$conns" "$nagle" "$pin"
