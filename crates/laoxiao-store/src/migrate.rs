//! Embedded migrations, one list per backend, applied in order and recorded in
//! `schema_migrations`. Each runs in its own transaction (both databases have
//! transactional DDL), so a failed migration leaves the schema as it was.

use crate::db::{Backend, Conn, Value};
use crate::error::{Result, StoreError};

/// (version, name, SQLite text, PostgreSQL text): every pair of files under
/// `migrations/`, listed by `build.rs`.
const MIGRATIONS: &[(i64, &str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

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
        .map(|r| r.get("version"))
        .collect::<Result<_>>()?;
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
