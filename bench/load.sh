#!/usr/bin/env bash
# Load: 50 concurrent clients against `laoxiao demo` on loopback, mixing page
# views, list filters, name searches, detail pages and API writes.
#
#   bench/load.sh                            # 10 minutes at scale 1 (release build)
#   bench/load.sh --duration 10 --scale 0.02 # the short form CI runs
#   DEMO_DB=/tmp/demo.db bench/load.sh       # a copy of a prepared demo database
#   LAOXIAO_KEY_FILE=pg.key bench/load.sh --database postgres://127.0.0.1/bench
#                                            # PostgreSQL (loaded by the demo if empty)
#   bench/load.sh --check                    # fail unless ≥ 200 req/s and p99 < 300 ms
#
# Phase 1 (the duration): bench/load_client.py (Python, aiohttp) with 50
# connections reports requests, errors, p50 and p99 per route group, and the
# server's RSS (VmRSS) after the warm-up (60 s, or a fifth of a shorter run)
# and at the end. Phase 2 (a tenth of the duration, at least 5 s): wrk with
# bench/load.lua, the same mix from a client that costs the server's two cores
# little, for the throughput; wrk's non-2xx/3xx answers and socket errors are
# counted as errors too.
#
# Fails if there was any error, and for runs of 5 minutes or more if the RSS at
# the end is more than 10 % above the RSS after the warm-up.
# Needs: a laoxiao binary (BIN=…, default target/release/laoxiao, built if
# absent), curl, wrk, and a python3 with aiohttp (PYTHON=…).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=600
SCALE=1
CONNECTIONS=50
WRK_S=""
DATABASE=""
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --wrk) WRK_S=$2; shift 2 ;;
    --database) DATABASE=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "usage: $0 [--duration SECONDS] [--wrk SECONDS] [--scale S] [--connections N] [--database postgres://…] [--check]" >&2; exit 2 ;;
  esac
done
case "$DURATION$CONNECTIONS$WRK_S" in *[!0-9]*) echo "--duration, --wrk and --connections take whole numbers" >&2; exit 2 ;; esac
[ "$DURATION" -le 7200 ] || { echo "--duration is at most 7200 s" >&2; exit 2; }
[ -n "$WRK_S" ] || WRK_S=$(( DURATION / 10 > 5 ? DURATION / 10 : 5 ))
PY=${PYTHON:-python3}
"$PY" -c 'import aiohttp' 2>/dev/null || { echo "$PY lacks aiohttp (pip install aiohttp, or set PYTHON)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

PORT=${PORT:-18941}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d -t laoxiao-load.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  [ -x target/release/laoxiao ] || cargo build --release --bin laoxiao
  BIN=target/release/laoxiao
fi
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_DATA_KEY LAOXIAO_HMAC_KEY LAOXIAO_AUDIT_KEY
case "$DATABASE" in
  postgres://*|postgresql://*)
    DB=$DATABASE
    # PostgreSQL keeps no key file beside the data: bring one, or a new one
    # is made for a database the demo loads now.
    if [ -z "${LAOXIAO_KEY_FILE:-}" ]; then
      export LAOXIAO_KEY_FILE="$WORK/pg.key"
      "$BIN" keys generate --out "$LAOXIAO_KEY_FILE" >/dev/null
    fi
    KEYS=$LAOXIAO_KEY_FILE ;;
  "")
    unset LAOXIAO_KEY_FILE
    DB=$WORK/demo.db
    if [ -n "${DEMO_DB:-}" ]; then
      cp "$DEMO_DB" "$DB"
      [ ! -f "$DEMO_DB-wal" ] || cp "$DEMO_DB-wal" "$DB-wal"
      cp "${DEMO_DB%.db}.key" "$WORK/demo.key"
    fi
    KEYS="${DB%.db}.key" ;;
  *) echo "--database takes a postgres:// URL (SQLite: DEMO_DB=FILE)" >&2; exit 2 ;;
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
echo "demo --scale $SCALE serving, everything loaded after $(( $(date +%s) - start )) s (pid $PID, load $(cut -d' ' -f1-3 /proc/loadavg))"
# (WAIT_INDEX=0 for a build without the people index.)
for _ in $(seq $(( ${WAIT_INDEX:-120} * 2 ))); do
  grep -qE "people index (built|not built)" "$WORK/server.log" && break
  sleep 0.5
done
grep -E "people index" "$WORK/server.log" | sed 's/^.*INFO //' || echo "the people index was not reported built"
echo "server RSS at rest: $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$PID/status")"

TOKEN=$(LAOXIAO_KEY_FILE="$KEYS" "$BIN" --database "$DB" user token city --name "load$$" --days 1 | tail -n 1)
WARMUP=$(( DURATION >= 300 ? 60 : DURATION / 5 ))

echo "== phase 1: $CONNECTIONS connections for $DURATION s (warm-up $WARMUP s), per route group"
status=0
"$PY" bench/load_client.py "$BASE" --token "$TOKEN" --user city --password demo-city-2026 \
  --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --pid "$PID" \
  --json "$WORK/load.json" || status=1

if [ "$DURATION" -ge 300 ]; then
  "$PY" - "$WORK/load.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
w, e = r["rss_warm_kb"], r["rss_end_kb"]
if not (w and e):
    sys.exit("RSS was not measured")
if e > w * 1.10:
    sys.exit(f"RSS grew by more than 10 %: {w} kB after warm-up, {e} kB at the end")
EOF
fi

# Phase 2: wrk, with a console session and the ids to open.
JAR="$WORK/cookies"
CSRF=$(curl -s -c "$JAR" "$BASE/console/login" | grep -o 'name="_csrf" value="[^"]*"' | sed 's/.*value="//; s/"$//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "_csrf=$CSRF" --data-urlencode "username=city" \
  --data-urlencode "password=demo-city-2026" "$BASE/console/login"
export LAOXIAO_COOKIE
LAOXIAO_COOKIE=$(awk '!/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " } /^#HttpOnly_/ { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$JAR")
export LAOXIAO_TOKEN=$TOKEN
ids() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE$1" | "$PY" -c 'import json,sys; print(" ".join(i["id"] for i in json.load(sys.stdin)["items"]))'; }
export PERSON_IDS FACILITY_IDS
PERSON_IDS=$(ids "/api/people?role=elderly&limit=100")
FACILITY_IDS=$(ids "/api/facilities?limit=100")
echo "== phase 2: wrk, $CONNECTIONS connections for $WRK_S s"
wrk -t2 -c"$CONNECTIONS" -d"${WRK_S}s" --timeout 30s --latency -s bench/load.lua "$BASE" | tee "$WORK/wrk.txt"
if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$WORK/wrk.txt"; then
  echo "wrk saw errors" >&2; status=1
fi
RPS=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")
P99=$(awk '$1 == "99%" {v = $2; if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; print v}' "$WORK/wrk.txt")
if awk -v r="$RPS" -v p="$P99" 'BEGIN {exit !(r >= 200 && p < 300)}'; then
  echo "wrk: $RPS requests/s, p99 $P99 ms: meets 200 requests/s and p99 < 300 ms"
else
  echo "wrk: $RPS requests/s, p99 $P99 ms: misses 200 requests/s or p99 < 300 ms"
  [ "$CHECK" = 0 ] || status=1
fi
echo "server RSS after wrk: $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$PID/status"); load $(cut -d' ' -f1-3 /proc/loadavg)"
if ! kill -0 "$PID" 2>/dev/null; then echo "the server died" >&2; status=1; fi
exit $status
