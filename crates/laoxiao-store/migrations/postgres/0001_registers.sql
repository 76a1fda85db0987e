-- Registers: areas, facilities, childcare classes, people.
-- Dates are ISO text (YYYY-MM-DD) and timestamps RFC 3339 text on both databases,
-- so values and their ordering are identical on SQLite and PostgreSQL.
CREATE TABLE area (
    code TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT COLLATE "C",
    path TEXT COLLATE "C" NOT NULL,
    urban_rural_code BIGINT,
    lng DOUBLE PRECISION,
    lat DOUBLE PRECISION
);
CREATE INDEX area_path_idx ON area (path);
CREATE INDEX area_parent_idx ON area (parent_code);

CREATE TABLE facility (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT,
    ownership TEXT,
    operator_name TEXT,
    operator_credit_code TEXT,
    area_code TEXT COLLATE "C" NOT NULL REFERENCES area (code),
    area_path TEXT COLLATE "C" NOT NULL,
    address TEXT,
    lng DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    beds BIGINT,
    nursing_beds BIGINT,
    dementia_beds BIGINT,
    approved_slots BIGINT,
    inclusive BOOLEAN NOT NULL DEFAULT FALSE,
    filing_status TEXT NOT NULL,
    filing_date TEXT,
    rating TEXT,
    rating_valid_from TEXT,
    rating_valid_until TEXT,
    smart BOOLEAN NOT NULL DEFAULT FALSE,
    demonstration BOOLEAN NOT NULL DEFAULT FALSE,
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
    id TEXT COLLATE "C" PRIMARY KEY,
    facility_id TEXT COLLATE "C" NOT NULL REFERENCES facility (id),
    class_type TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    enrolled BIGINT NOT NULL DEFAULT 0,
    caregivers BIGINT NOT NULL DEFAULT 0,
    monthly_fee_fen BIGINT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX childcare_class_facility_idx ON childcare_class (facility_id);

CREATE TABLE person (
    id TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    hukou_area_code TEXT,
    residence_area_code TEXT COLLATE "C" NOT NULL REFERENCES area (code),
    area_path TEXT COLLATE "C" NOT NULL,
    address TEXT,
    lng DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    living_arrangement TEXT,
    special_difficulty TEXT,
    ability_level BIGINT,
    dementia BOOLEAN NOT NULL DEFAULT FALSE,
    birth_order BIGINT,
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
