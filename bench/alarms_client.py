#!/usr/bin/env python3
"""Alarm intake load and live-page timing against a running laoxiao.

    alarms_client.py post BASE --platform P --secret S --devices PREFIX:N
                     [--concurrency 32] (--duration 20 | --count N)
                     [--event-prefix RUN] [--json OUT] [--events-out FILE]
    alarms_client.py repeat BASE --platform P --secret S --events FILE [--n 500]
    alarms_client.py pages BASE --user U --password P [--token T] [--n 30]
                     [--json OUT]

`post`: CONCURRENCY connections (one coroutine each) post signed events
(X-Laoxiao-Platform, X-Laoxiao-Timestamp, X-Laoxiao-Signature = hex
HMAC-SHA256 of `timestamp + "\\n" + body` under the secret), each with a new
event id (EVENT_PREFIX-000001, …) and a device picked at random among
PREFIX00000 … PREFIX{N-1} (the demo's are DEMO-00000 …), for DURATION seconds
or until COUNT events were posted. Anything but 201 is an error (429s are
counted apart). Prints the sustained rate (new alarms per second over the
posting phase), p50/p90/p99/max latency in ms of the 201s, and errors; exit
status 1 on any error. --events-out writes each event (body, alarm id).

`repeat`: N of those events posted again (the same body, a fresh timestamp and
signature): each must answer 200 with the alarm id the first post got and
`"created": false`.

`pages`: logs in to the console (CSRF form) and times, sequentially, N
requests each of the live page `/console/alarms` (full page) and its htmx
table fragment (the same URL with `HX-Request: true`, what the page polls
every 5 s); with --token also `GET /api/alarms?limit=200`. Prints median,
p99 and max in ms and the page's alarm count.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import re
import sys
import time
from datetime import datetime, timezone

import aiohttp


def percentile(xs, p):
    """Nearest rank."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(1, -(-len(xs) * p // 100))  # ceil(n p / 100)
    return xs[min(len(xs), int(k)) - 1]


def median(xs):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def signed(secret, platform, body):
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "X-Laoxiao-Platform": platform,
        "X-Laoxiao-Timestamp": ts,
        "X-Laoxiao-Signature": sig,
    }


async def post_events(a):
    prefix, _, n = a.devices.rpartition(":")
    devices = [f"{prefix}{i:05d}" for i in range(int(n))]
    url = a.base.rstrip("/") + "/api/alarms/events"
    lat, errors, limited = [], {}, 0
    made = {}  # event id -> (body, alarm id)
    counter = 0
    stop_at = time.monotonic() + a.duration if a.duration else None

    def next_event():
        nonlocal counter
        if a.count and counter >= a.count:
            return None
        if stop_at and time.monotonic() >= stop_at:
            return None
        counter += 1
        return f"{a.event_prefix}-{counter:07d}"

    def err(key):
        errors[key] = errors.get(key, 0) + 1

    async def worker(session):
        nonlocal limited
        while (eid := next_event()) is not None:
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = json.dumps(
                {"event_id": eid, "device_id": random.choice(devices), "occurred_at": now},
                separators=(",", ":"),
            ).encode()
            t0 = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=signed(a.secret, a.platform, body)) as r:
                    text = await r.read()
                    dt = (time.perf_counter() - t0) * 1000
                    if r.status == 201:
                        lat.append(dt)
                        made[eid] = (body, json.loads(text)["alarm_id"])
                    elif r.status == 429:
                        limited += 1
                        err("429")
                    else:
                        err(str(r.status))
                        if len(errors) <= 3:
                            print(f"  {eid}: {r.status} {text[:200]!r}", file=sys.stderr)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                err(type(e).__name__)

    conn = aiohttp.TCPConnector(limit=a.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(a.concurrency)))
        elapsed = time.perf_counter() - t0

    created = len(made)
    ids = {v[1] for v in made.values()}
    result = {
        "posted": counter,
        "created": created,
        "distinct_alarm_ids": len(ids),
        "seconds": round(elapsed, 3),
        "alarms_per_s": round(created / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(lat, 50), 2),
        "p90_ms": round(percentile(lat, 90), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(max(lat), 2) if lat else None,
        "errors": errors,
        "rate_limited": limited,
        "concurrency": a.concurrency,
    }
    print(
        f"posted {counter} events in {elapsed:.1f} s at concurrency {a.concurrency}: "
        f"{created} alarms, {result['alarms_per_s']} alarms/s; latency ms p50 {result['p50_ms']} "
        f"p90 {result['p90_ms']} p99 {result['p99_ms']} max {result['max_ms']}; "
        f"errors {sum(errors.values())} {errors or ''}"
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f)
    if a.events_out:
        with open(a.events_out, "w") as f:
            for eid, (body, alarm_id) in made.items():
                f.write(json.dumps({"event_id": eid, "body": body.decode(), "alarm_id": alarm_id}) + "\n")
    ok = not errors and len(ids) == created
    return 0 if ok else 1


async def repeat_events(a):
    """Posts a sample of earlier events again: each must answer 200, its alarm, created false."""
    url = a.base.rstrip("/") + "/api/alarms/events"
    with open(a.events) as f:
        made = [json.loads(line) for line in f]
    sample = random.sample(made, min(a.n, len(made)))
    ok, bad = 0, 0

    async def one(session, items):
        nonlocal ok, bad
        for e in items:
            body = e["body"].encode()
            async with session.post(url, data=body, headers=signed(a.secret, a.platform, body)) as r:
                j = await r.json(content_type=None)
                if r.status == 200 and j.get("alarm_id") == e["alarm_id"] and j.get("created") is False:
                    ok += 1
                else:
                    bad += 1
                    if bad <= 3:
                        print(f"  repeat {e['event_id']}: {r.status} {j}", file=sys.stderr)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(one(session, sample[i::8]) for i in range(8)))
    print(f"repeated {len(sample)} events: {ok} answered 200 with their alarm (created false), {bad} did not")
    return 0 if bad == 0 and ok == len(sample) else 1


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


async def time_pages(a):
    base = a.base.rstrip("/")
    jar = aiohttp.CookieJar(unsafe=True)
    out = {}
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60)) as s:
        await login(s, base, a.user, a.password)
        targets = [
            ("page", "/console/alarms", {}),
            ("fragment", "/console/alarms", {"HX-Request": "true"}),
        ]
        if a.token:
            targets.append(("api", "/api/alarms?limit=200", {"Authorization": f"Bearer {a.token}"}))
        count_text = ""
        for name, path, headers in targets:
            # One request first (not counted): the first read after intake may escalate.
            async with s.get(base + path, headers=headers) as r:
                body = await r.text()
                if r.status != 200:
                    raise SystemExit(f"{path} answered {r.status}")
            if name == "page":
                m = re.search(r'id="alarm-count"[^>]*>([^<]*)', body)
                count_text = m.group(1).strip() if m else "?"
            xs = []
            for _ in range(a.n):
                t0 = time.perf_counter()
                async with s.get(base + path, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        raise SystemExit(f"{path} answered {r.status}")
                xs.append((time.perf_counter() - t0) * 1000)
            out[name] = {
                "median_ms": round(median(xs), 1),
                "p99_ms": round(percentile(xs, 99), 1),
                "max_ms": round(max(xs), 1),
            }
            print(
                f"  {name:8} {path}{' (HX-Request)' if name == 'fragment' else ''}: "
                f"median {out[name]['median_ms']} ms, p99 {out[name]['p99_ms']} ms, max {out[name]['max_ms']} ms ({a.n} requests)"
            )
        out["count_text"] = count_text
        print(f"  the page says: {count_text}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("post")
    q.add_argument("base")
    q.add_argument("--platform", required=True)
    q.add_argument("--secret", required=True)
    q.add_argument("--devices", required=True, help="PREFIX:N, e.g. DEMO-:1000")
    q.add_argument("--concurrency", type=int, default=32)
    q.add_argument("--duration", type=float, default=0)
    q.add_argument("--count", type=int, default=0)
    q.add_argument("--event-prefix", default=f"BENCH{int(time.time())}")
    q.add_argument("--json")
    q.add_argument("--events-out")
    r = sub.add_parser("repeat")
    r.add_argument("base")
    r.add_argument("--platform", required=True)
    r.add_argument("--secret", required=True)
    r.add_argument("--events", required=True)
    r.add_argument("--n", type=int, default=500)
    g = sub.add_parser("pages")
    g.add_argument("base")
    g.add_argument("--user", required=True)
    g.add_argument("--password", required=True)
    g.add_argument("--token")
    g.add_argument("--n", type=int, default=30)
    g.add_argument("--json")
    a = p.parse_args()
    if a.cmd == "post":
        if not (a.duration or a.count):
            p.error("post needs --duration or --count")
        sys.exit(asyncio.run(post_events(a)))
    if a.cmd == "repeat":
        sys.exit(asyncio.run(repeat_events(a)))
    sys.exit(asyncio.run(time_pages(a)))


if __name__ == "__main__":
    main()
