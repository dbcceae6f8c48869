#!/usr/bin/env bash
# Matchmaking benchmark (issue "Matchmaking"): with the demo data (about 300 people, about
# 1,000 accepted meeting requests at the trade fair),
#   1. the optimiser on the demo trade fair, run through the app as the organiser runs it
#      (POST …/schedule/run, poll …/schedule until the draft is there, POST …/schedule/publish):
#      wall time and the draft's figures (meetings, weight, bound, gap, breaks);
#   2. a signed-in participant's agenda page, and marketplace searches (HTML and JSON), under
#      load from wrk in a second process on loopback: requests/s, p50/p90/p99, server CPU, RSS.
# See README.md next to this script. Shares settings and helpers with bench/http (lib.sh).
#
# Usage: bench/matchmaking/run.sh      (writes bench/matchmaking/RESULTS.md)
# Settings (environment), besides those of bench/http/run.sh (KONTOR_BIN, DURATION, WARMUP,
# THREADS, CONNS, RUNS, SERVER_CPU, LOAD_CPU, NOTE, SOURCE_COMMIT):
#   TABLES       optimiser runs, one per table count, in this order; the last draft is
#                published (the agenda that is then loaded)           default "40 60"
#   OPT_SECONDS  the optimiser's time limit per run (form field `seconds`, 1–120)  default 10
#   AGENDA_PATHS paths loaded as the signed-in participant
#                default "/events/hydrogen-life-sciences-b2b-days/meetings"
#   PUBLIC_PATHS paths loaded anonymously; default: three marketplace searches and the JSON
#                search (see below)
#   OUT          results file   default bench/matchmaking/RESULTS.md ("-" = do not write)
#
# Exit status: 0 when everything was measured, 1 on any failure (a path that does not answer
# 200 is a failure here: the agenda and searches are the point of this benchmark).
# The only target is the server this script starts on 127.0.0.1 (port chosen by the kernel).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"

EVENT=hydrogen-life-sciences-b2b-days
TABLES="${TABLES:-40 60}"
OPT_SECONDS="${OPT_SECONDS:-10}"
AGENDA_PATHS="${AGENDA_PATHS:-/events/$EVENT/meetings}"
PUBLIC_PATHS="${PUBLIC_PATHS:-/marketplace?q=Wasserstoff /marketplace?q=%E6%B0%A2%E8%83%BD /marketplace?sector=hydrogen&country=CN /api/v1/search?q=hydrogen}"
OUT="${OUT:-$here/RESULTS.md}"
PASSWORD=kontor-demo-2027
ORGANISER=organiser@kontor.example
BENCH_NAME=bench/matchmaking
. "$root/bench/http/lib.sh"

command -v python3 >/dev/null || die "python3 not found (used to read the CSV exports)"
[[ "$OPT_SECONDS" =~ ^[0-9]+$ ]] || die "OPT_SECONDS must be a whole number"
for t in $TABLES; do [[ "$t" =~ ^[0-9]+$ ]] || die "TABLES must be whole numbers"; done

# cookie_post JAR PATH FORM...: a same-origin form POST that must answer 303; keeps cookies in JAR.
cookie_post() {
    local jar="$1" path="$2" code args=()
    shift 2
    for f in "$@"; do args+=(--data-urlencode "$f"); done
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -c "$jar" -H 'Sec-Fetch-Site: same-origin' "${args[@]}" "$base$path")"
    [ "$code" = 303 ] || die "POST $path answered $code, expected 303"
}
session_of() { awk '$6 == "kontor_session" {print $7}' "$1" | grep . || die "no kontor_session cookie"; }
# signin EMAIL: prints the kontor_session cookie of a fresh session, signed in with the demo
# password (the administrator, the organiser and the featured people have one).
signin() {
    local jar="$tmp/jar.password"
    rm -f "$jar"
    cookie_post "$jar" /signin "email=$1" "password=$PASSWORD" "next=/"
    session_of "$jar"
}
# signin_by_mail EMAIL: the same for people without a password, as they sign in: ask for a
# code by mail, read the mail in the demo's local mailbox (/mailbox), follow its sign-in link.
signin_by_mail() {
    local jar="$tmp/jar.mail" id token=""
    rm -f "$jar"
    cookie_post "$jar" /signin "email=$1" "next=/"
    for _ in $(seq 50); do
        # The newest mail to this address comes first.
        id="$(curl -s --max-time 30 "$base/mailbox?to=$1" | grep -o '/mailbox/[0-9a-f-]*' | head -n 1)"
        [ -n "$id" ] && token="$(curl -s --max-time 30 "$base$id" | grep -o 'link?token=[0-9a-f]*' | head -n 1)"
        [ -n "$token" ] && break
        sleep 0.1
    done
    [ -n "$token" ] || die "no sign-in mail for $1 in /mailbox"
    cookie_post "$jar" /auth/link "token=${token#*token=}"
    session_of "$jar"
}
# get PATH COOKIE: body of a GET that must answer 200.
get() {
    local code
    code="$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 30 -H "Cookie: kontor_session=$2" "$base$1")"
    [ "$code" = 200 ] || die "GET $1 answered $code, expected 200"
    cat "$tmp/body"
}
# post PATH COOKIE [FORM]: prints the Location of the 303 answer.
post() {
    local out
    out="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 30 -H "Cookie: kontor_session=$2" \
        -H 'Sec-Fetch-Site: same-origin' --data "${3:-}" "$base$1")"
    [ "${out%% *}" = 303 ] || die "POST $1 answered ${out%% *}, expected 303"
    echo "${out#* }"
}

start_demo_server
org="$(signin "$ORGANISER")"

# ----- the optimiser -----
schedule="/events/$EVENT/schedule"
# The lead line under the heading: accepted requests, meetings in the published agenda.
read -r accepted scheduled_before < <(get "$schedule" "$org" | sed -n '/<h1>/{n;p;q}' | grep -o '[0-9]\+' | paste -sd' ' -)
opt_rows=()
for t in $TABLES; do
    echo "optimiser: tables=$t seconds=$OPT_SECONDS"
    sj0="$(server_jiffies)"
    t0="$(date +%s%N)"
    post "$schedule/run" "$org" "tables=$t&seconds=$OPT_SECONDS" >/dev/null
    deadline=$(( $(date +%s) + OPT_SECONDS + 300 ))
    while :; do
        page="$(get "$schedule" "$org")"
        grep -q 'data-testid="draft-meetings"' <<<"$page" && break
        grep -q 'role="alert"' <<<"$page" && die "the optimiser failed: $(grep -o 'role="alert">[^<]*' <<<"$page")"
        [ "$(date +%s)" -lt "$deadline" ] || die "no draft after $((OPT_SECONDS + 300)) s"
        sleep 0.1
    done
    wall="$(awk -v n=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.1f", n / 1e9}')"
    cpu_s="$(awk -v j=$(( $(server_jiffies) - sj0 )) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", j / hz}')"
    # The draft's table: meetings, weight, bound, gap, breaks, changes (in this order).
    mapfile -t v < <(sed -n '/id="draft-h"/,/<\/table>/p' <<<"$page" | grep -o '<td[^>]*>[^<]*</td>' | sed 's/<[^>]*>//g')
    [ "${#v[@]}" -ge 6 ] || die "could not read the draft table"
    # "(N)" in the heading of the unscheduled list (absent when every request is scheduled).
    unscheduled="$(grep -o '<h3>[^<]*([0-9]*)</h3>' <<<"$page" | grep -o '([0-9]*)' | tr -d '()' || true)"
    unscheduled="${unscheduled:-0}"
    # The gap cell: "0.12 %", followed by "· proven optimal" in the organiser's language.
    gap="${v[3]%% ·*}"
    [ "$gap" = "${v[3]}" ] || gap="$gap (proven optimal)"
    peak="$(grep -o '[0-9]* / [0-9]*</li>' <<<"$page" | awk '{if ($1 > m) m = $1} END {print m + 0}')"
    slots="$(grep -o '[0-9]* / [0-9]*</li>' <<<"$page" | wc -l)"
    opt_rows+=("| $t | $OPT_SECONDS | **$wall** | $cpu_s | **${v[0]}** | ${v[1]} | ${v[2]} | **$gap** | ${v[4]} | ${v[5]} | $unscheduled | $peak of $t ($slots slots used) | $(mib "$(rss_kib)") |")
    echo "  ${wall}s wall, ${cpu_s}s server CPU; meetings ${v[0]}, weight ${v[1]}, bound ${v[2]}, gap $gap, breaks ${v[4]}, unscheduled $unscheduled"
done
published="$(post "$schedule/publish" "$org")"
published="${published##*published=}"
echo "published the last draft: $published participants notified"
rss_after_opt="$(rss_kib)"

# ----- a participant with meetings -----
get "/events/$EVENT/export/meetings.csv" "$org" >"$tmp/meetings.csv"
get "/events/$EVENT/export/participants.csv" "$org" >"$tmp/participants.csv"
# The approved participant with the most meetings whose name is unique (ties: first in the file).
read -r approved who_meetings who_email who_name < <(python3 - "$tmp/meetings.csv" "$tmp/participants.csv" <<'PY'
import csv, sys, collections
rows = lambda p: list(csv.DictReader(open(p, encoding="utf-8-sig", newline="")))
count = collections.Counter()
for m in rows(sys.argv[1]):
    count[m["participant_a"]] += 1
    count[m["participant_b"]] += 1
people = rows(sys.argv[2])
names = collections.Counter(p["name"] for p in people)
best = max((p for p in people if names[p["name"]] == 1 and p["status"] == "approved" and count[p["name"]]),
           key=lambda p: count[p["name"]], default=None)
if best is None:
    sys.exit("no approved participant with meetings")
print(sum(p["status"] == "approved" for p in people), count[best["name"]], best["email"], best["name"])
PY
) || die "no participant with meetings in the published agenda"
total_meetings=$(( $(wc -l <"$tmp/meetings.csv") - 1 ))
who="$(signin_by_mail "$who_email")"
agenda_rows="$(get "/events/$EVENT/meetings" "$who" | grep -c 'data-testid="agenda-row"' || true)"
echo "participant: $who_name <$who_email>, $who_meetings meetings in meetings.csv, $agenda_rows agenda rows on the page"
[ "$agenda_rows" = "$who_meetings" ] || die "the agenda page shows $agenda_rows meetings, the export $who_meetings"

# ----- load -----
rss_before_load="$(rss_kib)"
for p in $AGENDA_PATHS; do
    read -r code size < <(probe_path "$p" "Cookie: kontor_session=$who")
    [ "$code" = 200 ] || die "GET $p as the participant answered $code, expected 200"
    measure_path "$p" participant "$size" "Cookie: kontor_session=$who"
done
for p in $PUBLIC_PATHS; do
    read -r code size < <(probe_path "$p")
    [ "$code" = 200 ] || die "GET $p answered $code, expected 200"
    measure_path "$p" anonymous "$size"
done
finish_figures

# ----- report -----
opt_header="| tables | time limit s | wall time s | server CPU s | meetings | weight | bound | gap | breaks | changes | unscheduled | most tables in one slot | RSS after, MiB |"
opt_table="$opt_header"$'\n'"|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"
for r in "${opt_rows[@]}"; do opt_table+=$'\n'"$r"; done
table="$(results_table)"
echo
echo "$opt_table"
echo
echo "$table"
echo
echo "RSS after start: $(mib "$rss_start") MiB; after the optimiser: $(mib "$rss_after_opt") MiB; after the load: $(mib "$rss_end") MiB; peak (VmHWM): $(mib "$hwm_end") MiB"
echo "load average before: $load_before; after: $load_after"

[ "$OUT" = "-" ] && exit 0

cmd="${NOTE:+NOTE=\"$NOTE\" }${SOURCE_COMMIT:+SOURCE_COMMIT=$SOURCE_COMMIT }KONTOR_BIN=$BIN TABLES=\"$TABLES\" OPT_SECONDS=$OPT_SECONDS DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS RUNS=$RUNS bench/matchmaking/run.sh"

cat >"$OUT.tmp" <<EOF
# Matchmaking benchmark results (issue "Matchmaking")

Measured by [run.sh](run.sh); what it measures and its caveats are in [README.md](README.md).
One session on a shared, busy machine: read the figures as an order of magnitude, not as a
capacity statement.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $(commit_line "$root")
$(machine_lines)
- Server: \`kontor demo --data <fresh temp dir> --listen 127.0.0.1:0\` (the demo data set of
  \`crates/kontor/src/demo.rs\` in a fresh SQLite database), default log filter; before any
  run: $accepted accepted meeting requests at the trade fair, $scheduled_before meetings in its
  published agenda; $approved approved participants (participants.csv)

Command:

\`\`\`sh
$cmd
\`\`\`

## The optimiser on the demo trade fair

Run as the organiser does: \`POST /events/$EVENT/schedule/run\` with \`tables=T&seconds=$OPT_SECONDS\`,
then \`GET /events/$EVENT/schedule\` every 0.1 s until the draft is shown. Wall time is from
the POST to the first page with the draft (it includes building the instance from the
database and the poll interval); server CPU is the whole server process's CPU time over the
same interval. Runs one after the other on the same data, nothing published in between (so
"changes" is 0); the draft of the last run (tables=${TABLES##* }) was then published: $published
participants notified. The other columns are the draft table of the organiser's page:
weight is the objective, bound an upper bound on it, gap = (bound − weight) / bound.

$opt_table

## Agenda page and marketplace search under load

The agenda page is loaded as \`$who_email\` ($who_name), the approved participant with the
most meetings in the published agenda: $who_meetings of $total_meetings meetings (the page showed
$agenda_rows agenda rows before the load). Searches are loaded anonymously.

$table

$(cpu_columns_note)

## Memory (VmRSS of the server process)

| when | MiB |
|---|--:|
| after start with the demo data (ready after ${ready_ms} ms, 1 s settle, no request yet) | **$(mib "$rss_start")** |
| after the optimiser runs and the publication | $(mib "$rss_after_opt") |
| before the load (after the CSV exports and sign-ins) | $(mib "$rss_before_load") |
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
