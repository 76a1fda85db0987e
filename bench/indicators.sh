#!/usr/bin/env bash
# Benchmark: every computed indicator for every area (1,282) for one year,
# on the synthetic city dated 2022-12-31 (the issue 12 budget: under 2 s).
# Usage: bench/indicators.sh [SCALE] [RUNS]          (SQLite, release build)
#        DATABASE=postgres://… LAOXIAO_KEY_FILE=KEYS bench/indicators.sh 1 5
#                                                    (PostgreSQL: loaded by the demo when empty)
# Each run is one `laoxiao indicators compute --period 2022 --all` process,
# which reads the registers' facts from the database (cold; a server keeps
# them) and computes every value; the figures it prints are the medians'
# inputs. Also prints the whole command's wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1}"
RUNS="${2:-5}"
PORT="${PORT:-18766}"
WORK="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
if [ -z "${BIN:-}" ]; then
  cargo build --release --bin laoxiao >/dev/null
  BIN=target/release/laoxiao
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
DB=${DATABASE:-$WORK/city.db}
export LAOXIAO_KEY_FILE=${LAOXIAO_KEY_FILE:-$WORK/demo.key}
# The 2022 city: the demo loads it into an empty database; stop once it serves.
"$BIN" demo --scale "$SCALE" --as-of 2022-12-31 --addr "127.0.0.1:$PORT" --database "$DB" >"$WORK/log" 2>&1 &
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
: >"$WORK/facts"; : >"$WORK/compute"; : >"$WORK/wall"
for i in $(seq "$RUNS"); do
  s=$(date +%s%N)
  line=$("$BIN" --database "$DB" indicators compute --period 2022 --all --out "$WORK/v$i.csv")
  e=$(date +%s%N)
  echo "$line"
  echo "$line" | sed -E 's/.*facts read in ([0-9]+) ms.*/\1/' >>"$WORK/facts"
  echo "$line" | sed -E 's/.*computed in ([0-9]+) ms.*/\1/' >>"$WORK/compute"
  echo $(( (e - s) / 1000000 )) >>"$WORK/wall"
done
cmp -s "$WORK/v1.csv" "$WORK/v$RUNS.csv" || { echo "runs disagree"; exit 1; }
echo "scale $SCALE, $RUNS runs, load $(cut -d' ' -f1 /proc/loadavg): median facts read $(median <"$WORK/facts") ms," \
  "compute $(median <"$WORK/compute") ms, whole command $(median <"$WORK/wall") ms"
if [ -n "${KEEP_CSV:-}" ]; then cp "$WORK/v1.csv" "$KEEP_CSV"; fi
