-- Issue 16, part 1: childcare institution filing (托育机构备案) with the county
-- health commission (laoxiao_store::filing, laoxiao_rules::filing). One row per
-- filing of an institution: an initial filing, a change (变更) or a
-- cancellation (注销). draft → submitted → accepted | rejected, with
-- corrections_requested → submitted in between; draft, submitted or
-- corrections_requested → withdrawn. An institution has at most one open
-- filing (the partial unique index: every closing step sets closed_date), so
-- two drafts cannot race.
CREATE TABLE childcare_filing (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility (id),
    -- The institution's area path: its county reviews, its operator files.
    facility_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The filing form (备案书) as JSON (laoxiao_rules::filing::FilingForm).
    form TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    submitted_by TEXT,
    submitted_at TEXT,
    submitted_date TEXT,
    -- How many times it was submitted (1 + answered correction requests).
    rounds BIGINT NOT NULL DEFAULT 0,
    review_deadline TEXT,
    correction_deadline TEXT,
    reviewed_by TEXT,
    reviewed_date TEXT,
    review_note TEXT,
    closed_date TEXT
);
CREATE INDEX childcare_filing_facility_idx ON childcare_filing (facility_id, status);
CREATE INDEX childcare_filing_path_idx ON childcare_filing (facility_path, status);
CREATE UNIQUE INDEX childcare_filing_open_idx ON childcare_filing (facility_id)
    WHERE closed_date IS NULL;

-- The uploaded documents (备案材料) of a filing. The bytes live in the upload
-- store (a directory, content-addressed by SHA-256), never in the database;
-- a removed document keeps its row (removed_at) for the audit trail.
CREATE TABLE filing_document (
    id TEXT PRIMARY KEY,
    filing_id TEXT NOT NULL REFERENCES childcare_filing (id),
    doc_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    removed_by TEXT,
    removed_at TEXT
);
CREATE INDEX filing_document_filing_idx ON filing_document (filing_id);
