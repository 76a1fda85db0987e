#!/usr/bin/env python3
"""Mixed load against a running laoxiao, with per-route latency figures.

    load_client.py BASE --token T --user U --password P [--connections 50]
                   [--duration 600] [--warmup 60] [--pid PID] [--json OUT]

Logs in to the console (session cookie and CSRF token) for the pages and uses
the bearer token for the API. 50 connections (one coroutine each) loop over a
weighted mix: overview pages, lists, list filters, name searches, detail pages
of people and facilities, API lists, and API writes (facilities created and
updated, people registered and updated, all by the API's CSRF-free bearer
path). Every answer that is not 2xx/3xx, and every socket error or timeout,
counts as an error.

Prints per route group: requests, errors, p50 and p99 in ms; then totals, and
the server's RSS (VmRSS of --pid) after the warm-up and at the end. Exit
status 1 if there was any error.
"""

import argparse
import asyncio
import json
import random
import re
import sys
import time

import aiohttp

# (group, weight, kind): kind is "page", "api" or a write.
ROUTES = [
    ("overview", 6, "page", lambda c: random.choice(["/", "/?area=330402", "/?area=330402007", "/?figure=slots_per_1000"])),
    ("list", 8, "page", lambda c: random.choice(["/console/facilities", "/console/elderly", "/console/infants"])),
    ("filter", 8, "page", lambda c: random.choice([
        "/console/elderly?age=80_89",
        "/console/elderly?area=330402&age=90_plus",
        "/console/elderly?ability_level=4",
        "/console/elderly?living_arrangement=living_alone&age=80_89",
        "/console/facilities?kind=elderly_institution&area=330481",
        "/console/infants?age=0&area=330481",
    ])),
    ("search", 5, "page", lambda c: random.choice([
        "/console/elderly?q=%E7%8E%8B", "/console/elderly?q=%E6%9D%8E%E5%BB%BA",
        "/console/facilities?q=%E5%B1%85%E5%AE%B6", "/console/infants?q=%E5%BC%A0",
    ])),
    ("person_detail", 10, "page", lambda c: "/console/people/" + random.choice(c.people)),
    ("facility_detail", 6, "page", lambda c: "/console/facilities/" + random.choice(c.facilities)),
    ("api_list", 8, "api", lambda c: random.choice([
        "/api/facilities?limit=50",
        "/api/people?role=elderly&limit=50",
        "/api/people?limit=50&area=330424",
        "/api/people?role=elderly&min_age=80&limit=50",
    ])),
    ("api_detail", 6, "api", lambda c: random.choice([
        "/api/people/" + random.choice(c.people), "/api/facilities/" + random.choice(c.facilities)])),
    ("write_facility", 3, "write_facility", None),
    ("write_person", 3, "write_person", None),
]

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_C = "10X98765432"


def id_number(area6, birth, seq3):
    first = f"{area6}{birth.replace('-', '')}{seq3:03d}"
    return first + _C[sum(int(d) * w for d, w in zip(first, _W)) % 11]


class Ctx:
    def __init__(self, base, token, tag):
        self.base = base
        self.api_headers = {"Authorization": f"Bearer {token}"}
        self.people, self.facilities = [], []
        self.tag = tag
        self.n = 0
        self.mine_facilities, self.mine_people = [], []
        # Writes register people born on distinct days with this run's own
        # address code, so they never collide with the synthetic city.
        # A random start, so that runs against a reused database do not repeat
        # the previous run's numbers (25 years × 999 sequence codes per day).
        self.birth_day = random.randrange(0, 25 * 365 * 999 - 1_000_000)


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def login(session, base, user, password):
    async with session.get(base + "/console/login") as r:
        html = await r.text()
    m = re.search(r'name="_csrf" value="([^"]*)"', html)
    if not m:
        raise SystemExit("no CSRF token on the login page")
    form = {"_csrf": m.group(1), "username": user, "password": password}
    async with session.post(base + "/console/login", data=form, allow_redirects=False) as r:
        if r.status not in (302, 303):
            raise SystemExit(f"login answered {r.status}")


async def one_write(ctx, session, kind):
    ctx.n += 1
    n = ctx.n
    h = ctx.api_headers
    if kind == "write_facility":
        if ctx.mine_facilities and random.random() < 0.5:
            fid = random.choice(ctx.mine_facilities)
            body = {"id": fid, "name": f"压测养老院{ctx.tag}-{n}", "kind": "elderly_institution",
                    "area_code": "330402007", "beds": random.randint(10, 400)}
            return "PUT", f"/api/facilities/{fid}", body, h, None
        fid = f"LOAD{ctx.tag}-{n}"
        body = {"id": fid, "name": f"压测养老院{ctx.tag}-{n}", "kind": "elderly_institution",
                "area_code": "330402007", "beds": random.randint(10, 400)}
        return "POST", "/api/facilities", body, h, ("f", fid)
    if ctx.mine_people and random.random() < 0.5:
        pid, body = random.choice(ctx.mine_people)
        body = dict(body, name=f"压测{n}")
        return "PUT", f"/api/people/{pid}", body, h, None
    ctx.birth_day += 1
    d = ctx.birth_day
    # Each (birth date, sequence) once: 1000 sequences per day from 1935 on.
    day, seq = divmod(d, 999)
    t = time.gmtime(time.mktime((1935, 1, 1, 12, 0, 0, 0, 0, 0)) + day * 86400)
    birth = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    pid = f"LOADP{ctx.tag}-{n}"
    body = {"id": pid, "role": "elderly", "id_number": id_number(ctx.area6, birth, seq + 1),
            "name": f"压测{n}", "birth_date": birth, "residence_area_code": "330402007"}
    return "POST", "/api/people", body, h, ("p", pid, body)


async def worker(ctx, session, deadline, warm_until, stats, weights):
    groups = [r for r in ROUTES]
    while time.monotonic() < deadline:
        group, _, kind, path_fn = random.choices(groups, weights=weights)[0]
        made = None
        if kind.startswith("write"):
            method, path, body, headers, made = await one_write(ctx, session, kind)
        else:
            method, path, body = "GET", path_fn(ctx), None
            headers = ctx.api_headers if kind == "api" else None
        t0 = time.monotonic()
        ok = False
        status = "socket"
        try:
            async with session.request(method, ctx.base + path, json=body, headers=headers,
                                       allow_redirects=False) as r:
                await r.read()
                status = r.status
                ok = 200 <= r.status < 400
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            status = type(e).__name__
        dt = (time.monotonic() - t0) * 1000
        s = stats.setdefault(group, {"n": 0, "err": 0, "lat": [], "errs": {}})
        s["n"] += 1
        if t0 >= warm_until:
            s["lat"].append(dt)
        if not ok:
            s["err"] += 1
            key = f"{method} {path.split('?')[0]} → {status}"
            s["errs"][key] = s["errs"].get(key, 0) + 1
        elif made:
            if made[0] == "f":
                ctx.mine_facilities.append(made[1])
            else:
                ctx.mine_people.append((made[1], made[2]))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--token", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--json")
    ap.add_argument("--area6", default="110101",
                    help="address code of the writes' ID numbers (outside the synthetic city)")
    a = ap.parse_args()

    ctx = Ctx(a.base.rstrip("/"), a.token, format(int(time.time()) % 100000, "05d"))
    ctx.area6 = a.area6
    timeout = aiohttp.ClientTimeout(total=60)
    conn = aiohttp.TCPConnector(limit=a.connections, force_close=False)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout,
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await login(session, ctx.base, a.user, a.password)
        h = ctx.api_headers
        for path, into in [("/api/people?role=elderly&limit=200", ctx.people),
                           ("/api/people?role=infant&limit=100&area=330481", ctx.people),
                           ("/api/facilities?limit=200", ctx.facilities)]:
            async with session.get(ctx.base + path, headers=h) as r:
                if r.status != 200:
                    raise SystemExit(f"{path} answered {r.status}")
                into.extend(i["id"] for i in (await r.json())["items"])
        if not ctx.people or not ctx.facilities:
            raise SystemExit("the database holds no people or facilities to view")

        start = time.monotonic()
        warm_until = start + a.warmup
        deadline = start + a.duration
        stats = {}
        weights = [r[1] for r in ROUTES]
        rss = {}

        series = []

        async def sample():
            await asyncio.sleep(a.warmup)
            rss["warm"] = rss_kb(a.pid) if a.pid else None
            rss["warm_load"] = open("/proc/loadavg").read().split()[:3]

        async def every_30s():
            # The RSS over time: a plateau (caches filling) or a climb (a leak).
            while a.pid and time.monotonic() < deadline:
                series.append((round(time.monotonic() - start), rss_kb(a.pid)))
                await asyncio.sleep(30)

        tracker = asyncio.create_task(every_30s())

        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(worker(ctx, session, deadline, warm_until, stats, weights)
                               for _ in range(a.connections)))
        await sampler
        tracker.cancel()
        elapsed = time.monotonic() - start
        rss["end"] = rss_kb(a.pid) if a.pid else None

    total = sum(s["n"] for s in stats.values())
    errors = sum(s["err"] for s in stats.values())
    print(f"{'route group':<18} {'requests':>9} {'errors':>7} {'p50 ms':>9} {'p99 ms':>9}")
    rows = []
    for group, *_ in ROUTES:
        s = stats.get(group, {"n": 0, "err": 0, "lat": [], "errs": {}})
        p50, p99 = percentile(s["lat"], 50), percentile(s["lat"], 99)
        rows.append({"group": group, "requests": s["n"], "errors": s["err"], "p50_ms": p50, "p99_ms": p99})
        print(f"{group:<18} {s['n']:>9} {s['err']:>7} {p50:>9.1f} {p99:>9.1f}")
        for k, v in sorted(s["errs"].items(), key=lambda kv: -kv[1])[:5]:
            print(f"    {v} × {k}")
    load = open("/proc/loadavg").read().split()[:3]
    print(f"total: {total} requests in {elapsed:.0f} s ({total / elapsed:.1f}/s), {errors} errors, "
          f"{a.connections} connections, load average {' '.join(load)}")
    verdict = ""
    if rss.get("warm") and rss.get("end"):
        change = 100.0 * (rss["end"] - rss["warm"]) / rss["warm"]
        verdict = f"{change:+.1f} %"
        print(f"server RSS: {rss['warm'] / 1024:.1f} MiB after {a.warmup:.0f} s warm-up, "
              f"{rss['end'] / 1024:.1f} MiB at the end ({verdict})")
    if series:
        print("server RSS every 30 s (s: MiB): " + ", ".join(
            f"{t}: {kb / 1024:.0f}" for t, kb in series if kb))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"routes": rows, "total": total, "errors": errors, "seconds": elapsed,
                       "rss_warm_kb": rss.get("warm"), "rss_end_kb": rss.get("end"), "load": load}, f)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
