-- Audit trail, keyed (docs/security.md, "Audit trail"). Entries written from now
-- on carry version 2: `hash` is an HMAC-SHA256 under the audit key, which is not
-- in the database; older entries keep version 1 (SHA-256 links) and stay
-- verifiable. area_path (the records' area) and actor_area_path (the actor's home
-- area) scope an auditor's search to their subtree.
ALTER TABLE audit_log ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN area_path TEXT;
ALTER TABLE audit_log ADD COLUMN actor_area_path TEXT;
CREATE INDEX audit_log_area_idx ON audit_log (area_path, seq);
CREATE INDEX audit_log_actor_area_idx ON audit_log (actor_area_path, seq);

-- Who viewed which person's record: one row per person shown, written by one
-- INSERT per request. Outside the MAC chain (a list page would otherwise
-- serialise every reader on the chain's head) but append-only like it.
CREATE TABLE record_view (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    ip TEXT,
    via TEXT NOT NULL,
    person_id TEXT NOT NULL
);
CREATE INDEX record_view_person_idx ON record_view (person_id, id);
CREATE TRIGGER record_view_no_update BEFORE UPDATE ON record_view
BEGIN
    SELECT RAISE(ABORT, 'record_view is append-only');
END;
CREATE TRIGGER record_view_no_delete BEFORE DELETE ON record_view
BEGIN
    SELECT RAISE(ABORT, 'record_view is append-only');
END;
