#!/usr/bin/env python3
"""A city's morning of childcare check-ins (入园晨检) against a running laoxiao.

    childcare_day_client.py run BASE --children FILE --tokens FILE
                            [--window 60] [--seed 1] [--connections 256]
                            [--today YYYY-MM-DD] [--json OUT]

FILE for --children: one child a line, `ENROLMENT_ID|FACILITY_ID|PICKUP_ID`
(what `sqlite3` prints for the three columns). FILE for --tokens: one
institution a line, `FACILITY_ID TOKEN` (the bearer token of that
institution's own operator; only they may check its children in).

Each child gets an arrival offset drawn uniformly from [0, WINDOW) seconds
(a seeded RNG, --seed): the 30 minutes of a city's arrivals compressed into
WINDOW seconds of wall time. One asyncio task per child sleeps until its
arrival, then posts `POST /api/childcare/enrolments/{id}/check-in` with
`{"pickup_id", "temperature", "morning_check": "normal"}` and its
institution's token, over one shared connection pool (--connections).

- 200: checked in; its latency (from sending to the whole answer read) counts.
- 422 naming `recheck_date`: the child has been away more than 3 months (the
  enrolment began long ago and it has no attendance since); the request is
  sent once more with `recheck_date` = today and only that second request is
  timed. Counted as `rechecks`.
- 409: checked in already; counted apart (the caller leaves those out).
- Anything else, or a failed connection: an error.

Prints the children, the window, the rate achieved (check-ins per second from
the first arrival to the last answer), p50/p90/p99/max latency in ms, how late
the client sent (its own lag behind the schedule, to show it kept up), errors
and rechecks; exit status 1 on any error.
"""

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import date

import aiohttp


def percentile(xs, p):
    """Nearest rank."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(1, -(-len(xs) * p // 100))  # ceil(n p / 100)
    return xs[min(len(xs), int(k)) - 1]


def read_children(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            eid, fid, pid = line.split("|")
            out.append((eid, fid, pid))
    return out


def read_tokens(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = parts[1]
    return out


async def run(a):
    children = read_children(a.children)
    tokens = read_tokens(a.tokens)
    today = a.today or date.today().isoformat()
    base = a.base.rstrip("/")
    rng = random.Random(a.seed)
    arrivals = sorted((rng.uniform(0, a.window), c) for c in children)

    lat, lag, errors = [], [], {}
    rechecks, conflicts, ok = 0, 0, 0
    first_answer = last_answer = None
    shown = 0

    def err(key, detail=""):
        nonlocal shown
        errors[key] = errors.get(key, 0) + 1
        if shown < 5:
            shown += 1
            print(f"  error {key} {detail}"[:300], file=sys.stderr)

    async def post(session, eid, headers, body):
        t0 = time.perf_counter()
        async with session.post(
            f"{base}/api/childcare/enrolments/{eid}/check-in", data=json.dumps(body), headers=headers
        ) as r:
            text = await r.read()
        return r.status, text, (time.perf_counter() - t0) * 1000

    async def one(session, start, at, child):
        nonlocal rechecks, conflicts, ok, last_answer
        eid, fid, pid = child
        token = tokens.get(fid)
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, (time.perf_counter() - start - at) * 1000))
        if token is None:
            err("no_token", fid)
            return
        headers = {"content-type": "application/json", "Authorization": f"Bearer {token}"}
        body = {"pickup_id": pid, "temperature": round(36.0 + rng_t.random(), 1), "morning_check": "normal"}
        try:
            status, text, dt = await post(session, eid, headers, body)
            if status == 422 and needs_recheck(text):
                rechecks += 1
                body["recheck_date"] = today
                status, text, dt = await post(session, eid, headers, body)
            if status == 200:
                ok += 1
                lat.append(dt)
            elif status == 409:
                conflicts += 1
            else:
                err(str(status), f"{eid}: {text[:200]!r}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            err(type(e).__name__, f"{eid}: {e}")
        last_answer = time.perf_counter()

    rng_t = random.Random(a.seed + 1)
    conn = aiohttp.TCPConnector(limit=a.connections)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(session, start, at, c) for at, c in arrivals))
    first = start + (arrivals[0][0] if arrivals else 0)
    elapsed = (last_answer - first) if last_answer else 0.0

    result = {
        "children": len(children),
        "institutions": len(tokens),
        "window_s": a.window,
        "checked_in": ok,
        "seconds": round(elapsed, 3),
        "per_s": round(ok / elapsed, 1) if elapsed else 0,
        "offered_per_s": round(len(children) / a.window, 1) if a.window else 0,
        "p50_ms": round(percentile(lat, 50), 2),
        "p90_ms": round(percentile(lat, 90), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(max(lat), 2) if lat else None,
        "lag_p99_ms": round(percentile(lag, 99), 2),
        "lag_max_ms": round(max(lag), 2) if lag else None,
        "errors": errors,
        "error_count": sum(errors.values()),
        "rechecks": rechecks,
        "conflicts": conflicts,
        "connections": a.connections,
        "seed": a.seed,
    }
    print(
        f"{len(children)} children of {len(tokens)} institutions in a {a.window:g} s window "
        f"(offered {result['offered_per_s']}/s): {ok} checked in in {elapsed:.1f} s, "
        f"{result['per_s']}/s; latency ms p50 {result['p50_ms']} p90 {result['p90_ms']} "
        f"p99 {result['p99_ms']} max {result['max_ms']}; client lag p99 {result['lag_p99_ms']} ms "
        f"max {result['lag_max_ms']} ms; rechecks {rechecks}, already in {conflicts}, "
        f"errors {result['error_count']} {errors or ''}"
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f)
    return 0 if not errors else 1


def needs_recheck(text):
    try:
        j = json.loads(text)
    except ValueError:
        return False
    details = (j.get("error") or {}).get("details") or []
    return any(d.get("field") == "recheck_date" for d in details)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("run")
    q.add_argument("base")
    q.add_argument("--children", required=True)
    q.add_argument("--tokens", required=True)
    q.add_argument("--window", type=float, default=60)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--connections", type=int, default=256)
    q.add_argument("--today", help="the server's date (default: this machine's)")
    q.add_argument("--json")
    a = p.parse_args()
    if a.window <= 0:
        p.error("--window must be above 0")
    sys.exit(asyncio.run(run(a)))


if __name__ == "__main__":
    main()
