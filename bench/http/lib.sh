# Shared parts of the HTTP benchmarks (bench/http/run.sh, bench/matchmaking/run.sh): settings,
# pinning, starting and stopping `kontor demo` on 127.0.0.1, reading the server's /proc figures,
# one wrk measurement per path with exact percentiles, and the machine description.
# Source it from bash after `set -euo pipefail` and after setting BENCH_NAME (used in messages
# and temp dir names). Not a script of its own.

BIN="${KONTOR_BIN:-/var/tmp/kontor-target-release/release/kontor}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
RUNS="${RUNS:-1}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
NOTE="${NOTE:-}"

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no server binary at $BIN (build it: CARGO_TARGET_DIR=/var/tmp/kontor-target-release cargo build --release -p kontor, or set KONTOR_BIN)"
command -v wrk >/dev/null || die "wrk not found (Debian/Ubuntu: apt-get install wrk)"
command -v curl >/dev/null || die "curl not found"
for n in "$DURATION" "$WARMUP" "$THREADS" "$CONNS" "$RUNS"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "DURATION, WARMUP, THREADS, CONNS and RUNS must be whole numbers"
done

# Pin server and load generator to different cores when possible.
ncpu="$(nproc)"
server_pin=()
load_pin=()
if command -v taskset >/dev/null && [ "$ncpu" -ge 2 ] \
    && taskset -c "$SERVER_CPU" true 2>/dev/null && taskset -c "$LOAD_CPU" true 2>/dev/null; then
    server_pin=(taskset -c "$SERVER_CPU")
    load_pin=(taskset -c "$LOAD_CPU")
    pinning="server on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU (taskset)"
    pinned=1
else
    pinning="none (taskset missing or fewer than 2 usable cores): server and wrk share all cores"
    pinned=0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kontor-${BENCH_NAME//\//-}.XXXXXX")"
server_pid=""
cleanup() {
    local rc=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "$BENCH_NAME: server did not stop on SIGTERM within 10 s; sending SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$tmp/server.err" ]; then
        echo "$BENCH_NAME: last lines of the server's stderr:" >&2
        tail -n 20 "$tmp/server.err" >&2 || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wrk reports exact figures (latencies in microseconds) through this hook.
cat >"$tmp/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "KONTOR_BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50=%.0f p90=%.0f p99=%.0f max=%.0f mean=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
LUA

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$server_pid/status"; }
# Busy and total jiffies of one CPU (user..steal; busy excludes idle and iowait).
cpu_jiffies() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
# utime + stime of the server, all threads, in jiffies.
server_jiffies() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }

# Starts `kontor demo` on 127.0.0.1:0 with a fresh data folder and sets base, ready_ms,
# rss_start, threads_start and load_before. Its stdout (with the demo logins) is $tmp/server.out.
start_demo_server() {
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    local start_ns line
    start_ns="$(date +%s%N)"
    # Defaults only: no configuration file, default log filter (text, no colours).
    env -u KONTOR_CONFIG -u RUST_LOG NO_COLOR=1 "${server_pin[@]}" "$BIN" demo --data "$tmp/data" --listen 127.0.0.1:0 \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    base=""
    for _ in $(seq 600); do   # up to 60 s
        kill -0 "$server_pid" 2>/dev/null || die "the server exited during start"
        line="$(head -n 1 "$tmp/server.out" 2>/dev/null || true)"
        if [[ "$line" == "Kontor demo is running at "* ]]; then
            base="${line#Kontor demo is running at }"
            break
        fi
        sleep 0.1
    done
    [ -n "$base" ] || die "the server did not report its address within 60 s"
    ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
    # Only the loopback address 127.0.0.1 is an allowed target.
    [[ "$base" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "refusing target $base: only http://127.0.0.1:PORT is allowed"
    sleep 1   # let start-up settle (outbox worker, janitor) before reading memory
    rss_start="$(rss_kib)"
    threads_start="$(threads_of)"
    echo "server pid $server_pid at $base, ready after ${ready_ms} ms, VmRSS $(mib "$rss_start") MiB; pinning: $pinning"
}

# Table of measure_path results.
rows=()
raw=""
table_header="| path | as | body bytes | run | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx/3xx | socket errors | server CPU % | server core busy % | wrk core busy % | RSS after, MiB |"
table_sep="|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"

# probe_path PATH [CURL/WRK HEADER]: one GET; prints "CODE SIZE".
probe_path() {
    local hdr=()
    [ -n "${2:-}" ] && hdr=(-H "$2")
    curl -s -o /dev/null -w '%{http_code} %{size_download}\n' --max-time 10 "${hdr[@]}" "$base$1"
}

# measure_path PATH AS SIZE [HEADER]: WARMUP s unmeasured, then RUNS × DURATION s of wrk; one
# table row per run in `rows`, wrk's output in `raw`. AS says who asks (shown, not used);
# HEADER (e.g. a Cookie) is sent with every request and redacted in `raw`.
measure_path() {
    local p="$1" as="$2" size="$3" header="${4:-}" hdr=() shown=""
    if [ -n "$header" ]; then
        hdr=(-H "$header")
        shown=" -H '${header%%=*}=…'"
    fi
    if [ "$WARMUP" -gt 0 ]; then
        echo "warm-up ${WARMUP}s: $p ($as)"
        "${load_pin[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "${hdr[@]}" "$base$p" >/dev/null
    fi
    local run busy0 total0 lbusy0 ltotal0 sj0 busy1 total1 lbusy1 ltotal1 sj1 out core_busy load_busy server_cpu line rps errors rss_now kv
    for run in $(seq "$RUNS"); do
        echo "measuring ${DURATION}s (run $run/$RUNS): $p ($as)"
        read -r busy0 total0 < <(cpu_jiffies "$SERVER_CPU")
        read -r lbusy0 ltotal0 < <(cpu_jiffies "$LOAD_CPU")
        sj0="$(server_jiffies)"
        out="$("${load_pin[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$tmp/report.lua" "${hdr[@]}" "$base$p")"
        kill -0 "$server_pid" 2>/dev/null || die "the server died under load on $p"
        read -r busy1 total1 < <(cpu_jiffies "$SERVER_CPU")
        read -r lbusy1 ltotal1 < <(cpu_jiffies "$LOAD_CPU")
        sj1="$(server_jiffies)"
        # Share of the server's core that was busy, and the part of it the server used itself.
        core_busy="$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) 'BEGIN {printf "%.0f", t ? 100 * b / t : 0}')"
        load_busy="$(awk -v b=$((lbusy1 - lbusy0)) -v t=$((ltotal1 - ltotal0)) 'BEGIN {printf "%.0f", t ? 100 * b / t : 0}')"
        [ "$pinned" = 1 ] || { core_busy="–"; load_busy="–"; }
        server_cpu="$(awk -v s=$((sj1 - sj0)) -v t=$((total1 - total0)) 'BEGIN {printf "%.0f", t ? 100 * s / t : 0}')"
        line="$(grep '^KONTOR_BENCH ' <<<"$out")" || die "no summary from wrk for $p"
        declare -A f=()
        for kv in ${line#KONTOR_BENCH }; do f[${kv%%=*}]="${kv#*=}"; done
        rps="$(awk -v r="${f[requests]}" -v d="${f[duration_us]}" 'BEGIN {printf "%.0f", r / (d / 1e6)}')"
        errors=$(( f[connect] + f[read] + f[write] + f[timeout] ))
        rss_now="$(rss_kib)"
        rows+=("| \`$p\` | $as | $size | $run | ${f[requests]} | **$rps** | $(ms "${f[p50]}") | $(ms "${f[p90]}") | **$(ms "${f[p99]}")** | $(ms "${f[max]}") | ${f[status]} | $errors | $server_cpu | $core_busy | $load_busy | $(mib "$rss_now") |")
        raw+=$'\n'"\$ wrk -t$THREADS -c$CONNS -d${DURATION}s --latency$shown $base$p"$'\n'"$(grep -v '^KONTOR_BENCH ' <<<"$out")"$'\n'
    done
}

results_table() {
    local t="$table_header"$'\n'"$table_sep" r
    for r in "${rows[@]}"; do t+=$'\n'"$r"; done
    printf '%s\n' "$t"
}

# Sets end-of-run figures: rss_end, hwm_end, threads_end, load_after, log_errors, log_warnings.
finish_figures() {
    rss_end="$(rss_kib)"
    hwm_end="$(hwm_kib)"
    threads_end="$(threads_of)"
    load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
    log_errors="$(grep -c 'ERROR' "$tmp/server.err" || true)"
    log_warnings="$(grep -c 'WARN' "$tmp/server.err" || true)"
}

# The commit line of a results file: SOURCE_COMMIT (clean export) or HEAD and the work tree.
commit_line() {
    local root="$1" head dirty tree
    head="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [ -n "${SOURCE_COMMIT:-}" ]; then
        echo "\`$SOURCE_COMMIT\` (binary built from a clean export of this commit; repository HEAD at run time: \`$head\`)"
    else
        dirty="$(git -C "$root" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l | tr -d ' ')"
        [ "$dirty" = 0 ] && tree="clean" || tree="$dirty uncommitted change(s) under crates/ or Cargo.* at the time of the run"
        echo "\`$head\` (working tree: $tree)"
    fi
}

# Binary, machine and load generator lines for a results file.
machine_lines() {
    local cpu_model mem_total bin_sum bin_date wrk_version
    cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    mem_total="$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    bin_sum="$(sha256sum "$BIN" | cut -c1-16)"
    bin_date="$(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')"
    wrk_version="$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2 || true)"
    cat <<EOF
- Binary: \`$BIN\` (modified $bin_date, sha256 \`$bin_sum…\`)${NOTE:+
- **Note:** $NOTE}
- Machine: $ncpu cores, $cpu_model, $mem_total RAM, $(uname -sr); shared with another engineer
- Load average before / after: $load_before / $load_after
- Load generator: $wrk_version, $THREADS threads, $CONNS connections, keep-alive, ${WARMUP} s warm-up
  then ${DURATION} s measured per path, on loopback (\`$base\`)
- Pinning: $pinning
EOF
}

# Explanation of the CPU columns, for a results file.
cpu_columns_note() {
    cat <<EOF
"server CPU %" is the server's CPU time during the measured run as a share of one core;
"server core busy %" and "wrk core busy %" are how busy CPU $SERVER_CPU and CPU $LOAD_CPU were in
total (everything running there). Server CPU near 100 %: the server was the bottleneck. Server
core busier than the server made it: other processes ran on it and the figures are disturbed.
Server CPU well below 100 % with the wrk core at 100 %: the load generator (or whatever else
ran on its core) was the limit, so the figure is a lower bound for the server.
Latencies are wrk's (closed loop: each connection sends its next request when the previous
answer arrives, so these are latencies at saturation, not at a fixed offered rate).
EOF
}
