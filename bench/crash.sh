#!/usr/bin/env bash
# Crash safety: kill -9 laoxiao at random moments, restart, and check that
# nothing committed was lost and nothing half-written is visible.
#
#   bench/crash.sh                          # long form: 20 + 20 trials per database, 1,000,000 rows
#   bench/crash.sh --trials 2 --rows 20000  # the bounded form CI runs
#   ROWS=200000 bench/crash.sh --db sqlite
#
# Two kinds of trial per database (SQLite, and PostgreSQL with a fresh database
# per trial, created with createdb on TEST_DATABASE_URL's server):
#
# * import: `laoxiao import elderly FILE` of ROWS synthetic people (written by
#   `laoxiao synth`) into an empty register (even trials) or one already
#   holding its first 1,000 rows (odd trials), killed after a random delay
#   between 0 and 130 % of a measured full import. After the kill the register
#   must hold either everything (ROWS people) or exactly what it held before.
# * api: `laoxiao serve`, with bench/crash_client.py writing through the API
#   from 8 threads (facility creates and updates, people registered), killed
#   0.05 to 2.55 s after its first acknowledged write. After a restart every
#   acknowledged write must be there, with its acknowledged content (or a later
#   one that was in flight).
#
# After every kill: the database opens (`laoxiao migrate`), SQLite's
# `PRAGMA integrity_check` answers ok, the person tally equals a recount from the
# person table, and `laoxiao audit verify` passes. One summary line per
# database: trials, passed, failed. Exit status 1 if any trial failed.
#
# Needs: a laoxiao binary (BIN=…, default target/release/laoxiao, built if
# absent), python3, sqlite3, and for PostgreSQL psql/createdb/dropdb.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${TRIALS:-20}
ROWS=${ROWS:-1000000}
DBS=${DBS:-both}
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) TRIALS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --db) DBS=$2; shift 2 ;;
    *) echo "usage: $0 [--trials N] [--rows N] [--db sqlite|postgres|both]" >&2; exit 2 ;;
  esac
done
case "$TRIALS$ROWS" in *[!0-9]*) echo "--trials and --rows take whole numbers" >&2; exit 2 ;; esac
[ "$TRIALS" -ge 1 ] && [ "$ROWS" -ge 2000 ] || { echo "need --trials >= 1 and --rows >= 2000" >&2; exit 2; }

PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_SERVER=${PG_URL%/*}                 # postgres://user@host:port
PORT=${PORT:-18931}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d -t laoxiao-crash.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  [ -x target/release/laoxiao ] || cargo build --release --bin laoxiao
  BIN=target/release/laoxiao
fi
BIN=$(realpath "$BIN")
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

# Keys for the ID numbers, in the environment of every command below.
eval "$("$BIN" keys generate | grep -E '^LAOXIAO_(DATA|HMAC|AUDIT)_KEY=' | sed 's/^/export /')"
[ -n "${LAOXIAO_DATA_KEY:-}" ] || { echo "could not read keys from \`laoxiao keys generate\`" >&2; exit 1; }
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_KEY_FILE
export LAOXIAO_LOG=${LAOXIAO_LOG:-warn}   # quiet: the checks print what matters

# The import file: the synthetic city's elderly register, cut to ROWS rows.
echo "== writing $ROWS rows with laoxiao synth (load $(load))"
SCALE=$(awk -v n="$ROWS" 'BEGIN { s = n / 800000; if (s > 2) s = 2; printf "%.4f", s }')
"$BIN" synth --seed 7 --scale "$SCALE" --out "$WORK/synth" >/dev/null
SRC="$WORK/synth/elderly.csv"
FILE="$WORK/elderly.csv"
head -n $((ROWS + 1)) "$SRC" >"$FILE"
ROWS=$(($(wc -l <"$FILE") - 1))
BASELINE="$WORK/baseline.csv"
head -n 1001 "$FILE" >"$BASELINE"
echo "   $ROWS rows ($(du -h "$FILE" | cut -f1)); baseline 1000 rows"

# --- one database per trial -------------------------------------------------
DB=""     # path or URL of the current trial's database
KIND=""   # sqlite | postgres
PGDB=""
fresh_db() {
  if [ "$KIND" = sqlite ]; then
    DB="$WORK/trial.db"
    rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
  else
    [ -n "$PGDB" ] && dropdb -h 127.0.0.1 -U postgres --if-exists "$PGDB" 2>/dev/null || true
    PGDB="laoxiao_crash_$$_$1"
    createdb -h 127.0.0.1 -U postgres "$PGDB"
    DB="$PG_SERVER/$PGDB"
  fi
  "$BIN" --database "$DB" migrate >/dev/null 2>&1
}
drop_db() {
  if [ "$KIND" = postgres ] && [ -n "$PGDB" ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists "$PGDB" 2>/dev/null || true
    PGDB=""
  fi
}
q() {
  if [ "$KIND" = sqlite ]; then sqlite3 -bail "$DB" "$1"; else psql "$DB" -v ON_ERROR_STOP=1 -Atqc "$1"; fi
}
TALLY_DIFF="WITH t AS (SELECT area_path, role, status, birth_year, n FROM person_tally WHERE n <> 0),
  r AS (SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS INTEGER) AS birth_year, COUNT(*) AS n
        FROM person WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4)
SELECT (SELECT COUNT(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM r) AS a)
     + (SELECT COUNT(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM t) AS b)"

# The checks after every kill; prints what failed, returns 1 if anything did.
after_kill_checks() {
  local ok=0 out
  if ! out=$("$BIN" --database "$DB" migrate 2>&1); then
    echo "    database does not open: $out"; return 1
  fi
  if [ "$KIND" = sqlite ]; then
    out=$(sqlite3 "$DB" "PRAGMA integrity_check" 2>&1 | head -n 5)
    [ "$out" = ok ] || { echo "    integrity_check: $out"; ok=1; }
  fi
  out=$(q "$TALLY_DIFF" 2>&1)
  [ "$out" = 0 ] || { echo "    tally differs from a recount in $out rows"; ok=1; }
  if ! out=$("$BIN" --database "$DB" audit verify 2>&1); then
    echo "    audit verify: $out"; ok=1
  fi
  return $ok
}

start_server() {
  "$BIN" --database "$DB" serve --addr "127.0.0.1:$PORT" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -sf "$BASE/api/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "    server did not start:"; tail -n 5 "$WORK/server.log"; return 1; }
    sleep 0.1
  done
  echo "    server did not answer within 30 s"; return 1
}
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

import_trial() {
  local i=$1 before count delay
  fresh_db "$i"
  if [ $((i % 2)) = 1 ]; then "$BIN" --database "$DB" import elderly "$BASELINE" >/dev/null 2>&1; fi
  before=$(q "SELECT COUNT(*) FROM person")
  delay=$(awk -v t="$FULL" -v r="$RANDOM" 'BEGIN { printf "%.2f", t * 1.3 * r / 32767 }')
  "$BIN" --database "$DB" import elderly "$FILE" >"$WORK/import.log" 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local ok=0
  after_kill_checks || ok=1
  count=$(q "SELECT COUNT(*) FROM person" 2>&1)
  local state="absent"
  [ "$count" = "$ROWS" ] && state="present"
  if [ "$count" != "$ROWS" ] && [ "$count" != "$before" ]; then
    echo "    import half-present: $count people (before $before, file $ROWS)"; ok=1
  fi
  printf '  import %2d: killed after %5.2f s of ~%.1f s, had %7d, import %-7s %s\n' \
    "$i" "$delay" "$FULL" "$before" "$state" "$([ $ok = 0 ] && echo ok || echo FAILED)"
  return $ok
}

api_trial() {
  local i=$1 token delay ok=0
  fresh_db "$i"
  token=$("$BIN" --database "$DB" user token admin --name "crash$i" --days 1 2>/dev/null | tail -n 1)
  start_server || return 1
  local log="$WORK/acks-$i.jsonl"
  rm -f "$log"
  python3 bench/crash_client.py write "$BASE" "$token" "$log" --workers 8 --tag "$i" >"$WORK/client.log" 2>&1 &
  local cpid=$!
  # The clock starts at the first acknowledged write (the client needs a moment to start).
  for _ in $(seq 1 200); do grep -q '"event": "ack"' "$log" 2>/dev/null && break; sleep 0.05; done
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + 2.5 * r / 32767 }')
  sleep "$delay"
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  wait "$cpid" || { echo "    client failed: $(tail -n 3 "$WORK/client.log")"; ok=1; }
  after_kill_checks || ok=1
  start_server || return 1
  local res
  if ! res=$(python3 bench/crash_client.py check "$BASE" "$token" "$log" 2>&1); then ok=1; echo "$res" | tail -n 5 | sed 's/^/    /'; fi
  stop_server
  printf '  api    %2d: killed %5.2f s after the first ack; %s; %s\n' "$i" "$delay" \
    "$(echo "$res" | tail -n 1)" "$([ $ok = 0 ] && echo ok || echo FAILED)"
  return $ok
}

run_db() {
  KIND=$1
  local passed=0 failed=0 t0 t1
  echo "== $KIND: $TRIALS import trials ($ROWS rows) and $TRIALS API trials (load $(load))"
  # A full import, uninterrupted, sets the range of kill moments and shows the
  # complete count is reached.
  fresh_db 0
  t0=$(now)
  "$BIN" --database "$DB" import elderly "$FILE" >/dev/null 2>"$WORK/full.log"
  t1=$(now)
  FULL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  local full_count
  full_count=$(q "SELECT COUNT(*) FROM person")
  if [ "$full_count" != "$ROWS" ]; then
    echo "full import holds $full_count people, expected $ROWS" >&2; return 1
  fi
  echo "   full import: $FULL s"
  for i in $(seq 1 "$TRIALS"); do
    if import_trial "$i"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  for i in $(seq 1 "$TRIALS"); do
    if api_trial "$((TRIALS + i))"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  drop_db
  SUMMARY+=("$(printf '%-10s trials %3d  passed %3d  failed %3d   (%d rows, import %s s, load %s)' \
    "$KIND" $((2 * TRIALS)) "$passed" "$failed" "$ROWS" "$FULL" "$(load)")")
  [ "$failed" = 0 ]
}

SUMMARY=()
status=0
case "$DBS" in sqlite|both) run_db sqlite || status=1 ;; esac
case "$DBS" in
  postgres|both)
    if psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
      run_db postgres || status=1
    else
      echo "PostgreSQL at $PG_URL is not reachable" >&2; status=1
    fi ;;
esac
echo
echo "== crash safety summary"
printf '%s\n' "${SUMMARY[@]}"
exit $status
