-- Activity registers (phase 2): staff, service records, childcare enrolments,
-- care-home residences and eldercare student cohorts. Same conventions as 0001:
-- ISO text dates, RFC 3339 text timestamps, row_hash to skip unchanged rows,
-- soft deletion by deleted_at.
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility (id),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    certified INTEGER NOT NULL DEFAULT 0,
    certificate TEXT,
    skill_grade TEXT NOT NULL,
    hired_date TEXT NOT NULL,
    left_date TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX staff_facility_idx ON staff (facility_id, id);
CREATE INDEX staff_role_idx ON staff (role, hired_date);

CREATE TABLE service_record (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    facility_id TEXT REFERENCES facility (id),
    ability_level INTEGER,
    note TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX service_record_person_idx ON service_record (person_id, date);
CREATE INDEX service_record_facility_idx ON service_record (facility_id, date);
CREATE INDEX service_record_kind_date_idx ON service_record (kind, date);

CREATE TABLE enrolment (
    id TEXT PRIMARY KEY,
    infant_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    class_id TEXT REFERENCES childcare_class (id),
    start_date TEXT NOT NULL,
    end_date TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX enrolment_infant_idx ON enrolment (infant_id, start_date);
CREATE INDEX enrolment_facility_idx ON enrolment (facility_id, start_date);
CREATE INDEX enrolment_class_idx ON enrolment (class_id);

CREATE TABLE residence (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    admitted_date TEXT NOT NULL,
    discharged_date TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX residence_person_idx ON residence (person_id, admitted_date);
CREATE INDEX residence_facility_idx ON residence (facility_id, admitted_date);

CREATE TABLE student_cohort (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL,
    program TEXT NOT NULL,
    intake_year INTEGER NOT NULL,
    enrolled INTEGER NOT NULL,
    graduated INTEGER NOT NULL DEFAULT 0,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX student_cohort_year_idx ON student_cohort (intake_year);
