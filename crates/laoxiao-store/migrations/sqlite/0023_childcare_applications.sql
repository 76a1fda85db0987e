-- Issue 16, part 3: applications to childcare institutions (入托申请) and the
-- offers of a place in a class (录取), laoxiao_store::childcare_applications.
-- One row per child and institution; applying to three is three rows.
-- waiting → offered → accepted → enrolled; offered → declined | lapsed;
-- waiting, offered or accepted → withdrawn | cancelled. The position on the
-- waiting list is never stored: it is the order of application (seq).
CREATE TABLE childcare_application (
    id TEXT PRIMARY KEY,
    infant_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    -- The institution's area path (its operator and county see the list) and
    -- the child's (the village, town and county of the family see it).
    facility_path TEXT NOT NULL,
    infant_path TEXT NOT NULL,
    care_type TEXT NOT NULL,
    wanted_start TEXT NOT NULL,
    applicant_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    applied_by TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    applied_date TEXT NOT NULL,
    -- The order of application at the institution (1, 2, …), taken under the
    -- institution's lock: the waiting list's order, with no ties.
    seq BIGINT NOT NULL,
    -- The offer: a place in a class from a start date, to answer by a deadline.
    class_id TEXT,
    start_date TEXT,
    offered_by TEXT,
    offered_date TEXT,
    offer_deadline TEXT,
    answered_by TEXT,
    answered_date TEXT,
    -- Before the start (托育机构管理规范 art. 11): the health check's date and
    -- the vaccinations seen, confirmed by the institution.
    health_check_date TEXT,
    vaccinations_confirmed BOOLEAN NOT NULL DEFAULT 0,
    enrolment_id TEXT,
    closed_by TEXT,
    closed_date TEXT,
    close_reason TEXT
);
CREATE INDEX childcare_app_facility_idx ON childcare_application (facility_id, status);
CREATE INDEX childcare_app_infant_idx ON childcare_application (infant_id, status);
CREATE INDEX childcare_app_facility_path_idx ON childcare_application (facility_path, status);
CREATE INDEX childcare_app_infant_path_idx ON childcare_application (infant_path, status);
-- Offers past their deadline are looked for on every page that shows them.
CREATE INDEX childcare_app_deadline_idx ON childcare_application (status, offer_deadline);

-- One row per institution that has had an application: every offer, answer
-- and enrolment updates it first, so two staff filling the same class at once
-- take turns (a row lock on both databases).
CREATE TABLE childcare_intake (
    facility_id TEXT PRIMARY KEY REFERENCES facility (id),
    steps BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

-- The care type a child is enrolled for (全日托, 半日托, 计时托, 临时托): the
-- bill (part 6) prices it.
ALTER TABLE enrolment ADD COLUMN care_type TEXT;
