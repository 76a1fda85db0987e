#!/usr/bin/env bash
# The public place search (issue 17): /portal/places.json by distance and
# filters, against a minimal axum server answering a fixed JSON document of
# the same size (crates/laoxiao-web/examples/fixed_json.rs), side by side on
# loopback with wrk at 100 connections. The goal: the search at ≥ 30 % of the
# baseline's requests per second, p99 < 50 ms.
#
#   bench/portal.sh                      # scale 1, 3 rounds of 20 s each
#   bench/portal.sh --scale 0.05 --rounds 1 --seconds 5   # a quick look
#
# Each round measures the baseline then the search; the script prints every
# round and the medians. The portal's per-address limit stays on, set far
# above what one wrk client sends (it is tested separately), so its cost is
# measured too. Needs: release builds (built if absent), curl, wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=1
ROUNDS=3
SECONDS_EACH=20
CONNECTIONS=100
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "usage: $0 [--scale S] [--rounds N] [--seconds S] [--connections N]" >&2; exit 2 ;;
  esac
done
case "$ROUNDS$SECONDS_EACH$CONNECTIONS" in *[!0-9]*) echo "--rounds, --seconds and --connections take whole numbers" >&2; exit 2 ;; esac
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

PORT=${PORT:-18960}
BASE_PORT=${BASE_PORT:-18961}
WORK=$(mktemp -d -t laoxiao-portal.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  [ -x target/release/laoxiao ] || cargo build --release --bin laoxiao
  BIN=target/release/laoxiao
fi
if [ -z "${BASELINE:-}" ]; then
  [ -x target/release/examples/fixed_json ] || cargo build --release -p laoxiao-web --example fixed_json
  BASELINE=target/release/examples/fixed_json
fi
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_DATA_KEY LAOXIAO_HMAC_KEY LAOXIAO_AUDIT_KEY LAOXIAO_KEY_FILE
export LAOXIAO_PORTAL_PER_MINUTE=1000000000

start=$(date +%s)
"$BIN" demo --scale "$SCALE" --addr "127.0.0.1:$PORT" --database "$WORK/demo.db" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
until curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null; do
  kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done
until grep -q "demo background load finished" "$WORK/server.log"; do
  kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 1
done
echo "demo --scale $SCALE loaded after $(( $(date +%s) - start )) s"
"$BASELINE" "127.0.0.1:$BASE_PORT" &
PIDS+=($!)
until curl -sf "http://127.0.0.1:$BASE_PORT/fixed.json" >/dev/null; do sleep 0.2; done
# Warm the place index (built on first use) and show what a search returns.
curl -sf "http://127.0.0.1:$PORT/portal/places.json?lng=120.755&lat=30.746" >"$WORK/one.json"
places=$(curl -sf "http://127.0.0.1:$PORT/portal/places.json?limit=1" | sed -E 's/^\{"total":([0-9]+).*/\1/')
echo "public places in the index: $places; one answer: $(wc -c <"$WORK/one.json") bytes, the baseline's: $(curl -sf "http://127.0.0.1:$BASE_PORT/fixed.json" | wc -c) bytes"

# wrk's requests/s and p99 in ms, and its non-2xx and socket errors.
measure() {
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency "$@" 2>&1)
  local rps p99 bad
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  bad=$(echo "$out" | awk '/Non-2xx/ {n+=$4} /Socket errors/ {gsub(/,/,""); n+=$4+$6+$8+$10} END {print n+0}')
  echo "$rps $p99 $bad"
}

echo "round | baseline req/s | baseline p99 ms | search req/s | search p99 ms | ratio | errors"
: >"$WORK/rounds"
for r in $(seq 1 "$ROUNDS"); do
  read -r brps bp99 bbad < <(measure "http://127.0.0.1:$BASE_PORT/fixed.json")
  read -r srps sp99 sbad < <(measure -s bench/portal.lua "http://127.0.0.1:$PORT")
  ratio=$(awk -v a="$srps" -v b="$brps" 'BEGIN {printf "%.3f", a / b}')
  echo "$r | $brps | $bp99 | $srps | $sp99 | $ratio | $((bbad + sbad))"
  echo "$brps $bp99 $srps $sp99 $ratio $((bbad + sbad))" >>"$WORK/rounds"
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "median | $(cut -d' ' -f1 "$WORK/rounds" | median) | $(cut -d' ' -f2 "$WORK/rounds" | median) | $(cut -d' ' -f3 "$WORK/rounds" | median) | $(cut -d' ' -f4 "$WORK/rounds" | median) | $(cut -d' ' -f5 "$WORK/rounds" | median) | $(awk '{n+=$6} END {print n+0}' "$WORK/rounds")"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
errors=$(awk '{n+=$6} END {print n+0}' "$WORK/rounds")
[ "$errors" -eq 0 ] || { echo "errors: $errors" >&2; exit 1; }
