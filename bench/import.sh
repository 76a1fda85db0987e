#!/usr/bin/env bash
# Bulk-import benchmark: 1,000,000 synthetic elderly people (CSV), imported with
# full validation into a fresh SQLite file by `laoxiao-store`, against
# `sqlite3 .import` of the same file into a fresh database as the baseline, and
# into a fresh PostgreSQL schema (with `psql \copy` into an index-free text
# table as PostgreSQL's own baseline). Three runs each; medians are reported.
#
#   bench/import.sh                 # 1,000,000 rows, 3 runs
#   ROWS=200000 RUNS=5 bench/import.sh
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/import.sh
#   NO_PG=1 bench/import.sh         # SQLite only
#
# Timing is wall-clock (`date +%s.%N`) around each command; opening the store
# (migrations, reference areas) is not included in ours, creating the table is
# included in the baselines. CPU time (user + system, from /usr/bin/time) is
# reported too: on a shared machine the wall-clock figures move with the load
# average, which is printed with each run, while CPU time moves much less.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
WORK=${WORK:-$(mktemp -d -t laoxiao-bench.XXXXXX)}
KEEP=${KEEP:-}
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT

command -v sqlite3 >/dev/null || { echo "sqlite3 is required for the baseline" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required for CPU times" >&2; exit 1; }

echo "== building (release)"
cargo build --release -q -p laoxiao-store --example gen_people --example import_bench
BIN=target/release/examples

CSV="$WORK/elderly.csv"
echo "== generating $ROWS rows"
"$BIN/gen_people" "$ROWS" "$CSV"
echo "   $(du -h "$CSV" | cut -f1) in $CSV"

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rate() { awk -v n="$ROWS" -v t="$1" 'BEGIN {printf "%.0f", n / t}'; }

declare -a OURS BASE PG PGCOPY OURS_CPU BASE_CPU
# CPU seconds (user + system) of the last command run through `cpu`.
cpu() { /usr/bin/time -f "%U %S" -o "$WORK/cpu" "$@"; }
cpu_s() { awk '{printf "%.2f", $1 + $2}' "$WORK/cpu"; }

# Each timed run starts with no dirty pages waiting to be written back (the
# generated file, the previous run's database): otherwise the kernel's
# writeback of the last run competes with the next one.
settle() { sync; sleep 1; }

for i in $(seq 1 "$RUNS"); do
  rm -f "$WORK"/ours.db*
  settle
  # import_bench opens the store (migrations, areas) untimed, then times the import.
  t=$(cpu "$BIN/import_bench" "$CSV" "$WORK/ours.db" | awk '{print $2}')
  OURS+=("$t"); OURS_CPU+=("$(cpu_s)")
  echo "run $i  laoxiao-store SQLite   ${t}s  cpu $(cpu_s)s  (load $(load))"

  rm -f "$WORK"/base.db*
  settle
  t0=$(now)
  cpu sqlite3 "$WORK/base.db" ".mode csv" ".import $CSV person"
  t1=$(now)
  t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  BASE+=("$t"); BASE_CPU+=("$(cpu_s)")
  echo "run $i  sqlite3 .import        ${t}s  cpu $(cpu_s)s  (load $(load))"
done

pg_ok=""
if [ -z "${NO_PG:-}" ] && command -v psql >/dev/null && psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  pg_ok=1
  sep='?'; case "$PG_URL" in *\?*) sep='&';; esac
  for i in $(seq 1 "$RUNS"); do
    schema="bench_$$_$i"
    psql "$PG_URL" -qc "CREATE SCHEMA $schema" >/dev/null
    t=$("$BIN/import_bench" "$CSV" "${PG_URL}${sep}options=-csearch_path%3D${schema}" | awk '{print $2}')
    PG+=("$t")
    echo "run $i  laoxiao-store Postgres ${t}s  (load $(load))"
    psql "$PG_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1

    cols=$(head -1 "$CSV" | sed 's/,/ text, /g; s/$/ text/')
    psql "$PG_URL" -qc "CREATE SCHEMA $schema; CREATE TABLE $schema.person ($cols)" >/dev/null
    t0=$(now)
    psql "$PG_URL" -qc "\\copy $schema.person FROM '$CSV' WITH (FORMAT csv, HEADER true)" >/dev/null
    t1=$(now)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
    PGCOPY+=("$t")
    echo "run $i  psql \\copy (no indexes) ${t}s  (load $(load))"
    psql "$PG_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
  done
else
  echo "(PostgreSQL at $PG_URL not reachable or NO_PG set: skipped)"
fi

ours=$(printf '%s\n' "${OURS[@]}" | median)
base=$(printf '%s\n' "${BASE[@]}" | median)
echo
echo "== medians of $RUNS runs, $ROWS rows, $(nproc) cores"
printf '%-34s %8.2f s %10s rows/s\n' "laoxiao-store import, SQLite" "$ours" "$(rate "$ours")"
printf '%-34s %8.2f s %10s rows/s\n' "sqlite3 .import (baseline)" "$base" "$(rate "$base")"
awk -v o="$ours" -v b="$base" 'BEGIN {printf "%-34s %8.0f %%\n", "ratio (ours / sqlite3 speed)", 100 * b / o}'
oc=$(printf '%s\n' "${OURS_CPU[@]}" | median)
bc=$(printf '%s\n' "${BASE_CPU[@]}" | median)
printf '%-34s %8.2f s (sqlite3 %.2f s, ratio %.0f %%)\n' "CPU time, laoxiao-store SQLite" "$oc" "$bc" "$(awk -v o="$oc" -v b="$bc" 'BEGIN {print 100 * b / o}')"
if [ -n "$pg_ok" ]; then
  pg=$(printf '%s\n' "${PG[@]}" | median)
  pgc=$(printf '%s\n' "${PGCOPY[@]}" | median)
  printf '%-34s %8.2f s %10s rows/s\n' "laoxiao-store import, PostgreSQL" "$pg" "$(rate "$pg")"
  printf '%-34s %8.2f s %10s rows/s\n' "psql \\copy, no indexes (reference)" "$pgc" "$(rate "$pgc")"
fi
