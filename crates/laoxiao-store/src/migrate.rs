//! Embedded migrations, one list per backend, applied in order and recorded in
//! `schema_migrations`. Each runs in its own transaction (both databases have
//! transactional DDL), so a failed migration leaves the schema as it was.

use crate::db::{Backend, Conn, Value};
use crate::error::{Result, StoreError};

/// (version, name, SQLite text, PostgreSQL text)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "registers",
        include_str!("../migrations/sqlite/0001_registers.sql"),
        include_str!("../migrations/postgres/0001_registers.sql"),
    ),
    (
        2,
        "activity",
        include_str!("../migrations/sqlite/0002_activity.sql"),
        include_str!("../migrations/postgres/0002_activity.sql"),
    ),
    (
        3,
        "security",
        include_str!("../migrations/sqlite/0003_security.sql"),
        include_str!("../migrations/postgres/0003_security.sql"),
    ),
    (
        4,
        "tally",
        include_str!("../migrations/sqlite/0004_tally.sql"),
        include_str!("../migrations/postgres/0004_tally.sql"),
    ),
    (
        5,
        "transfers",
        include_str!("../migrations/sqlite/0005_transfers.sql"),
        include_str!("../migrations/postgres/0005_transfers.sql"),
    ),
    (
        6,
        "audit",
        include_str!("../migrations/sqlite/0006_audit.sql"),
        include_str!("../migrations/postgres/0006_audit.sql"),
    ),
    (
        7,
        "login",
        include_str!("../migrations/sqlite/0007_login.sql"),
        include_str!("../migrations/postgres/0007_login.sql"),
    ),
    (
        8,
        "parity",
        include_str!("../migrations/sqlite/0008_parity.sql"),
        include_str!("../migrations/postgres/0008_parity.sql"),
    ),
];

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// The version the database is at (0 before the first migration).
pub fn current_version(conn: &mut Conn) -> Result<i64> {
    conn.query_i64(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        &[],
    )
}

/// Applies every pending migration; returns the versions applied.
pub fn migrate(conn: &mut Conn) -> Result<Vec<i64>> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current = conn.query_i64(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        &[],
    )?;
    if current > latest_version() {
        return Err(StoreError::Migration {
            version: current,
            reason: format!(
                "the database is at schema {current}, newer than this binary's {}",
                latest_version()
            ),
        });
    }
    // Every migration not yet recorded, in order (not only those above the current
    // maximum: versions may be merged from branches out of order).
    let done: Vec<i64> = conn
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect();
    let mut applied = Vec::new();
    for &(version, name, sqlite, pg) in MIGRATIONS.iter().filter(|m| !done.contains(&m.0)) {
        let sql = match conn.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => pg,
        };
        conn.transaction(|c| {
            c.batch(sql).map_err(|e| StoreError::Migration {
                version,
                reason: e.to_string(),
            })?;
            c.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[
                    Value::Int(version),
                    name.into(),
                    crate::now_rfc3339().into(),
                ],
            )?;
            Ok(())
        })?;
        tracing::info!(version, name, "migration applied");
        applied.push(version);
    }
    Ok(applied)
}
