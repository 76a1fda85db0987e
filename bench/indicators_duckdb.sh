#!/usr/bin/env bash
# Issue 12: the plan's computed indicators, ours against DuckDB.
#
# Writes the synthetic city as CSV (`laoxiao synth`), builds the demo database
# of the same city (`laoxiao demo`, stopped once it serves), computes every
# indicator of 2022 for every area with `laoxiao indicators compute --all`
# (RUNS times, median of the "computed in" and "facts read in" figures), then
# runs bench/indicators_duckdb.py: the same definitions in DuckDB SQL over the
# CSV files, timed, and every (indicator, area) compared. Exit status 1 on a
# mismatch.
#
#   bench/indicators_duckdb.sh                       # scale 1 (about 1.15 M people)
#   SCALE=0.05 bench/indicators_duckdb.sh            # quick
#   LAOXIAO=/path/to/laoxiao RUNS=5 KEEP=1 bench/indicators_duckdb.sh
#   WORK=/tmp/d KEEP=1 REUSE=1 bench/indicators_duckdb.sh   # again on the kept files
#
# Needs the release binary (LAOXIAO, default target/release/laoxiao; this
# script does not build), python3 with duckdb (bench/requirements-duckdb.txt,
# installed if missing) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

LAOXIAO=${LAOXIAO:-target/release/laoxiao}
SCALE=${SCALE:-1}
RUNS=${RUNS:-5}
PORT=${PORT:-18799}
SEED=${SEED:-1}
AS_OF=2022-12-31
PERIOD=2022
WORK=${WORK:-$(mktemp -d -t laoxiao-duck.XXXXXX)}
mkdir -p "$WORK"
KEEP=${KEEP:-}
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -z "$KEEP" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

[ -x "$LAOXIAO" ] || { echo "no laoxiao binary at $LAOXIAO (set LAOXIAO)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install -q -r bench/requirements-duckdb.txt

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

echo "== machine: $(nproc) cores; $(uptime | sed 's/^ *//')"
DB="$WORK/demo.db"
if [ -n "${REUSE:-}" ] && [ -f "$DB" ] && [ -d "$WORK/csv" ]; then
  echo "== reusing $WORK/csv and $DB (REUSE=1)"
else
echo "== synth: scale $SCALE, seed $SEED, as of $AS_OF"
t0=$(now)
"$LAOXIAO" synth --seed "$SEED" --scale "$SCALE" --as-of "$AS_OF" --out "$WORK/csv" >"$WORK/synth.log"
echo "   $(du -sh "$WORK/csv" | cut -f1) of CSV in $(secs "$t0" "$(now)") s"

unset LAOXIAO_KEY_FILE   # the demo writes its key file beside the database
echo "== demo database (the same city)"
t0=$(now)
"$LAOXIAO" --database "$DB" demo --scale "$SCALE" --seed "$SEED" --as-of "$AS_OF" \
  --addr "127.0.0.1:$PORT" >"$WORK/demo.log" 2>&1 &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/demo.log"; exit 1; }
  sleep 0.5
done
# The demo loads its service records and insurance register once it serves
# ("demo background load finished"): wait for them.
until grep -q "demo background load finished" "$WORK/demo.log"; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/demo.log"; exit 1; }
  sleep 0.5
done
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
echo "   serving after $(secs "$t0" "$(now)") s; stopped"
grep -E "demo city loaded" "$WORK/demo.log" | sed 's/^/   /' || true
fi

export LAOXIAO_KEY_FILE="$WORK/demo.key"
echo "== ours: indicators compute --period $PERIOD --all, $RUNS runs"
: >"$WORK/ours_ms"; : >"$WORK/facts_ms"
for i in $(seq 1 "$RUNS"); do
  line=$("$LAOXIAO" --database "$DB" indicators compute --period "$PERIOD" --out "$WORK/ours.csv" --all | tail -n 1)
  facts=$(sed -n 's/.*facts read in \([0-9.]*\) ms.*/\1/p' <<<"$line")
  comp=$(sed -n 's/.*computed in \([0-9.]*\) ms.*/\1/p' <<<"$line")
  [ -n "$comp" ] || { echo "unexpected output: $line" >&2; exit 1; }
  echo "$facts" >>"$WORK/facts_ms"; echo "$comp" >>"$WORK/ours_ms"
  echo "   run $i: facts read in $facts ms, computed in $comp ms (load $(cut -d' ' -f1 /proc/loadavg))"
done
OURS_MS=$(median <"$WORK/ours_ms")
FACTS_MS=$(median <"$WORK/facts_ms")
echo "   median: facts read in $FACTS_MS ms, computed in $OURS_MS ms"

echo "== DuckDB"
status=0
python3 bench/indicators_duckdb.py --csv "$WORK/csv" --sqlite "$DB" --ours "$WORK/ours.csv" \
  --period "$PERIOD" --runs "$RUNS" --ours-ms "$OURS_MS" --ours-facts-ms "$FACTS_MS" \
  --dump "$WORK/duckdb.csv" || status=$?
echo "== after: $(uptime | sed 's/^ *//')"
exit "$status"
