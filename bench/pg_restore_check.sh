#!/usr/bin/env bash
# PostgreSQL backup and restore as docs/operations.md describes it: a small
# database with people and an audit trail is dumped with `pg_dump -Fc`,
# restored with `pg_restore` into a fresh database, and must then pass
# `laoxiao audit verify` and hold the same rows.
#   bench/pg_restore_check.sh       (TEST_DATABASE_URL names the server; BIN the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_SERVER=${PG_URL%/*}
if [ -z "${BIN:-}" ]; then
  cargo build --bin laoxiao
  BIN=target/debug/laoxiao
fi
SRC="laoxiao_dump_src_$$"
DST="laoxiao_dump_dst_$$"
WORK=$(mktemp -d -t laoxiao-pgdump.XXXXXX)
cleanup() {
  dropdb -h 127.0.0.1 -U postgres --if-exists "$SRC" 2>/dev/null || true
  dropdb -h 127.0.0.1 -U postgres --if-exists "$DST" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
unset LAOXIAO_DATABASE_URL DATABASE_URL LAOXIAO_KEY_FILE
export LAOXIAO_LOG=${LAOXIAO_LOG:-warn}   # quiet: the checks print what matters
eval "$("$BIN" keys generate | grep -E '^LAOXIAO_(DATA|HMAC|AUDIT)_KEY=' | sed 's/^/export /')"

createdb -h 127.0.0.1 -U postgres "$SRC"
createdb -h 127.0.0.1 -U postgres "$DST"
"$BIN" synth --seed 3 --scale 0.002 --out "$WORK/synth" >/dev/null
"$BIN" --database "$PG_SERVER/$SRC" migrate >/dev/null
for kind in facilities elderly infants; do
  "$BIN" --database "$PG_SERVER/$SRC" import "$kind" "$WORK/synth/$kind.csv" >/dev/null
done
"$BIN" --database "$PG_SERVER/$SRC" user add --username ci-check --role auditor --area 330400 >/dev/null
"$BIN" --database "$PG_SERVER/$SRC" audit verify

pg_dump -Fc -h 127.0.0.1 -U postgres --file "$WORK/laoxiao.dump" "$SRC"
pg_restore --no-owner -h 127.0.0.1 -U postgres --dbname "$DST" "$WORK/laoxiao.dump"
out=$("$BIN" --database "$PG_SERVER/$DST" audit verify)
echo "restored: $out"
for t in person facility audit_log person_tally; do
  a=$(psql "$PG_SERVER/$SRC" -Atqc "SELECT COUNT(*) FROM $t")
  b=$(psql "$PG_SERVER/$DST" -Atqc "SELECT COUNT(*) FROM $t")
  [ "$a" = "$b" ] || { echo "$t: $a rows in the source, $b restored" >&2; exit 1; }
  echo "  $t: $b rows, as in the source"
done
[ "$(psql "$PG_SERVER/$SRC" -Atqc 'SELECT COUNT(*) FROM audit_log')" -gt 0 ] || { echo "no audit entries to verify" >&2; exit 1; }
echo "pg_dump -Fc / pg_restore: restored database verifies"
