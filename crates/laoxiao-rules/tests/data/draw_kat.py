#!/usr/bin/env python3
"""Known-answer vectors for the inspection draw (laoxiao_rules::inspections::draw),
computed independently of the Rust code from the construction in
docs/inspections.md with nothing but hashlib. Run:

    python3 draw_kat.py > draw_kat.json
"""
import hashlib
import json

FORMAT = "laoxiao-draw/1"


def canonical(r):
    s = f"{FORMAT}\nplan\t{r['plan_id']}\nfacilities_to_draw\t{r['facilities_to_draw']}\n"
    s += f"inspectors_per_inspection\t{r['inspectors_per_inspection']}\n"
    for tag, key in (("F", "facilities"), ("U", "unplanned"), ("I", "inspectors")):
        for e in r[key]:
            s += f"{tag}\t{e['id']}\t{e['town']}\n"
    for p in r["previous"]:
        s += f"P\t{p['facility_id']}\t{p['inspector_id']}\n"
    return s


class Stream:
    def __init__(self, seed, digest):
        self.key = seed + digest
        self.counter = 0
        self.buf = []

    def word(self):
        if not self.buf:
            block = hashlib.sha256(self.key + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
            self.buf = [int.from_bytes(block[i:i + 8], "big") for i in range(0, 32, 8)]
        return self.buf.pop(0)

    def index(self, n):
        zone = (2 ** 64 // n) * n
        while True:
            x = self.word()
            if x < zone:
                return x % n

    def pick(self, items, k):
        v = list(items)
        k = min(k, len(v))
        for i in range(k):
            j = i + self.index(len(v) - i)
            v[i], v[j] = v[j], v[i]
        return v[:k]


def draw(seed_hex, r):
    seed = bytes.fromhex(seed_hex)
    digest = hashlib.sha256(canonical(r).encode()).digest()
    s = Stream(seed, digest)
    drawn = s.pick(r["facilities"], r["facilities_to_draw"])
    ids = {e["id"] for e in drawn}
    targets = [(e, "random") for e in drawn]
    targets += [(e, "unplanned") for e in r["unplanned"] if e["id"] not in ids]
    prev = {(p["facility_id"], p["inspector_id"]) for p in r["previous"]}
    out = []
    for f, kind in targets:
        eligible = [i for i in r["inspectors"]
                    if not ((f["town"] and f["town"] == i["town"]) or (f["id"], i["id"]) in prev)]
        chosen = s.pick(eligible, r["inspectors_per_inspection"])
        out.append({"facility_id": f["id"], "kind": kind, "inspectors": [i["id"] for i in chosen]})
    return out


def case(seed_hex, r):
    digest = hashlib.sha256(canonical(r).encode()).hexdigest()
    s = Stream(bytes.fromhex(seed_hex), bytes.fromhex(digest))
    return {
        "seed": seed_hex,
        "commit": hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest(),
        "roster": r,
        "canonical_text": canonical(r),
        "roster_digest": digest,
        "first_words": [f"{s.word():016x}" for _ in range(6)],
        "result": draw(seed_hex, r),
    }


def e(i, t):
    return {"id": i, "town": t}


small = {
    "plan_id": "IP-KAT-1",
    "facilities_to_draw": 2,
    "inspectors_per_inspection": 2,
    "facilities": [e("FA", "330402001"), e("FB", "330402002"), e("FC", "330402001"), e("FD", "")],
    "unplanned": [],
    "inspectors": [e("insp-a", "330402001"), e("insp-b", "330402002"), e("insp-c", ""), e("insp-d", "330402003")],
    "previous": [],
}
larger = {
    "plan_id": "IP-KAT-2",
    "facilities_to_draw": 5,
    "inspectors_per_inspection": 2,
    "facilities": [e(f"FAC{i:03d}", f"T{i % 4}") for i in range(37)],
    "unplanned": [e("FAC003", "T3"), e("FAC900", "T1")],
    "inspectors": [e(f"inspector-{i:02d}", f"T{i % 5}") for i in range(9)],
    "previous": sorted([{"facility_id": "FAC900", "inspector_id": "inspector-00"},
                        {"facility_id": "FAC003", "inspector_id": "inspector-02"}],
                       key=lambda p: (p["facility_id"], p["inspector_id"])),
}
seed1 = hashlib.sha256(b"laoxiao known-answer seed 1").hexdigest()
seed2 = "00" * 31 + "01"
print(json.dumps([case(seed1, small), case(seed2, larger)], ensure_ascii=False, indent=1))
