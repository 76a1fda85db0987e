#!/usr/bin/env python3
"""Solve the same maximal covering location problem (MCLP) as
`cargo run --release -p laoxiao-spatial --example siting_csv` with PySAL's
spopt (`spopt.locate.MCLP`, exact: pulp's bundled CBC), time it, and check
that its objective (the weight covered) equals ours.

Install the dependencies with

    pip install spopt pulp

(pulp ships a CBC binary; numpy comes with spopt.)

Usage:

    python bench/siting_spopt.py --demand demand.csv --candidates candidates.csv \\
        --k 10 --ours ours.json [--time-limit 3600]

`demand.csv` has the header `id,x,y,weight,radius`, `candidates.csv`
`id,x,y` (projected metres); `ours.json` is siting_csv's output. Prints a
JSON report; exits 1 when the objectives differ by more than 1e-6 relative
(or spopt did not reach an optimum), 2 on bad input.
"""

import argparse
import csv
import json
import sys
import time

import numpy as np


def read(path, cols):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    ids = [r["id"] for r in rows]
    return ids, {c: np.array([float(r[c]) for r in rows]) for c in cols}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demand", required=True)
    ap.add_argument("--candidates", required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--ours", required=True, help="siting_csv's JSON output")
    ap.add_argument("--time-limit", type=float, default=None, help="CBC seconds")
    a = ap.parse_args()

    import pulp
    from spopt.locate import MCLP

    _, dem = read(a.demand, ["x", "y", "weight", "radius"])
    cand_ids, cand = read(a.candidates, ["x", "y"])
    with open(a.ours, encoding="utf-8") as f:
        ours = json.load(f)

    # Our demand is cleaned the same way: weights that are not finite or are
    # negative count as nothing, as do points or radii that are not finite.
    w = np.where(np.isfinite(dem["weight"]) & (dem["weight"] > 0), dem["weight"], 0.0)
    ok = (np.isfinite(dem["x"]) & np.isfinite(dem["y"])
          & np.isfinite(dem["radius"]) & (dem["radius"] > 0) & (w > 0))
    dx, dy, r, w = dem["x"][ok], dem["y"][ok], dem["radius"][ok], w[ok]

    # Each demand has its own threshold r_i (500 m or 1,000 m by density)
    # but spopt's MCLP takes one service radius S and covers i from j when
    # cost_ij <= S. Giving it the cost d_ij / r_i with S = 1.0 makes that
    # test d_ij / r_i <= 1, i.e. d_ij <= r_i: the same coverage sets as ours
    # (inclusive), with one radius for all.
    t0 = time.perf_counter()
    cost = np.sqrt((dx[:, None] - cand["x"][None, :]) ** 2
                   + (dy[:, None] - cand["y"][None, :]) ** 2) / r[:, None]
    t_matrix = time.perf_counter() - t0

    k = min(a.k, len(cand_ids))
    t0 = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, w, service_radius=1.0, p_facilities=k)
    t_model = time.perf_counter() - t0

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=a.time_limit)
    t0 = time.perf_counter()
    model = model.solve(solver, results=False)
    t_solve = time.perf_counter() - t0

    status = pulp.LpStatus[model.problem.status]
    theirs = float(pulp.value(model.problem.objective) or 0.0)
    chosen = [cand_ids[j] for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]

    # Our sites' coverage, worked out here from the matrix.
    index = {c: j for j, c in enumerate(cand_ids)}
    our_cols = [index[s["id"]] for s in ours["sites"]]
    ours_here = float(w[(cost[:, our_cols] <= 1.0).any(axis=1)].sum()) if our_cols else 0.0

    def close(x, y):
        return abs(x - y) <= 1e-6 * max(abs(x), abs(y), 1.0)

    agree = close(theirs, ours["covered"]) and close(ours_here, ours["covered"])
    report = {
        "demand": int(ok.sum()),
        "candidates": len(cand_ids),
        "k": k,
        "spopt_status": status,
        "spopt_covered": theirs,
        "spopt_sites": chosen,
        "spopt_matrix_s": round(t_matrix, 3),
        "spopt_model_build_s": round(t_model, 3),
        "spopt_solve_s": round(t_solve, 3),
        "ours_covered": ours["covered"],
        "ours_covered_rechecked": ours_here,
        "ours_upper_bound": ours["upper_bound"],
        "ours_gap": ours["gap"],
        "ours_optimal": ours["optimal"],
        "ours_nodes": ours["nodes"],
        "ours_median_ms": ours["median_ms"],
        "ours_sites": [s["id"] for s in ours["sites"]],
        "agree": agree,
    }
    print(json.dumps(report, indent=2))
    if status != "Optimal" or not agree:
        print("MISMATCH: spopt %.6f (%s), ours %.6f (rechecked %.6f)"
              % (theirs, status, ours["covered"], ours_here), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
