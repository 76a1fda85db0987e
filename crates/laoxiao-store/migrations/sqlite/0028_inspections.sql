-- Issue 17, part 2: random inspections (双随机、一公开), laoxiao_store::inspections.
-- A plan (检查计划) per period and area; its draws (抽取), each with the frozen
-- rosters (一单两库) and their digest, the commitment to the seed published
-- before the draw and the seed revealed at it; a draw replaced after
-- publication stays, superseded, with who, when and why. The inspections the
-- draw assigns (or the re-inspections of a rectification), their inspectors,
-- item outcomes against the checklist (检查清单), evidence photos (uploads),
-- the result (检查结果) and its publication; the rectification orders (整改通知)
-- with their deadlines. See docs/inspections.md.
CREATE TABLE inspection_plan (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES area (code),
    area_path TEXT NOT NULL,
    period TEXT NOT NULL,
    kinds TEXT NOT NULL,
    ratio_percent INTEGER NOT NULL,
    inspectors_per_inspection INTEGER NOT NULL,
    include_flagged INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX inspection_plan_path_idx ON inspection_plan (area_path, created_at);
CREATE TABLE inspection_draw (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES inspection_plan (id),
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    roster TEXT NOT NULL,
    roster_digest TEXT NOT NULL,
    commit_hash TEXT NOT NULL,
    seed TEXT NOT NULL,
    committed_by TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    drawn_by TEXT,
    drawn_at TEXT,
    result TEXT,
    superseded_by TEXT,
    superseded_at TEXT,
    supersede_reason TEXT,
    next_draw_id TEXT,
    UNIQUE (plan_id, seq)
);
CREATE TABLE inspection (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES inspection_plan (id),
    draw_id TEXT REFERENCES inspection_draw (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    facility_path TEXT NOT NULL,
    facility_kind TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    rectification_id TEXT,
    checklist_from TEXT,
    items TEXT,
    note TEXT,
    verdict TEXT,
    inspected_on TEXT,
    recorded_by TEXT,
    recorded_at TEXT,
    published_by TEXT,
    published_at TEXT,
    cancelled_at TEXT,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX inspection_plan_idx ON inspection (plan_id, status);
CREATE INDEX inspection_facility_idx ON inspection (facility_id, recorded_at);
CREATE INDEX inspection_path_idx ON inspection (facility_path, status);
CREATE TABLE inspection_inspector (
    inspection_id TEXT NOT NULL REFERENCES inspection (id),
    username TEXT NOT NULL,
    PRIMARY KEY (inspection_id, username)
);
CREATE INDEX inspection_inspector_user_idx ON inspection_inspector (username);
CREATE TABLE inspection_photo (
    id TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL REFERENCES inspection (id),
    item_code TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX inspection_photo_idx ON inspection_photo (inspection_id);
CREATE TABLE rectification (
    id TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL REFERENCES inspection (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    facility_path TEXT NOT NULL,
    items TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    reported_by TEXT,
    reported_at TEXT,
    report_note TEXT,
    reinspection_id TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX rectification_facility_idx ON rectification (facility_id, status);
CREATE INDEX rectification_path_idx ON rectification (facility_path, due);
