-- Issue 12: the indicator monitor (laoxiao_store::indicators).
-- 填报值: a reported indicator's value for an area and period (2022, 2022-06),
-- with who entered it and when (each entry is also audited).
CREATE TABLE indicator_reported_value (
    indicator INTEGER NOT NULL,
    area_code TEXT NOT NULL,
    period TEXT NOT NULL,
    value REAL NOT NULL,
    note TEXT,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    PRIMARY KEY (indicator, area_code, period)
);
-- An area's own target for a year (a county's own plan), in the plan's
-- notation (95, 72以上, 5以下); year 2020 is the area's own baseline.
CREATE TABLE indicator_area_target (
    indicator INTEGER NOT NULL,
    area_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    target TEXT NOT NULL,
    source TEXT,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    PRIMARY KEY (indicator, area_code, year)
);
-- 常住人口: resident figures of areas from a year on (indicator 38's
-- denominator). Reference figures, not a register: the census ships here for
-- the city and the three counties the census file gives; the others are
-- entered (laoxiao indicators residents FILE), and the demo writes its own.
CREATE TABLE area_population (
    area_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    residents INTEGER NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (area_code, year)
);
INSERT INTO area_population (area_code, year, residents, source) VALUES
    ('330400', 2020, 5400868, '第七次全国人口普查 (2020-11-01), data/jiaxing/population_2020_census.csv'),
    ('330481', 2020, 1076199, '第七次全国人口普查 (2020-11-01), data/jiaxing/population_2020_census.csv'),
    ('330482', 2020, 671326, '第七次全国人口普查 (2020-11-01), data/jiaxing/population_2020_census.csv'),
    ('330483', 2020, 1029754, '第七次全国人口普查 (2020-11-01), data/jiaxing/population_2020_census.csv');
-- 发布: a period's values frozen, with the definitions' version and the
-- register versions they were computed at. A period may be published again;
-- the latest publication is the one shown.
CREATE TABLE indicator_publication (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL,
    as_of TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    definitions_version TEXT NOT NULL,
    register_versions TEXT NOT NULL,
    note TEXT
);
CREATE INDEX indicator_publication_period_idx ON indicator_publication (period, id);
CREATE TABLE indicator_published_value (
    publication_id INTEGER NOT NULL REFERENCES indicator_publication (id),
    indicator INTEGER NOT NULL,
    area_code TEXT NOT NULL,
    method TEXT NOT NULL,
    numerator INTEGER,
    denominator INTEGER,
    value REAL,
    status TEXT NOT NULL,
    target_year INTEGER,
    target TEXT,
    target_value REAL,
    expected REAL,
    gap REAL,
    own_target BOOLEAN NOT NULL DEFAULT 0,
    reported_by TEXT,
    reported_at TEXT,
    note TEXT,
    PRIMARY KEY (publication_id, indicator, area_code)
);
