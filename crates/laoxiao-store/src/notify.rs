//! Notifications to families (通知) through an outbox (发件箱).
//!
//! Every event a family should hear of (an offer of a place, a refused
//! handover, a serious incident, the daily report, a bill issued or overdue, a
//! notice or reply from the class) writes one `notification` row per verified
//! family account **in the same transaction as the event**: nothing is lost
//! if the process stops between the event and its delivery, and nothing is
//! sent for an event that was rolled back.
//!
//! The row is the family's inbox (站内通知) at once. The delivery worker
//! ([`deliver_due`], run by `laoxiao serve`) hands it to a [`Channel`]: a
//! claim is a conditional update (so two workers never send one row twice),
//! the send happens outside any transaction, a retryable failure backs off
//! exponentially (`notify.backoff_seconds`, doubling, at most
//! `notify.backoff_max_seconds`) and a row gives up after
//! `notify.max_attempts`. The default channel is the local stand-in
//! ([`record_delivery`]: a table the console and the tests read); SMS and
//! WeChat adapters are designed in `docs/notifications.md`.
//!
//! Parameters hold only what the recipient may see (their own child's name,
//! the institution, a date, an amount); the audit trail never holds them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use laoxiao_rules::subsidies::Params;
use serde::{Deserialize, Serialize};

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::Scope;

/// At most this many notifications in one page of the inbox.
pub const MAX_PAGE: i64 = 200;
/// At most this many rows claimed by one pass of the worker.
pub const MAX_BATCH: i64 = 500;
/// A claim holds a row this long; a worker that died mid-send frees it then.
const LEASE_SECONDS: i64 = 300;
/// Longest error text kept on a row (a provider's answer can be long).
const MAX_ERROR: usize = 300;

/// What a notification is about: one message template each (the console's
/// `notice.*` texts; an SMS provider's approved template per key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// 托位录取通知: an institution offers a place.
    Offer,
    /// 拒绝交接: someone not authorised tried to drop off or collect the child.
    HandoverRefused,
    /// 意外事件: a serious incident was recorded.
    Incident,
    /// 每日报告: the child was collected; the day's report is ready.
    DailyReport,
    /// 账单: a month's bill was issued or changed.
    BillIssued,
    /// 账单逾期: the bill is past its due date and not fully paid.
    BillOverdue,
    /// 班级通知: a notice to the whole class.
    ClassNotice,
    /// 机构回复: the institution answered the family's message.
    ClassReply,
}

impl Template {
    pub const ALL: [Template; 8] = [
        Template::Offer,
        Template::HandoverRefused,
        Template::Incident,
        Template::DailyReport,
        Template::BillIssued,
        Template::BillOverdue,
        Template::ClassNotice,
        Template::ClassReply,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Template::Offer => "offer",
            Template::HandoverRefused => "handover_refused",
            Template::Incident => "incident",
            Template::DailyReport => "daily_report",
            Template::BillIssued => "bill_issued",
            Template::BillOverdue => "bill_overdue",
            Template::ClassNotice => "class_notice",
            Template::ClassReply => "class_reply",
        }
    }

    /// The parameters each template needs (the renderers fill exactly these).
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Template::Offer => &["child", "institution", "class", "respond_by"],
            Template::HandoverRefused => &["child", "date", "time", "direction"],
            Template::Incident => &["child", "date", "severity"],
            Template::DailyReport => &["child", "date"],
            Template::BillIssued => &["child", "month", "amount", "due_date"],
            Template::BillOverdue => &["child", "month", "amount", "due_date"],
            Template::ClassNotice => &["class", "excerpt"],
            Template::ClassReply => &["child", "institution"],
        }
    }
}

impl std::str::FromStr for Template {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Template::ALL
            .into_iter()
            .find(|t| t.code() == s)
            .ok_or_else(|| format!("unknown notification template {s:?}"))
    }
}

/// Where a notification stands with the delivery worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// 待投递
    Pending,
    /// 已投递
    Sent,
    /// 投递失败 (gave up)
    Failed,
}

impl Delivery {
    pub fn code(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Sent => "sent",
            Delivery::Failed => "failed",
        }
    }
}

impl std::str::FromStr for Delivery {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "pending" => Ok(Delivery::Pending),
            "sent" => Ok(Delivery::Sent),
            "failed" => Ok(Delivery::Failed),
            _ => Err(format!("unknown delivery status {s:?}")),
        }
    }
}

/// One event to tell a family of. `dedupe` names the event (the same event
/// recorded twice notifies once per account).
#[derive(Debug, Clone)]
pub struct Event {
    pub template: Template,
    pub params: BTreeMap<String, String>,
    /// The console page the recipient opens from it.
    pub link: Option<String>,
    pub dedupe: String,
}

impl Event {
    pub fn new(template: Template, dedupe: impl Into<String>) -> Event {
        Event {
            template,
            params: BTreeMap::new(),
            link: None,
            dedupe: dedupe.into(),
        }
    }

    pub fn param(mut self, k: &str, v: impl Into<String>) -> Event {
        self.params.insert(k.to_string(), v.into());
        self
    }

    pub fn link(mut self, l: impl Into<String>) -> Event {
        self.link = Some(l.into());
        self
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn check(ev: &Event) -> Result<String> {
    for k in ev.template.params() {
        if !ev.params.contains_key(*k) {
            return Err(StoreError::Database(format!(
                "notification {} lacks its parameter {k}",
                ev.template.code()
            )));
        }
    }
    serde_json::to_string(&ev.params).map_err(db_err)
}

/// Writes the notification for each account (call it inside the event's
/// transaction). Returns how many were new.
pub fn to_accounts(
    c: &mut Conn,
    accounts: &[String],
    ev: &Event,
    now: DateTime<Utc>,
) -> Result<u64> {
    let params = check(ev)?;
    let at = now.to_rfc3339();
    let mut n = 0;
    for a in accounts {
        n += c.execute(
            "INSERT INTO notification (id, account, template, params, link, dedupe, created_at, status, not_before) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $7) ON CONFLICT (dedupe) DO NOTHING",
            &[
                format!("NT-{}", crate::crypto::random_hex(8)).into(),
                a.as_str().into(),
                ev.template.code().into(),
                params.as_str().into(),
                ev.link.as_deref().into(),
                format!("{}:{a}", ev.dedupe).into(),
                at.as_str().into(),
            ],
        )?;
    }
    Ok(n)
}

/// The family accounts with a verified link to a child, with the child's
/// name as the family knows it.
pub fn child_families(c: &mut Conn, infant_id: &str) -> Result<(Vec<String>, String)> {
    let rows = c.query(
        "SELECT l.username, p.name FROM family_link l JOIN person p ON p.id = l.person_id \
         WHERE l.person_id = $1 AND l.status = 'verified' ORDER BY l.username",
        &[infant_id.into()],
    )?;
    let mut accounts = Vec::with_capacity(rows.len());
    let mut name = String::new();
    for r in rows {
        accounts.push(r.get::<String>("username")?);
        name = r.get("name")?;
    }
    Ok((accounts, name))
}

/// Notifies every verified family account of a child; the event's `child`
/// parameter is filled with the child's name. No family: nothing written.
pub fn to_child_families(
    c: &mut Conn,
    infant_id: &str,
    ev: Event,
    now: DateTime<Utc>,
) -> Result<u64> {
    let (accounts, name) = child_families(c, infant_id)?;
    if accounts.is_empty() {
        return Ok(0);
    }
    let ev = ev.param("child", name);
    to_accounts(c, &accounts, &ev, now)
}

/// A notification as the recipient sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    pub template: Template,
    pub params: BTreeMap<String, String>,
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// One page of a family's inbox and its unread count.
#[derive(Debug, Clone, Serialize)]
pub struct Inbox {
    pub unread: i64,
    pub items: Vec<Notification>,
}

fn own_account(scope: &Scope) -> Result<&str> {
    if !scope.is_family() {
        return Err(StoreError::Forbidden(
            "notifications are the family accounts' own".into(),
        ));
    }
    Ok(scope.actor.user.as_str())
}

/// The caller's notifications, newest first (`unread_only`: those not read).
pub fn inbox(conn: &mut Conn, scope: &Scope, unread_only: bool, limit: i64) -> Result<Inbox> {
    let account = own_account(scope)?;
    let unread = conn.query_i64(
        "SELECT COUNT(*) FROM notification WHERE account = $1 AND read_at IS NULL",
        &[account.into()],
    )?;
    let filter = if unread_only {
        " AND read_at IS NULL"
    } else {
        ""
    };
    let rows = conn.query(
        &format!(
            "SELECT id, template, params, link, created_at, read_at FROM notification \
             WHERE account = $1{filter} ORDER BY created_at DESC, id DESC LIMIT $2"
        ),
        &[account.into(), limit.clamp(1, MAX_PAGE).into()],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let params: String = r.get("params")?;
        items.push(Notification {
            id: r.get("id")?,
            template: r.parse("template")?,
            params: serde_json::from_str(&params).map_err(db_err)?,
            link: r.get("link")?,
            created_at: r.get("created_at")?,
            read_at: r.get("read_at")?,
        });
    }
    Ok(Inbox { unread, items })
}

/// Marks the caller's notifications read: the ones named, or all. Another
/// account's id is silently not touched (it is not theirs to know of).
pub fn mark_read(
    conn: &mut Conn,
    scope: &Scope,
    ids: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let account = own_account(scope)?;
    let at = now.to_rfc3339();
    match ids {
        None => conn.execute(
            "UPDATE notification SET read_at = $1 WHERE account = $2 AND read_at IS NULL",
            &[at.as_str().into(), account.into()],
        ),
        Some(ids) => {
            if ids.len() > MAX_PAGE as usize {
                return Err(crate::childcare_day::invalid(
                    "ids",
                    format!("at most {MAX_PAGE} at once"),
                ));
            }
            let mut n = 0;
            for id in ids {
                crate::childcare_day::check_id("ids", id)?;
                n += conn.execute(
                    "UPDATE notification SET read_at = $1 WHERE id = $2 AND account = $3 AND read_at IS NULL",
                    &[at.as_str().into(), id.as_str().into(), account.into()],
                )?;
            }
            Ok(n)
        }
    }
}

// ---------------------------------------------------------------- delivery

/// A notification handed to a channel.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    pub account: String,
    pub template: Template,
    pub params: BTreeMap<String, String>,
    pub link: Option<String>,
    /// 1 on the first try.
    pub attempt: i64,
}

/// The channel's proof of delivery (a provider's message id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt(pub String);

/// Why a channel did not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Try again later (a timeout, the provider's rate limit, a 5xx).
    #[error("retryable: {0}")]
    Retryable(String),
    /// Never (no phone number, the recipient unsubscribed, the template refused).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A way to reach a family: the local stand-in now; SMS and WeChat later
/// (docs/notifications.md). `send` must not hold a database transaction.
pub trait Channel: Send + Sync {
    /// `local`, `sms`, `wechat`.
    fn name(&self) -> &'static str;
    fn send(&self, m: &Outgoing) -> std::result::Result<Receipt, ChannelError>;
}

/// The retry policy, from the dated parameters.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_attempts: i64,
    pub backoff_seconds: i64,
    pub backoff_max_seconds: i64,
}

impl Policy {
    pub fn on(day: NaiveDate) -> Result<Policy> {
        let p = Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
        let get = |n: &str| {
            p.int(n, day)
                .map(|(v, _)| v)
                .map_err(|e| StoreError::Reference(e.to_string()))
        };
        Ok(Policy {
            max_attempts: get("notify.max_attempts")?.clamp(1, 100),
            backoff_seconds: get("notify.backoff_seconds")?.clamp(1, 86_400),
            backoff_max_seconds: get("notify.backoff_max_seconds")?.clamp(1, 7 * 86_400),
        })
    }

    /// The wait after the `attempt`-th failure (1-based): base, 2×base, 4×base…
    pub fn backoff(&self, attempt: i64) -> Duration {
        let shift = (attempt - 1).clamp(0, 30) as u32;
        let s = self
            .backoff_seconds
            .saturating_mul(1_i64 << shift)
            .min(self.backoff_max_seconds);
        Duration::seconds(s)
    }
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub sent: i64,
    pub retried: i64,
    pub failed: i64,
    /// Rows another worker claimed first.
    pub lost_claims: i64,
}

/// One pass of the delivery worker: claims due rows (at most `batch`),
/// sends each through the channel and records the outcome.
pub fn deliver_due(
    store: &crate::Store,
    channel: &dyn Channel,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<Delivered> {
    let policy = Policy::on(now.date_naive())?;
    let mut conn = store.conn()?;
    let at = now.to_rfc3339();
    let due = conn.query(
        "SELECT id, account, template, params, link, attempts, not_before FROM notification \
         WHERE status = 'pending' AND not_before <= $1 ORDER BY not_before, id LIMIT $2",
        &[at.as_str().into(), batch.clamp(1, MAX_BATCH).into()],
    )?;
    let lease = (now + Duration::seconds(LEASE_SECONDS)).to_rfc3339();
    let mut out = Delivered::default();
    for r in due {
        let id: String = r.get("id")?;
        let attempts: i64 = r.get("attempts")?;
        let seen: String = r.get("not_before")?;
        // The claim: only the worker whose update matches the row as read
        // sends it; the lease frees it if that worker dies mid-send.
        let claimed = conn.execute(
            "UPDATE notification SET attempts = attempts + 1, not_before = $1 \
             WHERE id = $2 AND status = 'pending' AND attempts = $3 AND not_before = $4",
            &[
                lease.as_str().into(),
                id.as_str().into(),
                attempts.into(),
                seen.as_str().into(),
            ],
        )?;
        if claimed == 0 {
            out.lost_claims += 1;
            continue;
        }
        let params: String = r.get("params")?;
        let m = Outgoing {
            id: id.clone(),
            account: r.get("account")?,
            template: r.parse("template")?,
            params: serde_json::from_str(&params).map_err(db_err)?,
            link: r.get("link")?,
            attempt: attempts + 1,
        };
        let result = channel.send(&m);
        let done = Utc::now().max(now).to_rfc3339();
        match result {
            Ok(Receipt(receipt)) => {
                conn.execute(
                    "UPDATE notification SET status = 'sent', channel = $1, receipt = $2, sent_at = $3, \
                     last_error = NULL WHERE id = $4",
                    &[
                        channel.name().into(),
                        receipt.as_str().into(),
                        done.as_str().into(),
                        id.as_str().into(),
                    ],
                )?;
                out.sent += 1;
            }
            Err(e) => {
                let permanent = matches!(e, ChannelError::Permanent(_));
                let text: String = e.to_string().chars().take(MAX_ERROR).collect();
                if permanent || m.attempt >= policy.max_attempts {
                    conn.execute(
                        "UPDATE notification SET status = 'failed', channel = $1, last_error = $2 WHERE id = $3",
                        &[channel.name().into(), text.as_str().into(), id.as_str().into()],
                    )?;
                    out.failed += 1;
                } else {
                    let next = (now + policy.backoff(m.attempt)).to_rfc3339();
                    conn.execute(
                        "UPDATE notification SET not_before = $1, last_error = $2 WHERE id = $3",
                        &[
                            next.as_str().into(),
                            text.as_str().into(),
                            id.as_str().into(),
                        ],
                    )?;
                    out.retried += 1;
                }
            }
        }
    }
    Ok(out)
}

/// The local stand-in channel's delivery: the rendered text kept in
/// `notification_delivery`, as an SMS gateway would have received it.
pub fn record_delivery(
    conn: &mut Conn,
    m: &Outgoing,
    channel: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = format!("ND-{}", crate::crypto::random_hex(8));
    conn.execute(
        "INSERT INTO notification_delivery (id, notification_id, channel, account, text, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            id.as_str().into(),
            m.id.as_str().into(),
            channel.into(),
            m.account.as_str().into(),
            text.into(),
            now.to_rfc3339().into(),
        ],
    )?;
    Ok(id)
}

/// Delivery health for the city administrator (通知投递): counts by template
/// and status, and the latest failures. No parameters, so no personal data.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub counts: Vec<HealthCount>,
    pub failures: Vec<Failure>,
    pub oldest_pending: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthCount {
    pub template: Template,
    pub status: Delivery,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub id: String,
    pub template: Template,
    pub attempts: i64,
    pub channel: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
}

pub fn health(conn: &mut Conn, scope: &Scope) -> Result<Health> {
    scope.require(crate::scope::Perm::ManageUsers)?;
    let mut counts = Vec::new();
    for r in conn.query(
        "SELECT template, status, COUNT(*) AS n FROM notification GROUP BY template, status ORDER BY template, status",
        &[],
    )? {
        counts.push(HealthCount {
            template: r.parse("template")?,
            status: r.parse("status")?,
            count: r.get("n")?,
        });
    }
    let mut failures = Vec::new();
    for r in conn.query(
        "SELECT id, template, attempts, channel, last_error, created_at FROM notification \
         WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 50",
        &[],
    )? {
        failures.push(Failure {
            id: r.get("id")?,
            template: r.parse("template")?,
            attempts: r.get("attempts")?,
            channel: r.get("channel")?,
            last_error: r.get("last_error")?,
            created_at: r.get("created_at")?,
        });
    }
    let oldest_pending = conn
        .query_opt(
            "SELECT MIN(created_at) AS t FROM notification WHERE status = 'pending'",
            &[],
        )?
        .map(|r| r.get::<Option<String>>("t"))
        .transpose()?
        .flatten();
    Ok(Health {
        counts,
        failures,
        oldest_pending,
    })
}

/// Bills past their due date and not fully paid: one overdue notice each
/// (the dedupe key is the bill). Returns how many notices were new.
pub fn bills_overdue(conn: &mut Conn, today: NaiveDate, now: DateTime<Utc>) -> Result<u64> {
    let rows = conn.query(
        "SELECT id, infant_id, month, due_fen - paid_fen AS owed, due_date FROM childcare_bill \
         WHERE due_date < $1 AND paid_fen < due_fen AND overdue_noticed_at IS NULL ORDER BY id LIMIT 5000",
        &[today.to_string().into()],
    )?;
    let at = now.to_rfc3339();
    conn.transaction(|c| {
        let mut n = 0;
        for r in &rows {
            let id: String = r.get("id")?;
            let infant: String = r.get("infant_id")?;
            // Marked first and conditionally: two workers never both notify.
            if c.execute(
                "UPDATE childcare_bill SET overdue_noticed_at = $1 WHERE id = $2 AND overdue_noticed_at IS NULL",
                &[at.as_str().into(), id.as_str().into()],
            )? == 0
            {
                continue;
            }
            let ev = Event::new(Template::BillOverdue, format!("bill_overdue:{id}"))
                .param("month", r.get::<String>("month")?)
                .param("amount", crate::family::yuan(r.get("owed")?))
                .param("due_date", r.get::<String>("due_date")?)
                .link(format!("/console/family/children/{infant}/bills"));
            n += to_child_families(c, &infant, ev, now)?;
        }
        Ok(n)
    })
}

/// Values for the tests: the rows of an account, oldest first.
pub fn all_of(conn: &mut Conn, account: &str) -> Result<Vec<(String, Template, Delivery, i64)>> {
    conn.query(
        "SELECT id, template, status, attempts FROM notification WHERE account = $1 ORDER BY created_at, id",
        &[Value::from(account)],
    )?
    .iter()
    .map(|r| Ok((r.get("id")?, r.parse("template")?, r.parse("status")?, r.get("attempts")?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = Policy {
            max_attempts: 8,
            backoff_seconds: 60,
            backoff_max_seconds: 600,
        };
        let waits: Vec<i64> = (1..=6).map(|a| p.backoff(a).num_seconds()).collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 600, 600]);
        // A huge attempt count neither overflows nor exceeds the cap.
        assert_eq!(p.backoff(1_000).num_seconds(), 600);
    }

    #[test]
    fn policy_comes_from_the_dated_parameters() {
        let p = Policy::on(NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")).expect("policy");
        assert!(p.max_attempts >= 1);
        assert!(p.backoff_seconds <= p.backoff_max_seconds);
    }

    #[test]
    fn an_event_missing_a_parameter_is_refused() {
        let ev = Event::new(Template::DailyReport, "x").param("date", "2026-12-01");
        assert!(check(&ev).is_err());
        assert!(check(&ev.param("child", "小明")).is_ok());
    }

    #[test]
    fn template_codes_round_trip() {
        for t in Template::ALL {
            assert_eq!(t.code().parse::<Template>(), Ok(t));
        }
        assert!("sms".parse::<Template>().is_err());
    }
}
