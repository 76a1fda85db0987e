//! The audit trail: append-only, each entry carrying the hash of the previous one.
//!
//! There is no update or delete path in this code; the database also rejects
//! UPDATE and DELETE on `audit_log` with triggers (both backends). Appends race on
//! the `seq` primary key, so two writers can never fork the chain: the loser gets a
//! conflict and retries. [`verify`] recomputes the chain and names the first entry
//! that does not match. ID numbers in snapshots are masked before they are stored.

use serde::Serialize;

use crate::crypto::sha256_hex;
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const COLS: &str =
    "seq, at, actor, role, ip, action, entity, entity_id, before, after, prev_hash, hash";

fn from_row(r: &Row) -> Entry {
    Entry {
        seq: r.int(0),
        at: r.text(1),
        actor: r.text(2),
        role: r.text(3),
        ip: r.opt_text(4),
        action: r.text(5),
        entity: r.text(6),
        entity_id: r.opt_text(7),
        before: r.opt_text(8),
        after: r.opt_text(9),
        prev_hash: r.text(10),
        hash: r.text(11),
    }
}

/// The hash of an entry: SHA-256 over its fields, each length-prefixed.
pub fn entry_hash(e: &Entry) -> String {
    let mut buf = Vec::new();
    let mut field = |s: Option<&str>| match s {
        None => buf.extend_from_slice(b"-1:"),
        Some(s) => {
            buf.extend_from_slice(format!("{}:", s.len()).as_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
    };
    let seq = e.seq.to_string();
    for f in [
        Some(e.prev_hash.as_str()),
        Some(seq.as_str()),
        Some(e.at.as_str()),
        Some(e.actor.as_str()),
        Some(e.role.as_str()),
        e.ip.as_deref(),
        Some(e.action.as_str()),
        Some(e.entity.as_str()),
        e.entity_id.as_deref(),
        e.before.as_deref(),
        e.after.as_deref(),
    ] {
        field(f);
    }
    sha256_hex(&buf)
}

/// What happened, to what.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    /// Snapshots (JSON), ID numbers already masked.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Appends one entry for the scope's actor; returns its sequence number.
pub fn append(conn: &mut Conn, scope: &Scope, ev: Event<'_>) -> Result<i64> {
    let mut tries = 0;
    if conn.backend() == crate::db::Backend::Postgres {
        // Inside a transaction this serialises appends until commit, so a
        // concurrent writer waits instead of failing the whole transaction on the
        // seq key; in autocommit mode the key race below does the same job.
        conn.query(
            "SELECT 1 FROM (SELECT pg_advisory_xact_lock(7410)) AS l",
            &[],
        )?;
    }
    loop {
        let last = conn.query_opt(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            &[],
        )?;
        let (seq, prev) = match last {
            Some(r) => (r.int(0) + 1, r.text(1)),
            None => (1, GENESIS.to_string()),
        };
        let mut e = Entry {
            seq,
            at: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            actor: scope.actor.user.clone(),
            role: scope.role_code().to_string(),
            ip: scope.actor.ip.clone(),
            action: ev.action.to_string(),
            entity: ev.entity.to_string(),
            entity_id: ev.entity_id.map(str::to_string),
            before: ev.before.clone(),
            after: ev.after.clone(),
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        let r = conn.execute(
            &format!(
                "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            &[
                e.seq.into(),
                e.at.into(),
                e.actor.into(),
                e.role.into(),
                e.ip.into(),
                e.action.into(),
                e.entity.into(),
                e.entity_id.into(),
                e.before.into(),
                e.after.into(),
                e.prev_hash.into(),
                e.hash.into(),
            ],
        );
        match r {
            Ok(_) => return Ok(seq),
            // Another writer took this seq: read the new head and try again.
            Err(StoreError::Conflict(_)) if tries < 20 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: i64,
    /// The first entry that does not verify, and why.
    pub first_broken: Option<(i64, String)>,
}

/// Recomputes the whole chain, in pages.
pub fn verify(conn: &mut Conn) -> Result<Verified> {
    let mut prev = GENESIS.to_string();
    let mut expect_seq = 1;
    let mut n = 0;
    loop {
        let rows = conn.query(
            &format!("SELECT {COLS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000"),
            &[expect_seq.into()],
        )?;
        if rows.is_empty() {
            return Ok(Verified {
                entries: n,
                first_broken: None,
            });
        }
        for r in &rows {
            let e = from_row(r);
            let broken = if e.seq != expect_seq {
                Some(format!("entry {expect_seq} is missing (next is {})", e.seq))
            } else if e.prev_hash != prev {
                Some("its prev_hash does not match the previous entry's hash".to_string())
            } else if entry_hash(&e) != e.hash {
                Some("its content does not match its hash (altered)".to_string())
            } else {
                None
            };
            if let Some(reason) = broken {
                return Ok(Verified {
                    entries: n,
                    first_broken: Some((expect_seq, reason)),
                });
            }
            prev = e.hash;
            expect_seq += 1;
            n += 1;
        }
    }
}

/// Filters for searching the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Entries at or after this RFC 3339 time (a date works too).
    pub from: Option<String>,
    /// Entries before this time.
    pub to: Option<String>,
    /// Newest first: entries with seq below this.
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

/// Entries matching the filters, newest first. Auditors only.
pub fn search(conn: &mut Conn, scope: &Scope, q: &AuditQuery) -> Result<Vec<Entry>> {
    scope.require(Perm::ReadAudit)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    for (col, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("entity", &q.entity),
        ("entity_id", &q.entity_id),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            p.push(v.into());
            w.push_str(&format!(" AND {col} = ${}", p.len()));
        }
    }
    if let Some(f) = q.from.as_deref().filter(|v| !v.is_empty()) {
        p.push(f.into());
        w.push_str(&format!(" AND at >= ${}", p.len()));
    }
    if let Some(t) = q.to.as_deref().filter(|v| !v.is_empty()) {
        p.push(t.into());
        w.push_str(&format!(" AND at < ${}", p.len()));
    }
    if let Some(b) = q.before_seq {
        p.push(b.into());
        w.push_str(&format!(" AND seq < ${}", p.len()));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(conn
        .query(
            &format!("SELECT {COLS} FROM audit_log WHERE {w} ORDER BY seq DESC LIMIT {limit}"),
            &p,
        )?
        .iter()
        .map(from_row)
        .collect())
}

/// A JSON snapshot with `id_number` masked (never the plaintext in the trail).
pub fn snapshot<T: Serialize>(v: &T) -> Option<String> {
    let mut j = serde_json::to_value(v).ok()?;
    if let Some(obj) = j.as_object_mut()
        && let Some(serde_json::Value::String(n)) = obj.get("id_number").cloned()
    {
        obj.insert(
            "id_number".into(),
            serde_json::Value::String(laoxiao_model::person::mask_id_number(&n)),
        );
    }
    Some(j.to_string())
}
