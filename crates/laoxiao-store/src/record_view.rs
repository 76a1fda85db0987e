//! Who viewed which person's record (`record_view`).
//!
//! Every person detail and every list or search page that shows people records
//! one row per person shown, all in ONE multi-row INSERT per request, so a list
//! costs one statement, not one per row. The table is append-only (triggers on
//! both databases) but outside the audit MAC chain: chaining would serialise
//! every reader on the chain's head. Reads of full ID numbers, exports and all
//! changes stay in the chained trail (`audit`).

use serde::Serialize;

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};

/// How a record was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `GET /api/people/{id}`
    ApiDetail,
    /// `GET /api/people` (a list or search page)
    ApiList,
    /// `/console/people/{id}`
    ConsoleDetail,
    /// `/console/elderly`, `/console/infants` (a list or search page)
    ConsoleList,
}

impl Via {
    pub fn code(self) -> &'static str {
        match self {
            Via::ApiDetail => "api_detail",
            Via::ApiList => "api_list",
            Via::ConsoleDetail => "console_detail",
            Via::ConsoleList => "console_list",
        }
    }
}

/// Rows per INSERT statement: list pages hold at most 1000 people, and
/// 1000 × 6 parameters stays under both databases' parameter limits.
const CHUNK: usize = 1000;

/// Records that the scope's actor was shown these people (one statement per
/// 1000 ids; a page holds at most 1000).
pub fn record(conn: &mut Conn, scope: &Scope, via: Via, person_ids: &[&str]) -> Result<()> {
    if person_ids.is_empty() {
        return Ok(());
    }
    let at = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    // A transaction of its own (when the caller has none): on SQLite it
    // waits its turn among the writers (crate::db::WriteGate).
    conn.transaction(|conn| {
        for chunk in person_ids.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO record_view (at, actor, role, ip, via, person_id) VALUES ",
            );
            let mut p: Vec<Value> = Vec::with_capacity(5 + chunk.len());
            // The shared columns once, each row referring to them.
            p.push(at.as_str().into());
            p.push(scope.actor.user.as_str().into());
            p.push(scope.role_code().into());
            p.push(scope.actor.ip.clone().into());
            p.push(via.code().into());
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                p.push((*id).into());
                sql.push_str(&format!("($1, $2, $3, $4, $5, ${})", p.len()));
            }
            conn.execute(&sql, &p)?;
        }
        Ok(())
    })
}

/// One view of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub via: String,
}

/// The most recent views of one person, newest first (at most `limit`, 1–1000).
/// Roles with [`Perm::ReadViews`] only; a person outside the scope's area is not
/// found (404), like everywhere else.
pub fn of_person(conn: &mut Conn, scope: &Scope, person_id: &str, limit: u32) -> Result<Vec<View>> {
    scope.require(Perm::ReadViews)?;
    let mut w = String::from("id = $1");
    let mut p: Vec<Value> = vec![person_id.into()];
    scope.push_sql(&mut w, &mut p, "area_path", None);
    // Deleted records' views stay readable: the question "who saw it" outlives it.
    if conn
        .query_opt(&format!("SELECT 1 FROM person WHERE {w}"), &p)?
        .is_none()
    {
        return Err(StoreError::NotFound {
            what: "person",
            id: person_id.to_string(),
        });
    }
    let limit = limit.clamp(1, 1000);
    conn.query(
        &format!(
            "SELECT at, actor, role, via FROM record_view WHERE person_id = $1 \
             ORDER BY id DESC LIMIT {limit}"
        ),
        &[person_id.into()],
    )?
    .iter()
    .map(|r| {
        Ok(View {
            at: r.get("at")?,
            actor: r.get("actor")?,
            role: r.get("role")?,
            via: r.get("via")?,
        })
    })
    .collect()
}
