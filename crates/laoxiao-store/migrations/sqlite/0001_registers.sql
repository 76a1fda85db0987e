-- Registers: areas, facilities, childcare classes, people.
-- Dates are ISO text (YYYY-MM-DD) and timestamps RFC 3339 text on both databases,
-- so values and their ordering are identical on SQLite and PostgreSQL.
CREATE TABLE area (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    path TEXT NOT NULL,
    urban_rural_code INTEGER,
    lng REAL,
    lat REAL
);
CREATE INDEX area_path_idx ON area (path);
CREATE INDEX area_parent_idx ON area (parent_code);

CREATE TABLE facility (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT,
    ownership TEXT,
    operator_name TEXT,
    operator_credit_code TEXT,
    area_code TEXT NOT NULL REFERENCES area (code),
    area_path TEXT NOT NULL,
    address TEXT,
    lng REAL,
    lat REAL,
    beds INTEGER,
    nursing_beds INTEGER,
    dementia_beds INTEGER,
    approved_slots INTEGER,
    inclusive INTEGER NOT NULL DEFAULT 0,
    filing_status TEXT NOT NULL,
    filing_date TEXT,
    rating TEXT,
    rating_valid_from TEXT,
    rating_valid_until TEXT,
    smart INTEGER NOT NULL DEFAULT 0,
    demonstration INTEGER NOT NULL DEFAULT 0,
    opening_date TEXT,
    status TEXT NOT NULL,
    phone TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX facility_path_idx ON facility (area_path, id);
CREATE INDEX facility_kind_idx ON facility (kind, id);

CREATE TABLE childcare_class (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility (id),
    class_type TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    enrolled INTEGER NOT NULL DEFAULT 0,
    caregivers INTEGER NOT NULL DEFAULT 0,
    monthly_fee_fen INTEGER,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX childcare_class_facility_idx ON childcare_class (facility_id);

CREATE TABLE person (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    hukou_area_code TEXT,
    residence_area_code TEXT NOT NULL REFERENCES area (code),
    area_path TEXT NOT NULL,
    address TEXT,
    lng REAL,
    lat REAL,
    living_arrangement TEXT,
    special_difficulty TEXT,
    ability_level INTEGER,
    dementia INTEGER NOT NULL DEFAULT 0,
    birth_order INTEGER,
    guardian_name TEXT,
    guardian_phone TEXT,
    status TEXT NOT NULL,
    death_date TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX person_id_number_idx ON person (id_number);
CREATE INDEX person_path_idx ON person (role, area_path, id);
