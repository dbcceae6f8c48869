#!/usr/bin/env bash
# HTTP benchmark of the Kontor web server (issue "Foundation"): requests/s and latency
# percentiles of the public event page (plus `/` and `/healthz` for comparison) under load from
# a second process on loopback, and the server's resident memory (VmRSS) after start with the
# demo data and after the load. See README.md next to this script.
#
# Usage: bench/http/run.sh            (writes bench/http/RESULTS.md)
# Settings (environment):
#   KONTOR_BIN  server binary        default /var/tmp/kontor-target-release/release/kontor
#   DURATION    seconds per run       default 20
#   WARMUP      warm-up seconds       default 5 (per path, not measured)
#   THREADS     wrk threads           default 2
#   CONNS       wrk connections       default 32
#   RUNS        measured runs/path    default 1
#   PATHS       paths, space-separated; default: the public event page, the same event as
#               JSON, the home page and the liveness probe:
#               "/events/hydrogen-life-sciences-b2b-days /api/v1/events/hydrogen-life-sciences-b2b-days
#               /magazine/en/digital-b2b-fair-hydrogen-life-sciences / /healthz"
#   SERVER_CPU  core for the server   default 0   (pinning only with taskset and >= 2 cores)
#   LOAD_CPU    core for wrk          default 1
#   OUT         results file          default bench/http/RESULTS.md ("-" = do not write)
#   NOTE        a line for the results file, e.g. how the binary differs from the commit
#   SOURCE_COMMIT  the commit the binary was built from, when it was built from a clean export
#               (git archive) rather than from this working tree; reported instead of the
#               working tree's state
#
# A path that does not answer 200 before the load is reported as "not measured" and the script
# ends with status 2 after writing the results; any other failure ends it with status 1.
# The only target is the server this script starts on 127.0.0.1 (port chosen by the kernel).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"

PATHS="${PATHS:-/events/hydrogen-life-sciences-b2b-days /api/v1/events/hydrogen-life-sciences-b2b-days /magazine/en/digital-b2b-fair-hydrogen-life-sciences / /healthz}"
OUT="${OUT:-$here/RESULTS.md}"
BENCH_NAME=bench/http
# Settings, pinning, server start/stop, /proc readers and the wrk measurement.
. "$here/lib.sh"

# ----- start the server with the demo data -----
start_demo_server

# Every path must answer 200 before it is measured; the others are reported, not loaded.
declare -A size_of
measured=()
skipped=()
for p in $PATHS; do
    read -r code size < <(probe_path "$p")
    if [ "$code" = 200 ]; then
        measured+=("$p")
        size_of[$p]="$size"
    else
        echo "$BENCH_NAME: GET $p answered $code, expected 200: not measured" >&2
        skipped+=("| \`$p\` | HTTP $code ($size bytes) — not measured |")
    fi
done
[ "${#measured[@]}" -gt 0 ] || die "no path answered 200"
rss_after_probe="$(rss_kib)"

# ----- load -----
for p in "${measured[@]}"; do
    measure_path "$p" anonymous "${size_of[$p]}"
done

finish_figures

# ----- report -----
table="$(results_table)"
echo
echo "$table"
echo
if [ "${#skipped[@]}" -gt 0 ]; then
    skipped_md=$'| path | result |\n|---|---|'
    for r in "${skipped[@]}"; do skipped_md+=$'\n'"$r"; done
    skipped_md=$'\n**Not measured** (did not answer 200 before the load; the server\'s error log is the place to look):\n\n'"$skipped_md"$'\n'
    echo "$skipped_md"
else
    skipped_md=""
fi
status=0
[ "${#skipped[@]}" -eq 0 ] || status=2
echo "RSS after start: $(mib "$rss_start") MiB; after the probes: $(mib "$rss_after_probe") MiB; after the load: $(mib "$rss_end") MiB; peak (VmHWM): $(mib "$hwm_end") MiB"
echo "load average before: $load_before; after: $load_after"

[ "$OUT" = "-" ] && exit "$status"

cmd="${NOTE:+NOTE=\"$NOTE\" }${SOURCE_COMMIT:+SOURCE_COMMIT=$SOURCE_COMMIT }KONTOR_BIN=$BIN DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS RUNS=$RUNS bench/http/run.sh"

cat >"$OUT.tmp" <<EOF
# HTTP benchmark results (issue "Foundation")

Measured by [run.sh](run.sh); what it measures and its caveats are in [README.md](README.md).
Figures from $RUNS measured run(s) of ${DURATION} s per path on a shared, busy machine: read
them as an order of magnitude, not as a capacity statement.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $(commit_line "$root")
$(machine_lines)
- Server: \`kontor demo --data <fresh temp dir> --listen 127.0.0.1:0\` (the demo data set of
  \`crates/kontor/src/demo.rs\` in a fresh SQLite database), default log filter

Command:

\`\`\`sh
$cmd
\`\`\`

## Throughput and latency

$table
$skipped_md
$(cpu_columns_note)

## Memory (VmRSS of the server process)

| when | MiB |
|---|--:|
| after start with the demo data (ready after ${ready_ms} ms, 1 s settle, no request yet) | **$(mib "$rss_start")** |
| after one request per path | $(mib "$rss_after_probe") |
| after all the load | **$(mib "$rss_end")** |
| peak (VmHWM) over the whole run, including seeding the demo data | $(mib "$hwm_end") |

Threads: $threads_start after start, $threads_end after the load. Server log during the whole run:
$log_errors ERROR and $log_warnings WARN lines.

<details><summary>wrk output</summary>

\`\`\`
$raw
\`\`\`

</details>
EOF
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
exit "$status"
