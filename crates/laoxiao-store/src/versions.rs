//! Register versions (登记册版本): a counter per register in the database,
//! bumped in the same transaction as every write to that register.
//!
//! What a server keeps in memory because it changes only on writes (the people
//! index, the overview's figures) remembers the versions it was built at and
//! is used only while the database still holds them. The versions live in the
//! database, not in the process, so a write through any server behind a load
//! balancer invalidates every server's memory at its next request. Reading
//! them is one query of a few rows.
//!
//! On PostgreSQL the bump takes the register's row lock until the writing
//! transaction ends, so the writers of one register are ordered and versions
//! follow commit order: a reader that sees version `v` sees every write
//! numbered `v` or lower.

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};

/// The register keys that have versions.
pub const PERSON: &str = "person";
pub const FACILITY: &str = "facility";
/// Childcare classes and the activity registers share one version: the
/// figures that depend on them are read together.
pub const ACTIVITY: &str = "activity";
/// The indicator tables (reported values, area targets, residents,
/// publications): what the indicator monitor keeps depends on them too.
pub const INDICATOR: &str = "indicator";

/// The version a table's writes bump.
pub fn of_table(table: &str) -> &'static str {
    match table {
        "person" => PERSON,
        "facility" => FACILITY,
        _ => ACTIVITY,
    }
}

/// The versions of every register, read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions {
    /// A random number naming the database (its migration drew it), so that
    /// memory built from one database is never taken for another's.
    pub database: i64,
    pub person: i64,
    /// The person version of the last bulk write (readers reload, not patch).
    pub person_rebuilt: i64,
    pub facility: i64,
    pub activity: i64,
    pub indicator: i64,
}

/// Reads every register's version.
pub fn read(conn: &mut Conn) -> Result<Versions> {
    let mut v = Versions::default();
    for r in conn.query(
        "SELECT register, version, rebuilt FROM register_version",
        &[],
    )? {
        let key: String = r.get("register")?;
        let n: i64 = r.get("version")?;
        match key.as_str() {
            "#database" => v.database = n,
            PERSON => {
                v.person = n;
                v.person_rebuilt = r.get("rebuilt")?;
            }
            FACILITY => v.facility = n,
            ACTIVITY => v.activity = n,
            INDICATOR => v.indicator = n,
            _ => {}
        }
    }
    Ok(v)
}

/// Bumps a register's version inside the caller's transaction and returns the
/// new version (the write's number).
pub fn bump(conn: &mut Conn, register: &'static str) -> Result<i64> {
    bump_with(conn, register, false)
}

/// Bumps a register's version for a bulk write: readers reload the register
/// rather than fetch the rows changed since the version they hold.
pub fn bump_rebuilt(conn: &mut Conn, register: &'static str) -> Result<i64> {
    bump_with(conn, register, true)
}

fn bump_with(conn: &mut Conn, register: &'static str, rebuilt: bool) -> Result<i64> {
    let set_rebuilt = if rebuilt {
        ", rebuilt = register_version.version + 1"
    } else {
        ""
    };
    let first_rebuilt = if rebuilt { 1 } else { 0 };
    let row = conn.query_opt(
        &format!(
            "INSERT INTO register_version (register, version, rebuilt) VALUES ($1, 1, {first_rebuilt}) \
             ON CONFLICT (register) DO UPDATE SET version = register_version.version + 1{set_rebuilt} \
             RETURNING version"
        ),
        &[Value::from(register)],
    )?;
    match row {
        Some(r) => r.get("version"),
        None => Err(StoreError::Database(format!(
            "the version of {register} was not returned"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb::TestDb;

    #[test]
    fn bumps_count_up_per_register_and_mark_bulk_writes() {
        for db in TestDb::all().expect("test databases") {
            let mut c = db.store.conn().expect("conn");
            let before = read(&mut c).expect("read");
            assert_ne!(before.database, 0, "the migration names the database");
            let a = bump(&mut c, PERSON).expect("bump");
            let b = bump(&mut c, PERSON).expect("bump");
            assert_eq!(b, a + 1);
            let f = bump(&mut c, FACILITY).expect("bump");
            let r = bump_rebuilt(&mut c, PERSON).expect("bump");
            let after = read(&mut c).expect("read");
            assert_eq!(after.person, r);
            assert_eq!(after.person_rebuilt, r);
            assert_eq!(after.facility, f);
            assert_eq!(after.database, before.database);
        }
    }
}
