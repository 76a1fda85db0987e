//! The audit trail: append-only, each entry linked to the one before.
//!
//! * **Links.** Entries of version 2 carry `hash` = HMAC-SHA256 under the audit
//!   key (not in the database) over the previous entry's `hash` and their own
//!   fields, so someone who can write the database but does not hold the key
//!   cannot rewrite an entry and recompute the links. Entries written before
//!   migration 6 (or while no audit key was configured) are version 1: plain
//!   SHA-256 links, verified as before. A version-1 entry after a version-2 one
//!   is a break (a downgrade). Existing entries are never rewritten.
//! * **Heads.** [`Head`] (`laoxiao audit head`) is the newest entry's position and
//!   link, one line to keep outside the database; [`check_head`] then detects a
//!   cut tail or a rewritten chain that the chain alone cannot show.
//! * **Snapshots.** Personal fields of `before`/`after` ([`personal_fields`]) are
//!   replaced by a keyed digest of the value ([`redact`]), enough to prove a
//!   change to someone holding the record, never the value itself.
//! * **Scope.** Each entry records the area of the records it concerns and the
//!   actor's home area; an auditor searches only entries where either lies in
//!   their subtree ([`search`]).
//!
//! There is no update or delete path in this code; the database also rejects
//! UPDATE and DELETE on `audit_log` with triggers (both backends). Appends race on
//! the `seq` primary key, so two writers can never fork the chain: the loser gets a
//! conflict and retries.

use std::sync::Arc;

use serde::Serialize;

use crate::crypto::{AuditKey, ct_eq, sha256_hex};
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries linked by plain SHA-256 (before migration 6, or without an audit key).
pub const V1_SHA256: i64 = 1;
/// Entries linked by HMAC-SHA256 under the audit key.
pub const V2_MAC: i64 = 2;

/// A personal value in a snapshot becomes this prefix and the value's digest.
pub const DIGEST_PREFIX: &str = "hmac:";
/// …or this, when no audit key is configured (nothing to prove it with).
pub const REDACTED: &str = "redacted";

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
    /// [`V1_SHA256`] or [`V2_MAC`].
    pub version: i64,
    /// The area (materialised path) of the records the entry concerns: the
    /// deepest area holding all of them; `None` when it concerns none.
    pub area_path: Option<String>,
    /// The actor's home area, when the actor is an account.
    pub actor_area_path: Option<String>,
}

const COLS: &str = "seq, at, actor, role, ip, action, entity, entity_id, before, after, \
                    prev_hash, hash, version, area_path, actor_area_path";

fn from_row(r: &Row) -> Result<Entry> {
    Ok(Entry {
        seq: r.get("seq")?,
        at: r.get("at")?,
        actor: r.get("actor")?,
        role: r.get("role")?,
        ip: r.get("ip")?,
        action: r.get("action")?,
        entity: r.get("entity")?,
        entity_id: r.get("entity_id")?,
        before: r.get("before")?,
        after: r.get("after")?,
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
        version: r.get("version")?,
        area_path: r.get("area_path")?,
        actor_area_path: r.get("actor_area_path")?,
    })
}

/// The fields an entry's link covers, each length-prefixed (`-1:` for none).
fn canonical(e: &Entry, with_areas: bool) -> Vec<u8> {
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
    if with_areas {
        field(e.area_path.as_deref());
        field(e.actor_area_path.as_deref());
    }
    buf
}

/// The version-1 link of an entry: SHA-256 over its fields, each length-prefixed.
pub fn entry_hash(e: &Entry) -> String {
    sha256_hex(&canonical(e, false))
}

/// The version-2 link of an entry: HMAC-SHA256 under the audit key's chain
/// subkey, over the same fields and the two area paths.
pub fn entry_mac(key: &AuditKey, e: &Entry) -> String {
    key.chain_mac(&canonical(e, true))
}

/// What happened, to what.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    /// Snapshots (JSON, e.g. from [`snapshot`]); personal fields are replaced
    /// by digests before they are stored.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Kinds without a list of their own: the person fields and a phone, so a new
/// kind of snapshot errs on the side of hiding. `phone` stays last: the person
/// list is this one without it.
const DEFAULT_PERSONAL: &[&str] = &[
    "id_number",
    "name",
    "sex",
    "birth_date",
    "hukou_area_code",
    "address",
    "lng",
    "lat",
    "living_arrangement",
    "special_difficulty",
    "ability_level",
    "dementia",
    "birth_order",
    "guardian_name",
    "guardian_phone",
    "status",
    "death_date",
    "phone",
];

/// Person fields: the personal ones of the declaration
/// (`laoxiao_model::person::PEOPLE`).
fn person_personal() -> &'static [&'static str] {
    static FIELDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        laoxiao_model::person::PEOPLE
            .fields
            .iter()
            .filter(|f| f.personal)
            .map(|f| f.key)
            .collect()
    });
    &FIELDS
}

/// Which snapshot fields of a record kind (the entry's `entity`) are personal,
/// for kinds that are not declared registers (declared ones, facilities among
/// them, say it in their declaration: a facility's phone is often a person's
/// mobile). A facility's classes are public. Accounts carry no personal data
/// (user names are not real names).
pub fn personal_fields(entity: &str) -> &'static [&'static str] {
    match entity {
        "person" => person_personal(),
        "childcare_classes" | "user" => &[],
        _ => DEFAULT_PERSONAL,
    }
}

/// The stored form of one personal value: [`DIGEST_PREFIX`] and
/// HMAC(field subkey, entity, entity id, field, the value as JSON text); null
/// stays null (an absent value is not personal data).
pub fn field_digest(
    key: Option<&AuditKey>,
    entity: &str,
    entity_id: &str,
    field: &str,
    value: &serde_json::Value,
) -> serde_json::Value {
    if value.is_null() {
        return serde_json::Value::Null;
    }
    match key {
        Some(k) => serde_json::Value::String(format!(
            "{DIGEST_PREFIX}{}",
            k.field_digest(entity, entity_id, field, &value.to_string())
        )),
        None => serde_json::Value::String(REDACTED.into()),
    }
}

/// A snapshot with every personal field of its kind replaced by its digest
/// (objects, or arrays of objects). `id_number` is personal in every kind.
/// Text that is not JSON is not stored at all: it could be anything.
pub fn redact(
    key: Option<&AuditKey>,
    entity: &str,
    entity_id: &str,
    snapshot: &str,
) -> Option<String> {
    let personal = personal_fields(entity);
    // Declared registers say themselves which fields are personal (a field the
    // declaration does not know is treated as personal).
    let declared = laoxiao_model::columns::RecordKind::ALL
        .iter()
        .map(|k| k.register())
        .find(|r| r.table == entity && r.table != "person");
    let is_personal = |name: &str| match declared {
        Some(r) => r.field(name).is_none_or(|f| f.personal),
        None => personal.contains(&name),
    };
    let Ok(mut j) = serde_json::from_str::<serde_json::Value>(snapshot) else {
        return Some(serde_json::Value::String(REDACTED.into()).to_string());
    };
    let one = |obj: &mut serde_json::Map<String, serde_json::Value>| {
        for (name, v) in obj.iter_mut() {
            if name == "id_number" || is_personal(name) {
                *v = field_digest(key, entity, entity_id, name, v);
            }
        }
    };
    match &mut j {
        serde_json::Value::Object(o) => one(o),
        serde_json::Value::Array(items) => {
            for it in items.iter_mut() {
                if let serde_json::Value::Object(o) = it {
                    one(o);
                }
            }
        }
        _ => {}
    }
    Some(j.to_string())
}

/// The deepest area path that contains every path given (segment-wise).
fn common_area(paths: &[String]) -> Option<String> {
    let first = paths.first()?;
    let mut segs: Vec<&str> = first.trim_matches('/').split('/').collect();
    for p in &paths[1..] {
        let other: Vec<&str> = p.trim_matches('/').split('/').collect();
        let n = segs.iter().zip(&other).take_while(|(a, b)| a == b).count();
        segs.truncate(n);
    }
    (!segs.is_empty() && !segs[0].is_empty()).then(|| format!("/{}/", segs.join("/")))
}

/// Most ids an entry names that are looked up for its area (a list page holds
/// at most 1000); beyond that the entry is filed under the whole city.
const MAX_AREA_IDS: usize = 1000;

/// The area of the records an event concerns.
fn record_area(conn: &mut Conn, entity: &str, entity_id: Option<&str>) -> Result<Option<String>> {
    let Some(ids) = entity_id else {
        return Ok(None);
    };
    let mut ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_AREA_IDS {
        return Ok(None);
    }
    let table = match entity {
        "person" => "person",
        "facility" | "childcare_classes" => "facility",
        "user" => {
            return user_area(conn, ids[0]).map(|p| p.filter(|_| ids.len() == 1));
        }
        _ => return Ok(None),
    };
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let params: Vec<Value> = ids.iter().map(|s| (*s).into()).collect();
    let paths: Vec<String> = conn
        .query(
            &format!(
                "SELECT area_path FROM {table} WHERE id IN ({})",
                marks.join(", ")
            ),
            &params,
        )?
        .iter()
        .map(|r| r.get("area_path"))
        .collect::<Result<_>>()?;
    Ok(common_area(&paths))
}

/// An account's home area path.
fn user_area(conn: &mut Conn, username: &str) -> Result<Option<String>> {
    conn.query_opt(
        "SELECT a.path FROM users u JOIN area a ON a.code = u.area_code WHERE u.username = $1",
        &[username.into()],
    )?
    .map(|r| r.get("path"))
    .transpose()
}

/// Appends one entry for the scope's actor; returns its sequence number. The
/// audit key comes with the connection ([`Conn::audit_key`]).
pub fn append(conn: &mut Conn, scope: &Scope, ev: Event<'_>) -> Result<i64> {
    let key: Option<Arc<AuditKey>> = conn.audit_key();
    let id_for_digest = ev.entity_id.unwrap_or("");
    let before = ev
        .before
        .as_deref()
        .and_then(|s| redact(key.as_deref(), ev.entity, id_for_digest, s));
    let after = ev
        .after
        .as_deref()
        .and_then(|s| redact(key.as_deref(), ev.entity, id_for_digest, s));
    let area_path = record_area(conn, ev.entity, ev.entity_id)?;
    let actor_area_path = match scope.area_path() {
        Some(p) => Some(p.to_string()),
        // Logins and the like act as the system on behalf of a named account.
        None if scope.role().is_none() => user_area(conn, &scope.actor.user)?,
        None => None,
    };
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
            "SELECT seq, hash, version FROM audit_log ORDER BY seq DESC LIMIT 1",
            &[],
        )?;
        let (seq, prev, prev_version) = match last {
            Some(r) => (r.get::<i64>("seq")? + 1, r.get("hash")?, r.get("version")?),
            None => (1, GENESIS.to_string(), V1_SHA256),
        };
        let version = match (&key, prev_version) {
            (Some(_), _) => V2_MAC,
            // Fail closed: an unkeyed entry after keyed ones would read as a
            // downgrade, and the server must not act unaudited.
            (None, v) if v >= V2_MAC => {
                return Err(StoreError::Config(
                    "the audit trail is keyed but no audit key is configured: name the key \
                     file with LAOXIAO_KEY_FILE (the demo's is beside its database, \
                     laoxiao-demo.key) or set LAOXIAO_AUDIT_KEY"
                        .into(),
                ));
            }
            (None, _) => V1_SHA256,
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
            before: before.clone(),
            after: after.clone(),
            prev_hash: prev,
            hash: String::new(),
            version,
            area_path: area_path.clone(),
            actor_area_path: actor_area_path.clone(),
        };
        e.hash = match &key {
            Some(k) => entry_mac(k, &e),
            None => entry_hash(&e),
        };
        let r = conn.execute(
            &format!(
                "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
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
                e.version.into(),
                e.area_path.into(),
                e.actor_area_path.into(),
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
    /// The first keyed (version 2) entry, if any.
    pub first_keyed: Option<i64>,
    /// The first entry that does not verify, and why.
    pub first_broken: Option<(i64, String)>,
}

/// Recomputes the whole chain, in pages, with the connection's audit key.
/// Keyed entries without a key configured are an error (they cannot be checked).
pub fn verify(conn: &mut Conn) -> Result<Verified> {
    let key = conn.audit_key();
    let mut prev = GENESIS.to_string();
    let mut expect_seq = 1;
    let mut n = 0;
    let mut first_keyed = None;
    loop {
        let rows = conn.query(
            &format!("SELECT {COLS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000"),
            &[expect_seq.into()],
        )?;
        if rows.is_empty() {
            return Ok(Verified {
                entries: n,
                first_keyed,
                first_broken: None,
            });
        }
        for r in &rows {
            // A cell of the wrong type (SQLite keeps whatever was written) is
            // tampering like any other: report the entry, do not fail the check.
            let e = match from_row(r) {
                Ok(e) => e,
                Err(err) => {
                    return Ok(Verified {
                        entries: n,
                        first_keyed,
                        first_broken: Some((expect_seq, format!("it cannot be read: {err}"))),
                    });
                }
            };
            let broken = if e.seq != expect_seq {
                Some(format!("entry {expect_seq} is missing (next is {})", e.seq))
            } else if e.prev_hash != prev {
                Some("its prev_hash does not match the previous entry's hash".to_string())
            } else {
                match e.version {
                    V1_SHA256 if first_keyed.is_some() => Some(
                        "an unkeyed (SHA-256) entry after keyed ones: rewritten without the key"
                            .to_string(),
                    ),
                    V1_SHA256 => (entry_hash(&e) != e.hash)
                        .then(|| "its content does not match its hash (altered)".to_string()),
                    V2_MAC => {
                        let Some(k) = key.as_deref() else {
                            return Err(StoreError::Config(
                                "the audit trail has keyed entries: configure the audit key to \
                                 verify it (LAOXIAO_KEY_FILE naming a key file with audit_key, \
                                 or LAOXIAO_AUDIT_KEY)"
                                    .into(),
                            ));
                        };
                        first_keyed.get_or_insert(e.seq);
                        (!ct_eq(&entry_mac(k, &e), &e.hash)).then(|| {
                            "its content does not match its MAC (altered without the audit key)"
                                .to_string()
                        })
                    }
                    v => Some(format!("unknown entry version {v}")),
                }
            };
            if let Some(reason) = broken {
                return Ok(Verified {
                    entries: n,
                    first_keyed,
                    first_broken: Some((expect_seq, reason)),
                });
            }
            prev = e.hash;
            expect_seq += 1;
            n += 1;
        }
    }
}

/// The newest entry's position and link: what `laoxiao audit head` prints, to be
/// kept outside the database (a ticket, a log line, another system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub version: i64,
    pub hash: String,
}

impl Head {
    /// `laoxiao-audit-head seq=N version=V hash=HEX`: one line, no secrets.
    pub fn line(&self) -> String {
        format!(
            "laoxiao-audit-head seq={} version={} hash={}",
            self.seq, self.version, self.hash
        )
    }

    /// Parses [`Head::line`] (surrounding blank lines and `#` comments allowed).
    pub fn parse(text: &str) -> std::result::Result<Head, String> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or("the head file is empty")?;
        let mut parts = line.split_whitespace();
        if parts.next() != Some("laoxiao-audit-head") {
            return Err(
                "not an audit head: expected `laoxiao-audit-head seq=N version=V hash=HEX` \
                 (from `laoxiao audit head`)"
                    .into(),
            );
        }
        let (mut seq, mut version, mut hash) = (None, None, None);
        for p in parts {
            match p.split_once('=') {
                Some(("seq", v)) => seq = v.parse::<i64>().ok().filter(|s| *s > 0),
                Some(("version", v)) => version = v.parse::<i64>().ok(),
                Some(("hash", v)) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    hash = Some(v.to_ascii_lowercase())
                }
                _ => return Err(format!("audit head: unexpected {p:?}")),
            }
        }
        match (seq, version, hash) {
            (Some(seq), Some(version), Some(hash)) => Ok(Head { seq, version, hash }),
            _ => Err("audit head: needs seq=N (≥ 1), version=V and hash=64 hex digits".into()),
        }
    }
}

/// The newest entry's head, `None` on an empty trail.
pub fn head(conn: &mut Conn) -> Result<Option<Head>> {
    conn.query_opt(
        "SELECT seq, version, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        &[],
    )?
    .map(|r| {
        Ok(Head {
            seq: r.get("seq")?,
            version: r.get("version")?,
            hash: r.get("hash")?,
        })
    })
    .transpose()
}

/// Checks a kept head against the trail: `Some(reason)` when the entry it names
/// is gone (the tail was cut) or differs (the chain was rewritten). Run it with
/// [`verify`], which checks every link up to the newest entry.
pub fn check_head(conn: &mut Conn, h: &Head) -> Result<Option<String>> {
    let row = conn.query_opt(
        "SELECT hash, version FROM audit_log WHERE seq = $1",
        &[h.seq.into()],
    )?;
    Ok(match row {
        None => Some(format!(
            "entry {} named by the head is missing: the trail was cut",
            h.seq
        )),
        Some(r)
            if !ct_eq(&r.get::<String>("hash")?, &h.hash)
                || r.get::<i64>("version")? != h.version =>
        {
            Some(format!(
                "entry {} differs from the head: the trail was rewritten (or cut and re-grown)",
                h.seq
            ))
        }
        Some(_) => None,
    })
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

/// Whether an area path is the root of the area tree (the whole city).
fn is_root_path(path: &str) -> bool {
    path.trim_matches('/').split('/').count() <= 1
}

/// Appends the auditor's area condition: entries about records in the subtree,
/// or by accounts homed in it. An auditor homed at the root (the city) sees every
/// entry, including those that concern no area (CLI and system actions, entries
/// from before migration 6).
fn push_scope(scope: &Scope, w: &mut String, p: &mut Vec<Value>) {
    let Some(path) = scope.area_path().filter(|p| !is_root_path(p)) else {
        return;
    };
    p.push(path.into());
    let lo = p.len();
    p.push(crate::path_upper(path).into());
    let hi = p.len();
    w.push_str(&format!(
        " AND ((area_path >= ${lo} AND area_path < ${hi}) \
         OR (actor_area_path >= ${lo} AND actor_area_path < ${hi}))"
    ));
}

/// Entries matching the filters, newest first, within the auditor's area.
/// Auditors only.
pub fn search(conn: &mut Conn, scope: &Scope, q: &AuditQuery) -> Result<Vec<Entry>> {
    scope.require(Perm::ReadAudit)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    push_scope(scope, &mut w, &mut p);
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
    conn.query(
        &format!("SELECT {COLS} FROM audit_log WHERE {w} ORDER BY seq DESC LIMIT {limit}"),
        &p,
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// A record as a JSON snapshot for [`Event`]. It still holds personal values:
/// [`append`] replaces them by digests before anything is stored.
pub fn snapshot<T: Serialize>(v: &T) -> Option<String> {
    serde_json::to_string(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_area_is_the_deepest_shared_ancestor() {
        let p = |v: &[&str]| common_area(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["/1/2/3/", "/1/2/4/"]), Some("/1/2/".into()));
        assert_eq!(p(&["/1/2/3/"]), Some("/1/2/3/".into()));
        // Segment-wise, not by characters: /1/22/ is not inside /1/2/.
        assert_eq!(p(&["/1/2/", "/1/22/"]), Some("/1/".into()));
        assert_eq!(p(&["/1/", "/9/"]), None);
        assert_eq!(p(&[]), None);
    }

    #[test]
    fn redaction_hides_personal_fields_and_keeps_the_rest() {
        let k = AuditKey::new([5u8; 32]).expect("key");
        let snap = r#"{"id":"P1","name":"王某某","id_number":"33040219491231002X","residence_area_code":"330402007","guardian_phone":null}"#;
        let out = redact(Some(&k), "person", "P1", snap).expect("json");
        let j: serde_json::Value = serde_json::from_str(&out).expect("parse");
        assert_eq!(j["id"], "P1");
        assert_eq!(j["residence_area_code"], "330402007");
        assert!(j["guardian_phone"].is_null());
        assert!(
            !out.contains("王某某") && !out.contains("3304021949"),
            "{out}"
        );
        // A verifier holding the record recomputes the digest from the value.
        let want = format!(
            "{DIGEST_PREFIX}{}",
            k.field_digest("person", "P1", "name", "\"王某某\"")
        );
        assert_eq!(j["name"], serde_json::Value::String(want));
        // Facilities keep their public fields; unknown kinds hide names.
        let f = redact(
            Some(&k),
            "facility",
            "F1",
            r#"{"name":"阳光院","beds":40,"phone":"138"}"#,
        )
        .expect("json");
        assert!(f.contains("阳光院") && f.contains("40") && !f.contains("138"));
        let other = redact(None, "some_kind", "S1", r#"{"name":"张三","rows":3}"#).expect("json");
        assert!(
            !other.contains("张三") && other.contains("\"rows\":3"),
            "{other}"
        );
        // Declared registers: their personal fields hidden, the rest kept, and
        // a field the declaration does not know hidden too.
        let staff = redact(
            None,
            "staff",
            "S1",
            r#"{"name":"张三","role":"care_worker","extra":"x9"}"#,
        )
        .expect("json");
        assert!(
            !staff.contains("张三") && staff.contains("care_worker") && !staff.contains("x9"),
            "{staff}"
        );
    }

    /// Every field of a person is classified: a field added to the model fails
    /// here until it is listed as personal or as clear. (Declared registers,
    /// facilities among them, classify each field in their declaration.)
    #[test]
    fn every_person_and_facility_field_is_classified() {
        use laoxiao_model::{Person, PersonRole, person::Sex};
        let clear: &[(&str, &[&str])] = &[("person", &["id", "role", "residence_area_code"])];
        let date = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date");
        let person = serde_json::to_value(Person::blank(
            "P",
            PersonRole::Elderly,
            "330402007",
            date,
            Sex::Male,
        ))
        .expect("json");
        for (entity, record) in [("person", person)] {
            let listed = clear
                .iter()
                .find(|(e, _)| *e == entity)
                .map(|(_, c)| *c)
                .unwrap_or_default();
            for field in record.as_object().expect("object").keys() {
                let personal = personal_fields(entity).contains(&field.as_str());
                let in_clear = listed.contains(&field.as_str());
                assert!(
                    personal != in_clear,
                    "{entity}.{field}: decide whether it is personal (audit::personal_fields)"
                );
            }
        }
    }

    #[test]
    fn heads_round_trip_and_reject_junk() {
        let h = Head {
            seq: 42,
            version: 2,
            hash: "ab".repeat(32),
        };
        assert_eq!(Head::parse(&format!("# kept\n{}\n", h.line())), Ok(h));
        assert!(Head::parse("").is_err());
        assert!(Head::parse("laoxiao-audit-head seq=0 version=2 hash=00").is_err());
        assert!(Head::parse("LAOXIAO_DATA_KEY=x").is_err());
    }
}
