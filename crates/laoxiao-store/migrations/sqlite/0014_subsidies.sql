-- Issue 13: the subsidy engine (laoxiao_store::subsidies, laoxiao_rules::subsidies).
-- Facility flags the rules read: 省级示范性 (a further demonstration award),
-- 临时托/计时托 (the sunflower operating subsidy), 已享受医养结合补助 (no
-- wellness alliance award on top of it).
ALTER TABLE facility ADD COLUMN provincial_demonstration BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE facility ADD COLUMN temporary_care BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE facility ADD COLUMN medical_care_subsidy BOOLEAN NOT NULL DEFAULT 0;

-- A run (发放批次): a month's or a year's entitlements, with the parameters'
-- version and the registers' state it was computed at. draft → approved (by a
-- second account) → paid; a draft may be rejected. Approved and paid runs
-- never change (the triggers below refuse it).
CREATE TABLE subsidy_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadence TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    prepared_by TEXT NOT NULL,
    prepared_at TEXT NOT NULL,
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_note TEXT,
    paid_by TEXT,
    paid_at TEXT,
    parameters_version TEXT NOT NULL,
    register_versions TEXT NOT NULL,
    snapshot_digest TEXT NOT NULL,
    placeholder BOOLEAN NOT NULL,
    line_count BIGINT NOT NULL,
    total_fen BIGINT NOT NULL,
    adjustment_fen BIGINT NOT NULL,
    city_fen BIGINT NOT NULL,
    county_fen BIGINT NOT NULL,
    note_count BIGINT NOT NULL,
    -- Paid runs when it was prepared: a run paid since makes it stale.
    ledger_version BIGINT NOT NULL
);
CREATE INDEX subsidy_run_period_idx ON subsidy_run (period, id);

-- One amount of a run. area_path scopes it: /330400/<county>/ (or /330400/
-- for the city's own lines), so a county reads its own lines only.
CREATE TABLE subsidy_line (
    run_id BIGINT NOT NULL REFERENCES subsidy_run (id),
    line_no BIGINT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    payee_kind TEXT NOT NULL,
    payee_id TEXT NOT NULL,
    payee_name TEXT NOT NULL,
    account_holder TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    county_code TEXT NOT NULL,
    area_path TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    city_fen BIGINT NOT NULL,
    county_fen BIGINT NOT NULL,
    award_key TEXT,
    placeholder BOOLEAN NOT NULL,
    explanation TEXT NOT NULL,
    months TEXT,
    PRIMARY KEY (run_id, line_no)
);
CREATE INDEX subsidy_line_payee_idx ON subsidy_line (payee_id, period);
CREATE INDEX subsidy_line_subject_idx ON subsidy_line (rule, subject_id, period);

-- Why candidates got nothing, per run (explain shows them).
CREATE TABLE subsidy_note (
    run_id BIGINT NOT NULL REFERENCES subsidy_run (id),
    note_no BIGINT NOT NULL,
    rule TEXT NOT NULL,
    period TEXT NOT NULL,
    payee_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, note_no)
);
CREATE INDEX subsidy_note_payee_idx ON subsidy_note (payee_id, period);

-- The award ledger: a one-time award's key, once, when its run is paid.
CREATE TABLE subsidy_award (
    award_key TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    run_id BIGINT NOT NULL REFERENCES subsidy_run (id),
    line_no BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    paid_at TEXT NOT NULL
);

-- 上一年人均可支配收入 loaded from the statistics bureau's figures: they
-- replace the embedded placeholders for that county and year.
CREATE TABLE subsidy_income (
    county_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    yuan BIGINT NOT NULL,
    source TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    PRIMARY KEY (county_code, year)
);

CREATE TRIGGER subsidy_line_frozen_insert BEFORE INSERT ON subsidy_line
WHEN (SELECT status FROM subsidy_run WHERE id = NEW.run_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'subsidy_run_frozen: lines of an approved or paid run never change'); END;
CREATE TRIGGER subsidy_line_frozen_update BEFORE UPDATE ON subsidy_line
WHEN (SELECT status FROM subsidy_run WHERE id = OLD.run_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'subsidy_run_frozen: lines of an approved or paid run never change'); END;
CREATE TRIGGER subsidy_line_frozen_delete BEFORE DELETE ON subsidy_line
WHEN (SELECT status FROM subsidy_run WHERE id = OLD.run_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'subsidy_run_frozen: lines of an approved or paid run never change'); END;
CREATE TRIGGER subsidy_run_paid_update BEFORE UPDATE ON subsidy_run
WHEN OLD.status IN ('paid', 'rejected')
BEGIN SELECT RAISE(ABORT, 'subsidy_run_frozen: a paid or rejected run never changes'); END;
CREATE TRIGGER subsidy_run_paid_delete BEFORE DELETE ON subsidy_run
WHEN OLD.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'subsidy_run_frozen: only a draft may be deleted'); END;
CREATE TRIGGER subsidy_award_update BEFORE UPDATE ON subsidy_award
BEGIN SELECT RAISE(ABORT, 'subsidy_award_frozen: the award ledger is append-only'); END;
CREATE TRIGGER subsidy_award_delete BEFORE DELETE ON subsidy_award
BEGIN SELECT RAISE(ABORT, 'subsidy_award_frozen: the award ledger is append-only'); END;
