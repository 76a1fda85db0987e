-- Login throttling (issue 9, hole 8); see the SQLite twin of this file.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX login_throttle_last_idx ON login_throttle (last_failure_at);

UPDATE users SET failed_logins = 0, locked_until = NULL;

-- Issue 9, hole 13: every other area path is COLLATE "C" (0001), so a subtree
-- is the byte range [path, path || U+FFFF); the tally's path had the database's
-- default collation, under which that range can select other rows than the
-- person table's. Same collation everywhere (rebuilds the primary key).
ALTER TABLE person_tally ALTER COLUMN area_path TYPE TEXT COLLATE "C";
