-- Schema parity (issue 10): the schema parity test (crates/laoxiao-store/tests/
-- support/schema_parity.rs) found audit_log.version declared INTEGER (32-bit)
-- here where SQLite's INTEGER is 64-bit; every other integer column is BIGINT.
-- The audit_log triggers fire on row changes only, not on this rewrite.
ALTER TABLE audit_log ALTER COLUMN version TYPE BIGINT;
