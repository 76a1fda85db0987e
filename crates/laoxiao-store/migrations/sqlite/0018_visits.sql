-- Issue 15, parts 3 and 4: visiting rounds (探访关爱) and home-care beds
-- (家庭养老床位). See laoxiao_store::visits and docs/visits.md.

-- One visit task (探访任务) per person due and month, generated per village
-- with a visitor (a village staff account) assigned round-robin.
CREATE TABLE visit_task (
    id TEXT PRIMARY KEY,
    -- YYYY-MM
    month TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES person (id),
    -- The person's area (a village, or a town) and its path, when generated.
    area_code TEXT NOT NULL REFERENCES area (code),
    area_path TEXT NOT NULL,
    -- users.username; NULL when the village has no staff account.
    visitor TEXT,
    due_date TEXT NOT NULL,
    -- open, visited
    status TEXT NOT NULL,
    -- Tries recorded, reached or not.
    attempts BIGINT NOT NULL DEFAULT 0,
    -- in_person, by_phone, not_reached: the last try's outcome.
    outcome TEXT,
    last_attempt_date TEXT,
    visited_date TEXT,
    -- ';health;safety;' (the set of concerns found)
    concerns TEXT,
    note TEXT,
    service_record_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Idempotent generation: one task per person and month.
CREATE UNIQUE INDEX visit_task_person_month_idx ON visit_task (month, person_id);
CREATE INDEX visit_task_area_idx ON visit_task (month, area_path);
CREATE INDEX visit_task_visitor_idx ON visit_task (visitor, month);

-- A follow-up (跟进事项) a visit asked for: a task for the person's town.
CREATE TABLE visit_followup (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES visit_task (id),
    person_id TEXT NOT NULL REFERENCES person (id),
    area_path TEXT NOT NULL,
    need TEXT NOT NULL,
    -- open, done
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_by TEXT,
    done_at TEXT,
    done_note TEXT
);
CREATE INDEX visit_followup_area_idx ON visit_followup (status, area_path);
CREATE INDEX visit_followup_task_idx ON visit_followup (task_id);

-- Home-care bed contracts (家庭养老床位服务协议): a register
-- (laoxiao_model::activity::HomeCareContract).
CREATE TABLE home_care_contract (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    service_plan TEXT NOT NULL,
    hours_per_month BIGINT NOT NULL,
    devices TEXT,
    start_date TEXT NOT NULL,
    end_date TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX home_care_contract_person_idx ON home_care_contract (person_id, start_date);
CREATE INDEX home_care_contract_facility_idx ON home_care_contract (facility_id, start_date);

-- A service visit (上门服务) made under a contract; each writes a
-- service_record of kind home_care_bed (indicator 7 reads it).
CREATE TABLE home_care_visit (
    id TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES home_care_contract (id),
    person_id TEXT NOT NULL REFERENCES person (id),
    date TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    services TEXT NOT NULL,
    staff_id TEXT REFERENCES staff (id),
    service_record_id TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX home_care_visit_contract_idx ON home_care_visit (contract_id, date);
