#!/usr/bin/env python3
"""Floating-catchment accessibility (2SFCA, E2SFCA): ours against PySAL `access`.

Install the dependencies first (any recent versions; checked with access 1.1,
pandas 2, numpy 2, scipy 1.17):

    pip install access pandas scipy

Reads the demand and supply CSV files given to our example
(`crates/laoxiao-spatial/examples/access_csv.rs`: `id,x,y,demand` and
`id,x,y,capacity`, projected metres) and its outputs (`id,x,y,demand,access`
and `id,x,y,capacity,ratio`), computes the same accessibility with PySAL's
`access.Access(...).two_stage_fca` (uniform: plain 2SFCA, `weight_fn=None`)
or `.enhanced_two_stage_fca` (with `access.weights.gaussian(sigma)` or
`access.weights.step_fn({...})`), `max_cost` = the radius, on a cost table of
the Euclidean distances of every demand-supply pair within the radius, and
compares every demand point's value (within 1e-9 relative; our empty value
must be PySAL's NaN, i.e. no supply in reach). Each supply point's ratio is
also compared with PySAL's own first stage (`access.fca.weighted_catchment`,
capacity divided by it; our empty ratio must be PySAL's missing or
non-finite one).

    python bench/access_pysal.py --demand D.csv --supply S.csv \
        --ours-demand OD.csv --ours-supply OS.csv --radius 1000 \
        --decay uniform|gaussian:500|step:300=1,600=0.68,1000=0.22 [--repeat 3]

Timing: the cost table (a cKDTree `sparse_distance_matrix` of the pairs a
hair beyond the radius, their distances recomputed as sqrt(dx*dx + dy*dy),
the formula of ours, and PySAL filters `cost <= max_cost`) is timed once;
PySAL's computation (building the `Access` object and the two-stage call) is
timed `--repeat` times and the median reported. File reading is not timed.
Exit status 1 on any mismatch.
"""

import argparse
import math
import statistics
import sys
import time

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

import access
from access import fca, weights

TOL = 1e-9


def parse_decay(text):
    """The decay text of ours (`uniform`, `gaussian:SIGMA`, `step:D=W,...`)
    as a PySAL weight function (None for uniform) and a label."""
    text = text.strip()
    if text == "uniform":
        return None
    kind, _, rest = text.partition(":")
    if kind == "gaussian":
        return weights.gaussian(float(rest))
    if kind == "step":
        steps = {}
        for part in rest.split(","):
            d, _, w = part.partition("=")
            steps[float(d)] = float(w)
        return weights.step_fn(steps)
    sys.exit(f"unknown decay {text!r}")


def cost_table(demand, supply, radius):
    """Every (demand id, supply id, distance) with the distance a hair
    beyond the radius at most; PySAL's `max_cost` does the exact cut."""
    dxy = demand[["x", "y"]].to_numpy(dtype=float)
    sxy = supply[["x", "y"]].to_numpy(dtype=float)
    pad = radius * (1 + 1e-9) + 1e-9
    pairs = cKDTree(dxy).sparse_distance_matrix(
        cKDTree(sxy), pad, output_type="ndarray"
    )
    i = pairs["i"].astype(np.int64)
    j = pairs["j"].astype(np.int64)
    dx = dxy[i, 0] - sxy[j, 0]
    dy = dxy[i, 1] - sxy[j, 1]
    dist = np.sqrt(dx * dx + dy * dy)
    return pd.DataFrame(
        {
            "origin": demand["id"].to_numpy()[i],
            "dest": supply["id"].to_numpy()[j],
            "cost": dist,
        }
    )


def run_pysal(demand, supply, costs, radius, weight_fn):
    a = access.Access(
        demand_df=demand[["id", "demand"]].rename(columns={"id": "demand_id"}),
        demand_index="demand_id",
        demand_value="demand",
        supply_df=supply[["id", "capacity"]].rename(columns={"id": "supply_id"}),
        supply_index="supply_id",
        supply_value="capacity",
        cost_df=costs,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    if weight_fn is None:
        out = a.two_stage_fca(name="fca", max_cost=radius)
    else:
        out = a.enhanced_two_stage_fca(name="fca", max_cost=radius, weight_fn=weight_fn)
    return out["fca_capacity"]


def pysal_ratios(demand, supply, costs, radius, weight_fn):
    """PySAL's first stage, as `fca.two_stage_fca` computes it: the weighted
    demand in reach of each supply point, and capacity divided by it."""
    ddf = demand[["id", "demand"]].rename(columns={"id": "demand_id"})
    ddf = ddf.set_index("demand_id")
    total = fca.weighted_catchment(
        ddf,
        costs,
        radius,
        cost_source="origin",
        cost_dest="dest",
        cost_cost="cost",
        loc_index="demand_id",
        loc_value="demand",
        weight_fn=weight_fn,
    )
    cap = supply.set_index("id")["capacity"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return cap.loc[total.index] / total


def rel_diff(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def compare(ours, theirs, what, max_show=10):
    """`ours`: id -> float or None; `theirs`: id -> float (NaN, inf or
    missing where undefined). Returns (rows, max relative difference,
    mismatches)."""
    worst = 0.0
    bad = 0
    for key, mine in ours.items():
        other = theirs.get(key, math.nan)
        other_defined = other is not None and math.isfinite(other)
        if mine is None:
            ok = not other_defined
        elif not other_defined:
            ok = False
        else:
            d = rel_diff(mine, other)
            worst = max(worst, d)
            ok = d <= TOL
        if not ok:
            bad += 1
            if bad <= max_show:
                print(f"  MISMATCH {what} {key}: ours {mine!r}, PySAL {other!r}")
    return len(ours), worst, bad


def read_ours(path, column):
    df = pd.read_csv(path, dtype={"id": str, column: str}, keep_default_na=False)
    return {
        k: (float(v) if v != "" else None) for k, v in zip(df["id"], df[column])
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--demand", required=True)
    p.add_argument("--supply", required=True)
    p.add_argument("--ours-demand", required=True)
    p.add_argument("--ours-supply", required=True)
    p.add_argument("--radius", type=float, required=True)
    p.add_argument("--decay", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--ours-ms", type=float, help="our median ms, for the summary")
    args = p.parse_args()

    demand = pd.read_csv(args.demand, dtype={"id": str})
    supply = pd.read_csv(args.supply, dtype={"id": str})
    weight_fn = parse_decay(args.decay)

    t = time.perf_counter()
    costs = cost_table(demand, supply, args.radius)
    cost_ms = (time.perf_counter() - t) * 1000

    times = []
    result = None
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        result = run_pysal(demand, supply, costs, args.radius, weight_fn)
        times.append((time.perf_counter() - t) * 1000)
    pysal_ms = statistics.median(times)

    theirs = {k: float(v) for k, v in result.items()}
    ours = read_ours(args.ours_demand, "access")
    if len(ours) != len(demand):
        print(f"ours has {len(ours)} demand rows, the input {len(demand)}")
        return 1
    n, worst, bad = compare(ours, theirs, "demand")

    ratios = pysal_ratios(demand, supply, costs, args.radius, weight_fn)
    theirs_r = {k: float(v) for k, v in ratios.items()}
    ours_r = read_ours(args.ours_supply, "ratio")
    nr, worst_r, bad_r = compare(ours_r, theirs_r, "supply")

    in_reach = int((costs["cost"] <= args.radius).sum())
    none = sum(v is None for v in ours.values())
    print(
        f"decay {args.decay}, radius {args.radius:g} m: {len(demand)} demand, "
        f"{len(supply)} supply, {in_reach} pairs in reach"
    )
    print(
        f"  demand values compared {n} ({none} without supply in reach): "
        f"max relative difference {worst:.3g}, mismatches {bad}"
    )
    print(
        f"  supply ratios compared {nr}: max relative difference {worst_r:.3g}, "
        f"mismatches {bad_r}"
    )
    ours_txt = f"ours {args.ours_ms:.3f} ms; " if args.ours_ms is not None else ""
    print(
        f"  time: {ours_txt}PySAL {pysal_ms:.1f} ms (median of {len(times)}), "
        f"distance table {cost_ms:.1f} ms"
    )
    return 1 if bad or bad_r else 0


if __name__ == "__main__":
    sys.exit(main())
