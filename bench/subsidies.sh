#!/usr/bin/env bash
# Benchmark: the subsidy runs over the synthetic city (issue 13's budget: the
# monthly run, the annual run and a what-if year each under 1 s as a whole
# command, the rules themselves under 50 ms).
# Usage: bench/subsidies.sh [SCALE] [RUNS]            (SQLite, release build)
#        DATABASE=postgres://… LAOXIAO_KEY_FILE=KEYS bench/subsidies.sh 1 5
#                                                      (PostgreSQL: loaded by the demo when empty)
# Each run is one process, from start to the stored draft (`subsidies run`
# prepares the period again, replacing its draft) or to the printed what-if;
# the figures it prints (read, rules, store) are the medians' inputs, the wall
# time and the peak memory (max RSS, /usr/bin/time) are measured outside.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1}"
RUNS="${2:-5}"
PORT="${PORT:-18767}"
MONTH="${MONTH:-2026-06}"
YEAR="${MONTH%-*}"
WORK="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
if [ -z "${BIN:-}" ]; then
  cargo build --release --bin laoxiao >/dev/null
  BIN=target/release/laoxiao
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
DB=${DATABASE:-$WORK/city.db}
"$BIN" demo --scale "$SCALE" --addr "127.0.0.1:$PORT" --database "$DB" >"$WORK/log" 2>&1 &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/log"; exit 1; }
  sleep 0.5
done
# The demo loads its service records and insurance register once it serves
# ("demo background load finished"): wait for them.
until grep -q "demo background load finished" "$WORK/log"; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/log"; exit 1; }
  sleep 0.5
done
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
grep -E "demo city loaded" "$WORK/log" || true
# SQLite: the demo wrote its keys beside the database.
[ -z "${LAOXIAO_KEY_FILE:-}" ] && export LAOXIAO_KEY_FILE="$(ls "$WORK"/*.key | head -1)"
measure() { # name, then the command's arguments
  local name=$1; shift
  : >"$WORK/$name.read"; : >"$WORK/$name.rules"; : >"$WORK/$name.wall"; : >"$WORK/$name.rss"
  for i in $(seq "$RUNS"); do
    s=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN" --database "$DB" "$@" >"$WORK/out"
    e=$(date +%s%N)
    [ "$i" = 1 ] && head -1 "$WORK/out"
    if grep -q "rules .* ms" "$WORK/out"; then
      sed -nE 's/.*read ([0-9.]+) ms.*/\1/p' "$WORK/out" >>"$WORK/$name.read"
      sed -nE 's/.*rules ([0-9.]+) ms.*/\1/p' "$WORK/out" >>"$WORK/$name.rules"
    fi
    echo $(( (e - s) / 1000000 )) >>"$WORK/$name.wall"
    cat "$WORK/rss" >>"$WORK/$name.rss"
  done
  echo "$name: median whole command $(median <"$WORK/$name.wall") ms," \
    "read $(median <"$WORK/$name.read" 2>/dev/null || echo -) ms," \
    "rules $(median <"$WORK/$name.rules" 2>/dev/null || echo -) ms," \
    "max RSS $(( $(median <"$WORK/$name.rss") / 1024 )) MiB"
}
echo "scale $SCALE, $RUNS runs each, load $(cut -d' ' -f1 /proc/loadavg)"
measure monthly subsidies run --month "$MONTH"
measure annual subsidies run --year "$YEAR"
measure whatif subsidies whatif --year "$YEAR" --reform docs/examples/reform-centenarian-800.toml
for r in centenarian-800 inclusive-plus-100; do
  "$BIN" --database "$DB" subsidies whatif --year "$YEAR" --reform "docs/examples/reform-$r.toml" >"$WORK/w"
  echo "reform-$r: $(head -1 "$WORK/w")"
done
"$BIN" --database "$DB" subsidies show 1 --limit 1 >"$WORK/show"; sed -n '1,30p' "$WORK/show"
