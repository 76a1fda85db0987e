-- Transfer requests (户籍/居住迁入): the receiving area asks for the record of a
-- person registered elsewhere; whoever holds the record approves (the record
-- moves) or refuses. See `transfers.rs` and docs/security.md.
CREATE TABLE transfer_request (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person (id),
    -- The holder's area when requested (the holder is whoever holds it now).
    from_path TEXT NOT NULL,
    to_area_code TEXT NOT NULL REFERENCES area (code),
    to_path TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- open, approved, refused, withdrawn, expired
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT
);
-- At most one open request per person.
CREATE UNIQUE INDEX transfer_open_idx ON transfer_request (person_id) WHERE status = 'open';
CREATE INDEX transfer_to_idx ON transfer_request (to_path, requested_at);
CREATE INDEX transfer_status_idx ON transfer_request (status, expires_at);
