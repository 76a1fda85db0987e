-- Transfer requests (户籍/居住迁入); see the SQLite twin of this file.
CREATE TABLE transfer_request (
    id TEXT COLLATE "C" PRIMARY KEY,
    person_id TEXT COLLATE "C" NOT NULL REFERENCES person (id),
    from_path TEXT COLLATE "C" NOT NULL,
    to_area_code TEXT COLLATE "C" NOT NULL REFERENCES area (code),
    to_path TEXT COLLATE "C" NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT
);
CREATE UNIQUE INDEX transfer_open_idx ON transfer_request (person_id) WHERE status = 'open';
CREATE INDEX transfer_to_idx ON transfer_request (to_path, requested_at);
CREATE INDEX transfer_status_idx ON transfer_request (status, expires_at);
