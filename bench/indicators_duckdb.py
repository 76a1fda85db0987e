#!/usr/bin/env python3
"""Issue 12: the plan's computed indicators, ours against DuckDB.

Loads the synthetic city's CSV files (`laoxiao synth`) and the area tree and
resident figures of the demo database (SQLite) into DuckDB, computes the 28
computed definitions of `data/indicators/*.toml` for every area in SQL (an
independent reading of `crates/laoxiao-rules/src/indicators/compute.rs`), and
compares every (indicator, area) with `laoxiao indicators compute --all`'s
long CSV: numerator and denominator equal, value equal after rounding to the
definition's decimals (as `Definition::round` does). Exit status 1 on any
mismatch.

    python3 bench/indicators_duckdb.py --csv DIR --sqlite DB --ours ours.csv \
        [--period 2022] [--runs 5] [--ours-ms N --ours-facts-ms N]

Timing: the CSV load (reading, typing, keeping the records whose area is in
the tree, as our facts reader does) is timed once; the compute (every
indicator for every area, the results materialised and fetched) is timed
`--runs` times and the median reported, with DuckDB's default threads and with
one thread (our compute is one thread).
"""

import argparse
import csv
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What the SQL below implements, as the definition files say it: if a file
# changes, the comparison stops here instead of reporting a false mismatch.
# (count, sum, where) per side; None: no such side.
IMPLEMENTED = {
    6: (("elderly", None, ["special_difficulty has extreme_poverty", "ability_level >= 2", "has residence"]),
        ("elderly", None, ["special_difficulty has extreme_poverty", "ability_level >= 2"])),
    7: (("elderly", None, ["hukou_area_code within 3304", "ability_level >= 2 or dementia",
                           "has residence or has service professional_care, home_care_bed"]),
        ("elderly", None, ["hukou_area_code within 3304", "ability_level >= 2 or dementia"])),
    8: (("elderly", None, ["special_difficulty has any", "not has residence", "has service visit"]),
        ("elderly", None, ["special_difficulty has any", "not has residence"])),
    9: (("facilities", "dementia_beds", ["kind = elderly_institution"]), ("elderly", None, [])),
    10: (("facilities", None, ["kind = town_home_care_center"]), None),
    11: (("facilities", None, ["kind = village_care_station", "rating in (3a, 4a, 5a)", "rating_valid"]),
         ("facilities", None, ["kind = village_care_station"])),
    12: (("facilities", None, ["kind = elderly_institution", "smart"]), None),
    14: (("facilities", "nursing_beds", ["kind = elderly_institution"]),
         ("facilities", "beds", ["kind = elderly_institution"])),
    16: (("staff", None, ["role = social_worker"]), ("elderly", None, [])),
    17: (("staff", None, ["role = care_worker", "certified"]), ("elderly", None, [])),
    18: (("staff", None, ["role = care_worker", "skill_grade in (senior, technician, senior_technician)"]),
         ("staff", None, ["role = care_worker"])),
    19: (("students", None, []), None),
    20: (("facilities", None, ["kind = wellness_alliance"]), None),
    22: (("towns", None, ["has facility assistive_device_rental"]), ("towns", None, [])),
    24: (("elderly", None, ["hukou_area_code within 3304", "has insurance elderly_accident"]),
         ("elderly", None, ["hukou_area_code within 3304"])),
    26: (("towns", None, ["has facility elderly_school"]), ("towns", None, [])),
    30: (("births", None, ["has service newborn_visit"]), ("births", None, [])),
    31: (("infant_deaths", None, []), ("births", None, [])),
    35: (("facilities", None, ["kind = childcare_institution", "filed"]), None),
    36: (("facilities", None, ["kind in (childcare_institution, kindergarten_nursery_class)", "demonstration"]), None),
    37: (("towns", None, ["has facility childcare_institution, kindergarten_nursery_class"]), ("towns", None, [])),
    38: (("facilities", "approved_slots", ["kind in (childcare_institution, kindergarten_nursery_class)"]),
         ("residents", None, [])),
    39: (("facilities", "approved_slots", ["kind in (childcare_institution, kindergarten_nursery_class)", "inclusive"]),
         ("facilities", "approved_slots", ["kind in (childcare_institution, kindergarten_nursery_class)"])),
    40: (("communities", None, ["has facility childcare_institution, kindergarten_nursery_class"]),
         ("communities", None, [])),
    41: (("staff", None, ["role in (nursery_staff, infant_carer, health_staff)",
                          "skill_grade in (senior, technician, senior_technician)"]), None),
    42: (("staff", None, ["role in (nursery_staff, infant_carer, health_staff)", "certified"]),
         ("staff", None, ["role in (nursery_staff, infant_carer, health_staff)"])),
    43: (("infants", None, ["has service child_health_check"]), ("infants", None, [])),
    45: (("infants", None, ["has service developmental_screening"]), ("infants", None, [])),
}

DIFFICULTIES = ["extreme_poverty", "minimum_living_allowance", "low_income_margin",
                "family_planning_special_family", "severe_disability"]


def definitions():
    defs = {}
    d = os.path.join(ROOT, "data", "indicators")
    for f in sorted(os.listdir(d)):
        if f.endswith(".toml"):
            with open(os.path.join(d, f), "rb") as fh:
                t = tomllib.load(fh)
            defs[t["number"]] = t
    return defs


def check_definitions(defs):
    computed = {n for n, t in defs.items() if t["method"] == "computed"}
    problems = []
    if computed != set(IMPLEMENTED):
        problems.append(f"computed definitions {sorted(computed ^ set(IMPLEMENTED))} differ from the SQL's")
    for n in sorted(computed & set(IMPLEMENTED)):
        t = defs[n]
        for key, want in zip(("numerator", "denominator"), IMPLEMENTED[n]):
            side = t.get(key)
            got = None if side is None else (side["count"], side.get("sum"), side.get("where", []))
            if got != want:
                problems.append(f"{n:02}.toml {key}: {got} (the SQL implements {want})")
    return problems


# ---------------------------------------------------------------- loading

def q(path):
    return "'" + path.replace("'", "''") + "'"


def boolean(col):
    return f"coalesce(lower(trim({col})) IN ('true', '1', 'yes', '是'), false)"


def date(col):
    return f"TRY_CAST(nullif(trim({col}), '') AS DATE)"


def text(col):
    return f"nullif(trim({col}), '')"


def load(con, csv_dir, sqlite_path):
    """The registers, typed, as our facts reader keeps them."""
    lite = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    areas = lite.execute("SELECT code, level, parent_code, name FROM area").fetchall()
    pop = lite.execute("SELECT area_code, year, residents FROM area_population").fetchall()
    lite.close()
    # Through a CSV file: binding Python values row by row takes seconds.
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows, cols in (("area", areas, "code VARCHAR, level VARCHAR, parent_code VARCHAR, name VARCHAR"),
                                 ("population", pop, "area_code VARCHAR, year INTEGER, residents BIGINT")):
            path = os.path.join(tmp, name + ".csv")
            with open(path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(rows)
            types = "{" + ", ".join(f"'{c.split()[0]}': '{c.split()[1]}'" for c in cols.split(", ")) + "}"
            con.execute(f"CREATE TABLE {name} ({cols})")
            if rows:
                con.execute(f"INSERT INTO {name} SELECT * FROM read_csv({q(path)}, header = false, columns = {types})")
    # Every area with each of its ancestors and itself.
    con.execute("""
        CREATE TABLE anc AS
        WITH RECURSIVE up(code, anc) AS (
            SELECT code, code FROM area
            UNION ALL
            SELECT up.code, a.parent_code FROM up JOIN area a ON a.code = up.anc
            WHERE a.parent_code IS NOT NULL AND a.parent_code IN (SELECT code FROM area)
        )
        SELECT * FROM up""")

    f = lambda name: q(os.path.join(csv_dir, name))
    rd = lambda name: f"read_csv({f(name)}, header = true, all_varchar = true)"
    # People: the residence area must be in the tree, the birth date known.
    con.execute(f"""
        CREATE TABLE person AS
        WITH raw AS (
            SELECT 'elderly' AS role, id, birth_date, death_date, moved_out_date, status,
                   hukou_area_code, residence_area_code, ability_level, dementia, special_difficulty
            FROM {rd('elderly.csv')}
            UNION ALL
            SELECT 'infant', id, birth_date, death_date, moved_out_date, status,
                   hukou_area_code, residence_area_code, NULL, NULL, NULL
            FROM {rd('infants.csv')}
        )
        SELECT row_number() OVER (ORDER BY trim(id))::INTEGER AS pid, trim(id) AS id, role, a.code AS area,
               {date('birth_date')} AS birth, {date('death_date')} AS death,
               {date('moved_out_date')} AS moved_out,
               coalesce({text('status')}, 'active') AS status,
               {text('hukou_area_code')} AS hukou,
               TRY_CAST(nullif(trim(ability_level), '') AS INTEGER) AS ability,
               {boolean('dementia')} AS dementia,
               list_filter(list_transform(regexp_split_to_array(coalesce(special_difficulty, ''), '[;；、|]'),
                                          x -> trim(x)),
                           x -> x IN {tuple(DIFFICULTIES)}) AS difficulty
        FROM raw JOIN area a ON a.code = trim(raw.residence_area_code)
        WHERE {date('birth_date')} IS NOT NULL""")
    # Facilities: the area in the tree and a known kind.
    con.execute(f"""
        CREATE TABLE facility AS
        SELECT trim(id) AS id, trim(kind) AS kind, a.code AS area,
               coalesce({text('status')}, 'operating') AS status,
               {date('opening_date')} AS opening, {date('closed_date')} AS closed,
               CASE WHEN trim(rating) IN ('3a','4a','5a','star1','star2','star3','star4','star5')
                    THEN trim(rating) END AS rating,
               {date('rating_valid_from')} AS rating_from, {date('rating_valid_until')} AS rating_until,
               coalesce({text('filing_status')}, 'not_required') AS filing_status,
               {date('filing_date')} AS filing_date,
               coalesce(TRY_CAST(nullif(trim(beds), '') AS BIGINT), 0) AS beds,
               coalesce(TRY_CAST(nullif(trim(nursing_beds), '') AS BIGINT), 0) AS nursing_beds,
               coalesce(TRY_CAST(nullif(trim(dementia_beds), '') AS BIGINT), 0) AS dementia_beds,
               coalesce(TRY_CAST(nullif(trim(approved_slots), '') AS BIGINT), 0) AS approved_slots,
               {boolean('smart')} AS smart, {boolean('demonstration')} AS demonstration,
               {boolean('inclusive')} AS inclusive
        FROM {rd('facilities.csv')} raw JOIN area a ON a.code = trim(raw.area_code)
        WHERE trim(kind) IN ('elderly_institution', 'town_home_care_center', 'village_care_station',
            'childcare_institution', 'kindergarten_nursery_class', 'sunflower_park', 'sunflower_hut',
            'guidance_center', 'wellness_alliance', 'elderly_school', 'elderly_canteen',
            'assistive_device_rental')""")
    # Staff: the employer must be a kept facility; counted at its area.
    con.execute(f"""
        CREATE TABLE staff AS
        SELECT trim(s.id) AS id, f.area, trim(s.role) AS role, {boolean('s.certified')} AS certified,
               coalesce({text('s.skill_grade')}, 'none') AS grade,
               {date('s.hired_date')} AS hired, {date('s.left_date')} AS left_date
        FROM {rd('staff.csv')} s JOIN facility f ON f.id = trim(s.facility_id)
        WHERE trim(s.role) IN ('care_worker', 'social_worker', 'nursery_staff', 'infant_carer',
                               'health_staff', 'other')""")
    # Person-linked records of people kept, tied to the person by a number
    # (as our facts reader ties them by position).
    con.execute(f"""
        CREATE TABLE service AS
        SELECT p.pid AS person_id, trim(s.kind) AS kind, {date('s.date')} AS date
        FROM {rd('services.csv')} s JOIN person p ON p.id = trim(s.person_id)""")
    con.execute(f"""
        CREATE TABLE residence AS
        SELECT p.pid AS person_id, {date('r.admitted_date')} AS admitted,
               {date('r.discharged_date')} AS discharged
        FROM {rd('residences.csv')} r JOIN person p ON p.id = trim(r.person_id)""")
    con.execute(f"""
        CREATE TABLE insurance AS
        SELECT p.pid AS person_id, trim(i.kind) AS kind, {date('i.start_date')} AS start_date,
               {date('i.end_date')} AS end_date
        FROM {rd('insurance.csv')} i JOIN person p ON p.id = trim(i.person_id)""")
    con.execute(f"""
        CREATE TABLE cohort AS
        SELECT TRY_CAST(trim(intake_year) AS INTEGER) AS intake_year,
               coalesce(TRY_CAST(nullif(trim(enrolled), '') AS BIGINT), 0) AS enrolled,
               coalesce(TRY_CAST(nullif(trim(graduated), '') AS BIGINT), 0) AS graduated
        FROM {rd('student_cohorts.csv')}""")


# ---------------------------------------------------------------- the SQL

def compute_sql(year):
    """Statements that leave `result(indicator, area_code, level, numerator,
    denominator, value, months)` holding every computed value of `year`."""
    D = f"DATE '{year}-12-31'"
    Y0 = f"DATE '{year}-01-01'"

    def age(b, d):
        # Whole years; a 29 February birthday counts on 1 March in other years.
        return (f"(year({d}) - year({b}) - CASE WHEN month({d}) * 100 + day({d}) < "
                f"month({b}) * 100 + day({b}) THEN 1 ELSE 0 END)")

    def present(d):
        return (f"(NOT ((p.status = 'deceased' AND p.death IS NULL) OR (p.status = 'moved_out' AND p.moved_out IS NULL))"
                f" AND p.birth <= {d} AND (p.death IS NULL OR p.death > {d})"
                f" AND (p.moved_out IS NULL OR p.moved_out > {d}))")

    def svc(kinds, lo, hi):
        ks = ", ".join(f"'{k}'" for k in kinds)
        return f"SELECT DISTINCT person_id FROM service WHERE kind IN ({ks}) AND date >= {lo} AND date <= {hi}"

    res_live = f"SELECT DISTINCT person_id FROM residence WHERE admitted <= {D} AND (discharged IS NULL OR discharged > {D})"
    operating = (f"(CASE f.status WHEN 'planned' THEN false WHEN 'suspended' THEN false"
                 f" WHEN 'closed' THEN f.closed IS NOT NULL ELSE true END)"
                 f" AND (f.opening IS NULL OR f.opening <= {D}) AND (f.closed IS NULL OR f.closed > {D})")
    hukou = "coalesce(regexp_full_match(p.hukou, '[0-9]{4,18}') AND p.hukou LIKE '3304%', false)"
    care_kids = "('childcare_institution', 'kindergarten_nursery_class')"
    senior = "('senior', 'technician', 'senior_technician')"
    kids_roles = "('nursery_staff', 'infant_carer', 'health_staff')"
    months_cte = ", ".join(
        f"({m}, DATE '{year}-{m:02}-01', last_day(DATE '{year}-{m:02}-01'))" for m in range(1, 13))

    own = f"""
    CREATE OR REPLACE TEMP TABLE own AS
    WITH
    res AS ({res_live}),
    prof AS ({svc(['professional_care', 'home_care_bed'], Y0, D)}),
    acc AS (SELECT DISTINCT person_id FROM insurance WHERE kind = 'elderly_accident'
            AND start_date <= {D} AND (end_date IS NULL OR end_date >= {D})),
    eld AS (
        SELECT p.area,
               list_contains(p.difficulty, 'extreme_poverty') AS xp,
               coalesce(p.ability >= 2 AND p.ability <= 4, false) AS ab2,
               coalesce(p.ability >= 2 AND p.ability <= 4, false) OR p.dementia AS abd,
               {hukou} AS hk,
               res.person_id IS NOT NULL AS has_res,
               prof.person_id IS NOT NULL AS has_prof,
               acc.person_id IS NOT NULL AS has_acc
        FROM person p
        LEFT JOIN res ON res.person_id = p.pid
        LEFT JOIN prof ON prof.person_id = p.pid
        LEFT JOIN acc ON acc.person_id = p.pid
        WHERE p.role <> 'infant' AND {present(D)} AND {age('p.birth', D)} >= 60),
    e AS (
        SELECT area,
               count(*) FILTER (xp AND ab2 AND has_res) AS n6, count(*) FILTER (xp AND ab2) AS d6,
               count(*) FILTER (hk AND abd AND (has_res OR has_prof)) AS n7, count(*) FILTER (hk AND abd) AS d7,
               count(*) AS elderly,
               count(*) FILTER (hk AND has_acc) AS n24, count(*) FILTER (hk) AS d24
        FROM eld GROUP BY area),
    chk AS ({svc(['child_health_check'], Y0, D)}),
    scr AS ({svc(['developmental_screening'], Y0, D)}),
    nbv AS ({svc(['newborn_visit'], Y0, D)}),
    i AS (
        SELECT p.area,
               count(*) FILTER (chk.person_id IS NOT NULL) AS n43,
               count(*) FILTER (scr.person_id IS NOT NULL) AS n45,
               count(*) AS infants
        FROM person p
        LEFT JOIN chk ON chk.person_id = p.pid
        LEFT JOIN scr ON scr.person_id = p.pid
        WHERE p.role = 'infant' AND {present(D)} AND {age('p.birth', D)} < 3
        GROUP BY p.area),
    b AS (
        SELECT p.area,
               count(*) FILTER (p.birth >= {Y0} AND p.birth <= {D}) AS births,
               count(*) FILTER (p.birth >= {Y0} AND p.birth <= {D} AND nbv.person_id IS NOT NULL) AS n30,
               count(*) FILTER (p.death >= {Y0} AND p.death <= {D} AND {age('p.birth', 'p.death')} < 1) AS n31
        FROM person p LEFT JOIN nbv ON nbv.person_id = p.pid
        WHERE p.role = 'infant' GROUP BY p.area),
    fo AS (SELECT f.* FROM facility f WHERE {operating}),
    fa AS (
        SELECT area,
               sum(dementia_beds) FILTER (kind = 'elderly_institution') AS n9,
               count(*) FILTER (kind = 'town_home_care_center') AS n10,
               count(*) FILTER (kind = 'village_care_station' AND rating IN ('3a', '4a', '5a')
                   AND (rating_from IS NULL OR rating_from <= {D})
                   AND (rating_until IS NULL OR rating_until >= {D})) AS n11,
               count(*) FILTER (kind = 'village_care_station') AS d11,
               count(*) FILTER (kind = 'elderly_institution' AND smart) AS n12,
               sum(nursing_beds) FILTER (kind = 'elderly_institution') AS n14,
               sum(beds) FILTER (kind = 'elderly_institution') AS d14,
               count(*) FILTER (kind = 'wellness_alliance') AS n20,
               count(*) FILTER (kind = 'childcare_institution' AND filing_status = 'filed'
                   AND (filing_date IS NULL OR filing_date <= {D})) AS n35,
               count(*) FILTER (kind IN {care_kids} AND demonstration) AS n36,
               sum(approved_slots) FILTER (kind IN {care_kids}) AS slots,
               sum(approved_slots) FILTER (kind IN {care_kids} AND inclusive) AS n39
        FROM fo GROUP BY area),
    st AS (
        SELECT area,
               count(*) FILTER (role = 'social_worker') AS n16,
               count(*) FILTER (role = 'care_worker' AND certified) AS n17,
               count(*) FILTER (role = 'care_worker' AND grade IN {senior}) AS n18,
               count(*) FILTER (role = 'care_worker') AS d18,
               count(*) FILTER (role IN {kids_roles} AND grade IN {senior}) AS n41,
               count(*) FILTER (role IN {kids_roles} AND certified) AS n42,
               count(*) FILTER (role IN {kids_roles}) AS d42
        FROM staff WHERE hired <= {D} AND (left_date IS NULL OR left_date > {D}) GROUP BY area),
    -- Areas holding an operating facility of the kinds, themselves or below.
    cov AS (
        SELECT anc.anc AS code,
               bool_or(fo.kind = 'assistive_device_rental') AS rental,
               bool_or(fo.kind = 'elderly_school') AS school,
               bool_or(fo.kind IN {care_kids}) AS kids
        FROM fo JOIN anc ON anc.code = fo.area GROUP BY anc.anc),
    tw AS (
        SELECT a.code AS area,
               CASE WHEN a.level = 'town' THEN 1 ELSE 0 END AS towns,
               CASE WHEN a.level = 'town' AND coalesce(cov.rental, false) THEN 1 ELSE 0 END AS n22,
               CASE WHEN a.level = 'town' AND coalesce(cov.school, false) THEN 1 ELSE 0 END AS n26,
               CASE WHEN a.level = 'town' AND coalesce(cov.kids, false) THEN 1 ELSE 0 END AS n37,
               CASE WHEN a.level = 'village' AND (a.name LIKE '%社区%' OR a.name LIKE '%居委会%'
                    OR a.name LIKE '%居民委员会%') THEN 1 ELSE 0 END AS communities,
               CASE WHEN a.level = 'village' AND (a.name LIKE '%社区%' OR a.name LIKE '%居委会%'
                    OR a.name LIKE '%居民委员会%') AND coalesce(cov.kids, false) THEN 1 ELSE 0 END AS n40
        FROM area a LEFT JOIN cov ON cov.code = a.code)
    SELECT * FROM (
        SELECT area, 6 AS ind, n6 AS num, d6 AS den FROM e
        UNION ALL SELECT area, 7, n7, d7 FROM e
        UNION ALL SELECT area, 9, 0, elderly FROM e
        UNION ALL SELECT area, 16, 0, elderly FROM e
        UNION ALL SELECT area, 17, 0, elderly FROM e
        UNION ALL SELECT area, 24, n24, d24 FROM e
        UNION ALL SELECT area, 43, n43, infants FROM i
        UNION ALL SELECT area, 45, n45, infants FROM i
        UNION ALL SELECT area, 30, n30, births FROM b
        UNION ALL SELECT area, 31, n31, births FROM b
        UNION ALL SELECT area, 9, coalesce(n9, 0), 0 FROM fa
        UNION ALL SELECT area, 10, n10, 0 FROM fa
        UNION ALL SELECT area, 11, n11, d11 FROM fa
        UNION ALL SELECT area, 12, n12, 0 FROM fa
        UNION ALL SELECT area, 14, coalesce(n14, 0), coalesce(d14, 0) FROM fa
        UNION ALL SELECT area, 20, n20, 0 FROM fa
        UNION ALL SELECT area, 35, n35, 0 FROM fa
        UNION ALL SELECT area, 36, n36, 0 FROM fa
        UNION ALL SELECT area, 38, coalesce(slots, 0), 0 FROM fa
        UNION ALL SELECT area, 39, coalesce(n39, 0), coalesce(slots, 0) FROM fa
        UNION ALL SELECT area, 16, n16, 0 FROM st
        UNION ALL SELECT area, 17, n17, 0 FROM st
        UNION ALL SELECT area, 18, n18, d18 FROM st
        UNION ALL SELECT area, 41, n41, 0 FROM st
        UNION ALL SELECT area, 42, n42, d42 FROM st
        UNION ALL SELECT area, 22, n22, towns FROM tw
        UNION ALL SELECT area, 26, n26, towns FROM tw
        UNION ALL SELECT area, 37, n37, towns FROM tw
        UNION ALL SELECT area, 40, n40, communities FROM tw
    ) WHERE num <> 0 OR den <> 0
    """

    # Indicator 8, month by month: people in special difficulty living at home
    # on the month's last day, and those of them visited in the month.
    monthly = f"""
    CREATE OR REPLACE TEMP TABLE own8 AS
    WITH m(month, ms, me) AS (VALUES {months_cte}),
    cand AS (
        SELECT p.* FROM person p
        WHERE p.role <> 'infant' AND len(p.difficulty) > 0
          AND p.birth <= DATE '{year - 60}-12-31'),
    pm AS (
        SELECT p.pid AS id, p.area, m.month, m.ms, m.me FROM cand p CROSS JOIN m
        WHERE {present('m.me')} AND {age('p.birth', 'm.me')} >= 60),
    athome AS (
        SELECT pm.* FROM pm
        WHERE NOT EXISTS (SELECT 1 FROM residence r WHERE r.person_id = pm.id
                          AND r.admitted <= pm.me AND (r.discharged IS NULL OR r.discharged > pm.me))),
    visited AS (
        SELECT DISTINCT h.id, h.month FROM athome h JOIN service s
          ON s.person_id = h.id AND s.kind = 'visit' AND s.date >= h.ms AND s.date <= h.me)
    SELECT h.area, h.month, count(v.id) AS num, count(*) AS den
    FROM athome h LEFT JOIN visited v ON v.id = h.id AND v.month = h.month
    GROUP BY h.area, h.month
    """

    # Residents: an area's latest figure of the year or before (the earliest
    # if all are later); an area without one takes the sum of its children's
    # when every child has one (bottom-up, level by level).
    residents = f"""
    CREATE OR REPLACE TEMP TABLE residents AS
    WITH best AS (
        SELECT area_code AS code, arg_max(residents, year) FILTER (year <= {year}) AS before,
               arg_min(residents, year) FILTER (year > {year}) AS after
        FROM population GROUP BY area_code),
    fig AS (SELECT a.code, a.level, a.parent_code, coalesce(b.before, b.after) AS r
            FROM area a LEFT JOIN best b ON b.code = a.code),
    village AS (SELECT code, r FROM fig WHERE level = 'village'),
    town AS (
        SELECT o.code, coalesce(o.r, CASE WHEN count(c.code) > 0 AND count(c.r) = count(c.code)
                                         THEN sum(c.r) END) AS r
        FROM fig o LEFT JOIN (SELECT v.code, v.r, a.parent_code FROM village v JOIN area a USING (code)) c
          ON c.parent_code = o.code
        WHERE o.level = 'town' GROUP BY o.code, o.r),
    county AS (
        SELECT o.code, coalesce(o.r, CASE WHEN count(c.code) > 0 AND count(c.r) = count(c.code)
                                         THEN sum(c.r) END) AS r
        FROM fig o LEFT JOIN (SELECT t.code, t.r, a.parent_code FROM town t JOIN area a USING (code)) c
          ON c.parent_code = o.code
        WHERE o.level = 'county' GROUP BY o.code, o.r),
    city AS (
        SELECT o.code, coalesce(o.r, CASE WHEN count(c.code) > 0 AND count(c.r) = count(c.code)
                                         THEN sum(c.r) END) AS r
        FROM fig o LEFT JOIN (SELECT t.code, t.r, a.parent_code FROM county t JOIN area a USING (code)) c
          ON c.parent_code = o.code
        WHERE o.level = 'city' GROUP BY o.code, o.r)
    SELECT * FROM village UNION ALL SELECT * FROM town UNION ALL SELECT * FROM county
    UNION ALL SELECT * FROM city
    """
    return [own, monthly, residents]


def result_sql(defs, year):
    """Rolls the counts up the tree and forms the values."""
    comp = sorted(n for n, t in defs.items() if t["method"] == "computed")
    rows = []
    for n in comp:
        t = defs[n]
        has_den = "true" if t.get("denominator") else "false"
        for lvl in t["levels"]:
            rows.append(f"({n}, '{lvl}', {float(t.get('factor', 1))!r}, {has_den})")
    spec = ", ".join(rows)
    return f"""
    CREATE OR REPLACE TEMP TABLE result AS
    WITH spec(ind, level, factor, has_den) AS (VALUES {spec}),
    rolled AS (
        SELECT o.ind, anc.anc AS code, sum(o.num) AS num, sum(o.den) AS den
        FROM own o JOIN anc ON anc.code = o.area GROUP BY ALL),
    rolled8 AS (
        SELECT anc.anc AS code, o.month, sum(o.num) AS num, sum(o.den) AS den
        FROM own8 o JOIN anc ON anc.code = o.area GROUP BY ALL),
    m8 AS (
        SELECT a.code, m.month, coalesce(r.num, 0) AS num, coalesce(r.den, 0) AS den
        FROM area a CROSS JOIN range(1, 13) m(month)
        LEFT JOIN rolled8 r ON r.code = a.code AND r.month = m.month),
    v8 AS (
        SELECT code, sum(num) AS num, sum(den) AS den,
               -- The average of the months' rates, added in month order as ours does.
               CASE WHEN count(rate) > 0 THEN
                   list_reduce(list(rate ORDER BY month) FILTER (WHERE rate IS NOT NULL), (x, y) -> x + y)
                   / count(rate) END AS value,
               string_agg(num::VARCHAR || '/' || den::VARCHAR, ' ' ORDER BY month) AS months
        FROM (SELECT *, CASE WHEN den > 0 THEN num::DOUBLE / den::DOUBLE * 100.0 END AS rate FROM m8)
        GROUP BY code),
    students AS (
        SELECT a.code, sum(CASE WHEN c.intake_year BETWEEN {year} - 2 AND {year} THEN c.enrolled
                                WHEN c.intake_year = {year} - 3 THEN c.graduated ELSE 0 END) AS n
        FROM area a, cohort c WHERE a.parent_code IS NULL GROUP BY a.code),
    base AS (
        SELECT s.ind, a.code, a.level, s.factor, s.has_den,
               CASE WHEN s.ind = 8 THEN v8.num
                    WHEN s.ind = 19 THEN st.n  -- the city only
                    ELSE coalesce(r.num, 0) END AS num,
               CASE WHEN NOT s.has_den THEN NULL
                    WHEN s.ind = 8 THEN v8.den
                    WHEN s.ind = 38 THEN res.r
                    ELSE coalesce(r.den, 0) END AS den,
               CASE WHEN s.ind = 8 THEN v8.value END AS value8,
               CASE WHEN s.ind = 8 THEN v8.months ELSE '' END AS months
        FROM spec s JOIN area a ON a.level = s.level
        LEFT JOIN rolled r ON r.ind = s.ind AND r.code = a.code
        LEFT JOIN v8 ON v8.code = a.code
        LEFT JOIN students st ON st.code = a.code
        LEFT JOIN residents res ON res.code = a.code),
    valued AS (
        SELECT *,
               CASE WHEN ind = 8 THEN value8
                    WHEN NOT has_den THEN num::DOUBLE * factor
                    WHEN den > 0 THEN num::DOUBLE / den::DOUBLE * factor END AS value
        FROM base),
    -- 12: the city's value is the least county's (the first in code order on a tie).
    least12 AS (
        SELECT num, den, value FROM valued WHERE ind = 12 AND level = 'county' AND value IS NOT NULL
        ORDER BY value, code LIMIT 1)
    SELECT v.ind AS indicator, v.code AS area_code, v.level,
           CASE WHEN v.ind = 12 AND v.level = 'city' THEN l.num ELSE v.num END AS numerator,
           CASE WHEN v.ind = 12 AND v.level = 'city' THEN l.den ELSE v.den END AS denominator,
           CASE WHEN v.ind = 12 AND v.level = 'city' THEN l.value ELSE v.value END AS value,
           v.months
    FROM valued v LEFT JOIN least12 l ON true
    """


def compute(con, defs, year):
    for s in compute_sql(year):
        con.execute(s)
    con.execute(result_sql(defs, year))
    return con.execute(
        "SELECT indicator, area_code, level, numerator, denominator, value, months FROM result").fetchall()


# ---------------------------------------------------------------- comparing

def rust_round(v, decimals):
    """`Definition::round`: (v × 10^d).round() / 10^d, halves away from zero."""
    p = 10.0 ** min(decimals, 6)
    x = v * p
    r = math.trunc(x)
    if abs(x - r) >= 0.5:
        r += math.copysign(1.0, x)
    return r / p


def read_ours(path, computed):
    out = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            n = int(row["indicator"])
            if n not in computed:
                continue
            num = lambda s: int(s) if s != "" else None
            out[(n, row["area_code"])] = {
                "level": row["level"],
                "numerator": num(row["numerator"]),
                "denominator": num(row["denominator"]),
                "value": float(row["value"]) if row["value"] != "" else None,
                "months": row.get("months", ""),
            }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True, help="directory of `laoxiao synth` CSV files")
    ap.add_argument("--sqlite", required=True, help="the demo database (area tree, residents)")
    ap.add_argument("--ours", required=True, help="`indicators compute --all` long CSV")
    ap.add_argument("--period", type=int, default=2022)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ours-ms", type=float, help="our compute time (median), for the ratio")
    ap.add_argument("--ours-facts-ms", type=float, help="our facts read time (median)")
    ap.add_argument("--dump", help="write DuckDB's values to this CSV")
    a = ap.parse_args()

    defs = definitions()
    problems = check_definitions(defs)
    if problems:
        print("the definitions differ from what the SQL implements:", *problems, sep="\n  ")
        return 2
    computed = {n for n, t in defs.items() if t["method"] == "computed"}

    con = duckdb.connect(":memory:")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t0 = time.perf_counter()
    load(con, a.csv, a.sqlite)
    load_ms = (time.perf_counter() - t0) * 1000
    sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
             for t in ("area", "person", "facility", "staff", "service", "residence", "insurance", "cohort")}
    print(f"DuckDB {duckdb.__version__}: loaded in {load_ms:.0f} ms: "
          + ", ".join(f"{k} {v}" for k, v in sizes.items()))

    times = {}
    rows = None
    for th in (threads, 1):
        con.execute(f"SET threads = {th}")
        ts = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            rows = compute(con, defs, a.period)
            ts.append((time.perf_counter() - t0) * 1000)
        times[th] = (statistics.median(ts), ts)
        print(f"DuckDB compute, {th} thread(s): median {statistics.median(ts):.0f} ms "
              f"(runs: {', '.join(f'{t:.0f}' for t in ts)})")
    con.execute(f"SET threads = {threads}")

    if a.dump:
        with open(a.dump, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["indicator", "area_code", "level", "numerator", "denominator", "value", "months"])
            for r in sorted(rows):
                w.writerow(r)

    ours = read_ours(a.ours, computed)
    duck = {(r[0], r[1]): r for r in rows}
    mismatches = []
    per_ind = {}
    for key in sorted(set(ours) | set(duck)):
        n, code = key
        o, d = ours.get(key), duck.get(key)
        per_ind.setdefault(n, [0, 0])
        per_ind[n][0] += 1
        if o is None or d is None:
            mismatches.append((key, "only in " + ("DuckDB" if o is None else "ours"), o, d))
            per_ind[n][1] += 1
            continue
        dv = None if d[5] is None else rust_round(d[5], defs[n]["decimals"])
        what = []
        if o["numerator"] != d[3]:
            what.append("numerator")
        if o["denominator"] != d[4]:
            what.append("denominator")
        if o["value"] != dv and not (o["value"] is not None and dv is not None and abs(o["value"] - dv) < 1e-9):
            what.append("value")
        if n == 8 and o["months"] != d[6]:
            what.append("months")
        if what:
            mismatches.append((key, "+".join(what), o, d[3:5] + (dv,) + d[6:]))
            per_ind[n][1] += 1

    print()
    print(f"compared {sum(v[0] for v in per_ind.values())} values of {len(per_ind)} indicators "
          f"(period {a.period}): {len(mismatches)} mismatch(es)")
    print("  per indicator (values / mismatches): " + ", ".join(
        f"{n}: {v[0]}/{v[1]}" for n, v in sorted(per_ind.items())))
    for key, what, o, d in mismatches[:20]:
        ours_s = "—" if o is None else f"{o['numerator']}/{o['denominator']} = {o['value']}" + (
            f" [{o['months']}]" if key[0] == 8 else "")
        duck_s = "—" if d is None else (f"{d[0]}/{d[1]} = {d[2]}" if len(d) == 4 else f"{d[3]}/{d[4]} = {d[5]}") + (
            f" [{d[-1]}]" if key[0] == 8 and d is not None else "")
        print(f"  MISMATCH {key[0]:>2} {key[1]:<12} {what:<22} ours {ours_s}  |  DuckDB {duck_s}")
    if len(mismatches) > 20:
        print(f"  … and {len(mismatches) - 20} more")
    city = [r for r in rows if r[2] == "city"]
    print("\ncity values (DuckDB, rounded): " + ", ".join(
        f"{r[0]}: {'—' if r[5] is None else rust_round(r[5], defs[r[0]]['decimals'])}" for r in sorted(city)))

    print("\ntimings")
    if a.ours_facts_ms is not None:
        print(f"  ours   facts read   {a.ours_facts_ms:8.0f} ms  (database → facts, median)")
    if a.ours_ms is not None:
        print(f"  ours   compute      {a.ours_ms:8.0f} ms  (median, one thread)")
    print(f"  DuckDB load        {load_ms:8.0f} ms  (CSV → typed tables, once)")
    for th, (med, _) in times.items():
        line = f"  DuckDB compute     {med:8.0f} ms  ({th} thread(s), median of {a.runs})"
        if a.ours_ms is not None and med > 0:
            line += f"   ours/DuckDB = {a.ours_ms / med:.2f}"
        print(line)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
