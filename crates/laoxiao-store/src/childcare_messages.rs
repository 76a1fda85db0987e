//! Messages between a family and its child's class (家园沟通), and notices to
//! a whole class (班级通知).
//!
//! A thread belongs to one enrolment: the family of the child (a verified
//! link) and the institution's own staff write in it; nobody else reads it
//! (the county supervises through complaints, not through families'
//! messages). A class notice is written by the institution and shown in the
//! thread of every child enrolled in the class. Each reply and notice tells
//! the family through the outbox ([`crate::notify`]); the institution sees
//! unread family messages in its list of threads.
//!
//! Bodies are personal (they may speak of a child's health): never in the
//! audit trail, which records who wrote in which thread and when.

use chrono::{DateTime, NaiveDate, Utc};
use laoxiao_model::person::{PersonRole, mask_name};
use serde::Serialize;

use crate::audit;
use crate::childcare_day::{check_id, invalid, not_found};
use crate::db::{Conn, Row};
use crate::error::{Result, StoreError};
use crate::family;
use crate::notify::{self, Event, Template};
use crate::scope::{Perm, Scope};

/// Longest message, in characters.
pub const MAX_BODY: usize = 1000;
/// At most this many messages shown in one thread (the newest).
pub const MAX_THREAD: i64 = 200;
/// At most this many threads listed for an institution.
pub const MAX_THREADS: i64 = 500;
/// A family posts at most this many messages per child and day (a runaway
/// client must not flood the class).
pub const MAX_PER_DAY: i64 = 50;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// 家长
    Family,
    /// 机构
    Institution,
}

/// One message in a thread.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub side: Side,
    /// A class notice (班级通知) rather than a message to this family.
    pub notice: bool,
    pub body: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// A child's thread with the class.
#[derive(Debug, Clone, Serialize)]
pub struct Thread {
    pub enrolment_id: String,
    pub infant_id: String,
    /// In full for the family, masked for the institution.
    pub infant_name: String,
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: Option<String>,
    pub messages: Vec<Message>,
}

/// A line of the institution's list of threads.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadLine {
    pub enrolment_id: String,
    pub infant_name: String,
    pub class_id: Option<String>,
    pub last_at: String,
    /// Family messages the institution has not opened.
    pub unread: i64,
}

struct Enrolment {
    id: String,
    infant_id: String,
    infant_name: String,
    facility_id: String,
    facility_name: String,
    facility_path: String,
    class_id: Option<String>,
    start_date: String,
}

fn body(s: &str) -> Result<String> {
    crate::text::required("body", s, MAX_BODY, "write the message")
}

fn enrolment_row(r: &Row) -> Result<Enrolment> {
    Ok(Enrolment {
        id: r.get("id")?,
        infant_id: r.get("infant_id")?,
        infant_name: r.get("infant_name")?,
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        facility_path: r.get("area_path")?,
        class_id: r.get("class_id")?,
        start_date: r.get("start_date")?,
    })
}

const ENROLMENT: &str = "SELECT e.id, e.infant_id, p.name AS infant_name, e.facility_id, f.name AS facility_name, \
     f.area_path, e.class_id, e.start_date FROM enrolment e JOIN facility f ON f.id = e.facility_id \
     JOIN person p ON p.id = e.infant_id";

/// The child's enrolment active on `today` (the thread is with that class).
fn current_enrolment(
    conn: &mut Conn,
    infant_id: &str,
    today: NaiveDate,
) -> Result<Option<Enrolment>> {
    conn.query_opt(
        &format!(
            "{ENROLMENT} WHERE e.infant_id = $1 AND e.deleted_at IS NULL AND e.start_date <= $2 \
             AND (e.end_date IS NULL OR e.end_date >= $2) ORDER BY e.start_date DESC, e.id LIMIT 1"
        ),
        &[infant_id.into(), today.to_string().into()],
    )?
    .map(|r| enrolment_row(&r))
    .transpose()
}

/// The institution's own staff (its operator) keep the threads; a city
/// administrator, who may read much, does not read families' messages.
fn institution_staff(scope: &Scope, facility_id: &str, path: &str) -> Result<()> {
    scope.require(Perm::RecordChildcareDay)?;
    if scope.facility() != Some(facility_id) || !scope.contains_facility(facility_id, path) {
        return Err(StoreError::Forbidden(
            "only the institution's own staff read and answer its families' messages".into(),
        ));
    }
    Ok(())
}

fn messages(conn: &mut Conn, e: &Enrolment) -> Result<Vec<Message>> {
    // The thread and the class's notices since the child joined.
    let rows = conn.query(
        "SELECT id, side, enrolment_id, body, created_at, read_at FROM childcare_message \
         WHERE enrolment_id = $1 OR (enrolment_id IS NULL AND class_id = $2 AND created_at >= $3) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
        &[
            e.id.as_str().into(),
            e.class_id.as_deref().into(),
            e.start_date.as_str().into(),
            MAX_THREAD.into(),
        ],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().rev() {
        let side: String = r.get("side")?;
        out.push(Message {
            id: r.get("id")?,
            side: if side == "family" {
                Side::Family
            } else {
                Side::Institution
            },
            notice: r.get::<Option<String>>("enrolment_id")?.is_none(),
            body: r.get("body")?,
            created_at: r.get("created_at")?,
            read_at: r.get("read_at")?,
        });
    }
    Ok(out)
}

fn thread(conn: &mut Conn, e: Enrolment, full: bool) -> Result<Thread> {
    let messages = messages(conn, &e)?;
    Ok(Thread {
        enrolment_id: e.id.clone(),
        infant_id: e.infant_id.clone(),
        infant_name: if full {
            e.infant_name.clone()
        } else {
            mask_name(&e.infant_name)
        },
        facility_id: e.facility_id.clone(),
        facility_name: e.facility_name.clone(),
        class_id: e.class_id.clone(),
        messages,
    })
}

fn family_enrolment(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    today: NaiveDate,
) -> Result<Enrolment> {
    check_id("infant_id", infant_id)?;
    if !scope.is_family()
        || !family::is_verified_relative(conn, scope, infant_id, PersonRole::Infant)?
    {
        return Err(not_found("child", infant_id));
    }
    current_enrolment(conn, infant_id, today)?.ok_or_else(|| {
        StoreError::Conflict("the child is not enrolled at an institution today".into())
    })
}

/// The family's thread with its child's class; the institution's messages
/// count as read once the family opened it.
pub fn family_thread(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    now: DateTime<Utc>,
) -> Result<Thread> {
    let e = family_enrolment(conn, scope, infant_id, now.date_naive())?;
    conn.execute(
        "UPDATE childcare_message SET read_at = $1 WHERE enrolment_id = $2 AND side = 'institution' AND read_at IS NULL",
        &[now.to_rfc3339().into(), e.id.as_str().into()],
    )?;
    thread(conn, e, true)
}

fn insert(
    c: &mut Conn,
    scope: &Scope,
    e: &Enrolment,
    side: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = format!("CM-{}", crate::crypto::random_hex(8));
    c.execute(
        "INSERT INTO childcare_message (id, facility_id, facility_path, class_id, enrolment_id, infant_id, \
         side, author, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            id.as_str().into(),
            e.facility_id.as_str().into(),
            e.facility_path.as_str().into(),
            e.class_id.as_deref().into(),
            e.id.as_str().into(),
            e.infant_id.as_str().into(),
            side.into(),
            scope.actor.user.as_str().into(),
            text.into(),
            now.to_rfc3339().into(),
        ],
    )?;
    audit::append(
        c,
        scope,
        audit::Event {
            action: "childcare_message_sent",
            entity: "childcare_message",
            entity_id: Some(&id),
            before: None,
            after: Some(serde_json::json!({"enrolment_id": e.id, "side": side}).to_string()),
        },
    )?;
    Ok(id)
}

/// A family writes to its child's class.
pub fn family_post(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Thread> {
    let text = body(text)?;
    let e = family_enrolment(conn, scope, infant_id, now.date_naive())?;
    let since = now.date_naive().to_string();
    let today_n = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_message WHERE enrolment_id = $1 AND side = 'family' AND created_at >= $2",
        &[e.id.as_str().into(), since.into()],
    )?;
    if today_n >= MAX_PER_DAY {
        return Err(invalid(
            "body",
            format!("at most {MAX_PER_DAY} messages per child and day; the class will answer"),
        ));
    }
    conn.transaction(|c| insert(c, scope, &e, "family", &text, now))?;
    thread(conn, e, true)
}

fn staff_enrolment(conn: &mut Conn, scope: &Scope, enrolment_id: &str) -> Result<Enrolment> {
    check_id("enrolment_id", enrolment_id)?;
    let e = conn
        .query_opt(
            &format!("{ENROLMENT} WHERE e.id = $1 AND e.deleted_at IS NULL"),
            &[enrolment_id.into()],
        )?
        .map(|r| enrolment_row(&r))
        .transpose()?
        .ok_or_else(|| not_found("enrolment", enrolment_id))?;
    if !scope.contains_facility(&e.facility_id, &e.facility_path) {
        return Err(not_found("enrolment", enrolment_id));
    }
    institution_staff(scope, &e.facility_id, &e.facility_path)?;
    Ok(e)
}

/// The institution opens a child's thread: the family's messages count as read.
pub fn staff_thread(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    now: DateTime<Utc>,
) -> Result<Thread> {
    let e = staff_enrolment(conn, scope, enrolment_id)?;
    conn.execute(
        "UPDATE childcare_message SET read_at = $1 WHERE enrolment_id = $2 AND side = 'family' AND read_at IS NULL",
        &[now.to_rfc3339().into(), e.id.as_str().into()],
    )?;
    thread(conn, e, false)
}

/// The institution answers in a child's thread; the family is notified.
pub fn reply(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Thread> {
    let text = body(text)?;
    let e = staff_enrolment(conn, scope, enrolment_id)?;
    conn.transaction(|c| {
        let id = insert(c, scope, &e, "institution", &text, now)?;
        let ev = Event::new(Template::ClassReply, format!("class_reply:{id}"))
            .param("institution", e.facility_name.as_str())
            .link(format!("/console/family/children/{}/messages", e.infant_id));
        notify::to_child_families(c, &e.infant_id, ev, now)?;
        Ok(())
    })?;
    thread(conn, e, false)
}

/// What a class notice reached.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeSent {
    pub id: String,
    pub class_id: String,
    /// Children enrolled in the class today.
    pub children: i64,
    /// Family accounts notified.
    pub notified: u64,
}

/// A notice to a whole class (班级通知): shown in every child's thread and
/// sent to every family of the class.
pub fn class_notice(
    conn: &mut Conn,
    scope: &Scope,
    class_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<NoticeSent> {
    let text = body(text)?;
    check_id("class_id", class_id)?;
    let r = conn
        .query_opt(
            "SELECT c.facility_id, f.area_path, c.class_type FROM childcare_class c \
             JOIN facility f ON f.id = c.facility_id WHERE c.id = $1 AND c.deleted_at IS NULL",
            &[class_id.into()],
        )?
        .ok_or_else(|| not_found("class", class_id))?;
    let facility_id: String = r.get("facility_id")?;
    let path: String = r.get("area_path")?;
    if !scope.contains_facility(&facility_id, &path) {
        return Err(not_found("class", class_id));
    }
    institution_staff(scope, &facility_id, &path)?;
    let class_type: laoxiao_model::facility::ClassType = r.parse("class_type")?;
    let today = now.date_naive().to_string();
    let children: Vec<String> = conn
        .query(
            "SELECT infant_id FROM enrolment WHERE class_id = $1 AND deleted_at IS NULL \
             AND start_date <= $2 AND (end_date IS NULL OR end_date >= $2) ORDER BY infant_id",
            &[class_id.into(), today.as_str().into()],
        )?
        .iter()
        .map(|r| r.get("infant_id"))
        .collect::<Result<_>>()?;
    let id = format!("CM-{}", crate::crypto::random_hex(8));
    let excerpt: String = if text.chars().count() > 40 {
        text.chars().take(40).chain("…".chars()).collect()
    } else {
        text.clone()
    };
    let label = format!("{}（{class_id}）", class_type.label_zh());
    let notified = conn.transaction(|c| {
        c.execute(
            "INSERT INTO childcare_message (id, facility_id, facility_path, class_id, enrolment_id, infant_id, \
             side, author, body, created_at) VALUES ($1, $2, $3, $4, NULL, NULL, 'institution', $5, $6, $7)",
            &[
                id.as_str().into(),
                facility_id.as_str().into(),
                path.as_str().into(),
                class_id.into(),
                scope.actor.user.as_str().into(),
                text.as_str().into(),
                now.to_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "childcare_class_notice",
                entity: "childcare_message",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"class_id": class_id, "children": children.len()}).to_string(),
                ),
            },
        )?;
        let mut n = 0;
        for infant in &children {
            let ev = Event::new(Template::ClassNotice, format!("class_notice:{id}"))
                .param("class", label.as_str())
                .param("excerpt", excerpt.as_str())
                .link(format!("/console/family/children/{infant}/messages"));
            n += notify::to_child_families(c, infant, ev, now)?;
        }
        Ok(n)
    })?;
    Ok(NoticeSent {
        id,
        class_id: class_id.to_string(),
        children: children.len() as i64,
        notified,
    })
}

/// The institution's threads, unread first, then the latest.
pub fn threads(conn: &mut Conn, scope: &Scope) -> Result<Vec<ThreadLine>> {
    scope.require(Perm::RecordChildcareDay)?;
    let Some(facility) = scope.facility().map(str::to_string) else {
        return Err(StoreError::Forbidden(
            "only the institution's own staff read and answer its families' messages".into(),
        ));
    };
    let rows = conn.query(
        "SELECT m.enrolment_id, p.name, MAX(e.class_id) AS class_id, MAX(m.created_at) AS last_at, \
         SUM(CASE WHEN m.side = 'family' AND m.read_at IS NULL THEN 1 ELSE 0 END) AS unread \
         FROM childcare_message m JOIN enrolment e ON e.id = m.enrolment_id JOIN person p ON p.id = e.infant_id \
         WHERE m.facility_id = $1 AND m.enrolment_id IS NOT NULL \
         GROUP BY m.enrolment_id, p.name ORDER BY unread DESC, last_at DESC LIMIT $2",
        &[facility.as_str().into(), MAX_THREADS.into()],
    )?;
    rows.iter()
        .map(|r| {
            let name: String = r.get("name")?;
            Ok(ThreadLine {
                enrolment_id: r.get("enrolment_id")?,
                infant_name: mask_name(&name),
                class_id: r.get("class_id")?,
                last_at: r.get("last_at")?,
                unread: r.get("unread")?,
            })
        })
        .collect()
}

/// Unread family messages at the institution (its worklist shows the count).
pub fn unread_at(conn: &mut Conn, facility_id: &str) -> Result<i64> {
    conn.query_i64(
        "SELECT COUNT(*) FROM childcare_message WHERE facility_id = $1 AND side = 'family' AND read_at IS NULL",
        &[facility_id.into()],
    )
}

/// A class notice as the institution's staff list them.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: String,
    pub class_id: String,
    pub body: String,
    pub created_at: String,
}

/// The class notices of an institution, newest first (the staff's record).
pub fn notices(conn: &mut Conn, scope: &Scope, limit: i64) -> Result<Vec<Notice>> {
    scope.require(Perm::RecordChildcareDay)?;
    let Some(facility) = scope.facility().map(str::to_string) else {
        return Err(StoreError::Forbidden(
            "only the institution's own staff read and answer its families' messages".into(),
        ));
    };
    conn.query(
        "SELECT id, class_id, body, created_at FROM childcare_message \
         WHERE facility_id = $1 AND enrolment_id IS NULL ORDER BY created_at DESC, id DESC LIMIT $2",
        &[facility.as_str().into(), limit.clamp(1, MAX_THREAD).into()],
    )?
    .iter()
    .map(|r| {
        Ok(Notice {
            id: r.get("id")?,
            class_id: r.get("class_id")?,
            body: r.get("body")?,
            created_at: r.get("created_at")?,
        })
    })
    .collect()
}

/// The demo: at `facility_id`, the first child with a verified family link
/// has a short thread (the family asks, the class answers) and its class a
/// notice. Returns the messages written (0 when no such child).
pub fn seed_demo(conn: &mut Conn, facility_id: &str, now: DateTime<Utc>) -> Result<usize> {
    let today = now.date_naive().to_string();
    let Some(r) = conn.query_opt(
        &format!(
            "{ENROLMENT} WHERE e.facility_id = $1 AND e.deleted_at IS NULL AND e.start_date <= $2 \
             AND (e.end_date IS NULL OR e.end_date >= $2) AND EXISTS (SELECT 1 FROM family_link l \
             WHERE l.person_id = e.infant_id AND l.status = 'verified') ORDER BY e.id LIMIT 1"
        ),
        &[facility_id.into(), today.into()],
    )?
    else {
        return Ok(0);
    };
    let e = enrolment_row(&r)?;
    if conn.query_i64(
        "SELECT COUNT(*) FROM childcare_message WHERE facility_id = $1",
        &[facility_id.into()],
    )? > 0
    {
        return Ok(0);
    }
    let sys = Scope::system("demo");
    let earlier = now - chrono::Duration::minutes(90);
    conn.transaction(|c| {
        insert(
            c,
            &sys,
            &e,
            "family",
            "老师好，孩子这两天有点咳嗽，午睡时请帮忙留意一下，谢谢！",
            earlier,
        )?;
        let id = insert(
            c,
            &sys,
            &e,
            "institution",
            "好的，我们会留意午睡和饮水情况，有变化会及时联系您。",
            now,
        )?;
        let ev = Event::new(Template::ClassReply, format!("class_reply:{id}"))
            .param("institution", e.facility_name.as_str())
            .link(format!("/console/family/children/{}/messages", e.infant_id));
        notify::to_child_families(c, &e.infant_id, ev, now)?;
        Ok(2)
    })
}
