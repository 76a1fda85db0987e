-- Issue 15, part 2: care-home admission by priority (养老机构入住轮候,
-- laoxiao_store::admission, laoxiao_rules::admission). An application (入住申请)
-- of one elderly person to one care home; applying to three homes is three rows.
-- waiting → offered → admitted | declined | lapsed; waiting or offered →
-- withdrawn | cancelled. The priority is never stored: it is recomputed from
-- the registers each time the list is read.
CREATE TABLE admission_application (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    -- The home's area path (its staff and operator see the list) and the
    -- person's (the applicant's village, town and county see the application).
    home_path TEXT NOT NULL,
    person_path TEXT NOT NULL,
    applicant_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    applied_by TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    applied_date TEXT NOT NULL,
    offered_by TEXT,
    offered_date TEXT,
    offer_deadline TEXT,
    closed_by TEXT,
    closed_date TEXT,
    close_reason TEXT,
    residence_id TEXT
);
CREATE INDEX admission_home_idx ON admission_application (facility_id, status);
CREATE INDEX admission_person_idx ON admission_application (person_id, status);
CREATE INDEX admission_home_path_idx ON admission_application (home_path, status);
CREATE INDEX admission_person_path_idx ON admission_application (person_path, status);

-- One row per care home that has had an application: the row every offer,
-- acceptance and discharge of the home updates first, so two staff acting on
-- the same home's beds at once take turns (a row lock on both databases).
CREATE TABLE admission_home (
    facility_id TEXT PRIMARY KEY REFERENCES facility (id),
    offers BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
