#!/usr/bin/env bash
# Benchmark: `laoxiao demo` at scale 1 from an empty database to serving, then
# the time to serve each console page and API list (median of N requests).
# Usage: bench/demo_pages.sh [SCALE] [N]       (release build; ~1.15 M people at scale 1)
#        DATABASE=postgres://… LAOXIAO_KEY_FILE=KEYS bench/demo_pages.sh 1 11
#                                              (PostgreSQL: loaded by the demo when empty)
# Every register's list at city level: unfiltered, each kind of filter, two
# combined, name searches (Chinese, pinyin initials), a later page, detail pages.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1}"
N="${2:-11}"
PORT="${PORT:-18765}"
WORK="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# BIN=path/to/laoxiao skips the build (e.g. to try the script on a debug binary).
if [ -z "${BIN:-}" ]; then
  cargo build --release --bin laoxiao >/dev/null
  BIN=target/release/laoxiao
fi
BASE="http://127.0.0.1:$PORT"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

DB=${DATABASE:-$WORK/demo.db}
KEYS=${LAOXIAO_KEY_FILE:-$WORK/demo.key}
start=$(date +%s.%N)
"$BIN" demo --scale "$SCALE" --addr "127.0.0.1:$PORT" --database "$DB" >"$WORK/log" 2>&1 &
PID=$!
until curl -sf "$BASE/api/health" >/dev/null; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/log"; exit 1; }
  sleep 0.2
done
ready=$(date +%s.%N)
echo "demo --scale $SCALE: serving after $(awk -v a="$start" -v b="$ready" 'BEGIN{printf "%.1f", b-a}') s (fresh database)"
grep -E "demo city loaded" "$WORK/log" || true
# The service records and insurance register load once it serves: the pages
# are timed after them.
until grep -q "demo background load finished" "$WORK/log"; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/log"; exit 1; }
  sleep 0.5
done
echo "demo --scale $SCALE: everything loaded after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
# Lists answer from the people index once it is built (a few seconds; a
# build without one waits WAIT_INDEX seconds for nothing).
for _ in $(seq $(( ${WAIT_INDEX:-120} * 2 ))); do
  grep -qE "people index (built|not built)" "$WORK/log" && break
  sleep 0.5
done
grep -E "people index" "$WORK/log" | sed 's/^.*INFO //' || echo "(this build has no people index)"

# Log in as the demo city administrator (console forms carry a CSRF token).
JAR="$WORK/cookies"
TOKEN=$(curl -s -c "$JAR" "$BASE/console/login" | grep -o 'name="_csrf" value="[^"]*"' | sed 's/.*value="//; s/"$//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "_csrf=$TOKEN" --data-urlencode "username=city" \
  --data-urlencode "password=demo-city-2026" "$BASE/console/login"
C=(-b "$JAR")
# The API takes bearer tokens: issue one for the same account.
# (The CLI audits the token with the demo's keys, beside its database.)
API_TOKEN=$(LAOXIAO_KEY_FILE="$KEYS" "$BIN" --database "$DB" user token city --name "bench$$-$(date +%s)" --days 1 | tail -n 1)
A=(-H "Authorization: Bearer $API_TOKEN")

# One facility and one person to open detail pages.
FAC=$(curl -s "${A[@]}" "$BASE/api/facilities?kind=elderly_institution&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
PER=$(curl -s "${A[@]}" "$BASE/api/people?role=elderly&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
# A cursor half-way through the city's elderly people (a later page).
PER2=$(curl -s "${A[@]}" "$BASE/api/people?role=elderly&area=330482&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')

printf '%-62s %10s %10s\n' "page" "median ms" "max ms"
for path in \
  "/" "/?area=330402" "/?area=330402007" "/?area=330402007024" "/?figure=slots_per_1000" \
  "/console/facilities" "/console/facilities?kind=elderly_institution&area=330481" "/console/facilities?q=%E5%B1%85%E5%AE%B6" \
  "/console/facilities/$FAC" \
  "/console/elderly" "/console/elderly?age=80_89" "/console/elderly?area=330402&age=90_plus" \
  "/console/elderly?ability_level=4" "/console/elderly?special_difficulty=extreme_poverty" \
  "/console/elderly?living_arrangement=living_alone" \
  "/console/elderly?living_arrangement=living_alone&age=80_89" \
  "/console/elderly?special_difficulty=extreme_poverty&ability_level=4" \
  "/console/elderly?q=%E7%8E%8B" "/console/elderly?q=%E6%9D%8E%E5%BB%BA" "/console/elderly?q=wxm" \
  "/console/elderly?q=%E7%8E%8B&age=80_89" "/console/elderly?after=$PER2" \
  "/console/infants" "/console/infants?age=0&area=330481" "/console/infants?q=%E5%BC%A0" \
  "/console/people/$PER" "/console/plan" "/console/import" \
  "/console/staff" "/console/staff?q=%E7%8E%8B" "/console/services" "/console/services?kind=visit" \
  "/console/services?kind=respite_service" "/console/services?kind=visit&date_from=2026-06-01" \
  "/console/services?area=330402007" "/console/residences" "/console/enrolments" \
  "/console/student_cohorts" \
  "/api/facilities?limit=50" "/api/people?role=elderly&limit=50" "/api/people?limit=50&area=330424" \
  "/api/people?role=elderly&min_age=80&limit=50" "/api/people?role=elderly&q=wxm&limit=50" \
  "/api/people?role=elderly&dementia=true&limit=50" "/api/people?role=elderly&dementia=true&min_age=80&limit=50" \
  "/api/services?limit=50" "/api/services?kind=meal_assistance&limit=50" \
  "/api/staff?q=%E6%9D%8E&limit=50" "/api/residences?limit=50" "/api/enrolments?limit=50" \
  "/api/areas?parent=330400"; do
  case "$path" in /api/*) H=("${A[@]}") ;; *) H=("${C[@]}") ;; esac
  code=$(curl -s "${H[@]}" -o /dev/null -w '%{http_code}' "$BASE$path")   # warm-up
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
  times=$(for _ in $(seq "$N"); do curl -s "${H[@]}" -o /dev/null -w '%{time_total}\n' "$BASE$path"; done | awk '{printf "%.1f\n", $1*1000}')
  printf '%-62s %10s %10s\n' "$path" "$(echo "$times" | median)" "$(echo "$times" | sort -n | tail -1)"
done
