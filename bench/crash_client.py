#!/usr/bin/env python3
"""Writes to the laoxiao API until the server dies, recording what it acknowledged.

    crash_client.py write BASE TOKEN LOG [--workers 8] [--tag T]
        Several threads create facilities, update their own facilities and
        register elderly people through the bearer-token API. Before each
        request the intended content is appended to LOG as "sent"; after a 2xx
        answer as "ack". The threads stop when the server stops answering.

    crash_client.py check BASE TOKEN LOG
        After a restart: every acknowledged create is there, and every record's
        content is its last acknowledged one or a later one that was sent but
        not acknowledged (in flight when the server died). Prints a summary;
        exits 1 on any loss.

Standard library only, so CI needs nothing beyond python3.
"""

import http.client
import json
import random
import sys
import threading
import urllib.parse

# GB 11643 check character.
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_C = "10X98765432"


def id_number(area6, birth, seq3):
    first = f"{area6}{birth.replace('-', '')}{seq3:03d}"
    return first + _C[sum(int(d) * w for d, w in zip(first, _W)) % 11]


class Api:
    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port or 80
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        self.conn = None

    def call(self, method, path, body=None):
        """(status, json or None); raises OSError when the server is gone."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            self.conn.request(method, path, body=data, headers=self.headers)
            r = self.conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = None
            raise OSError(str(e)) from e
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, None


def write(base, token, log_path, workers, tag):
    lock = threading.Lock()
    log = open(log_path, "a", buffering=1)
    stop = threading.Event()
    counts = {"ack": 0, "refused": 0}

    def record(kind, entry):
        with lock:
            log.write(json.dumps(dict(entry, event=kind)) + "\n")

    def worker(w):
        api = Api(base, token)
        rnd = random.Random(f"{tag}-{w}")
        mine = []  # facility ids this worker created (only it updates them)
        n = 0
        while not stop.is_set():
            n += 1
            op = rnd.random()
            if op < 0.35 or not mine:
                fid = f"CR{tag}-{w}-{n}"
                body = {
                    "id": fid,
                    "name": f"崩溃测试养老院{tag}-{w}-{n}",
                    "kind": "elderly_institution",
                    "area_code": "330402007",
                    "beds": rnd.randint(10, 500),
                }
                entry = {"kind": "facility", "id": fid, "name": body["name"], "beds": body["beds"], "op": "create"}
                req = ("POST", "/api/facilities", body)
            elif op < 0.6:
                fid = rnd.choice(mine)
                body = {
                    "id": fid,
                    "name": f"崩溃测试养老院{tag}-{w}-{n}u",
                    "kind": "elderly_institution",
                    "area_code": "330402007",
                    "beds": rnd.randint(10, 500),
                }
                entry = {"kind": "facility", "id": fid, "name": body["name"], "beds": body["beds"], "op": "update"}
                req = ("PUT", f"/api/facilities/{fid}", body)
            else:
                pid = f"CP{tag}-{w}-{n}"
                # Born 1930-1950: a distinct (birth date, sequence) per request.
                k = rnd.randrange(0, 20 * 365)
                y, d = 1930 + k // 365, k % 365
                birth = f"{y:04d}-{1 + d // 31 % 12:02d}-{1 + d % 28:02d}"
                body = {
                    "id": pid,
                    "role": "elderly",
                    "id_number": id_number("330402", birth, rnd.randrange(1, 1000)),
                    "name": f"测试{w}号{n}",
                    "birth_date": birth,
                    "residence_area_code": "330402007",
                }
                entry = {"kind": "person", "id": pid, "name": body["name"], "op": "create"}
                req = ("POST", "/api/people", body)
            record("sent", entry)
            try:
                status, _ = api.call(*req)
            except OSError:
                stop.set()
                return
            if 200 <= status < 300:
                record("ack", entry)
                with lock:
                    counts["ack"] += 1
                if entry["kind"] == "facility" and entry["op"] == "create":
                    mine.append(entry["id"])
            elif status >= 500:
                # A 5xx before the crash is a failure of its own.
                record("error", dict(entry, status=status))
                with lock:
                    counts["refused"] += 1
            else:
                with lock:
                    counts["refused"] += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    print(f"acknowledged {counts['ack']} writes, {counts['refused']} refused")


def check(base, token, log_path):
    # Per record: the last acknowledged content, and every content sent after it.
    acked, later = {}, {}
    errors = 0
    with open(log_path) as f:
        for line in f:
            e = json.loads(line)
            key = (e["kind"], e["id"])
            content = (e["name"], e.get("beds"))
            if e["event"] == "sent":
                later.setdefault(key, []).append(content)
            elif e["event"] == "ack":
                acked[key] = content
                later[key] = []
            elif e["event"] == "error":
                errors += 1
                print(f"server error {e['status']} before the crash: {e['kind']} {e['id']}")
    api = Api(base, token)
    lost = 0
    for (kind, rid), want in acked.items():
        path = f"/api/{'facilities' if kind == 'facility' else 'people'}/{urllib.parse.quote(rid)}"
        status, body = api.call("GET", path)
        if status != 200:
            lost += 1
            print(f"LOST: {kind} {rid} was acknowledged but answers {status}")
            continue
        got = (body.get("name"), body.get("beds") if kind == "facility" else None)
        if got != want and got not in later.get((kind, rid), []):
            lost += 1
            print(f"LOST: {kind} {rid} holds {got}, acknowledged {want}")
    print(f"checked {len(acked)} acknowledged records: {lost} lost, {errors} server errors")
    return 1 if lost or errors else 0


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, base, token, log = args[:4]
    opts = dict(zip(args[4::2], args[5::2]))
    if cmd == "write":
        write(base, token, log, int(opts.get("--workers", 8)), opts.get("--tag", "x"))
    else:
        sys.exit(check(base, token, log))


if __name__ == "__main__":
    main()
