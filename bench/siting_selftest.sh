#!/usr/bin/env bash
# Self-test of facility siting (laoxiao-spatial's max_cover) against PySAL
# spopt's exact MCLP on a synthetic county-sized instance: about 20,000
# demand cells on a 100 m grid with clustered populations (radius 500 m in
# dense cells, 1,000 m elsewhere), 2,000 candidates, k = 10.
#
#   bench/siting_selftest.sh [WORKDIR]
#
# Environment: PYTHON (default /tmp/pysal-venv/bin/python; needs numpy,
# spopt, pulp: `pip install spopt pulp`), K (10), NDEMAND (20000),
# NCAND (2000), SEED (1), CARGO_TARGET_DIR as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/tmp/pysal-venv/bin/python}
K=${K:-10}
DIR=${1:-$(mktemp -d /tmp/siting-selftest.XXXXXX)}
mkdir -p "$DIR"

NDEMAND=${NDEMAND:-20000} NCAND=${NCAND:-2000} SEED=${SEED:-1} "$PY" - "$DIR" <<'PYEOF'
import os, sys
import numpy as np
out = sys.argv[1]
n, m, seed = int(os.environ["NDEMAND"]), int(os.environ["NCAND"]), int(os.environ["SEED"])
rng = np.random.default_rng(seed)
# A 30 km x 30 km county: towns of various sizes, population falling off
# from their centres; cells snap to a 100 m grid.
towns = rng.uniform(2_000, 28_000, size=(25, 2))
spread = rng.uniform(600, 2_500, size=25)
size = rng.pareto(1.5, size=25) + 1
cells = {}
while len(cells) < n:
    t = rng.choice(25, size=n, p=size / size.sum())
    p = towns[t] + rng.normal(size=(n, 2)) * spread[t, None]
    g = np.round(p / 100) * 100
    for (x, y), tt in zip(g, t):
        if len(cells) >= n:
            break
        if 0 <= x <= 30_000 and 0 <= y <= 30_000 and (x, y) not in cells:
            d = np.hypot(x - towns[tt, 0], y - towns[tt, 1]) / spread[tt]
            cells[(x, y)] = d
keys = list(cells)
dist = np.array([cells[c] for c in keys])
pop = np.maximum(1, np.round(rng.gamma(2.0, 40.0 * np.exp(-dist), size=len(keys))))
radius = np.where(dist < 1.0, 500, 1000)
with open(os.path.join(out, "demand.csv"), "w") as f:
    f.write("id,x,y,weight,radius\n")
    for i, ((x, y), w, r) in enumerate(zip(keys, pop, radius)):
        f.write(f"d{i},{x:.0f},{y:.0f},{w:.0f},{r}\n")
# Candidates: most near people (vacant plots in towns), some anywhere.
near = rng.choice(len(keys), size=m * 3 // 4)
pts = np.array(keys)[near] + rng.normal(size=(len(near), 2)) * 300
pts = np.vstack([pts, rng.uniform(0, 30_000, size=(m - len(near), 2))])
with open(os.path.join(out, "candidates.csv"), "w") as f:
    f.write("id,x,y\n")
    for j, (x, y) in enumerate(pts):
        f.write(f"c{j},{x:.1f},{y:.1f}\n")
print(f"instance: {len(keys)} demand cells (population {pop.sum():.0f}), {m} candidates", file=sys.stderr)
PYEOF

cargo build --release -q -p laoxiao-spatial --example siting_csv
BIN=${CARGO_TARGET_DIR:-target}/release/examples/siting_csv
"$BIN" --demand "$DIR/demand.csv" --candidates "$DIR/candidates.csv" --k "$K" --repeat 5 >"$DIR/ours.json"
echo "ours: $(tr -d '\n ' <"$DIR/ours.json" | head -c 400)" >&2
"$PY" bench/siting_spopt.py --demand "$DIR/demand.csv" --candidates "$DIR/candidates.csv" \
    --k "$K" --ours "$DIR/ours.json" | tee "$DIR/report.json"
