#!/usr/bin/env bash
# Paired import benchmark: two builds of `import_bench` (say, before and after a
# change) on the same generated CSV, alternating A/B, B/A, … so that a shared
# machine's drifting load falls on both alike. Prints wall and CPU time per run
# and the medians.
#
#   cargo build --release -p laoxiao-store --example import_bench   # at each commit,
#   cp target/release/examples/import_bench /tmp/A                  # into its own file
#   bench/import_pair.sh /tmp/A /tmp/B                              # ROWS=1000000 PAIRS=5
#   CSV=old-columns.csv bench/import_pair.sh /tmp/A /tmp/B           # a given file
#
# Build the two commits in separate target directories (or copy each binary
# right after building it): worktrees sharing one target directory share
# fingerprints, and cargo may hand back the other commit's binary.
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?usage: bench/import_pair.sh IMPORT_BENCH_A IMPORT_BENCH_B}
B=${2:?usage: bench/import_pair.sh IMPORT_BENCH_A IMPORT_BENCH_B}
ROWS=${ROWS:-1000000}
PAIRS=${PAIRS:-5}
WORK=$(mktemp -d -t laoxiao-pair.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required for CPU times" >&2; exit 1; }

# CSV=FILE uses that file instead (e.g. one without a column the older build
# does not know: a field added since then is optional, so both builds read it).
if [ -n "${CSV:-}" ]; then
  cp "$CSV" "$WORK/elderly.csv"
  ROWS=$(($(wc -l < "$CSV") - 1))
else
  cargo build --release -q -p laoxiao-store --example gen_people
  target/release/examples/gen_people "$ROWS" "$WORK/elderly.csv"
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -a AW BW AC BC
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then order="A B"; else order="B A"; fi
  for v in $order; do
    bin=$A; [ "$v" = B ] && bin=$B
    rm -f "$WORK"/db*; sync; sleep 1
    load=$(cut -d' ' -f1 /proc/loadavg)
    wall=$(/usr/bin/time -f "%U %S" -o "$WORK/cpu" "$bin" "$WORK/elderly.csv" "$WORK/db" | awk '{print $2}')
    cpu=$(awk '{printf "%.2f", $1 + $2}' "$WORK/cpu")
    echo "pair $i  $v  wall ${wall}s  cpu ${cpu}s  (load $load)"
    if [ "$v" = A ]; then AW+=("$wall"); AC+=("$cpu"); else BW+=("$wall"); BC+=("$cpu"); fi
  done
done
echo
echo "== medians of $PAIRS pairs, $ROWS rows"
echo "A  wall $(printf '%s\n' "${AW[@]}" | median) s  cpu $(printf '%s\n' "${AC[@]}" | median) s"
echo "B  wall $(printf '%s\n' "${BW[@]}" | median) s  cpu $(printf '%s\n' "${BC[@]}" | median) s"
