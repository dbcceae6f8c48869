#!/usr/bin/env bash
# The meetings page of the demo trade fair's busiest participant (the most meeting requests,
# found in the demo database; signed in by a code from the demo's local mailbox), under load:
# a fixed page for comparing two builds, unlike run.sh, whose participant depends on the
# optimiser's draft. Prints the participant, the page's size and request cards, then wrk's
# requests/s and p50/p99 (2 threads, 32 connections, 10 s after a 3 s warm-up).
#
# Usage: bench/matchmaking/agenda.sh BINARY     (server on CPU 0, wrk on CPU 1)
# Needs wrk, curl, python3. The only target is the demo server it starts on 127.0.0.1.
set -euo pipefail
bin="$1"
data="$(mktemp -d)"
log="$data/server.log"
taskset -c 0 "$bin" demo --data "$data/demo" --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "running at" "$log" && break; sleep 0.2; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -n 1)"
email="$(python3 - "$data/demo/kontor.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
(event,) = c.execute("SELECT id FROM events WHERE slug = 'hydrogen-life-sciences-b2b-days'").fetchone()
(email,) = c.execute(
    "SELECT u.email FROM meeting_requests r JOIN users u ON u.id IN (r.from_user, r.to_user) "
    "WHERE r.event_id = ? GROUP BY u.email ORDER BY COUNT(*) DESC, u.email LIMIT 1", (event,)).fetchone()
print(email)
PY
)"
jar="$data/jar"
post() { curl -s -o /dev/null -b "$jar" -c "$jar" -H 'Sec-Fetch-Site: same-origin' "${@:2}" "$url$1"; }
post /signin --data-urlencode "email=$email" --data-urlencode "next=/"
token=""
for _ in $(seq 50); do
    id="$(curl -s "$url/mailbox?to=$email" | grep -o '/mailbox/[0-9a-f-]*' | head -n 1)"
    [ -n "$id" ] && token="$(curl -s "$url$id" | grep -o 'link?token=[0-9a-f]*' | head -n 1)"
    [ -n "$token" ] && break
    sleep 0.1
done
post /auth/link --data-urlencode "token=${token#*token=}"
cookie="Cookie: kontor_session=$(awk '$6 == "kontor_session" {print $7}' "$jar")"
page=/events/hydrogen-life-sciences-b2b-days/meetings
body="$(curl -s -H "$cookie" "$url$page")"
echo "$email: $(printf %s "$body" | wc -c) bytes, $(grep -o 'data-request' <<<"$body" | wc -l) request cards"
taskset -c 1 wrk -t1 -c16 -d3s -H "$cookie" "$url$page" >/dev/null
taskset -c 1 wrk -t2 -c32 -d10s --latency -H "$cookie" "$url$page" | grep -E 'Requests/sec| 50%| 99%'
