-- Issue 16, part 5 (and the groundwork issue 17's portal reuses): the
-- complaint register (投诉), laoxiao_store::complaints. One row per complaint
-- about a facility: who filed it and for whom, what about, the deadlines to
-- acknowledge (受理确认) and answer (答复) computed from dated parameters
-- (data/policy/complaints.toml), the escalation when one passes unmet
-- (逾期升级, 督办), the answer, and the complainant's rating on closing
-- (办结评价). The contact phone is encrypted like ID numbers.
CREATE TABLE complaint (
    id TEXT PRIMARY KEY,
    tracking_code TEXT NOT NULL UNIQUE,
    facility_id TEXT NOT NULL REFERENCES facility (id),
    facility_path TEXT NOT NULL,
    source TEXT NOT NULL,
    filed_by TEXT,
    person_id TEXT REFERENCES person (id),
    category TEXT NOT NULL,
    body TEXT NOT NULL,
    contact_phone TEXT,
    status TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    ack_due TEXT NOT NULL,
    answer_due TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    escalated_at TEXT,
    escalation_reason TEXT,
    answer TEXT,
    answered_by TEXT,
    answered_side TEXT,
    answered_at TEXT,
    closed_at TEXT,
    rating INTEGER,
    rating_comment TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX complaint_facility_idx ON complaint (facility_id, filed_at);
CREATE INDEX complaint_path_idx ON complaint (facility_path, filed_at);
CREATE INDEX complaint_filed_by_idx ON complaint (filed_by, filed_at);
CREATE INDEX complaint_status_idx ON complaint (status, escalated_at);
