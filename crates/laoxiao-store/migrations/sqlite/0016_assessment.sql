-- Issue 15, part 1: ability assessments (老年人能力评估, GB/T 42195-2022),
-- laoxiao_store::assessments. An assessment of an elderly person: the reason,
-- the day, the 26 answers (JSON {"B.1.1": 4, …}), the Annex A facts the level
-- rules read, two certified assessors and the organisation. draft → finished
-- (the result computed and frozen in `result`) → appealed → superseded (by a
-- review assessment, review_of pointing at it, by two other assessors).
-- Scoped through the person's area (joined, never copied: a person who moves
-- takes their assessments along).
CREATE TABLE ability_assessment (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    reason TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    state TEXT NOT NULL,
    answers TEXT NOT NULL,
    coma BOOLEAN NOT NULL DEFAULT 0,
    diagnoses TEXT NOT NULL,
    risk_events TEXT NOT NULL,
    assessor1_id TEXT NOT NULL REFERENCES staff (id),
    assessor2_id TEXT NOT NULL REFERENCES staff (id),
    organisation_id TEXT REFERENCES facility (id),
    review_of TEXT REFERENCES ability_assessment (id),
    total BIGINT,
    initial_level BIGINT,
    final_level BIGINT,
    result TEXT,
    service_record_id TEXT,
    appeal_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_by TEXT,
    finished_at TEXT,
    appealed_by TEXT,
    appealed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX ability_assessment_person_idx ON ability_assessment (person_id, assessed_on);
CREATE INDEX ability_assessment_state_idx ON ability_assessment (state, id);

-- When each assessed person is next due (复评到期): written when an assessment
-- finishes (its day + the reassessment period in force) and when staff flag a
-- change of condition (即时评估, due at once). People with an ability level on
-- the register but no row here were never assessed: due as well.
CREATE TABLE assessment_due (
    person_id TEXT PRIMARY KEY REFERENCES person (id),
    area_path TEXT NOT NULL,
    due_on TEXT NOT NULL,
    cause TEXT NOT NULL,
    last_assessment_id TEXT,
    flag_note TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX assessment_due_area_idx ON assessment_due (area_path, due_on);
