#!/usr/bin/env bash
# Floating-catchment accessibility, ours against PySAL `access`, on a
# synthetic city: CELLS populated cells on a 100 m grid (200 a row), FACILITIES
# facilities (most on cell centres, so many pairs lie exactly on the radius or
# on a step bound; some off the grid, some beyond it serving nobody, some of
# capacity 0; the grid's north-east corner has none, so some cells have no
# supply in reach). For each of the three decays, runs the Rust example
# (REPEAT runs, median) and bench/access_pysal.py (PYSAL_REPEAT runs), which
# compares every value and exits 1 on a mismatch.
#
#   bench/access_pysal_selftest.sh                                  # 20,000 cells, 200 facilities
#   CELLS=150000 FACILITIES=1500 bench/access_pysal_selftest.sh     # city scale
#   PYTHON=/path/to/python WORK=/tmp/a KEEP=1 bench/access_pysal_selftest.sh
#
# Needs cargo and a python with `pip install access pandas scipy`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-/tmp/pysal-venv/bin/python}
CELLS=${CELLS:-20000}
FACILITIES=${FACILITIES:-200}
RADIUS=${RADIUS:-1000}
REPEAT=${REPEAT:-20}
PYSAL_REPEAT=${PYSAL_REPEAT:-3}
SEED=${SEED:-1}
WORK=${WORK:-$(mktemp -d -t laoxiao-access.XXXXXX)}
mkdir -p "$WORK"
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; fi

"$PYTHON" - "$WORK" "$CELLS" "$FACILITIES" "$SEED" <<'EOF'
import random, sys
work, cells, facilities, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
nx = 200
ny = -(-cells // nx)
with open(f"{work}/demand.csv", "w") as f:
    f.write("id,x,y,demand\n")
    for k in range(cells):
        i, j = k % nx, k // nx
        f.write(f"c{k},{50 + 100 * i},{50 + 100 * j},{rng.randint(1, 400)}\n")
with open(f"{work}/supply.csv", "w") as f:
    f.write("id,x,y,capacity\n")
    for k in range(facilities):
        cap = 0 if k % 37 == 5 else rng.randint(1, 200)
        r = k % 20
        if r == 0:  # beyond the grid: serves nobody
            x, y = -2000 - rng.uniform(0, 20000), rng.uniform(0, 100 * ny)
            x, y = f"{x:.1f}", f"{y:.1f}"
        elif r < 5:  # off the grid's centres
            x = rng.uniform(0, 100 * nx * 0.7)
            y = rng.uniform(0, 100 * ny * 0.7)
            x, y = f"{x:.3f}", f"{y:.3f}"
        else:  # on a cell centre, away from the north-east corner
            i = rng.randrange(int(nx * 0.75))
            j = rng.randrange(max(1, int(ny * 0.75)))
            x, y = f"{50 + 100 * i}", f"{50 + 100 * j}"
        f.write(f"f{k},{x},{y},{cap}\n")
EOF

cargo build --release -q -p laoxiao-spatial --example access_csv
BIN=${CARGO_TARGET_DIR:-target}/release/examples/access_csv

status=0
for DECAY in uniform gaussian:500 step:300=1,600=0.68,1000=0.22; do
  echo "== decay $DECAY"
  "$BIN" --demand "$WORK/demand.csv" --supply "$WORK/supply.csv" \
    --radius "$RADIUS" --decay "$DECAY" --repeat "$REPEAT" \
    --out-demand "$WORK/ours_demand.csv" --out-supply "$WORK/ours_supply.csv" \
    2> "$WORK/ours.log"
  cat "$WORK/ours.log"
  OURS_MS=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$WORK/ours.log")
  "$PYTHON" bench/access_pysal.py --demand "$WORK/demand.csv" --supply "$WORK/supply.csv" \
    --ours-demand "$WORK/ours_demand.csv" --ours-supply "$WORK/ours_supply.csv" \
    --radius "$RADIUS" --decay "$DECAY" --repeat "$PYSAL_REPEAT" --ours-ms "$OURS_MS" \
    || status=1
done
if [ "$status" = 0 ]; then echo "PASS: every value agrees with PySAL"; else echo "FAIL"; fi
exit "$status"
