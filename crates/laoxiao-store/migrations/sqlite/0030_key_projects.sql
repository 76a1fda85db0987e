-- Issue 17, part 4: the key projects (重点项目, 附件1 of the plan),
-- laoxiao_store::key_projects. One row per project of
-- data/jiaxing/plan/key_projects.csv, keyed by the plan's number and seeded
-- at start (the plan's figures are the baseline); its milestones (节点), its
-- progress reports (进度填报: investment spent and funding granted to date,
-- percent complete, text, photos through `uploads`), and on completion (竣工)
-- the capacity delivered and the facility of the register it became.
-- Amounts are whole yuan (the plan prints 10k yuan with two decimals).
CREATE TABLE key_project (
    number INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    project_type TEXT NOT NULL,
    county_code TEXT NOT NULL REFERENCES area (code),
    area_code TEXT NOT NULL REFERENCES area (code),
    area_path TEXT NOT NULL,
    capacity_kind TEXT,
    capacity INTEGER,
    investment_planned_yuan INTEGER NOT NULL,
    funding_requested_yuan INTEGER,
    planned_start TEXT NOT NULL,
    planned_end TEXT NOT NULL,
    completed_on TEXT,
    delivered_capacity INTEGER,
    facility_id TEXT REFERENCES facility (id),
    updated_at TEXT NOT NULL
);
CREATE INDEX key_project_path_idx ON key_project (area_path, number);
CREATE TABLE key_project_milestone (
    id TEXT PRIMARY KEY,
    project_number INTEGER NOT NULL REFERENCES key_project (number),
    title TEXT NOT NULL,
    planned_on TEXT NOT NULL,
    done_on TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX key_project_milestone_idx ON key_project_milestone (project_number, planned_on);
CREATE TABLE key_project_report (
    id TEXT PRIMARY KEY,
    project_number INTEGER NOT NULL REFERENCES key_project (number),
    report_date TEXT NOT NULL,
    investment_spent_yuan INTEGER NOT NULL,
    funding_granted_yuan INTEGER NOT NULL,
    percent_complete INTEGER NOT NULL,
    body TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL
);
CREATE INDEX key_project_report_idx ON key_project_report (project_number, report_date);
CREATE TABLE key_project_photo (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES key_project_report (id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX key_project_photo_idx ON key_project_photo (report_id);
