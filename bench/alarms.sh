#!/usr/bin/env bash
# Alarm intake and the live alarm page (issue 15): the sustained rate of signed
# events on loopback, and how fast the live page stays with many open alarms.
#
#   bench/alarms.sh                          # SQLite, demo --scale 1, 3 runs of 20 s
#   bench/alarms.sh --runs 5 --duration 30 --concurrency 64
#   bench/alarms.sh --levels "10000 20000 50000"   # open alarms to time the page at
#   bench/alarms.sh --database postgres      # a scratch database on TEST_DATABASE_URL's server
#   bench/alarms.sh --check                  # fail unless ≥ 2,000 alarms/s, p99 < 50 ms and
#                                            # the page and its fragment under 300 ms (p99)
#
# 1. Starts `laoxiao demo` on a fresh database; the demo makes the platform
#    `demo-platform` (its secret is read from the demo's output) and devices
#    DEMO-00000 … for it.
# 2. The live page: for each level (ascending), events are posted until that
#    many alarms are open, then 30 sequential requests each of /console/alarms
#    (logged in as the demo's `city` through the login form, with its CSRF
#    token), its htmx table fragment (HX-Request), and GET /api/alarms?limit=200
#    (a bearer token): median, p99 and max. Measured first, since the intake
#    runs leave far more alarms open than the levels ask for.
# 3. Intake: bench/alarms_client.py (Python, aiohttp) posts signed events, each
#    with a new event id and a random demo device, at a fixed concurrency for the
#    duration; RUNS times. Reports alarms/s, p50/p99 latency and errors per run,
#    and the median over the runs. After each run the database must hold exactly
#    one alarm and one `alarm_intake` audit entry per event.
# 4. Idempotence: 500 of the events are posted again (freshly signed); each must
#    answer 200 with its alarm, and the alarm and intake audit counts must not move.
#
# Needs: a laoxiao binary (BIN=…, default $CARGO_TARGET_DIR/release/laoxiao or
# target/release/laoxiao, built if absent), curl, sqlite3 (or psql, createdb,
# dropdb), and a python3 with aiohttp (PYTHON=…).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=20
RUNS=3
CONCURRENCY=32
SCALE=1
LEVELS="10000 20000 50000"
PAGES_N=30
DATABASE=sqlite
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --levels) LEVELS=$2; shift 2 ;;
    --pages) PAGES_N=$2; shift 2 ;;
    --database) DATABASE=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "usage: $0 [--duration S] [--runs N] [--concurrency N] [--scale S] [--levels \"10000 20000\"] [--pages N] [--database sqlite|postgres] [--check]" >&2; exit 2 ;;
  esac
done
case "$DURATION$RUNS$CONCURRENCY$PAGES_N${LEVELS// /}" in *[!0-9]*) echo "--duration, --runs, --concurrency, --pages and --levels take whole numbers" >&2; exit 2 ;; esac
PY=${PYTHON:-python3}
"$PY" -c 'import aiohttp' 2>/dev/null || { echo "$PY lacks aiohttp (pip install aiohttp, or set PYTHON)" >&2; exit 1; }

PORT=${PORT:-18961}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d -t laoxiao-alarms.XXXXXX)
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_SERVER=${PG_URL%/*}
PGDB=""
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  [ -z "$PGDB" ] || dropdb -h 127.0.0.1 -U postgres --if-exists "$PGDB" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  T=${CARGO_TARGET_DIR:-target}
  [ -x "$T/release/laoxiao" ] || cargo build --release --bin laoxiao
  BIN=$T/release/laoxiao
fi
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_DATA_KEY LAOXIAO_HMAC_KEY LAOXIAO_AUDIT_KEY LAOXIAO_KEY_FILE
case "$DATABASE" in
  sqlite)
    DB=$WORK/demo.db
    KEYS=$WORK/demo.key
    sql() { sqlite3 "$DB" "$1"; } ;;
  postgres)
    PGDB="laoxiao_alarms_$$"
    createdb -h 127.0.0.1 -U postgres "$PGDB"
    DB=$PG_SERVER/$PGDB
    KEYS=$WORK/pg.key
    export LAOXIAO_KEY_FILE=$KEYS
    "$BIN" keys generate --out "$KEYS" >/dev/null
    sql() { psql "$DB" -Atqc "$1"; } ;;
  *) echo "--database is sqlite or postgres" >&2; exit 2 ;;
esac

start=$(date +%s)
"$BIN" demo --scale "$SCALE" --addr "127.0.0.1:$PORT" --database "$DB" >"$WORK/server.log" 2>&1 &
PID=$!
until curl -sf "$BASE/api/health" >/dev/null; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done
# The demo loads its service records and insurance register once it serves
# ("demo background load finished"): wait for them.
until grep -q "demo background load finished" "$WORK/server.log"; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done
echo "demo --scale $SCALE ($DATABASE) serving, everything loaded after $(( $(date +%s) - start )) s; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# "demo alarms: 1000 devices, 60 alarms; platform demo-platform with secret XXXX (…)"
LINE=$(grep -m1 'demo alarms:' "$WORK/server.log" || true)
SECRET=$(sed -n 's/.*with secret \([^ ]*\) .*/\1/p' <<<"$LINE")
DEVICES=$(sed -n 's/.*demo alarms: \([0-9]*\) devices.*/\1/p' <<<"$LINE")
PLATFORM=$(sed -n 's/.*; platform \([^ ]*\) with secret.*/\1/p' <<<"$LINE")
[ -n "$SECRET" ] && [ -n "$DEVICES" ] || { echo "the demo did not print its platform's secret"; cat "$WORK/server.log"; exit 1; }
echo "platform $PLATFORM, $DEVICES devices (DEMO-00000 …)"
TOKEN=$(LAOXIAO_KEY_FILE="$KEYS" "$BIN" --database "$DB" user token city --name "alarms$$" --days 1 | tail -n 1)

intake_rows() { sql "SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_intake'"; }
open_alarms() { sql "SELECT COUNT(*) FROM alarm WHERE state <> 'closed'"; }
status=0
post() { "$PY" bench/alarms_client.py post "$BASE" --platform "$PLATFORM" --secret "$SECRET" \
  --devices "DEMO-:$DEVICES" --concurrency "$CONCURRENCY" "$@"; }

echo "== the live page, at each level of open alarms ($PAGES_N sequential requests each)"
worst=0
for level in $LEVELS; do
  have=$(open_alarms)
  if [ "$have" -lt "$level" ]; then
    post --count $(( level - have )) --event-prefix "B$$L$level" >/dev/null || status=1
  fi
  sleep 1
  echo "-- $(open_alarms) open alarms ($(sql "SELECT COUNT(*) FROM alarm WHERE state <> 'closed' AND escalated") escalated), load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$PY" bench/alarms_client.py pages "$BASE" --user city --password demo-city-2026 --token "$TOKEN" \
    --n "$PAGES_N" --json "$WORK/pages$level.json" || status=1
  p=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(max(j["page"]["p99_ms"], j["fragment"]["p99_ms"]))' "$WORK/pages$level.json")
  if [ "$level" -le 10000 ]; then worst=$("$PY" -c "print(max($worst, $p))"); fi
done
echo "== intake: $RUNS runs of $DURATION s at concurrency $CONCURRENCY"
for r in $(seq "$RUNS"); do
  prefix="B$$R$r"
  a0=$(intake_rows)
  post --duration "$DURATION" --event-prefix "$prefix" --json "$WORK/run$r.json" \
    --events-out "$WORK/events$r.jsonl" || status=1
  made=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$WORK/run$r.json")
  rows=$(sql "SELECT COUNT(*) FROM alarm WHERE platform_id = '$PLATFORM' AND event_id LIKE '$prefix-%'")
  a1=$(intake_rows)
  if [ "$rows" = "$made" ] && [ $(( a1 - a0 )) = "$made" ]; then
    echo "  run $r: $made alarms in the database, $made intake audit entries: one per event"
  else
    echo "  run $r: $made events answered 201, but $rows alarms and $(( a1 - a0 )) intake audit entries" >&2; status=1
  fi
  echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
done
"$PY" - "$WORK" "$RUNS" <<'EOF' | tee "$WORK/intake.txt"
import json, statistics, sys
w, n = sys.argv[1], int(sys.argv[2])
rs = [json.load(open(f"{w}/run{i}.json")) for i in range(1, n + 1)]
med = lambda k: statistics.median(r[k] for r in rs)
print(f"intake, median of {n} runs: {med('alarms_per_s'):.0f} alarms/s, p50 {med('p50_ms'):.1f} ms, "
      f"p99 {med('p99_ms'):.1f} ms; errors {sum(sum(r['errors'].values()) for r in rs)}")
print(f"MEDIAN {med('alarms_per_s')} {med('p99_ms')}")
EOF

echo "== idempotence: 500 events posted again"
b0=$(sql "SELECT COUNT(*) FROM alarm"); a0=$(intake_rows)
"$PY" bench/alarms_client.py repeat "$BASE" --platform "$PLATFORM" --secret "$SECRET" \
  --events "$WORK/events$RUNS.jsonl" --n 500 || status=1
b1=$(sql "SELECT COUNT(*) FROM alarm"); a1=$(intake_rows)
if [ "$b0" = "$b1" ] && [ "$a0" = "$a1" ]; then
  echo "  alarms $b1 and intake audit entries $a1 unchanged"
else
  echo "  the repeats changed something: alarms $b0 → $b1, intake audit entries $a0 → $a1" >&2; status=1
fi

echo "server RSS: $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$PID/status"); load $(cut -d' ' -f1-3 /proc/loadavg)"

read -r _ RATE P99 < <(grep '^MEDIAN' "$WORK/intake.txt")
if awk -v r="$RATE" -v p="$P99" -v w="$worst" 'BEGIN {exit !(r >= 2000 && p < 50 && w < 300)}'; then
  echo "goal met: $RATE alarms/s ≥ 2,000, p99 $P99 ms < 50 ms, the page at ≤ 10,000 open alarms p99 $worst ms < 300 ms"
else
  echo "goal missed: $RATE alarms/s (≥ 2,000), p99 $P99 ms (< 50 ms), the page at ≤ 10,000 open alarms p99 $worst ms (< 300 ms)"
  [ "$CHECK" = 0 ] || status=1
fi
if ! kill -0 "$PID" 2>/dev/null; then echo "the server died" >&2; status=1; fi
exit $status
