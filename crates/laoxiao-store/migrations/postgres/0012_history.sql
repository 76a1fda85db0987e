-- The registers keep their history (laoxiao_model::person, facility, activity):
-- 迁出日期 of a person who moved out (status moved_out), 停业日期 of a facility
-- that closed (status closed), and the insurance enrolment register
-- (参保登记, laoxiao_model::activity::InsuranceEnrolment). Same conventions
-- as 0002: ISO text dates, RFC 3339 text timestamps, row_hash to skip
-- unchanged rows, soft deletion by deleted_at.
ALTER TABLE person ADD COLUMN moved_out_date TEXT;
ALTER TABLE facility ADD COLUMN closed_date TEXT;

CREATE TABLE insurance_enrolment (
    id TEXT COLLATE "C" PRIMARY KEY,
    person_id TEXT COLLATE "C" NOT NULL REFERENCES person (id),
    kind TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    note TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX insurance_enrolment_person_idx ON insurance_enrolment (person_id, start_date);
CREATE INDEX insurance_enrolment_kind_date_idx ON insurance_enrolment (kind, start_date);
CREATE INDEX insurance_enrolment_kind_id_idx ON insurance_enrolment (kind, id);
