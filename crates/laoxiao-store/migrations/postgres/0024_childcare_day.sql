-- Issue 16, part 4: a childcare institution's day (一日生活),
-- laoxiao_store::childcare_day. Who may drop off and collect a child, each
-- child's attendance with the morning and midday check, the day's entries
-- (meals, naps, outdoor time, incidents), the caregivers on duty per class
-- and every refused handover.

-- People a child's family authorised to drop off and collect it (接送授权人).
CREATE TABLE childcare_pickup (
    id TEXT COLLATE "C" PRIMARY KEY,
    infant_id TEXT COLLATE "C" NOT NULL REFERENCES person (id),
    name TEXT NOT NULL,
    relation TEXT NOT NULL,
    phone TEXT,
    -- `family` (a verified parent's account) or `institution` (on the
    -- family's written authorisation).
    added_side TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT
);
CREATE INDEX childcare_pickup_infant_idx ON childcare_pickup (infant_id);

-- One row per enrolment and day (出勤): present, collected, sent home at the
-- morning check, or absent with a reason.
CREATE TABLE childcare_attendance (
    id TEXT COLLATE "C" PRIMARY KEY,
    enrolment_id TEXT COLLATE "C" NOT NULL REFERENCES enrolment (id),
    infant_id TEXT COLLATE "C" NOT NULL REFERENCES person (id),
    facility_id TEXT COLLATE "C" NOT NULL REFERENCES facility (id),
    facility_path TEXT COLLATE "C" NOT NULL,
    class_id TEXT COLLATE "C",
    day TEXT NOT NULL,
    status TEXT NOT NULL,
    check_in_at TEXT,
    check_in_pickup TEXT,
    check_in_by TEXT,
    -- Health data: shown to the institution and the family, never logged.
    temperature_tenths BIGINT,
    morning_check TEXT,
    morning_note TEXT,
    midday_check TEXT,
    midday_note TEXT,
    midday_by TEXT,
    check_out_at TEXT,
    check_out_pickup TEXT,
    check_out_by TEXT,
    absence_reason TEXT,
    absence_note TEXT,
    absence_by TEXT,
    -- The health recheck after more than 3 months away (管理规范 art. 11).
    recheck_date TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (enrolment_id, day)
);
CREATE INDEX childcare_att_class_day_idx ON childcare_attendance (class_id, day);
CREATE INDEX childcare_att_facility_day_idx ON childcare_attendance (facility_id, day);
CREATE INDEX childcare_att_path_day_idx ON childcare_attendance (facility_path, day);
CREATE INDEX childcare_att_infant_idx ON childcare_attendance (infant_id, day);

-- A class's entries of the day: meals, naps (a child), outdoor time (the
-- class), incidents (a child).
CREATE TABLE childcare_day_event (
    id TEXT COLLATE "C" PRIMARY KEY,
    facility_id TEXT COLLATE "C" NOT NULL REFERENCES facility (id),
    facility_path TEXT COLLATE "C" NOT NULL,
    class_id TEXT COLLATE "C" NOT NULL,
    infant_id TEXT COLLATE "C",
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    minutes BIGINT,
    meal TEXT,
    amount TEXT,
    severity TEXT,
    note TEXT,
    guardian_informed BOOLEAN NOT NULL DEFAULT FALSE,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX childcare_event_class_day_idx ON childcare_day_event (class_id, day);
CREATE INDEX childcare_event_infant_idx ON childcare_day_event (infant_id, day);
CREATE INDEX childcare_event_path_day_idx ON childcare_day_event (facility_path, day, kind);

-- Caregivers on duty in a class on a day, when not the class's own number.
CREATE TABLE childcare_class_day (
    class_id TEXT COLLATE "C" NOT NULL,
    day TEXT NOT NULL,
    caregivers_on_duty BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (class_id, day)
);

-- Every handover refused (an unlisted or revoked person at the door): the
-- institution and the family see it.
CREATE TABLE childcare_handover_refusal (
    id TEXT COLLATE "C" PRIMARY KEY,
    facility_id TEXT COLLATE "C" NOT NULL REFERENCES facility (id),
    facility_path TEXT COLLATE "C" NOT NULL,
    infant_id TEXT COLLATE "C" NOT NULL REFERENCES person (id),
    day TEXT NOT NULL,
    at TEXT NOT NULL,
    direction TEXT NOT NULL,
    presented TEXT,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX childcare_refusal_facility_idx ON childcare_handover_refusal (facility_id, day);
CREATE INDEX childcare_refusal_infant_idx ON childcare_handover_refusal (infant_id, day);
