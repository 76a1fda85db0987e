#!/usr/bin/env bash
# The API fuzzed from its own OpenAPI document with schemathesis: every
# operation, once per demo account (one role each), logged in with a bearer
# token for that account.
#
#   bench/schemathesis.sh                      # 100 examples per operation and role
#   bench/schemathesis.sh --max-examples 10    # the short form CI runs
#
# Checks: every check schemathesis has, the conformance checks included: no
# server error, every status code and content type one the document declares,
# JSON answers that match their schema, requests the schema refuses refused
# (negative_data_rejection) and requests it allows accepted
# (positive_data_acceptance) — except the latter on the five operations whose
# bodies have rules across fields, which bench/schemathesis.toml lists and the
# document describes. CHECKS=a,b,… runs only those checks, on every operation.
# Runs `laoxiao demo` at a small scale on a fresh database on loopback. Exit
# status 1 if any role's run failed.
# Needs: a laoxiao binary (BIN=…, default target/release/laoxiao, built if
# absent) and schemathesis (SCHEMATHESIS=…, default `schemathesis` on PATH;
# pip install schemathesis into a virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=100
SCALE=0.02
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    *) echo "usage: $0 [--max-examples N] [--scale S]" >&2; exit 2 ;;
  esac
done
ST=$(command -v "${SCHEMATHESIS:-schemathesis}" || true)
[ -n "$ST" ] || { echo "schemathesis not found (pip install schemathesis, or set SCHEMATHESIS)" >&2; exit 1; }
CONFIG="$PWD/bench/schemathesis.toml"
CHECK_ARGS=()
[ -n "${CHECKS:-}" ] && CHECK_ARGS=(--checks "$CHECKS")
PORT=${PORT:-18951}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d -t laoxiao-st.XXXXXX)
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
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_KEY_FILE LAOXIAO_DATA_KEY LAOXIAO_HMAC_KEY LAOXIAO_AUDIT_KEY
DB="$WORK/demo.db"
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

status=0
declare -a RESULTS
LOGS=$(realpath -m "${LOGS:-$WORK/logs}")
mkdir -p "$LOGS"
for user in ${ROLES:-city county town village operator childcare inspector auditor analyst family}; do
  token=$(LAOXIAO_KEY_FILE="${DB%.db}.key" "$BIN" --database "$DB" user token "$user" --name "st$$" --days 1 | tail -n 1)
  echo "== $user: every operation, $MAX_EXAMPLES examples at most, checks ${CHECKS:-all (bench/schemathesis.toml)}"
  # From the work directory: schemathesis and hypothesis leave state in the cwd.
  if (cd "$WORK" && "$ST" --config-file "$CONFIG" run "$BASE/api/openapi.json" --url "$BASE" \
      -H "Authorization: Bearer $token" "${CHECK_ARGS[@]}" \
      --max-examples "$MAX_EXAMPLES" --seed 9 --workers 1 --no-color --generation-database none \
      --suppress-health-check all --request-timeout 30 \
      --report junit --report-junit-path "$LOGS/$user.xml") >"$LOGS/$user.log" 2>&1; then
    RESULTS+=("$user: passed")
  else
    RESULTS+=("$user: FAILED")
    status=1
  fi
  tail -n 25 "$LOGS/$user.log"
  if ! kill -0 "$PID" 2>/dev/null; then echo "the server died" >&2; tail -n 20 "$WORK/server.log"; exit 1; fi
done
echo
echo "== schemathesis summary (max $MAX_EXAMPLES examples per operation)"
printf '%s\n' "${RESULTS[@]}"
exit $status
