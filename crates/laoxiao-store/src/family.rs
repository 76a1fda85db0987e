//! Services families order (子女网上下单, plan part 6).
//!
//! - **Links** (家属关联): a family account (role `family`, 家属) asks to be
//!   linked to an elderly person by the person's ID number and the
//!   relationship (子女 / 配偶 / 其他); a staff member whose area holds the
//!   person verifies or refuses it. A family account finds people only through
//!   its verified links: [`relatives`] is all it ever sees of the registers.
//! - **Orders** (服务订单): the family orders a catalogue item
//!   (`laoxiao_model::family::ServiceItem`, published by a provider) for a
//!   verified relative: placed → accepted (provider) → delivered (provider;
//!   writes a `service_record`) → rated (family, 1–5) | cancelled (family,
//!   before delivery) | refused (provider, before delivery). A second
//!   submission with the same client request id changes nothing and answers
//!   the first order.
//! - **Payment**: the person's monthly service voucher for the item's
//!   category (`laoxiao_rules::vouchers`, `data/policy/vouchers.toml`) pays
//!   first, up to what is left of it in the service date's month; the family
//!   pays the rest. The split, the monthly amount, the balance before the
//!   order and the voucher entry are stored on the order (the explanation).
//!   Cancelled and refused orders give their voucher share back.
//! - **Settlement** (结算): per provider and month, the orders delivered (or
//!   rated), their voucher and family totals.
//!
//! Every write and its audit entry are one transaction.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::activity::{ServiceKind, ServiceRecord};
use laoxiao_model::family::{Relationship, ServiceCategory, ServiceItem};
use laoxiao_model::person::{AbilityLevel, PersonRole, SpecialDifficulty, mask_name};
use laoxiao_model::{FieldError, idcard};
use laoxiao_rules::vouchers::{self, Vouchers};
use serde::Serialize;

use crate::activity::{self, ActivityRecord};
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::worklist::WorkItem;
use crate::{Reference, audit, now_rfc3339};

/// Longest client request id, reason, note or comment.
pub const MAX_REQUEST_ID: usize = 64;
pub const MAX_TEXT: usize = 500;
/// Units of one order (e.g. 31 meals in a month).
pub const MAX_QUANTITY: i64 = 31;
/// How far ahead a service may be ordered.
pub const MAX_DAYS_AHEAD: i64 = 90;
/// How far back a service date may lie (an order for a service already given).
pub const MAX_DAYS_BACK: i64 = 7;
/// Most rows a list answers.
pub const MAX_LIST: usize = 500;

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

fn clean_text(field: &str, s: &str, required: bool) -> Result<Option<String>> {
    if required {
        crate::text::required(field, s, MAX_TEXT, "required").map(Some)
    } else {
        crate::text::optional(field, Some(s), MAX_TEXT)
    }
}

fn ts() -> String {
    now_rfc3339()
}

// ---------------------------------------------------------------- links

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Requested,
    Verified,
    Refused,
    Revoked,
}

impl LinkStatus {
    pub const ALL: [LinkStatus; 4] = [
        LinkStatus::Requested,
        LinkStatus::Verified,
        LinkStatus::Refused,
        LinkStatus::Revoked,
    ];
    pub fn code(self) -> &'static str {
        match self {
            LinkStatus::Requested => "requested",
            LinkStatus::Verified => "verified",
            LinkStatus::Refused => "refused",
            LinkStatus::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<LinkStatus> {
        LinkStatus::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// A link as its viewer may see it: the person's name masked (staff verify
/// against the record, which they open separately; a family sees its
/// relatives' names through [`relatives`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub id: String,
    pub username: String,
    pub person_id: String,
    pub person_name_masked: String,
    pub relationship: Relationship,
    pub status: LinkStatus,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
}

const LINK_COLS: &str = "l.id, l.username, l.person_id, l.person_path, l.relationship, l.status, \
    l.requested_at, l.decided_by, l.decided_at, l.decision_reason, p.name AS person_name";

fn link_of(r: &Row) -> Result<Link> {
    let rel: String = r.get("relationship")?;
    let st: String = r.get("status")?;
    Ok(Link {
        id: r.get("id")?,
        username: r.get("username")?,
        person_id: r.get("person_id")?,
        person_name_masked: mask_name(&r.get::<String>("person_name")?),
        relationship: Relationship::parse(&rel)
            .ok_or_else(|| StoreError::Database(format!("bad relationship {rel:?}")))?,
        status: LinkStatus::parse(&st)
            .ok_or_else(|| StoreError::Database(format!("bad link status {st:?}")))?,
        requested_at: r.get("requested_at")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
        decision_reason: r.get("decision_reason")?,
    })
}

fn link_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "family link",
        id: id.to_string(),
    }
}

/// A family account asks to be linked to the elderly person or the child
/// (婴幼儿, for childcare) with this ID number. Not found when no live record
/// of either register has it; refused when the relationship does not fit the
/// register (a parent or guardian of a child, a child or spouse of an elderly
/// person); a conflict when a link is requested or verified already. One
/// transaction with its audit entry.
pub fn request_link(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id_number: &str,
    relationship: &str,
) -> Result<Link> {
    scope.require(Perm::OrderServices)?;
    let number = idcard::normalize(id_number);
    let mut errs = Vec::new();
    if let Err(why) = idcard::parse(&number) {
        errs.push(FieldError::new("id_number", why));
    }
    let rel = Relationship::parse(relationship.trim());
    if rel.is_none() {
        errs.push(FieldError::new(
            "relationship",
            format!("one of {}", Relationship::expected()),
        ));
    }
    let (Some(rel), true) = (rel, errs.is_empty()) else {
        return Err(StoreError::Invalid(errs));
    };
    let keys = reference.keys()?;
    conn.transaction(|c| {
        let person = c
            .query_opt(
                "SELECT id, area_path, role FROM person WHERE id_number_hmac = $1 \
                 AND role IN ('elderly', 'infant') AND deleted_at IS NULL",
                &[keys.hmac(&number).into()],
            )?
            .ok_or_else(|| StoreError::NotFound {
                what: "elderly person or child with the ID number",
                id: laoxiao_model::person::mask_id_number(&number),
            })?;
        let role: PersonRole = person.parse("role")?;
        if !rel.fits(role) {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "relationship",
                format!(
                    "{} ({}) is not a relationship to {}",
                    rel.label_zh(),
                    rel.code(),
                    if role == PersonRole::Infant {
                        "a child: give parent or guardian"
                    } else {
                        "an elderly person: give child, spouse or other"
                    }
                ),
            )]));
        }
        let person_id: String = person.get("id")?;
        let path: String = person.get("area_path")?;
        let live = c.query_i64(
            "SELECT COUNT(*) FROM family_link WHERE username = $1 AND person_id = $2 \
             AND status IN ('requested', 'verified')",
            &[scope.actor.user.as_str().into(), person_id.as_str().into()],
        )?;
        if live > 0 {
            return Err(StoreError::Conflict(
                "a link to this person is requested or verified already".into(),
            ));
        }
        let id = format!("L-{}", crate::crypto::random_hex(8));
        c.execute(
            "INSERT INTO family_link (id, username, person_id, person_path, relationship, status, \
             requested_at) VALUES ($1, $2, $3, $4, $5, 'requested', $6)",
            &[
                id.as_str().into(),
                scope.actor.user.as_str().into(),
                person_id.as_str().into(),
                path.into(),
                rel.code().into(),
                ts().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "family_link_request",
                entity: "family_link",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"person_id": person_id, "relationship": rel.code()})
                        .to_string(),
                ),
            },
        )?;
        own_link(c, scope, &id)
    })
}

fn own_link(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Link> {
    let r = conn
        .query_opt(
            &format!(
                "SELECT {LINK_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
                 WHERE l.id = $1 AND l.username = $2"
            ),
            &[id.into(), scope.actor.user.as_str().into()],
        )?
        .ok_or_else(|| link_not_found(id))?;
    link_of(&r)
}

/// The links of the calling family account, newest first.
pub fn my_links(conn: &mut Conn, scope: &Scope) -> Result<Vec<Link>> {
    scope.require(Perm::OrderServices)?;
    conn.query(
        &format!(
            "SELECT {LINK_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
             WHERE l.username = $1 ORDER BY l.requested_at DESC, l.id LIMIT {MAX_LIST}"
        ),
        &[scope.actor.user.as_str().into()],
    )?
    .iter()
    .map(link_of)
    .collect()
}

/// Links in the staff member's area with this status (`requested`: waiting
/// for verification), oldest first.
pub fn links_in_scope(conn: &mut Conn, scope: &Scope, status: LinkStatus) -> Result<Vec<Link>> {
    scope.require(Perm::WritePeople)?;
    let mut w = String::from("l.status = $1");
    let mut p: Vec<Value> = vec![status.code().into()];
    scope.push_sql(&mut w, &mut p, "l.person_path", None);
    conn.query(
        &format!(
            "SELECT {LINK_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
             WHERE {w} ORDER BY l.requested_at, l.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?
    .iter()
    .map(link_of)
    .collect()
}

/// A staff member of the person's area verifies (`verify`) or refuses a
/// requested link; a verified link may be revoked later (`verify` false on a
/// verified link). A link outside the caller's area is not found. One
/// transaction with its audit entry.
pub fn decide_link(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    verify: bool,
    reason: &str,
) -> Result<Link> {
    scope.require(Perm::WritePeople)?;
    let reason = clean_text("reason", reason, !verify)?;
    conn.transaction(|c| {
        let r = c
            .query_opt(
                &format!(
                    "SELECT {LINK_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
                     WHERE l.id = $1"
                ),
                &[id.into()],
            )?
            .ok_or_else(|| link_not_found(id))?;
        if !scope.contains_path(&r.get::<String>("person_path")?) {
            return Err(link_not_found(id));
        }
        let before = link_of(&r)?;
        let to = match (before.status, verify) {
            (LinkStatus::Requested, true) => LinkStatus::Verified,
            (LinkStatus::Requested, false) => LinkStatus::Refused,
            (LinkStatus::Verified, false) => LinkStatus::Revoked,
            (s, _) => {
                return Err(StoreError::Conflict(format!(
                    "the link is {} already",
                    s.code()
                )));
            }
        };
        c.execute(
            "UPDATE family_link SET status = $1, decided_by = $2, decided_at = $3, \
             decision_reason = $4 WHERE id = $5 AND status = $6",
            &[
                to.code().into(),
                scope.actor.user.as_str().into(),
                ts().into(),
                reason.clone().map_or(Value::Null, Value::Text),
                id.into(),
                before.status.code().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: match to {
                    LinkStatus::Verified => "family_link_verify",
                    LinkStatus::Refused => "family_link_refuse",
                    _ => "family_link_revoke",
                },
                entity: "family_link",
                entity_id: Some(id),
                before: Some(serde_json::json!({"status": before.status.code()}).to_string()),
                after: Some(serde_json::json!({"status": to.code()}).to_string()),
            },
        )?;
        let r = c
            .query_opt(
                &format!(
                    "SELECT {LINK_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
                     WHERE l.id = $1"
                ),
                &[id.into()],
            )?
            .ok_or_else(|| link_not_found(id))?;
        link_of(&r)
    })
}

// ---------------------------------------------------------------- relatives

/// What a family account sees of one verified relative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relative {
    pub person_id: String,
    /// The full name: the family knows it, and the link was verified.
    pub name: String,
    pub relationship: Relationship,
    pub ability_level: Option<AbilityLevel>,
    /// This month's voucher per category: monthly amount, used, left.
    pub balances: Vec<Balance>,
}

/// One category's voucher in one month, fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub category: ServiceCategory,
    pub month: String,
    pub monthly_fen: i64,
    pub used_fen: i64,
    pub left_fen: i64,
    /// The voucher entry that gives the amount (`None`: no entitlement).
    pub voucher: Option<String>,
}

/// The facts of a person that the voucher reads.
struct Facts {
    id: String,
    name: String,
    path: String,
    difficulties: Vec<SpecialDifficulty>,
    ability: Option<AbilityLevel>,
    relationship: Relationship,
}

fn facts_of(r: &Row) -> Result<Facts> {
    let list: Option<String> = r.get("special_difficulty")?;
    let difficulties = list
        .unwrap_or_default()
        .split(';')
        .filter_map(SpecialDifficulty::parse)
        .collect();
    let ability = match r.value("ability_level")? {
        Value::Int(n) => AbilityLevel::parse(&n.to_string()),
        Value::Text(t) => AbilityLevel::parse(t),
        _ => None,
    };
    let rel: String = r.get("relationship")?;
    Ok(Facts {
        id: r.get("id")?,
        name: r.get("name")?,
        path: r.get("area_path")?,
        difficulties,
        ability,
        relationship: Relationship::parse(&rel).unwrap_or(Relationship::Other),
    })
}

const FACT_COLS: &str =
    "p.id, p.name, p.area_path, p.special_difficulty, p.ability_level, l.relationship";

/// The family's verified relatives of one register (live records only):
/// elderly relatives for services and care homes, children for childcare.
fn verified(
    conn: &mut Conn,
    scope: &Scope,
    person_id: Option<&str>,
    role: PersonRole,
) -> Result<Vec<Facts>> {
    let mut sql = format!(
        "SELECT {FACT_COLS} FROM family_link l JOIN person p ON p.id = l.person_id \
         WHERE l.username = $1 AND l.status = 'verified' AND p.deleted_at IS NULL AND p.role = $2"
    );
    let mut params: Vec<Value> = vec![scope.actor.user.as_str().into(), role.code().into()];
    if let Some(id) = person_id {
        params.push(id.into());
        sql.push_str(" AND p.id = $3");
    }
    sql.push_str(&format!(" ORDER BY p.id LIMIT {MAX_LIST}"));
    conn.query(&sql, &params)?.iter().map(facts_of).collect()
}

/// Whether `person_id` is a verified relative of the calling family account
/// on the `role` register.
pub(crate) fn is_verified_relative(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
    role: PersonRole,
) -> Result<bool> {
    Ok(!verified(conn, scope, Some(person_id), role)?.is_empty())
}

/// The area path of a verified relative of the caller (`None` otherwise).
pub(crate) fn relative_path(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
    role: PersonRole,
) -> Result<Option<String>> {
    Ok(verified(conn, scope, Some(person_id), role)?
        .into_iter()
        .next()
        .map(|f| f.path))
}

/// The ids of the caller's verified relatives on the `role` register.
pub(crate) fn verified_ids(
    conn: &mut Conn,
    scope: &Scope,
    role: PersonRole,
) -> Result<Vec<String>> {
    Ok(verified(conn, scope, None, role)?
        .into_iter()
        .map(|f| f.id)
        .collect())
}

/// A verified child of the calling family account (家长的子女), as the
/// childcare pages show it: the name in full (the family's own child).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Child {
    pub person_id: String,
    pub name: String,
    pub relationship: Relationship,
}

/// The calling family's verified children (the infants register).
pub fn children(conn: &mut Conn, scope: &Scope) -> Result<Vec<Child>> {
    scope.require(Perm::OrderServices)?;
    Ok(verified(conn, scope, None, PersonRole::Infant)?
        .into_iter()
        .map(|f| Child {
            person_id: f.id,
            name: f.name,
            relationship: f.relationship,
        })
        .collect())
}

pub(crate) fn person_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "relative",
        id: id.to_string(),
    }
}

/// `YYYY-MM` of a date.
pub fn month_of(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

fn month_first(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Voucher used by the person in a month and category (orders not cancelled
/// or refused).
fn used(conn: &mut Conn, person_id: &str, category: ServiceCategory, month: &str) -> Result<i64> {
    conn.query_i64(
        "SELECT COALESCE(CAST(SUM(voucher_fen) AS BIGINT), 0) FROM service_order \
         WHERE person_id = $1 AND category = $2 AND month = $3 \
         AND status NOT IN ('cancelled', 'refused')",
        &[person_id.into(), category.code().into(), month.into()],
    )
}

fn balance(
    conn: &mut Conn,
    table: &Vouchers,
    f: &Facts,
    category: ServiceCategory,
    day: NaiveDate,
) -> Result<Balance> {
    let (monthly, entry) = table.monthly(&f.difficulties, f.ability, category, month_first(day));
    let month = month_of(day);
    let used = used(conn, &f.id, category, &month)?;
    Ok(Balance {
        category,
        month,
        monthly_fen: monthly,
        used_fen: used,
        left_fen: (monthly - used).max(0),
        voucher: entry.map(|e| e.name.clone()),
    })
}

/// The calling family's verified relatives, with their vouchers for the
/// month of `today`.
pub fn relatives(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<Relative>> {
    scope.require(Perm::OrderServices)?;
    let table = vouchers_table()?;
    let mut out = Vec::new();
    for f in verified(conn, scope, None, PersonRole::Elderly)? {
        let mut balances = Vec::new();
        for &c in ServiceCategory::ALL {
            balances.push(balance(conn, table, &f, c, today)?);
        }
        out.push(Relative {
            person_id: f.id.clone(),
            name: f.name.clone(),
            relationship: f.relationship,
            ability_level: f.ability,
            balances,
        });
    }
    Ok(out)
}

fn vouchers_table() -> Result<&'static Vouchers> {
    Vouchers::embedded().map_err(|e| StoreError::Config(e.to_string()))
}

// ---------------------------------------------------------------- catalogue

/// A catalogue item as offered to a family, with its provider's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub item: ServiceItem,
    pub provider_name: String,
}

/// Active items whose areas served cover the relative's area (a county or a
/// town code the person's area path passes through). Not found unless the
/// person is a verified relative of the caller.
pub fn catalogue_for(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    person_id: &str,
) -> Result<Vec<Offer>> {
    scope.require(Perm::OrderServices)?;
    let f = verified(conn, scope, Some(person_id), PersonRole::Elderly)?
        .into_iter()
        .next()
        .ok_or_else(|| person_not_found(person_id))?;
    offers(conn, reference, &f.path, None)
}

fn serves(reference: &Reference, item: &ServiceItem, person_path: &str) -> bool {
    item.area_codes().iter().any(|c| {
        reference
            .areas
            .get(c)
            .is_some_and(|a| person_path.starts_with(&a.path))
    })
}

fn offers(
    conn: &mut Conn,
    reference: &Reference,
    person_path: &str,
    item_id: Option<&str>,
) -> Result<Vec<Offer>> {
    let cols: Vec<String> = ServiceItem::cols()
        .iter()
        .map(|c| format!("s.{c}"))
        .collect();
    let mut sql = format!(
        "SELECT {}, f.name AS provider_name FROM service_item s JOIN facility f ON f.id = s.facility_id \
         WHERE s.deleted_at IS NULL AND f.deleted_at IS NULL AND s.active = $1",
        cols.join(", ")
    );
    let mut p: Vec<Value> = vec![Value::Bool(true)];
    if let Some(id) = item_id {
        p.push(id.into());
        sql.push_str(" AND s.id = $2");
    }
    sql.push_str(" ORDER BY s.category, s.price_fen, s.id LIMIT 2000");
    let mut out = Vec::new();
    for r in conn.query(&sql, &p)? {
        let item = ServiceItem::from_db(&r)?;
        if serves(reference, &item, person_path) {
            out.push(Offer {
                item,
                provider_name: r.get("provider_name")?,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- orders

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Accepted,
    Delivered,
    Rated,
    Cancelled,
    Refused,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Placed,
        OrderStatus::Accepted,
        OrderStatus::Delivered,
        OrderStatus::Rated,
        OrderStatus::Cancelled,
        OrderStatus::Refused,
    ];
    pub fn code(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Rated => "rated",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.code() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            OrderStatus::Placed => "已下单",
            OrderStatus::Accepted => "已接单",
            OrderStatus::Delivered => "已服务",
            OrderStatus::Rated => "已评价",
            OrderStatus::Cancelled => "已取消",
            OrderStatus::Refused => "已拒单",
        }
    }
}

/// An order. The person's name is masked for everyone but the family (the
/// provider delivers to an address it is given outside the platform).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: String,
    pub client_request_id: String,
    pub person_id: String,
    pub person_name_masked: String,
    pub item_id: String,
    pub facility_id: String,
    pub provider_name: String,
    pub category: ServiceCategory,
    pub item_name: String,
    pub unit: String,
    pub unit_price_fen: i64,
    pub quantity: i64,
    pub total_fen: i64,
    pub voucher_fen: i64,
    pub family_fen: i64,
    pub voucher_monthly_fen: i64,
    pub voucher_balance_fen: i64,
    pub voucher_name: Option<String>,
    /// The split in words (Chinese), from the stored figures.
    pub explanation: String,
    pub service_date: NaiveDate,
    pub month: String,
    pub note: Option<String>,
    pub status: OrderStatus,
    pub placed_at: String,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<String>,
    pub delivered_date: Option<NaiveDate>,
    pub delivered_by: Option<String>,
    pub service_record_id: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub close_reason: Option<String>,
}

/// Fen as yuan with two decimals.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The split in words: `总价 80.00 元 = 1 次 × 80.00 元；助浴服务券本月 150.00
/// 元，下单前余额 100.00 元，抵扣 80.00 元；家属支付 0.00 元。`
pub fn explain(o: &Order) -> String {
    let voucher = match &o.voucher_name {
        Some(_) => format!(
            "{}服务券本月 {} 元，下单前余额 {} 元，抵扣 {} 元",
            o.category.label_zh(),
            yuan(o.voucher_monthly_fen),
            yuan(o.voucher_balance_fen),
            yuan(o.voucher_fen)
        ),
        None => format!("{}无服务券", o.category.label_zh()),
    };
    format!(
        "总价 {} 元 = {} {} × {} 元；{}；家属支付 {} 元。",
        yuan(o.total_fen),
        o.quantity,
        o.unit,
        yuan(o.unit_price_fen),
        voucher,
        yuan(o.family_fen)
    )
}

const ORDER_COLS: &str = "o.*, p.name AS person_name, f.name AS provider_name";
const ORDER_FROM: &str =
    "service_order o JOIN person p ON p.id = o.person_id JOIN facility f ON f.id = o.facility_id";

fn order_of(r: &Row) -> Result<Order> {
    let cat: String = r.get("category")?;
    let st: String = r.get("status")?;
    let mut o = Order {
        id: r.get("id")?,
        client_request_id: r.get("client_request_id")?,
        person_id: r.get("person_id")?,
        person_name_masked: mask_name(&r.get::<String>("person_name")?),
        item_id: r.get("item_id")?,
        facility_id: r.get("facility_id")?,
        provider_name: r.get("provider_name")?,
        category: ServiceCategory::parse(&cat)
            .ok_or_else(|| StoreError::Database(format!("bad category {cat:?}")))?,
        item_name: r.get("item_name")?,
        unit: r.get("unit")?,
        unit_price_fen: r.get("unit_price_fen")?,
        quantity: r.get("quantity")?,
        total_fen: r.get("total_fen")?,
        voucher_fen: r.get("voucher_fen")?,
        family_fen: r.get("family_fen")?,
        voucher_monthly_fen: r.get("voucher_monthly_fen")?,
        voucher_balance_fen: r.get("voucher_balance_fen")?,
        voucher_name: r.get("voucher_name")?,
        explanation: String::new(),
        service_date: r.get("service_date")?,
        month: r.get("month")?,
        note: r.get("note")?,
        status: OrderStatus::parse(&st)
            .ok_or_else(|| StoreError::Database(format!("bad order status {st:?}")))?,
        placed_at: r.get("placed_at")?,
        accepted_by: r.get("accepted_by")?,
        accepted_at: r.get("accepted_at")?,
        delivered_date: r.get("delivered_date")?,
        delivered_by: r.get("delivered_by")?,
        service_record_id: r.get("service_record_id")?,
        rating: r.get("rating")?,
        rating_comment: r.get("rating_comment")?,
        close_reason: r.get("close_reason")?,
    };
    o.explanation = explain(&o);
    Ok(o)
}

fn order_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "order",
        id: id.to_string(),
    }
}

/// The orders a scope sees: a family its own; a provider (operator) its
/// facility's; staff and administrators those of people in their area.
fn visible(scope: &Scope, w: &mut String, p: &mut Vec<Value>) -> Result<()> {
    if scope.is_family() {
        p.push(scope.actor.user.as_str().into());
        w.push_str(&format!(" AND o.username = ${}", p.len()));
        Ok(())
    } else if scope.facility().is_some() {
        scope.require(Perm::ServeOrders)?;
        scope.push_sql(w, p, "o.facility_path", Some("o.facility_id"));
        Ok(())
    } else {
        scope.require(Perm::ReadPeople)?;
        scope.push_sql(w, p, "o.person_path", None);
        Ok(())
    }
}

/// One order the scope sees (else not found).
pub fn get_order(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Order> {
    let mut w = String::from("o.id = $1");
    let mut p: Vec<Value> = vec![id.into()];
    visible(scope, &mut w, &mut p)?;
    let r = conn
        .query_opt(
            &format!("SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE {w}"),
            &p,
        )?
        .ok_or_else(|| order_not_found(id))?;
    order_of(&r)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub person_id: Option<String>,
    pub limit: usize,
}

/// Orders the scope sees, newest service date first.
pub fn orders(conn: &mut Conn, scope: &Scope, q: &OrderQuery) -> Result<Vec<Order>> {
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    visible(scope, &mut w, &mut p)?;
    if let Some(s) = q.status {
        p.push(s.code().into());
        w.push_str(&format!(" AND o.status = ${}", p.len()));
    }
    if let Some(m) = &q.month {
        p.push(m.as_str().into());
        w.push_str(&format!(" AND o.month = ${}", p.len()));
    }
    if let Some(id) = &q.person_id {
        p.push(id.as_str().into());
        w.push_str(&format!(" AND o.person_id = ${}", p.len()));
    }
    let limit = if q.limit == 0 {
        100
    } else {
        q.limit.min(MAX_LIST)
    };
    conn.query(
        &format!(
            "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE {w} \
             ORDER BY o.service_date DESC, o.placed_at DESC, o.id LIMIT {limit}"
        ),
        &p,
    )?
    .iter()
    .map(order_of)
    .collect()
}

/// A family's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The client's id for this submission (letters, digits, `-`, `_`; at
    /// most 64): the same id again answers the first order and changes nothing.
    pub client_request_id: String,
    pub person_id: String,
    pub item_id: String,
    pub quantity: i64,
    pub service_date: NaiveDate,
    pub note: String,
}

/// Places an order (see the module doc). Answers the order and whether it
/// was created now (`false`: a duplicate submission, nothing changed). One
/// transaction with its audit entry.
pub fn place(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    o: &NewOrder,
    today: NaiveDate,
) -> Result<(Order, bool)> {
    scope.require(Perm::OrderServices)?;
    let rid = o.client_request_id.trim();
    let mut errs = Vec::new();
    if rid.is_empty()
        || rid.len() > MAX_REQUEST_ID
        || !rid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errs.push(FieldError::new(
            "client_request_id",
            format!("1 to {MAX_REQUEST_ID} letters, digits, - or _"),
        ));
    }
    if !(1..=MAX_QUANTITY).contains(&o.quantity) {
        errs.push(FieldError::new(
            "quantity",
            format!("between 1 and {MAX_QUANTITY}"),
        ));
    }
    let days = (o.service_date - today).num_days();
    if days > MAX_DAYS_AHEAD {
        errs.push(FieldError::new(
            "service_date",
            format!("at most {MAX_DAYS_AHEAD} days ahead"),
        ));
    } else if days < -MAX_DAYS_BACK {
        errs.push(FieldError::new(
            "service_date",
            format!("at most {MAX_DAYS_BACK} days back"),
        ));
    }
    let note = match clean_text("note", &o.note, false) {
        Ok(n) => n,
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(e) => return Err(e),
    };
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let table = vouchers_table()?;
    conn.transaction(|c| {
        // A duplicate submission answers the first order.
        if let Some(r) = c.query_opt(
            &format!(
                "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE o.username = $1 AND o.client_request_id = $2"
            ),
            &[scope.actor.user.as_str().into(), rid.into()],
        )? {
            return Ok((order_of(&r)?, false));
        }
        let f = verified(c, scope, Some(&o.person_id), PersonRole::Elderly)?
            .into_iter()
            .next()
            .ok_or_else(|| person_not_found(&o.person_id))?;
        let offer = offers(c, reference, &f.path, Some(o.item_id.as_str()))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                invalid(
                    "item_id",
                    "no active catalogue item with this id serves the person's area",
                )
            })?;
        let item = offer.item;
        let facility_path: String = c
            .query_opt(
                "SELECT area_path FROM facility WHERE id = $1",
                &[item.facility_id.as_str().into()],
            )?
            .ok_or_else(|| StoreError::Database("catalogue provider missing".into()))?
            .get("area_path")?;
        let total = item.price_fen.saturating_mul(o.quantity);
        let bal = balance(c, table, &f, item.category, o.service_date)?;
        let split = vouchers::split(total, bal.left_fen);
        let id = format!("O-{}", crate::crypto::random_hex(8));
        c.execute(
            "INSERT INTO service_order (id, username, client_request_id, person_id, person_path, item_id, \
             facility_id, facility_path, category, item_name, unit, unit_price_fen, quantity, total_fen, \
             voucher_fen, family_fen, voucher_monthly_fen, voucher_balance_fen, voucher_name, service_date, \
             month, note, status, placed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22, 'placed', $23)",
            &[
                id.as_str().into(),
                scope.actor.user.as_str().into(),
                rid.into(),
                f.id.as_str().into(),
                f.path.as_str().into(),
                item.id.as_str().into(),
                item.facility_id.as_str().into(),
                facility_path.into(),
                item.category.code().into(),
                item.name.as_str().into(),
                item.unit.as_str().into(),
                Value::Int(item.price_fen),
                Value::Int(o.quantity),
                Value::Int(total),
                Value::Int(split.voucher_fen),
                Value::Int(split.family_fen),
                Value::Int(bal.monthly_fen),
                Value::Int(bal.left_fen),
                bal.voucher.clone().map_or(Value::Null, Value::Text),
                o.service_date.into(),
                bal.month.as_str().into(),
                note.map_or(Value::Null, Value::Text),
                ts().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "order_place",
                entity: "service_order",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({
                        "person_id": f.id, "item_id": item.id, "quantity": o.quantity,
                        "total_fen": total, "voucher_fen": split.voucher_fen,
                        "family_fen": split.family_fen,
                    })
                    .to_string(),
                ),
            },
        )?;
        Ok((get_order(c, scope, &id)?, true))
    })
}

/// A provider's or family's step on an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Provider: placed → accepted.
    Accept,
    /// Provider: placed or accepted → refused, with a reason.
    Refuse { reason: String },
    /// Provider: accepted → delivered on a date, by a named worker; writes a
    /// service record.
    Deliver { date: NaiveDate, by: String },
    /// Family: placed or accepted → cancelled, with a reason.
    Cancel { reason: String },
    /// Family: delivered → rated, 1–5 with an optional comment.
    Rate { rating: i64, comment: String },
}

impl Step {
    fn code(&self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Refuse { .. } => "refuse",
            Step::Deliver { .. } => "deliver",
            Step::Cancel { .. } => "cancel",
            Step::Rate { .. } => "rate",
        }
    }
}

/// The service record kind a delivered order writes: meals are 助餐 (what
/// the meal indicators count); everything else a 上门服务.
pub fn service_kind(c: ServiceCategory) -> ServiceKind {
    match c {
        ServiceCategory::Meals => ServiceKind::MealAssistance,
        _ => ServiceKind::HomeService,
    }
}

/// Takes a step on an order the caller sees; who may take which step is in
/// [`Step`]'s variants (a family its own orders; a provider its facility's).
/// A step the order's state does not allow is a conflict. One transaction
/// with its audit entry (and, for a delivery, the service record).
pub fn step(conn: &mut Conn, scope: &Scope, id: &str, s: &Step, today: NaiveDate) -> Result<Order> {
    let family_step = matches!(s, Step::Cancel { .. } | Step::Rate { .. });
    scope.require(if family_step {
        Perm::OrderServices
    } else {
        Perm::ServeOrders
    })?;
    // Field checks first.
    let mut text: Option<String> = None;
    match s {
        Step::Refuse { reason } | Step::Cancel { reason } => {
            text = clean_text("reason", reason, true)?;
        }
        Step::Deliver { date, by } => {
            text = clean_text("delivered_by", by, true)?;
            if *date > today {
                return Err(invalid(
                    "delivered_date",
                    format!("{date} is in the future"),
                ));
            }
        }
        Step::Rate { rating, comment } => {
            if !(1..=5).contains(rating) {
                return Err(invalid("rating", "between 1 and 5"));
            }
            text = clean_text("comment", comment, false)?;
        }
        Step::Accept => {}
    }
    conn.transaction(|c| {
        let before = get_order(c, scope, id)?;
        if family_step && !scope.is_family() && scope.role().is_some() {
            return Err(StoreError::Forbidden(
                "only the family that placed the order cancels or rates it".into(),
            ));
        }
        let from = before.status;
        use OrderStatus::*;
        let to = match (s, from) {
            (Step::Accept, Placed) => Accepted,
            (Step::Refuse { .. }, Placed | Accepted) => Refused,
            (Step::Deliver { .. }, Accepted) => Delivered,
            (Step::Cancel { .. }, Placed | Accepted) => Cancelled,
            (Step::Rate { .. }, Delivered) => Rated,
            _ => {
                return Err(StoreError::Conflict(format!(
                    "an order that is {} cannot take the step {}",
                    from.code(),
                    s.code()
                )));
            }
        };
        let now = ts();
        let who = scope.actor.user.as_str();
        let n = match s {
            Step::Accept => c.execute(
                "UPDATE service_order SET status = $1, accepted_by = $2, accepted_at = $3 \
                 WHERE id = $4 AND status = $5",
                &[to.code().into(), who.into(), now.as_str().into(), id.into(), from.code().into()],
            )?,
            Step::Refuse { .. } | Step::Cancel { .. } => c.execute(
                "UPDATE service_order SET status = $1, closed_by = $2, closed_at = $3, close_reason = $4 \
                 WHERE id = $5 AND status = $6",
                &[
                    to.code().into(),
                    who.into(),
                    now.as_str().into(),
                    text.clone().map_or(Value::Null, Value::Text),
                    id.into(),
                    from.code().into(),
                ],
            )?,
            Step::Deliver { date, .. } => {
                let rec_id = format!("SR-{}", id.trim_start_matches("O-"));
                let rec = ServiceRecord {
                    id: rec_id.clone(),
                    person_id: before.person_id.clone(),
                    kind: service_kind(before.category),
                    date: *date,
                    facility_id: Some(before.facility_id.clone()),
                    ability_level: None,
                    note: Some(format!("家属下单 {}：{}", before.id, before.item_name)),
                };
                activity::upsert(c, &rec, &now)?;
                c.execute(
                    "UPDATE service_order SET status = $1, delivered_date = $2, delivered_by = $3, \
                     delivered_at = $4, service_record_id = $5 WHERE id = $6 AND status = $7",
                    &[
                        to.code().into(),
                        (*date).into(),
                        text.clone().map_or(Value::Null, Value::Text),
                        now.as_str().into(),
                        rec_id.as_str().into(),
                        id.into(),
                        from.code().into(),
                    ],
                )?
            }
            Step::Rate { rating, .. } => c.execute(
                "UPDATE service_order SET status = $1, rating = $2, rating_comment = $3, rated_at = $4 \
                 WHERE id = $5 AND status = $6",
                &[
                    to.code().into(),
                    Value::Int(*rating),
                    text.clone().map_or(Value::Null, Value::Text),
                    now.as_str().into(),
                    id.into(),
                    from.code().into(),
                ],
            )?,
        };
        if n == 0 {
            return Err(StoreError::Conflict("the order changed meanwhile".into()));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: match s {
                    Step::Accept => "order_accept",
                    Step::Refuse { .. } => "order_refuse",
                    Step::Deliver { .. } => "order_deliver",
                    Step::Cancel { .. } => "order_cancel",
                    Step::Rate { .. } => "order_rate",
                },
                entity: "service_order",
                entity_id: Some(id),
                before: Some(serde_json::json!({"status": from.code()}).to_string()),
                after: Some(serde_json::json!({"status": to.code()}).to_string()),
            },
        )?;
        get_order(c, scope, id)
    })
}

// ---------------------------------------------------------------- settlement

/// One provider's month (结算行).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementLine {
    pub facility_id: String,
    pub provider_name: String,
    pub month: String,
    /// Orders delivered (rated ones included).
    pub orders: i64,
    pub total_fen: i64,
    /// What the voucher fund owes the provider.
    pub voucher_fen: i64,
    /// What families paid.
    pub family_fen: i64,
}

/// The settlement of a month: one line per provider in the caller's area
/// (by the provider's area), delivered and rated orders whose service date
/// falls in the month.
pub fn settlement(conn: &mut Conn, scope: &Scope, month: &str) -> Result<Vec<SettlementLine>> {
    scope.require(Perm::ReadSettlement)?;
    if NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_err() || month.len() != 7 {
        return Err(invalid("month", "a month, YYYY-MM"));
    }
    let mut w = String::from("o.month = $1 AND o.status IN ('delivered', 'rated')");
    let mut p: Vec<Value> = vec![month.into()];
    scope.push_sql(&mut w, &mut p, "o.facility_path", Some("o.facility_id"));
    conn.query(
        &format!(
            "SELECT o.facility_id, f.name AS provider_name, COUNT(*) AS orders, \
             CAST(SUM(o.total_fen) AS BIGINT) AS total_fen, CAST(SUM(o.voucher_fen) AS BIGINT) AS voucher_fen, \
             CAST(SUM(o.family_fen) AS BIGINT) AS family_fen \
             FROM service_order o JOIN facility f ON f.id = o.facility_id WHERE {w} \
             GROUP BY o.facility_id, f.name ORDER BY o.facility_id"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok(SettlementLine {
            facility_id: r.get("facility_id")?,
            provider_name: r.get("provider_name")?,
            month: month.to_string(),
            orders: r.get("orders")?,
            total_fen: r.get("total_fen")?,
            voucher_fen: r.get("voucher_fen")?,
            family_fen: r.get("family_fen")?,
        })
    })
    .collect()
}

// ---------------------------------------------------------------- worklist

/// Staff: links waiting for verification in their area. Providers: orders
/// to accept, and accepted orders whose service date has come (to deliver;
/// urgent once past). Families: delivered orders to rate.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    let mut out = Vec::new();
    if scope.is_family() {
        let n = conn.query_i64(
            "SELECT COUNT(*) FROM service_order WHERE username = $1 AND status = 'delivered'",
            &[scope.actor.user.as_str().into()],
        )?;
        out.push(WorkItem::new(
            "orders_to_rate",
            "待评价的服务",
            "Services to rate",
            n,
            "/console/family",
        ));
        return Ok(out);
    }
    if scope.can(Perm::WritePeople) && scope.facility().is_none() {
        let mut w = String::from("status = 'requested'");
        let mut p: Vec<Value> = Vec::new();
        scope.push_sql(&mut w, &mut p, "person_path", None);
        let n = conn.query_i64(&format!("SELECT COUNT(*) FROM family_link WHERE {w}"), &p)?;
        out.push(WorkItem::new(
            "family_links_to_verify",
            "待核实的家属关联",
            "Family links to verify",
            n,
            "/console/family/links",
        ));
    }
    if scope.can(Perm::ServeOrders) && scope.facility().is_some() {
        let mut count = |status: &str, due: Option<NaiveDate>| -> Result<i64> {
            let mut w = format!("status = '{status}'");
            let mut p: Vec<Value> = Vec::new();
            scope.push_sql(&mut w, &mut p, "facility_path", Some("facility_id"));
            if let Some(d) = due {
                p.push(d.into());
                w.push_str(&format!(" AND service_date <= ${}", p.len()));
            }
            conn.query_i64(&format!("SELECT COUNT(*) FROM service_order WHERE {w}"), &p)
        };
        let placed = count("placed", None)?;
        let due = count("accepted", Some(today))?;
        let overdue = count("accepted", today.pred_opt())?;
        out.push(WorkItem::new(
            "orders_to_accept",
            "待接单的服务订单",
            "Orders to accept",
            placed,
            "/console/family/orders?status=placed",
        ));
        if overdue > 0 {
            out.push(
                WorkItem::new(
                    "orders_overdue",
                    "逾期未服务的订单",
                    "Orders past their service date",
                    overdue,
                    "/console/family/orders?status=accepted",
                )
                .urgent(),
            );
        }
        out.push(WorkItem::new(
            "orders_to_deliver",
            "今日待服务的订单",
            "Orders to deliver today",
            due - overdue,
            "/console/family/orders?status=accepted",
        ));
    }
    Ok(crate::worklist::order(out))
}

/// Orders per status that a scope sees (the console's tabs).
pub fn counts(conn: &mut Conn, scope: &Scope) -> Result<BTreeMap<&'static str, i64>> {
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    visible(scope, &mut w, &mut p)?;
    let mut out = BTreeMap::new();
    for r in conn.query(
        &format!("SELECT o.status, COUNT(*) AS n FROM service_order o WHERE {w} GROUP BY o.status"),
        &p,
    )? {
        if let Some(s) = OrderStatus::parse(&r.get::<String>("status")?) {
            out.insert(s.code(), r.get("n")?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- demo

/// The demo's family workflow: the provider `facility_id` publishes a small
/// catalogue serving its county; the account `family` is linked (verified by
/// `verifier`) to one elderly person of the provider's town, preferably one
/// with a voucher; and has orders in every state. Does nothing when the
/// account already has a link (a reused demo database). Cheap: a few rows.
pub fn seed_demo(
    conn: &mut Conn,
    reference: &Reference,
    family: &str,
    verifier: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<usize> {
    if conn.query_i64(
        "SELECT COUNT(*) FROM family_link WHERE username = $1",
        &[family.into()],
    )? > 0
    {
        return Ok(0);
    }
    let fac = conn
        .query_opt(
            "SELECT area_path FROM facility WHERE id = $1 AND deleted_at IS NULL",
            &[facility_id.into()],
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "facility",
            id: facility_id.to_string(),
        })?;
    let fpath: String = fac.get("area_path")?;
    // The county and town codes of the provider's path /330400/C/T/….
    let parts: Vec<&str> = fpath.split('/').filter(|s| !s.is_empty()).collect();
    let (Some(county), Some(town)) = (parts.get(1), parts.get(2)) else {
        return Ok(0);
    };
    let items = [
        (
            "DEMO-S1",
            ServiceCategory::Meals,
            "老年食堂送餐",
            1_500,
            "餐",
        ),
        ("DEMO-S2", ServiceCategory::Bathing, "上门助浴", 8_000, "次"),
        (
            "DEMO-S3",
            ServiceCategory::Cleaning,
            "居家保洁（2小时）",
            6_000,
            "次",
        ),
        (
            "DEMO-S4",
            ServiceCategory::Rehabilitation,
            "上门康复训练",
            12_000,
            "次",
        ),
        (
            "DEMO-S5",
            ServiceCategory::Escort,
            "陪同就医（半天）",
            10_000,
            "次",
        ),
    ];
    let now = ts();
    for (id, cat, name, price, unit) in items {
        let x = ServiceItem {
            id: id.into(),
            facility_id: facility_id.into(),
            category: cat,
            name: name.into(),
            price_fen: price,
            unit: unit.into(),
            areas_served: (*county).to_string(),
            active: true,
        };
        activity::upsert(conn, &x, &now)?;
    }
    // An elderly person of the town living at home (not in a care home nor
    // waiting for one, so the family can apply for her), one with a voucher
    // (低保, 特困, 低保边缘, 重度失能) first so that the demo's orders show the split.
    let lo = format!("/330400/{county}/{town}/");
    let hi = crate::path_upper(&lo);
    // The second, when there is one, gets a link still to verify (the staff's
    // page has something to show).
    let people = conn.query(
        "SELECT id, area_path FROM person WHERE role = 'elderly' AND status = 'active' AND deleted_at IS NULL \
         AND area_path >= $1 AND area_path < $2 \
         AND NOT EXISTS (SELECT 1 FROM residence r WHERE r.person_id = person.id AND r.deleted_at IS NULL \
         AND r.discharged_date IS NULL) \
         AND NOT EXISTS (SELECT 1 FROM admission_application a WHERE a.person_id = person.id \
         AND a.status IN ('waiting', 'offered')) ORDER BY CASE WHEN special_difficulty LIKE '%;minimum_living_allowance;%' \
         OR special_difficulty LIKE '%;extreme_poverty;%' OR special_difficulty LIKE '%;low_income_margin;%' \
         OR ability_level >= 3 THEN 0 \
         WHEN COALESCE(special_difficulty, '') <> '' THEN 1 ELSE 2 END, id LIMIT 2",
        &[lo.into(), hi.into()],
    )?;
    let Some(person) = people.first() else {
        return Ok(items.len());
    };
    let pid: String = person.get("id")?;
    if let Some(second) = people.get(1) {
        let (sid, spath): (String, String) = (second.get("id")?, second.get("area_path")?);
        conn.execute(
            "INSERT INTO family_link (id, username, person_id, person_path, relationship, status, requested_at) \
             VALUES ($1, $2, $3, $4, 'child', 'requested', $5)",
            &["L-DEMO0002".into(), family.into(), sid.into(), spath.into(), now.as_str().into()],
        )?;
    }
    let ppath: String = person.get("area_path")?;
    let link_id = "L-DEMO0001";
    conn.execute(
        "INSERT INTO family_link (id, username, person_id, person_path, relationship, status, requested_at) \
         VALUES ($1, $2, $3, $4, 'child', 'requested', $5)",
        &[link_id.into(), family.into(), pid.as_str().into(), ppath.into(), now.as_str().into()],
    )?;
    decide_link(conn, verifier, link_id, true, "")?;
    let fam = Scope::user(
        crate::scope::Actor {
            user: family.into(),
            ip: None,
        },
        crate::scope::Role::Family,
        "/330400/",
        None,
    );
    let op = Scope::user(
        crate::scope::Actor {
            user: "demo-provider".into(),
            ip: None,
        },
        crate::scope::Role::FacilityOperator,
        &fpath,
        Some(facility_id.to_string()),
    );
    let day = |n: i64| today + chrono::Duration::days(n);
    let mut place_one = |rid: &str, item: &str, qty: i64, d: NaiveDate| -> Result<String> {
        let (o, _) = place(
            conn,
            reference,
            &fam,
            &NewOrder {
                client_request_id: rid.into(),
                person_id: pid.clone(),
                item_id: item.into(),
                quantity: qty,
                service_date: d,
                note: String::new(),
            },
            today,
        )?;
        Ok(o.id)
    };
    let rated = place_one("demo-1", "DEMO-S2", 1, day(-5))?;
    let delivered = place_one("demo-2", "DEMO-S1", 10, day(-3))?;
    let accepted = place_one("demo-3", "DEMO-S3", 1, day(1))?;
    place_one("demo-4", "DEMO-S4", 2, day(2))?;
    let cancelled = place_one("demo-5", "DEMO-S5", 1, day(3))?;
    let refused = place_one("demo-6", "DEMO-S3", 1, day(4))?;
    for id in [&rated, &delivered, &accepted] {
        step(conn, &op, id, &Step::Accept, today)?;
    }
    for (id, d) in [(&rated, day(-5)), (&delivered, day(-3))] {
        step(
            conn,
            &op,
            id,
            &Step::Deliver {
                date: d,
                by: "护理员（演示）".into(),
            },
            today,
        )?;
    }
    step(
        conn,
        &fam,
        &rated,
        &Step::Rate {
            rating: 5,
            comment: "准时，细心".into(),
        },
        today,
    )?;
    step(
        conn,
        &fam,
        &cancelled,
        &Step::Cancel {
            reason: "改期".into(),
        },
        today,
    )?;
    step(
        conn,
        &op,
        &refused,
        &Step::Refuse {
            reason: "当日人手不足".into(),
        },
        today,
    )?;
    Ok(items.len() + 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_prints_two_decimals() {
        assert_eq!(yuan(8_050), "80.50");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-120), "-1.20");
    }

    #[test]
    fn meals_are_meal_assistance_the_rest_home_service() {
        assert_eq!(
            service_kind(ServiceCategory::Meals),
            ServiceKind::MealAssistance
        );
        assert_eq!(
            service_kind(ServiceCategory::Bathing),
            ServiceKind::HomeService
        );
    }
}
