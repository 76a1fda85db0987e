-- Security: accounts, console sessions, API tokens, the audit trail, and citizen
-- ID numbers encrypted at rest. (0002 is reserved for the activity registers.)
CREATE TABLE users (
    username TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    area_code TEXT NOT NULL,
    facility_id TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    -- A one-time password: the console asks for a new one before anything else.
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Session secrets and API tokens are stored as SHA-256 only.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    csrf TEXT NOT NULL,
    ip TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (username);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    UNIQUE (username, name)
);

-- Append-only; each entry carries the hash of the previous one.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    ip TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before TEXT,
    after TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, seq);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- ID numbers: the plaintext column becomes the keyed hash (existing rows are
-- hashed and encrypted by the binary right after this migration, when a key is
-- configured); id_number_enc holds keyid:base64(nonce || AES-256-GCM ciphertext).
DROP INDEX person_id_number_idx;
ALTER TABLE person RENAME COLUMN id_number TO id_number_hmac;
ALTER TABLE person ADD COLUMN id_number_enc TEXT;
CREATE UNIQUE INDEX person_id_number_hmac_idx ON person (id_number_hmac);
CREATE INDEX person_pending_enc_idx ON person (id) WHERE id_number_enc IS NULL;
