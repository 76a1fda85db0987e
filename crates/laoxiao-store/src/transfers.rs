//! Transfer requests (户籍/居住迁入): a person who moves into an area is
//! usually registered already in another one, and an out-of-scope duplicate
//! says only that ([`StoreError::RegisteredElsewhere`]). Staff of the receiving
//! area then request the record by ID number; the request goes to whoever
//! holds the record (staff whose scope contains the person's current area);
//! they approve — the record moves to the requested area in the same
//! transaction — or refuse with a reason. The requester sees the status, never
//! the holding area, the person's name or record id until the request is
//! approved. Requests expire after [`OPEN_DAYS`] days or can be withdrawn; a
//! person has at most one open request. Every step is audited.
//!
//! Every function here runs inside the caller's transaction.

use laoxiao_model::person::mask_id_number;
use laoxiao_model::{AreaLevel, FieldError, idcard};
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Reference, audit, now_rfc3339, path_upper, people};

/// Days a request stays open before it expires.
pub const OPEN_DAYS: i64 = 30;
/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Open,
    Approved,
    Refused,
    Withdrawn,
    Expired,
}

impl TransferStatus {
    pub const ALL: [TransferStatus; 5] = [
        TransferStatus::Open,
        TransferStatus::Approved,
        TransferStatus::Refused,
        TransferStatus::Withdrawn,
        TransferStatus::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TransferStatus::Open => "open",
            TransferStatus::Approved => "approved",
            TransferStatus::Refused => "refused",
            TransferStatus::Withdrawn => "withdrawn",
            TransferStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<TransferStatus> {
        TransferStatus::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// Which side of a request the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The caller holds the person's record: they decide.
    Incoming,
    /// The caller's area asked for the person.
    Outgoing,
}

/// A request as one caller may see it. The holder's side (`person_id`,
/// `person_name`, `holding_area_code`) is `None` for a requester until the
/// request is approved (then the record is theirs; the name stays with the
/// record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    pub id: String,
    pub direction: Direction,
    pub status: TransferStatus,
    /// Always masked: the requester typed the number, the holder has the record.
    pub id_number_masked: String,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub holding_area_code: Option<String>,
    pub to_area_code: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailbox {
    Incoming,
    Outgoing,
}

const COLS: &str = "t.id, t.person_id, t.to_area_code, t.to_path, t.reason, t.status, t.requested_by, \
    t.requested_at, t.expires_at, t.decided_by, t.decided_at, t.decision_reason, \
    p.area_path AS holder_path, p.residence_area_code AS holder_area_code, p.name AS person_name, \
    p.id_number_enc, p.deleted_at AS person_deleted_at";

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "transfer request",
        id: id.to_string(),
    }
}

fn clean_reason(field: &str, reason: &str) -> Result<String> {
    crate::text::required(field, reason, MAX_REASON, "give a reason")
}

/// Marks open requests past their expiry `expired` (audited as the system).
/// Called before every read and decision, so no clock job is needed. One
/// transaction with the audit entries.
pub fn expire(conn: &mut Conn) -> Result<usize> {
    conn.transaction(expire_in)
}

fn expire_in(conn: &mut Conn) -> Result<usize> {
    let now = now_rfc3339();
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM transfer_request WHERE status = 'open' AND expires_at <= $1 ORDER BY id",
            &[now.as_str().into()],
        )?
        .iter()
        .map(|r| r.get("id"))
        .collect::<Result<_>>()?;
    let sys = Scope::system("transfer-expiry");
    for id in &ids {
        let n = conn.execute(
            "UPDATE transfer_request SET status = 'expired', decided_at = $1 WHERE id = $2 AND status = 'open'",
            &[now.as_str().into(), id.as_str().into()],
        )?;
        if n > 0 {
            audit::append(
                conn,
                &sys,
                audit::Event {
                    action: "transfer_expire",
                    entity: "transfer_request",
                    entity_id: Some(id),
                    ..Default::default()
                },
            )?;
        }
    }
    Ok(ids.len())
}

/// Requests the record of the person with `id_number` for `to_area_code` (a
/// town or village in the caller's scope). Not found when no live record has
/// the number; refused when the record is in the caller's own area already
/// or a request for the person is open. One transaction with its audit entry.
pub fn request(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id_number: &str,
    to_area_code: &str,
    reason: &str,
) -> Result<Transfer> {
    conn.transaction(|c| request_in(c, reference, scope, id_number, to_area_code, reason))
}

fn request_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id_number: &str,
    to_area_code: &str,
    reason: &str,
) -> Result<Transfer> {
    scope.require(Perm::WritePeople)?;
    let keys = reference.keys()?;
    let number = idcard::normalize(id_number);
    let mut errs = Vec::new();
    if let Err(why) = idcard::parse(&number) {
        errs.push(FieldError::new("id_number", why));
    }
    let to = reference.areas.get(to_area_code.trim());
    match to {
        None => errs.push(FieldError::new(
            "to_area_code",
            format!("unknown area code {to_area_code:?}"),
        )),
        Some(a) if !matches!(a.level, AreaLevel::Town | AreaLevel::Village) => errs.push(
            FieldError::new("to_area_code", "a person lives in a town or village"),
        ),
        Some(a) if !scope.contains_path(&a.path) => errs.push(FieldError::new(
            "to_area_code",
            "the area lies outside your own",
        )),
        Some(_) => {}
    }
    let reason = match clean_reason("reason", reason) {
        Ok(r) => r,
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            String::new()
        }
        Err(e) => return Err(e),
    };
    let (Some(to), true) = (to, errs.is_empty()) else {
        return Err(StoreError::Invalid(errs));
    };
    expire(conn)?;
    let person = conn
        .query_opt(
            "SELECT id, area_path FROM person WHERE id_number_hmac = $1 AND deleted_at IS NULL",
            &[keys.hmac(&number).into()],
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "person with the ID number",
            id: mask_id_number(&number),
        })?;
    let person_id: String = person.get("id")?;
    let holder_path: String = person.get("area_path")?;
    if scope.contains_path(&holder_path) {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "id_number",
            "this person is registered in your own area already",
        )]));
    }
    let open = conn.query_i64(
        "SELECT COUNT(*) FROM transfer_request WHERE person_id = $1 AND status = 'open'",
        &[person_id.as_str().into()],
    )?;
    if open > 0 {
        return Err(StoreError::Conflict(
            "a transfer request for this person is open already".into(),
        ));
    }
    let id = format!("T-{}", crate::crypto::random_hex(8));
    let now = chrono::Utc::now();
    // The format of `now_rfc3339`: timestamps compare as text.
    let at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let expires = (now + chrono::Duration::days(OPEN_DAYS))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    conn.execute(
        "INSERT INTO transfer_request (id, person_id, from_path, to_area_code, to_path, reason, status, \
         requested_by, requested_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)",
        &[
            id.as_str().into(),
            person_id.as_str().into(),
            holder_path.into(),
            to.code.as_str().into(),
            to.path.as_str().into(),
            reason.into(),
            scope.actor.user.as_str().into(),
            at.into(),
            expires.into(),
        ],
    )?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "transfer_request",
            entity: "transfer_request",
            entity_id: Some(&id),
            before: None,
            after: Some(
                serde_json::json!({"person_id": person_id, "to_area_code": to.code}).to_string(),
            ),
        },
    )?;
    get(conn, reference, scope, &id)
}

/// The caller's side of a row: incoming when they hold the live record,
/// outgoing when the target area is theirs (a city-wide caller is both;
/// incoming wins, it shows more).
fn direction(scope: &Scope, r: &Row) -> Result<Option<Direction>> {
    Ok(if holds(scope, r)? {
        Some(Direction::Incoming)
    } else if scope.contains_path(&r.get::<String>("to_path")?) {
        Some(Direction::Outgoing)
    } else {
        None
    })
}

/// Whether the caller holds the live record the row's request is about.
fn holds(scope: &Scope, r: &Row) -> Result<bool> {
    Ok(r.get::<Option<String>>("person_deleted_at")?.is_none()
        && scope.contains_path(&r.get::<String>("holder_path")?))
}

/// A row as seen from one side.
fn view(reference: &Reference, r: &Row, direction: Direction) -> Result<Transfer> {
    let status: String = r.get("status")?;
    let status = TransferStatus::parse(&status).ok_or_else(|| {
        StoreError::Database(format!("column status: bad transfer status {status:?}"))
    })?;
    // NULL only before keys were ever configured (not yet encrypted).
    let number = match r.get::<Option<String>>("id_number_enc")? {
        Some(enc) => reference.keys()?.decrypt(&enc)?,
        None => String::new(),
    };
    let incoming = direction == Direction::Incoming;
    Ok(Transfer {
        id: r.get("id")?,
        direction,
        status,
        id_number_masked: mask_id_number(&number),
        person_id: if incoming || status == TransferStatus::Approved {
            Some(r.get("person_id")?)
        } else {
            None
        },
        person_name: if incoming {
            Some(r.get("person_name")?)
        } else {
            None
        },
        holding_area_code: if incoming {
            Some(r.get("holder_area_code")?)
        } else {
            None
        },
        to_area_code: r.get("to_area_code")?,
        reason: r.get("reason")?,
        requested_by: r.get("requested_by")?,
        requested_at: r.get("requested_at")?,
        expires_at: r.get("expires_at")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
        decision_reason: r.get("decision_reason")?,
    })
}

/// One request the caller is a party to (otherwise not found), after
/// expiring overdue ones.
pub fn get(conn: &mut Conn, reference: &Reference, scope: &Scope, id: &str) -> Result<Transfer> {
    scope.require(Perm::WritePeople)?;
    expire(conn)?;
    let row = conn
        .query_opt(
            &format!(
                "SELECT {COLS} FROM transfer_request t JOIN person p ON p.id = t.person_id WHERE t.id = $1"
            ),
            &[id.into()],
        )?
        .ok_or_else(|| not_found(id))?;
    match direction(scope, &row)? {
        Some(d) => view(reference, &row, d),
        None => Err(not_found(id)),
    }
}

/// The newest requests of one box (at most 500), optionally of one status.
pub fn list(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    which: Mailbox,
    status: Option<TransferStatus>,
) -> Result<Vec<Transfer>> {
    scope.require(Perm::WritePeople)?;
    expire(conn)?;
    let mut p: Vec<Value> = Vec::new();
    let mut w = match which {
        // The holder: whoever holds the live record now.
        Mailbox::Incoming => String::from("p.deleted_at IS NULL"),
        Mailbox::Outgoing => String::from("1 = 1"),
    };
    let col = match which {
        Mailbox::Incoming => "p.area_path",
        Mailbox::Outgoing => "t.to_path",
    };
    if let Some(path) = scope.area_path() {
        p.push(path.into());
        w.push_str(&format!(" AND {col} >= ${}", p.len()));
        p.push(path_upper(path).into());
        w.push_str(&format!(" AND {col} < ${}", p.len()));
    }
    if let Some(s) = status {
        p.push(s.code().into());
        w.push_str(&format!(" AND t.status = ${}", p.len()));
    }
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM transfer_request t JOIN person p ON p.id = t.person_id \
             WHERE {w} ORDER BY t.requested_at DESC, t.id LIMIT 500"
        ),
        &p,
    )?;
    let side = match which {
        Mailbox::Incoming => Direction::Incoming,
        Mailbox::Outgoing => Direction::Outgoing,
    };
    rows.iter().map(|r| view(reference, r, side)).collect()
}

/// What a holder or requester does with an open request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Refuse,
    Withdraw,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Refuse => "refuse",
            Decision::Withdraw => "withdraw",
        }
    }
}

/// Approves, refuses (a reason is required) or withdraws an open request.
/// Approving and refusing are the holder's (the live record in the caller's
/// scope), withdrawing the requester's (the target area in scope); to anyone
/// else the request does not exist. On approval the person's residence moves
/// to the requested area (the tally follows through its triggers) and the
/// record's change is audited like an update. One transaction with the
/// audit entries.
pub fn decide(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Transfer> {
    conn.transaction(|c| decide_in(c, reference, scope, id, decision, reason))
}

fn decide_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Transfer> {
    scope.require(Perm::WritePeople)?;
    let reason = match (decision, reason.map(str::trim).filter(|r| !r.is_empty())) {
        (Decision::Refuse, None) => {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "reason",
                "give the requester a reason for the refusal",
            )]));
        }
        (_, Some(r)) => Some(clean_reason("reason", r)?),
        (_, None) => None,
    };
    expire(conn)?;
    let row = conn
        .query_opt(
            &format!(
                "SELECT {COLS} FROM transfer_request t JOIN person p ON p.id = t.person_id WHERE t.id = $1"
            ),
            &[id.into()],
        )?
        .ok_or_else(|| not_found(id))?;
    let holds = holds(scope, &row)?;
    let requests = scope.contains_path(&row.get::<String>("to_path")?);
    let allowed = match decision {
        Decision::Approve | Decision::Refuse => holds,
        Decision::Withdraw => requests,
    };
    if !allowed {
        return Err(not_found(id));
    }
    let status: String = row.get("status")?;
    if status != "open" {
        return Err(StoreError::Conflict(format!(
            "the request is {status}, no longer open"
        )));
    }
    let person_id: String = row.get("person_id")?;
    let to_code: String = row.get("to_area_code")?;
    let new_status = match decision {
        Decision::Approve => TransferStatus::Approved,
        Decision::Refuse => TransferStatus::Refused,
        Decision::Withdraw => TransferStatus::Withdrawn,
    };
    // Close the request first: of two concurrent decisions only the one whose
    // update finds it open goes on (the row lock orders them).
    let n = conn.execute(
        "UPDATE transfer_request SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4 \
         WHERE id = $5 AND status = 'open'",
        &[
            new_status.code().into(),
            scope.actor.user.as_str().into(),
            now_rfc3339().into(),
            reason.into(),
            id.into(),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict("the request is no longer open".into()));
    }
    if decision == Decision::Approve {
        let sys = Scope::system(&scope.actor.user);
        let before = people::get(conn, reference, &sys, &person_id)?;
        let mut after = before.clone();
        after.residence_area_code = to_code.clone();
        people::upsert(conn, reference, &after, &now_rfc3339())?;
        audit::append(
            conn,
            scope,
            audit::Event {
                action: "transfer",
                entity: "person",
                entity_id: Some(&person_id),
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )?;
    }
    audit::append(
        conn,
        scope,
        audit::Event {
            action: match decision {
                Decision::Approve => "transfer_approve",
                Decision::Refuse => "transfer_refuse",
                Decision::Withdraw => "transfer_withdraw",
            },
            entity: "transfer_request",
            entity_id: Some(id),
            ..Default::default()
        },
    )?;
    // Seen from the side that decided (after an approval the holder no longer
    // holds the record, but did decide).
    let side = match decision {
        Decision::Approve | Decision::Refuse => Direction::Incoming,
        Decision::Withdraw => Direction::Outgoing,
    };
    let row = conn
        .query_opt(
            &format!(
                "SELECT {COLS} FROM transfer_request t JOIN person p ON p.id = t.person_id WHERE t.id = $1"
            ),
            &[id.into()],
        )?
        .ok_or_else(|| not_found(id))?;
    view(reference, &row, side)
}
