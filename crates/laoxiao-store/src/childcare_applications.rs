//! Childcare applications and enrolment (入托申请与录取), issue 16 part 3:
//! a child's application to one or more childcare institutions for a care
//! type (全日托, 半日托, 计时托, 临时托), each institution's waiting list in
//! order of application with the position shown to the family, the offer of
//! a place in a class (录取) with a deadline to answer, and the enrolment
//! (入托) once the institution has seen the health check and the vaccinations
//! (《托育机构管理规范（试行）》 art. 11).
//!
//! States: `waiting → offered → accepted → enrolled`; `offered → declined |
//! lapsed`; `waiting | offered | accepted → withdrawn | cancelled`. Every step
//! is one transaction with its audit entry. Steps that fill or free a place
//! first update the institution's `childcare_intake` row, so two staff acting
//! on one institution take turns; a step on one application is a conditional
//! update on its state, so of two staff acting on the same offer only one
//! succeeds (the other gets a conflict).
//!
//! The rules are the registers' own: an offer is refused when the child's age
//! on the start date does not fit the class type (设置标准), when the class
//! has no free place, or when one more child would break the class's ratio
//! (师幼比); the enrolment is written through the register declarations, so
//! the same checks run again on the day it is made.
//!
//! Who sees what: an institution's operator its own applications; area staff
//! the applications to institutions in their area and those of children
//! living there; a family its verified children's. Names are masked for
//! staff and operators here (the child's own record shows them, audited).

use chrono::{Duration, NaiveDate};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::{PersonRole, age_months_on, mask_name};
use laoxiao_model::{ChildcareClass, ClassSizeRule, Enrolment, FieldError, Record};
use laoxiao_rules::subsidies::params::Params;
use serde::Serialize;

use crate::admission::ApplicantKind;
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Role, Scope};
use crate::worklist::WorkItem;
use crate::{Reference, activity, audit, now_rfc3339, path_upper, registry};

/// Longest note or reason, in characters.
pub const MAX_NOTE: usize = 500;
/// Most institutions one application names at once.
pub const MAX_INSTITUTIONS: usize = 5;
/// Most rows a list answers.
pub const MAX_LIST: usize = 500;
/// How far ahead a wanted or offered start may lie.
pub const MAX_DAYS_AHEAD: i64 = 366;
/// Longest id accepted in a request (ids on the registers are shorter).
const MAX_ID: usize = 64;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    /// 轮候中
    Waiting,
    /// 已录取, waiting for the family's answer
    Offered,
    /// 已接受, waiting for the health check and vaccinations
    Accepted,
    /// 已入托
    Enrolled,
    /// 已放弃
    Declined,
    /// 逾期未答复
    Lapsed,
    /// 已撤回 (the family's side)
    Withdrawn,
    /// 已取消 (the institution's side)
    Cancelled,
}

impl AppStatus {
    pub const ALL: [AppStatus; 8] = [
        AppStatus::Waiting,
        AppStatus::Offered,
        AppStatus::Accepted,
        AppStatus::Enrolled,
        AppStatus::Declined,
        AppStatus::Lapsed,
        AppStatus::Withdrawn,
        AppStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AppStatus::Waiting => "waiting",
            AppStatus::Offered => "offered",
            AppStatus::Accepted => "accepted",
            AppStatus::Enrolled => "enrolled",
            AppStatus::Declined => "declined",
            AppStatus::Lapsed => "lapsed",
            AppStatus::Withdrawn => "withdrawn",
            AppStatus::Cancelled => "cancelled",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            AppStatus::Waiting => "轮候中",
            AppStatus::Offered => "已录取待答复",
            AppStatus::Accepted => "已接受待入托",
            AppStatus::Enrolled => "已入托",
            AppStatus::Declined => "已放弃",
            AppStatus::Lapsed => "逾期未答复",
            AppStatus::Withdrawn => "已撤回",
            AppStatus::Cancelled => "已取消",
        }
    }

    pub fn parse(s: &str) -> Option<AppStatus> {
        AppStatus::ALL.into_iter().find(|a| a.code() == s)
    }

    /// Still holding a place on the list or in a class.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AppStatus::Waiting | AppStatus::Offered | AppStatus::Accepted
        )
    }
}

/// An application as a caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub id: String,
    pub infant_id: String,
    /// Masked for staff and operators; in full for the child's own family.
    pub infant_name: String,
    /// The child's age in whole months today.
    pub age_months: i32,
    pub facility_id: String,
    pub facility_name: String,
    pub care_type: CareType,
    pub wanted_start: NaiveDate,
    pub applicant_kind: ApplicantKind,
    pub status: AppStatus,
    pub note: Option<String>,
    pub applied_by: String,
    pub applied_date: NaiveDate,
    pub wait_days: i64,
    /// Place on the institution's waiting list (waiting applications only).
    pub position: Option<i64>,
    /// How many wait at the institution (waiting applications only).
    pub waiting_total: Option<i64>,
    pub class_id: Option<String>,
    pub class_type: Option<ClassType>,
    pub start_date: Option<NaiveDate>,
    pub offered_date: Option<NaiveDate>,
    pub offer_deadline: Option<NaiveDate>,
    pub answered_date: Option<NaiveDate>,
    pub health_check_date: Option<NaiveDate>,
    pub vaccinations_confirmed: bool,
    pub enrolment_id: Option<String>,
    pub closed_date: Option<NaiveDate>,
    pub close_reason: Option<String>,
}

/// What to apply for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyInput {
    pub infant_id: String,
    pub facility_ids: Vec<String>,
    pub care_type: String,
    pub wanted_start: NaiveDate,
    pub note: Option<String>,
}

/// The offer of a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferInput {
    pub class_id: String,
    pub start_date: NaiveDate,
    /// Why earlier applicants who fit the class are passed over (required
    /// when there are any).
    pub skip_reason: Option<String>,
}

/// What the institution saw before the start (管理规范 art. 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrolInput {
    pub health_check_date: NaiveDate,
    pub vaccinations_confirmed: bool,
}

/// Filters of the application list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub facility_id: Option<String>,
    pub status: Option<AppStatus>,
}

/// A class's places as the offer form shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassPlaces {
    pub class_id: String,
    pub class_type: ClassType,
    pub capacity: i64,
    pub enrolled: i64,
    /// Offered or accepted, not yet enrolled.
    pub held: i64,
    /// capacity − enrolled − held (never below 0).
    pub free: i64,
    pub caregivers: i64,
    /// Children per caregiver in force today, and where it comes from.
    pub children_per_caregiver: Option<i64>,
    pub ratio_source: Option<String>,
    /// Ages the class type takes, in months, and the clause.
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    pub monthly_fee_fen: Option<i64>,
    /// An inclusive institution's price cap for the class type this month
    /// (普惠收费上限), when the county's income figure is known.
    pub price_cap_fen: Option<i64>,
}

/// An institution's intake: its classes and its applications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intake {
    pub facility_id: String,
    pub facility_name: String,
    pub inclusive: bool,
    pub classes: Vec<ClassPlaces>,
    pub free: i64,
    /// Open offers and acceptances first, then the waiting in order.
    pub lines: Vec<Application>,
    pub offer_days: i64,
}

/// An institution a family may apply to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstitutionLine {
    pub facility_id: String,
    pub name: String,
    pub kind: String,
    pub inclusive: bool,
    pub filed: bool,
    pub capacity: i64,
    pub free: i64,
    pub waiting: i64,
}

/// A step on an application other than the offer and the enrolment: the
/// same four as a care-home application's (accept or decline an offer,
/// withdraw on the applicant's side, cancel on the institution's).
pub use crate::admission::Step;

// ---------------------------------------------------------------- helpers

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "childcare application",
        id: id.to_string(),
    }
}

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

fn param(name: &str, day: NaiveDate) -> Result<(i64, String)> {
    let p = Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
    p.int(name, day)
        .map(|(n, used)| (n, format!("{name}: {}", used.clause)))
        .map_err(|e| StoreError::Reference(e.to_string()))
}

fn event<'a>(action: &'a str, id: &'a str, after: Option<serde_json::Value>) -> audit::Event<'a> {
    audit::Event {
        action,
        entity: "childcare_application",
        entity_id: Some(id),
        before: None,
        after: after.map(|v| v.to_string()),
    }
}

/// Takes the institution's turn: every step that fills or frees a place
/// updates this row first, so such steps on one institution run one after
/// the other (a row lock on PostgreSQL, the write lock on SQLite).
fn lock_intake(conn: &mut Conn, facility_id: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO childcare_intake (facility_id, steps, updated_at) VALUES ($1, 1, $2) \
         ON CONFLICT (facility_id) DO UPDATE SET steps = childcare_intake.steps + 1, \
         updated_at = excluded.updated_at",
        &[facility_id.into(), now_rfc3339().into()],
    )?;
    Ok(())
}

const COLS: &str = "a.id, a.infant_id, a.facility_id, a.facility_path, a.infant_path, a.care_type, \
    a.wanted_start, a.applicant_kind, a.status, a.note, a.applied_by, a.applied_at, a.applied_date, a.seq, \
    a.class_id, a.start_date, a.offered_date, a.offer_deadline, a.answered_date, a.health_check_date, \
    a.vaccinations_confirmed, a.enrolment_id, a.closed_date, a.close_reason, \
    p.name AS infant_name, p.birth_date, f.name AS facility_name, c.class_type";

const FROM: &str = "childcare_application a JOIN person p ON p.id = a.infant_id \
    JOIN facility f ON f.id = a.facility_id LEFT JOIN childcare_class c ON c.id = a.class_id";

fn view(r: &Row, today: NaiveDate, full_name: bool) -> Result<Application> {
    let status: String = r.get("status")?;
    let status = AppStatus::parse(&status)
        .ok_or_else(|| StoreError::Database(format!("column status: bad value {status:?}")))?;
    let applied_date: NaiveDate = r.get("applied_date")?;
    let end = r.get::<Option<NaiveDate>>("closed_date")?.unwrap_or(today);
    let name: String = r.get("infant_name")?;
    let kind: String = r.get("applicant_kind")?;
    Ok(Application {
        id: r.get("id")?,
        infant_id: r.get("infant_id")?,
        infant_name: if full_name { name } else { mask_name(&name) },
        age_months: age_months_on(r.get("birth_date")?, today),
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        care_type: r.parse("care_type")?,
        wanted_start: r.get("wanted_start")?,
        applicant_kind: ApplicantKind::parse(&kind).unwrap_or(ApplicantKind::Staff),
        status,
        note: r.get("note")?,
        applied_by: r.get("applied_by")?,
        applied_date,
        wait_days: (end - applied_date).num_days().max(0),
        position: None,
        waiting_total: None,
        class_id: r.get("class_id")?,
        class_type: r.parse_opt("class_type")?,
        start_date: r.get("start_date")?,
        offered_date: r.get("offered_date")?,
        offer_deadline: r.get("offer_deadline")?,
        answered_date: r.get("answered_date")?,
        health_check_date: r.get("health_check_date")?,
        vaccinations_confirmed: r.get("vaccinations_confirmed")?,
        enrolment_id: r.get("enrolment_id")?,
        closed_date: r.get("closed_date")?,
        close_reason: r.get("close_reason")?,
    })
}

/// The application with its place on the waiting list while it waits.
fn describe(conn: &mut Conn, r: &Row, today: NaiveDate, full_name: bool) -> Result<Application> {
    let mut a = view(r, today, full_name)?;
    if a.status == AppStatus::Waiting {
        let seq: i64 = r.get("seq")?;
        let ahead = conn.query_i64(
            "SELECT COUNT(*) FROM childcare_application WHERE facility_id = $1 AND status = 'waiting' \
             AND seq < $2",
            &[a.facility_id.as_str().into(), seq.into()],
        )?;
        let total = conn.query_i64(
            "SELECT COUNT(*) FROM childcare_application WHERE facility_id = $1 AND status = 'waiting'",
            &[a.facility_id.as_str().into()],
        )?;
        a.position = Some(ahead + 1);
        a.waiting_total = Some(total);
    }
    Ok(a)
}

fn row(conn: &mut Conn, id: &str) -> Result<Option<Row>> {
    conn.query_opt(
        &format!("SELECT {COLS} FROM {FROM} WHERE a.id = $1"),
        &[id.into()],
    )
}

/// The institution's side: its operator, or the county and city (the
/// health commission) whose area holds it. Town and village staff help
/// families apply; they do not fill an institution's classes.
fn facility_side(scope: &Scope, r: &Row) -> Result<bool> {
    Ok(scope.can(Perm::ManageEnrolments)
        && !matches!(scope.role(), Some(Role::TownStaff | Role::VillageStaff))
        && scope.contains_facility(
            &r.get::<String>("facility_id")?,
            &r.get::<String>("facility_path")?,
        ))
}

/// The child's side among staff: not an operator, the child's area in scope.
fn child_side(scope: &Scope, r: &Row) -> Result<bool> {
    Ok(scope.can(Perm::ManageEnrolments)
        && scope.facility().is_none()
        && scope.contains_path(&r.get::<String>("infant_path")?))
}

/// The scope's condition on an application (` AND …`).
fn push_visible(scope: &Scope, w: &mut String, p: &mut Vec<Value>) {
    if let Some(f) = scope.facility() {
        p.push(f.into());
        w.push_str(&format!(" AND a.facility_id = ${}", p.len()));
    }
    if let Some(path) = scope.area_path() {
        p.push(path.into());
        let lo = p.len();
        p.push(path_upper(path).into());
        let hi = p.len();
        if scope.facility().is_some() {
            w.push_str(&format!(
                " AND a.facility_path >= ${lo} AND a.facility_path < ${hi}"
            ));
        } else {
            w.push_str(&format!(
                " AND ((a.facility_path >= ${lo} AND a.facility_path < ${hi}) \
                 OR (a.infant_path >= ${lo} AND a.infant_path < ${hi}))"
            ));
        }
    }
}

/// A live institution that takes children: name, area path, inclusive, filed.
fn institution(conn: &mut Conn, id: &str) -> Result<Option<(String, String, bool, bool)>> {
    conn.query_opt(
        "SELECT name, area_path, inclusive, filing_status FROM facility WHERE id = $1 \
         AND kind IN ('childcare_institution', 'kindergarten_nursery_class') \
         AND status = 'operating' AND deleted_at IS NULL",
        &[id.into()],
    )?
    .map(|r| {
        Ok((
            r.get("name")?,
            r.get("area_path")?,
            r.get("inclusive")?,
            r.get::<String>("filing_status")? == "filed",
        ))
    })
    .transpose()
}

/// Places offered or accepted in a class and not yet enrolled.
fn held(conn: &mut Conn, class_id: &str) -> Result<i64> {
    conn.query_i64(
        "SELECT COUNT(*) FROM childcare_application WHERE class_id = $1 \
         AND status IN ('offered', 'accepted')",
        &[class_id.into()],
    )
}

/// Marks offers past their deadline `lapsed` (audited as the system). Called
/// before every read and step, so no clock job is needed.
pub fn lapse_overdue(conn: &mut Conn, today: NaiveDate) -> Result<usize> {
    // A read first: pages call this on every view, and most days nothing is
    // overdue, so no write lock is taken for nothing.
    let due = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_application WHERE status = 'offered' AND offer_deadline < $1",
        &[today.to_string().into()],
    )?;
    if due == 0 {
        return Ok(0);
    }
    conn.transaction(|c| {
        let rows = c.query(
            "SELECT id, facility_id FROM childcare_application WHERE status = 'offered' \
             AND offer_deadline < $1 ORDER BY id",
            &[today.to_string().into()],
        )?;
        let sys = Scope::system("childcare-lapse");
        let mut n = 0;
        for r in &rows {
            let id: String = r.get("id")?;
            lock_intake(c, &r.get::<String>("facility_id")?)?;
            let k = c.execute(
                "UPDATE childcare_application SET status = 'lapsed', closed_by = $1, closed_date = $2, \
                 close_reason = $3 WHERE id = $4 AND status = 'offered'",
                &[
                    "system".into(),
                    today.to_string().into(),
                    "the offer was not answered by its deadline".into(),
                    id.as_str().into(),
                ],
            )?;
            if k > 0 {
                audit::append(c, &sys, event("childcare_lapse", &id, None))?;
                n += 1;
            }
        }
        Ok(n)
    })
}

// ---------------------------------------------------------------- applying

fn check_ids(ids: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim();
        if id.is_empty() {
            continue;
        }
        if id.chars().count() > MAX_ID {
            return Err(invalid(
                "facility_ids",
                format!("an id has at most {MAX_ID} characters"),
            ));
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    if out.is_empty() {
        return Err(invalid("facility_ids", "name at least one institution"));
    }
    if out.len() > MAX_INSTITUTIONS {
        return Err(invalid(
            "facility_ids",
            format!("at most {MAX_INSTITUTIONS} institutions at once"),
        ));
    }
    Ok(out)
}

/// Staff apply for a child of their area (`ManageEnrolments`, not an
/// operator: a family applies through its own account).
pub fn apply(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    input: &ApplyInput,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::ManageEnrolments)?;
    if scope.facility().is_some() {
        return Err(StoreError::Forbidden(
            "an institution does not apply for a child; the family or the child's area staff do"
                .into(),
        ));
    }
    apply_in(
        conn,
        reference,
        scope,
        input,
        ApplicantKind::Staff,
        today,
        &|p| scope.contains_path(p),
    )
}

/// A family applies for its verified child (any other child is not found).
pub fn family_apply(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    input: &ApplyInput,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::OrderServices)?;
    let id = input.infant_id.trim();
    if !crate::family::is_verified_relative(conn, scope, id, PersonRole::Infant)? {
        return Err(crate::family::person_not_found(id));
    }
    // The link was checked above; the child's area does not matter.
    apply_in(
        conn,
        reference,
        scope,
        input,
        ApplicantKind::Family,
        today,
        &|_| true,
    )
}

#[allow(clippy::too_many_arguments)]
fn apply_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    input: &ApplyInput,
    kind: ApplicantKind,
    today: NaiveDate,
    child_ok: &dyn Fn(&str) -> bool,
) -> Result<Vec<Application>> {
    let facility_ids = check_ids(&input.facility_ids)?;
    let care_type = CareType::parse(input.care_type.trim()).ok_or_else(|| {
        invalid(
            "care_type",
            "one of full_day (全日托), half_day (半日托), hourly (计时托), temporary (临时托)",
        )
    })?;
    if input.wanted_start < today || input.wanted_start > today + Duration::days(MAX_DAYS_AHEAD) {
        return Err(invalid(
            "wanted_start",
            format!("a day from today to {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let note = crate::text::optional("note", input.note.as_deref(), MAX_NOTE)?;
    let infant_id = input.infant_id.trim();
    if infant_id.is_empty() || infant_id.chars().count() > MAX_ID {
        return Err(invalid(
            "infant_id",
            format!("give the child's id (at most {MAX_ID} characters)"),
        ));
    }
    let (max_open, max_clause) = param("enrolment.max_open_applications", today)?;
    let child_not_found = || StoreError::NotFound {
        what: "child",
        id: infant_id.to_string(),
    };
    conn.transaction(|c| {
        let child = c
            .query_opt(
                "SELECT area_path, birth_date, status FROM person WHERE id = $1 AND role = 'infant' \
                 AND deleted_at IS NULL",
                &[infant_id.into()],
            )?
            .ok_or_else(child_not_found)?;
        let path: String = child.get("area_path")?;
        if !child_ok(&path) {
            return Err(child_not_found());
        }
        if child.get::<String>("status")? != "active" {
            return Err(invalid("infant_id", "the child's record is not active"));
        }
        // Childcare serves children under three whom some class type takes
        // (托育机构设置标准 第二条 and the class ages).
        let birth: NaiveDate = child.get("birth_date")?;
        let age = age_months_on(birth, input.wanted_start);
        let limits = reference.class_limits.all();
        let youngest = limits.iter().map(|l| l.min_age_months).min().unwrap_or(0);
        let oldest = limits.iter().map(|l| l.max_age_months).max().unwrap_or(36);
        let source = limits.first().map(|l| l.source.clone()).unwrap_or_default();
        if birth > input.wanted_start || age < youngest as i32 || age >= oldest as i32 {
            return Err(invalid(
                "wanted_start",
                format!(
                    "the child is {age} months old on {}; childcare classes take children of \
                     {youngest} to {oldest} months ({source})",
                    input.wanted_start
                ),
            ));
        }
        let open = c.query_i64(
            "SELECT COUNT(*) FROM childcare_application WHERE infant_id = $1 \
             AND status IN ('waiting', 'offered', 'accepted')",
            &[infant_id.into()],
        )?;
        let enrolled = c.query_i64(
            "SELECT COUNT(*) FROM childcare_application WHERE infant_id = $1 AND status = 'enrolled' \
             AND enrolment_id IN (SELECT id FROM enrolment WHERE deleted_at IS NULL AND end_date IS NULL)",
            &[infant_id.into()],
        )?;
        if enrolled > 0 {
            return Err(StoreError::Conflict(
                "the child is enrolled already; end that enrolment before applying again".into(),
            ));
        }
        if open + facility_ids.len() as i64 > max_open {
            return Err(invalid(
                "facility_ids",
                format!(
                    "the child has {open} open applications; at most {max_open} at once ({max_clause})"
                ),
            ));
        }
        let now = now_rfc3339();
        let mut ids = Vec::new();
        for fid in &facility_ids {
            let Some((name, fpath, _, _)) = institution(c, fid)? else {
                return Err(invalid(
                    "facility_ids",
                    format!("{fid:?} is not an operating childcare institution or nursery class"),
                ));
            };
            let dup = c.query_i64(
                "SELECT COUNT(*) FROM childcare_application WHERE infant_id = $1 AND facility_id = $2 \
                 AND status IN ('waiting', 'offered', 'accepted')",
                &[infant_id.into(), fid.as_str().into()],
            )?;
            if dup > 0 {
                return Err(StoreError::Conflict(format!(
                    "the child has an open application to {name} already"
                )));
            }
            lock_intake(c, fid)?;
            let seq = c.query_i64(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM childcare_application WHERE facility_id = $1",
                &[fid.as_str().into()],
            )?;
            let id = format!("CA-{}", crate::crypto::random_hex(8));
            c.execute(
                "INSERT INTO childcare_application (id, infant_id, facility_id, facility_path, infant_path, \
                 care_type, wanted_start, applicant_kind, status, note, applied_by, applied_at, applied_date, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9, $10, $11, $12, $13)",
                &[
                    id.as_str().into(),
                    infant_id.into(),
                    fid.as_str().into(),
                    fpath.into(),
                    path.as_str().into(),
                    care_type.code().into(),
                    input.wanted_start.to_string().into(),
                    kind.code().into(),
                    note.clone().into(),
                    scope.actor.user.as_str().into(),
                    now.as_str().into(),
                    today.to_string().into(),
                    seq.into(),
                ],
            )?;
            audit::append(
                c,
                scope,
                event(
                    "childcare_apply",
                    &id,
                    Some(serde_json::json!({"facility_id": fid, "care_type": care_type.code(),
                        "wanted_start": input.wanted_start.to_string(), "applicant_kind": kind.code()})),
                ),
            )?;
            ids.push(id);
        }
        let full = kind == ApplicantKind::Family;
        ids.iter()
            .map(|id| {
                let r = row(c, id)?.ok_or_else(|| not_found(id))?;
                describe(c, &r, today, full)
            })
            .collect()
    })
}

// ---------------------------------------------------------------- reading

/// One application in the caller's scope (the institution's side or the
/// child's area); anything else is not found.
pub fn get(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Application> {
    scope.require(Perm::ManageEnrolments)?;
    lapse_overdue(conn, today)?;
    let r = row(conn, id)?.ok_or_else(|| not_found(id))?;
    if !(facility_side(scope, &r)? || child_side(scope, &r)?) {
        return Err(not_found(id));
    }
    describe(conn, &r, today, false)
}

/// Applications in scope, newest first (at most [`MAX_LIST`]).
pub fn list(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::ManageEnrolments)?;
    lapse_overdue(conn, today)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    if let Some(f) = &q.facility_id {
        p.push(f.as_str().into());
        w.push_str(&format!(" AND a.facility_id = ${}", p.len()));
    }
    if let Some(s) = q.status {
        p.push(s.code().into());
        w.push_str(&format!(" AND a.status = ${}", p.len()));
    }
    push_visible(scope, &mut w, &mut p);
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE {w} ORDER BY a.applied_at DESC, a.facility_id, a.seq DESC LIMIT {MAX_LIST}"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| describe(conn, r, today, false))
        .collect()
}

/// Counts of applications in scope by status.
pub fn counts(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<(AppStatus, i64)>> {
    scope.require(Perm::ManageEnrolments)?;
    lapse_overdue(conn, today)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    push_visible(scope, &mut w, &mut p);
    let rows = conn.query(
        &format!("SELECT a.status, COUNT(*) AS n FROM childcare_application a WHERE {w} GROUP BY a.status"),
        &p,
    )?;
    let mut out: Vec<(AppStatus, i64)> = AppStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for r in rows {
        if let Some(s) = AppStatus::parse(&r.get::<String>("status")?) {
            for o in out.iter_mut().filter(|o| o.0 == s) {
                o.1 = r.get("n")?;
            }
        }
    }
    Ok(out)
}

/// The county code of an area path ("/330400/330402/…" → "330402").
pub(crate) fn county_of(path: &str) -> &str {
    path.split('/').nth(2).unwrap_or_default()
}

/// An inclusive institution's price cap for a class type on `day`; `None`
/// when the county's income figure is missing (the subsidy engine notes it).
fn cap_of(
    params: &Params,
    county: &str,
    ty: ClassType,
    day: NaiveDate,
) -> Option<laoxiao_rules::subsidies::PriceCap> {
    laoxiao_rules::subsidies::price_cap(params, county, ty, day).ok()
}

fn class_places(
    conn: &mut Conn,
    reference: &Reference,
    facility_id: &str,
    inclusive_county: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<ClassPlaces>> {
    let params = match inclusive_county {
        Some(_) => Some(crate::subsidies::params(conn)?),
        None => None,
    };
    let rows = conn.query(
        "SELECT id, class_type, capacity, enrolled, caregivers, monthly_fee_fen FROM childcare_class \
         WHERE facility_id = $1 AND deleted_at IS NULL ORDER BY id",
        &[facility_id.into()],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let id: String = r.get("id")?;
        let ty: ClassType = r.parse("class_type")?;
        let capacity: i64 = r.get("capacity")?;
        let enrolled: i64 = r.get("enrolled")?;
        let held = held(conn, &id)?;
        let ratio = reference.class_limits.children_per_caregiver(ty, today);
        let ages = reference.class_limits.age_months(ty);
        out.push(ClassPlaces {
            class_id: id,
            class_type: ty,
            capacity,
            enrolled,
            held,
            free: (capacity - enrolled - held).max(0),
            caregivers: r.get("caregivers")?,
            children_per_caregiver: ratio.as_ref().map(|x| x.0),
            ratio_source: ratio.map(|x| x.1),
            min_age_months: ages.map(|a| a.0),
            max_age_months: ages.map(|a| a.1),
            monthly_fee_fen: r.get("monthly_fee_fen")?,
            price_cap_fen: params
                .as_ref()
                .zip(inclusive_county)
                .and_then(|(p, county)| cap_of(p, county, ty, today))
                .map(|c| c.cap_fen),
        });
    }
    Ok(out)
}

/// An institution's intake in the caller's scope: its classes with free
/// places and the open applications (offers first, then the waiting list).
pub fn intake(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<Intake> {
    scope.require(Perm::ManageEnrolments)?;
    lapse_overdue(conn, today)?;
    let nf = || StoreError::NotFound {
        what: "childcare institution",
        id: facility_id.to_string(),
    };
    let (name, path, inclusive, _) = institution(conn, facility_id)?.ok_or_else(nf)?;
    if !scope.contains_facility(facility_id, &path) {
        return Err(nf());
    }
    let classes = class_places(
        conn,
        reference,
        facility_id,
        inclusive.then(|| county_of(&path)),
        today,
    )?;
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE a.facility_id = $1 AND a.status IN ('waiting', 'offered', 'accepted') \
             ORDER BY CASE a.status WHEN 'accepted' THEN 0 WHEN 'offered' THEN 1 ELSE 2 END, a.seq \
             LIMIT {MAX_LIST}"
        ),
        &[facility_id.into()],
    )?;
    let mut lines = Vec::new();
    for r in &rows {
        lines.push(describe(conn, r, today, false)?);
    }
    Ok(Intake {
        facility_id: facility_id.to_string(),
        facility_name: name,
        inclusive,
        free: classes.iter().map(|c| c.free).sum(),
        classes,
        lines,
        offer_days: param("enrolment.offer_days", today)?.0,
    })
}

// ---------------------------------------------------------------- the offer

/// Offers the waiting applicant a place in a class of the institution from a
/// start date (the institution's side). Refused, naming the rule, when the
/// child's age on the start date does not fit the class type, when the class
/// has no free place, when one more child would break the class's ratio, and
/// when earlier applicants who fit the class are passed over without a reason.
pub fn offer(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    input: &OfferInput,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::ManageEnrolments)?;
    if input.start_date < today || input.start_date > today + Duration::days(MAX_DAYS_AHEAD) {
        return Err(invalid(
            "start_date",
            format!("a day from today to {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let class_id = input.class_id.trim();
    if class_id.is_empty() || class_id.chars().count() > MAX_ID {
        return Err(invalid("class_id", "choose a class"));
    }
    let skip = crate::text::optional("skip_reason", input.skip_reason.as_deref(), MAX_NOTE)?;
    let (offer_days, _) = param("enrolment.offer_days", today)?;
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let (r, app) = institution_step(c, scope, id, AppStatus::Waiting, "offer a place", today)?;
        let sys = Scope::system(&scope.actor.user);
        let class = match activity::get::<ChildcareClass>(c, &sys, class_id) {
            Ok(k) if k.facility_id == app.facility_id => k,
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(invalid("class_id", "not a class of this institution"));
            }
            Err(e) => return Err(e),
        };
        // The child's age on the start date fits the class type: the
        // enrolment's own rule, run on the enrolment the offer would make.
        let candidate = Enrolment {
            id: "offer-check".into(),
            infant_id: app.infant_id.clone(),
            facility_id: app.facility_id.clone(),
            class_id: Some(class.id.clone()),
            start_date: input.start_date,
            end_date: None,
            care_type: Some(app.care_type),
        };
        // Checked as on the start day: the enrolment will be written then.
        registry::check_record(c, &reference.checker(), &sys, &candidate, input.start_date)?;
        let held_now = held(c, &class.id)?;
        if class.enrolled + held_now >= class.capacity {
            return Err(invalid(
                "class_id",
                format!(
                    "the class has {} places, {} children enrolled and {held_now} places offered: none is free",
                    class.capacity, class.enrolled
                ),
            ));
        }
        // One more child in the class must keep its ratio (师幼比) on the start day.
        let fuller = ChildcareClass {
            enrolled: class.enrolled + held_now + 1,
            ..class.clone()
        };
        let breaches: Vec<FieldError> = fuller
            .validate(&reference.checker(), input.start_date)
            .into_iter()
            .map(|e| FieldError::new("class_id", format!("one more child would break the rule: {}", e.reason)))
            .collect();
        if !breaches.is_empty() {
            return Err(StoreError::Invalid(breaches));
        }
        // An inclusive institution charges within the price cap (规划附件2
        // 托育服务政策8): a class whose monthly fee is above it takes no child.
        let inclusive = institution(c, &app.facility_id)?.is_some_and(|i| i.2);
        if inclusive && let Some(fee) = class.monthly_fee_fen {
            let params = crate::subsidies::params(c)?;
            let county = county_of(&r.get::<String>("facility_path")?).to_string();
            if let Some(cap) = cap_of(&params, &county, class.class_type, input.start_date)
                && fee > cap.cap_fen
            {
                return Err(invalid(
                    "class_id",
                    format!(
                        "the class's monthly fee {} yuan is above the inclusive price cap of {} yuan for a {}: \
                         {} yuan ({}, {}) ÷ 12 × {}% ({})",
                        laoxiao_rules::subsidies::yuan(fee),
                        laoxiao_rules::subsidies::yuan(cap.cap_fen),
                        class.class_type.label_zh(),
                        cap.income_yuan,
                        cap.income.name,
                        cap.income.from,
                        cap.share_percent,
                        cap.share.clause
                    ),
                ));
            }
        }
        // First come, first served among those the class takes.
        let passed = earlier_fitting(c, reference, &app, &r, class.class_type, input.start_date)?;
        if passed > 0 && skip.is_none() {
            return Err(invalid(
                "skip_reason",
                format!(
                    "{passed} earlier applicants on the waiting list fit this class on {}; \
                     offer them first or give the reason for passing them over",
                    input.start_date
                ),
            ));
        }
        let deadline = today + Duration::days(offer_days);
        let n = c.execute(
            "UPDATE childcare_application SET status = 'offered', class_id = $1, start_date = $2, \
             offered_by = $3, offered_date = $4, offer_deadline = $5 WHERE id = $6 AND status = 'waiting'",
            &[
                class.id.as_str().into(),
                input.start_date.to_string().into(),
                scope.actor.user.as_str().into(),
                today.to_string().into(),
                deadline.to_string().into(),
                id.into(),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "someone else acted on this application meanwhile".into(),
            ));
        }
        audit::append(
            c,
            scope,
            event(
                "childcare_offer",
                id,
                Some(serde_json::json!({"class_id": class.id, "start_date": input.start_date.to_string(),
                    "deadline": deadline.to_string(), "passed_over": passed, "skip_reason": skip})),
            ),
        )?;
        let r = row(c, id)?.ok_or_else(|| not_found(id))?;
        let out = describe(c, &r, today, false)?;
        let ev = crate::notify::Event::new(crate::notify::Template::Offer, format!("offer:{id}:{today}"))
            .param("institution", out.facility_name.as_str())
            .param("class", format!("{}（{}）", class.class_type.label_zh(), class.id))
            .param("respond_by", deadline.to_string())
            .link(format!("/console/family/childcare-applications/{id}"));
        crate::notify::to_child_families(c, &app.infant_id, ev, chrono::Utc::now())?;
        Ok(out)
    })
}

/// The application for a step only the institution's side takes (`what`),
/// in the state `want`, with the institution's turn taken: anyone else's is
/// not found, the child's side gets a conflict, as does another state.
fn institution_step(
    c: &mut Conn,
    scope: &Scope,
    id: &str,
    want: AppStatus,
    what: &str,
    today: NaiveDate,
) -> Result<(Row, Application)> {
    let r = row(c, id)?.ok_or_else(|| not_found(id))?;
    if !facility_side(scope, &r)? {
        if child_side(scope, &r)? {
            return Err(StoreError::Conflict(format!(
                "only the institution's side may {what}"
            )));
        }
        return Err(not_found(id));
    }
    let app = view(&r, today, false)?;
    if app.status != want {
        return Err(StoreError::Conflict(format!(
            "the application is {}, it must be {} to {what}",
            app.status.code(),
            want.code()
        )));
    }
    lock_intake(c, &app.facility_id)?;
    Ok((r, app))
}

/// Waiting applicants to the same institution who applied earlier and whose
/// child the class type takes on the start date (wanting to start by then).
fn earlier_fitting(
    conn: &mut Conn,
    reference: &Reference,
    app: &Application,
    r: &Row,
    ty: ClassType,
    start: NaiveDate,
) -> Result<i64> {
    let Some((lo, hi, _)) = reference.class_limits.age_months(ty) else {
        return Ok(0);
    };
    let seq: i64 = r.get("seq")?;
    let rows = conn.query(
        "SELECT p.birth_date FROM childcare_application a JOIN person p ON p.id = a.infant_id \
         WHERE a.facility_id = $1 AND a.status = 'waiting' AND a.wanted_start <= $2 AND a.seq < $3",
        &[
            app.facility_id.as_str().into(),
            start.to_string().into(),
            seq.into(),
        ],
    )?;
    let mut n = 0;
    for x in &rows {
        let birth: NaiveDate = x.get("birth_date")?;
        let age = age_months_on(birth, start);
        if birth <= start && age >= lo && age < hi {
            n += 1;
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------- steps

/// Takes a step on an application: accept or decline an offer (the child's
/// side or the institution recording the family's answer), withdraw (the
/// child's side) or cancel (the institution's side, with a reason).
pub fn step(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    step: Step,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::ManageEnrolments)?;
    step_in(conn, scope, id, step, reason, today, &|_, r| {
        Ok((facility_side(scope, r)?, child_side(scope, r)?))
    })
}

/// Steps a family may take on its verified child's application: accept or
/// decline an offer, withdraw. Anyone else's is not found.
pub fn family_step(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    step: Step,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::OrderServices)?;
    step_in(conn, scope, id, step, reason, today, &|c, r| {
        let child: String = r.get("infant_id")?;
        Ok((
            false,
            crate::family::is_verified_relative(c, scope, &child, PersonRole::Infant)?,
        ))
    })
}

/// Whether the caller acts for the institution and for the child.
type Sides<'a> = dyn Fn(&mut Conn, &Row) -> Result<(bool, bool)> + 'a;

fn step_in(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    step: Step,
    reason: Option<&str>,
    today: NaiveDate,
    sides: &Sides<'_>,
) -> Result<Application> {
    let reason = crate::text::optional("reason", reason, MAX_NOTE)?;
    if step == Step::Cancel && reason.is_none() {
        return Err(invalid("reason", "give a reason for cancelling"));
    }
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let r = row(c, id)?.ok_or_else(|| not_found(id))?;
        let (institution, child) = sides(c, &r)?;
        let allowed = match step {
            Step::Accept | Step::Decline => institution || child,
            Step::Withdraw => child,
            Step::Cancel => institution,
        };
        if !allowed {
            if institution || child {
                return Err(StoreError::Conflict(format!(
                    "only the {} side may {} an application",
                    if step == Step::Withdraw { "family's" } else { "institution's" },
                    step.code()
                )));
            }
            return Err(not_found(id));
        }
        // Only the child's own family reads the name in full.
        let app = view(&r, today, scope.is_family())?;
        let ok = match step {
            Step::Accept | Step::Decline => app.status == AppStatus::Offered,
            Step::Withdraw | Step::Cancel => app.status.is_open(),
        };
        if !ok {
            return Err(StoreError::Conflict(format!(
                "the application is {}: the step {} is not open to it",
                app.status.code(),
                step.code()
            )));
        }
        lock_intake(c, &app.facility_id)?;
        let to = match step {
            Step::Accept => AppStatus::Accepted,
            Step::Decline => AppStatus::Declined,
            Step::Withdraw => AppStatus::Withdrawn,
            Step::Cancel => AppStatus::Cancelled,
        };
        let n = if step == Step::Accept {
            c.execute(
                "UPDATE childcare_application SET status = 'accepted', answered_by = $1, answered_date = $2 \
                 WHERE id = $3 AND status = 'offered'",
                &[scope.actor.user.as_str().into(), today.to_string().into(), id.into()],
            )?
        } else {
            c.execute(
                "UPDATE childcare_application SET status = $1, closed_by = $2, closed_date = $3, \
                 close_reason = $4, answered_by = CASE WHEN $1 = 'declined' THEN $2 ELSE answered_by END, \
                 answered_date = CASE WHEN $1 = 'declined' THEN $3 ELSE answered_date END \
                 WHERE id = $5 AND status = $6",
                &[
                    to.code().into(),
                    scope.actor.user.as_str().into(),
                    today.to_string().into(),
                    reason.clone().into(),
                    id.into(),
                    app.status.code().into(),
                ],
            )?
        };
        if n == 0 {
            return Err(StoreError::Conflict(
                "someone else acted on this application meanwhile".into(),
            ));
        }
        audit::append(
            c,
            scope,
            event(
                match step {
                    Step::Accept => "childcare_accept",
                    Step::Decline => "childcare_decline",
                    Step::Withdraw => "childcare_withdraw",
                    Step::Cancel => "childcare_cancel",
                },
                id,
                reason.as_ref().map(|r| serde_json::json!({ "reason": r })),
            ),
        )?;
        let r = row(c, id)?.ok_or_else(|| not_found(id))?;
        describe(c, &r, today, scope.is_family())
    })
}

// ---------------------------------------------------------------- enrolment

/// Enrols the child whose family accepted the offer (the institution's
/// side) on the first day or later (入托报到), once it has seen a health check no older than the dated parameter
/// `enrolment.health_check_valid_days` before the start and the
/// vaccinations (管理规范 art. 11). Writes the enrolment and the class's
/// count through the register declarations (age, size and ratio checked
/// again), and cancels the child's other open applications. One transaction
/// with its audit entries.
pub fn enrol(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    input: &EnrolInput,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::ManageEnrolments)?;
    let (valid_days, clause) = param("enrolment.health_check_valid_days", today)?;
    if !input.vaccinations_confirmed {
        return Err(invalid(
            "vaccinations_confirmed",
            "confirm the age-appropriate vaccinations are done: 《托育机构管理规范（试行）》第十一条 \
             (婴幼儿进入托育机构前，应当完成适龄的预防接种)",
        ));
    }
    if input.health_check_date > today {
        return Err(invalid(
            "health_check_date",
            "a health check cannot be in the future",
        ));
    }
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let (_, app) = institution_step(c, scope, id, AppStatus::Accepted, "enrol a child", today)?;
        let (Some(class_id), Some(start)) = (app.class_id.clone(), app.start_date) else {
            return Err(StoreError::Database("an accepted offer without its class".into()));
        };
        // The register holds what has happened: the child is enrolled on the
        // first day (入托报到), when the institution sees the papers.
        if start > today {
            return Err(invalid(
                "start_date",
                format!("the place starts on {start}; enrol the child on that day or later"),
            ));
        }
        let earliest = start - Duration::days(valid_days);
        if input.health_check_date < earliest {
            return Err(invalid(
                "health_check_date",
                format!(
                    "the health check of {} is more than {valid_days} days before the start on {start} \
                     ({clause})",
                    input.health_check_date
                ),
            ));
        }
        let n = c.execute(
            "UPDATE childcare_application SET status = 'enrolled', health_check_date = $1, \
             vaccinations_confirmed = $2, closed_by = $3, closed_date = $4 WHERE id = $5 AND status = 'accepted'",
            &[
                input.health_check_date.to_string().into(),
                true.into(),
                scope.actor.user.as_str().into(),
                today.to_string().into(),
                id.into(),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "someone else acted on this application meanwhile".into(),
            ));
        }
        // The register writes run as the system (an operator does not write
        // the people registers) but are audited under the caller's name.
        let sys = Scope::system(&scope.actor.user);
        let ck = reference.checker();
        let enrolment = Enrolment {
            id: format!("EN-{}", crate::crypto::random_hex(8)),
            infant_id: app.infant_id.clone(),
            facility_id: app.facility_id.clone(),
            class_id: Some(class_id.clone()),
            start_date: start,
            end_date: None,
            care_type: Some(app.care_type),
        };
        registry::create(c, &ck, &sys, &enrolment, today)?;
        let class = activity::get::<ChildcareClass>(c, &sys, &class_id)?;
        let fuller = ChildcareClass {
            enrolled: class.enrolled + 1,
            ..class
        };
        registry::update(c, &ck, &sys, &fuller, today).map_err(|e| match e {
            StoreError::Invalid(errs) => StoreError::Invalid(
                errs.into_iter()
                    .map(|e| FieldError::new("class_id", format!("enrolling would break the rule: {}", e.reason)))
                    .collect(),
            ),
            other => other,
        })?;
        c.execute(
            "UPDATE childcare_application SET enrolment_id = $1 WHERE id = $2",
            &[enrolment.id.as_str().into(), id.into()],
        )?;
        audit::append(
            c,
            scope,
            event(
                "childcare_enrol",
                id,
                Some(serde_json::json!({"enrolment_id": enrolment.id, "class_id": class_id,
                    "start_date": start.to_string()})),
            ),
        )?;
        let others = c.query(
            "SELECT id FROM childcare_application WHERE infant_id = $1 AND id <> $2 \
             AND status IN ('waiting', 'offered', 'accepted') ORDER BY id",
            &[app.infant_id.as_str().into(), id.into()],
        )?;
        for o in others {
            let oid: String = o.get("id")?;
            c.execute(
                "UPDATE childcare_application SET status = 'cancelled', closed_by = $1, closed_date = $2, \
                 close_reason = $3 WHERE id = $4 AND status IN ('waiting', 'offered', 'accepted')",
                &[
                    scope.actor.user.as_str().into(),
                    today.to_string().into(),
                    format!("enrolled at {}", app.facility_name).into(),
                    oid.as_str().into(),
                ],
            )?;
            audit::append(c, scope, event("childcare_cancel", &oid, None))?;
        }
        let r = row(c, id)?.ok_or_else(|| not_found(id))?;
        describe(c, &r, today, false)
    })
}

// ---------------------------------------------------------------- families

/// The applications of the calling family's verified children (newest
/// first, at most 50 per child), with positions while waiting; names in full.
pub fn family_applications(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::OrderServices)?;
    lapse_overdue(conn, today)?;
    let mut out = Vec::new();
    for child in crate::family::verified_ids(conn, scope, PersonRole::Infant)? {
        let rows = conn.query(
            &format!(
                "SELECT {COLS} FROM {FROM} WHERE a.infant_id = $1 ORDER BY a.applied_at DESC, a.id LIMIT 50"
            ),
            &[child.as_str().into()],
        )?;
        for r in &rows {
            out.push(describe(conn, r, today, true)?);
        }
    }
    Ok(out)
}

/// The institutions of a verified child's county a family may apply to,
/// with places free and the waiting count. Not found unless the child is
/// the caller's verified child.
pub fn family_institutions(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
) -> Result<Vec<InstitutionLine>> {
    scope.require(Perm::OrderServices)?;
    let path = crate::family::relative_path(conn, scope, infant_id.trim(), PersonRole::Infant)?
        .ok_or_else(|| crate::family::person_not_found(infant_id))?;
    // A county's path is its first two levels: "/330400/330402/".
    let county: String = path.split('/').take(3).collect::<Vec<_>>().join("/") + "/";
    let rows = conn.query(
        &format!(
            "SELECT f.id, f.name, f.kind, f.inclusive, f.filing_status, \
             COALESCE(CAST(SUM(c.capacity) AS BIGINT), 0) AS capacity, \
             COALESCE(CAST(SUM(c.enrolled) AS BIGINT), 0) AS enrolled \
             FROM facility f LEFT JOIN childcare_class c ON c.facility_id = f.id AND c.deleted_at IS NULL \
             WHERE f.kind IN ('childcare_institution', 'kindergarten_nursery_class') AND f.status = 'operating' \
             AND f.deleted_at IS NULL AND f.area_path >= $1 AND f.area_path < $2 \
             GROUP BY f.id, f.name, f.kind, f.inclusive, f.filing_status ORDER BY f.id LIMIT {MAX_LIST}"
        ),
        &[county.as_str().into(), path_upper(&county).into()],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let id: String = r.get("id")?;
        let counts = conn.query_opt(
            "SELECT COALESCE(CAST(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS BIGINT), 0) AS waiting, \
             COALESCE(CAST(SUM(CASE WHEN status IN ('offered', 'accepted') THEN 1 ELSE 0 END) AS BIGINT), 0) AS held \
             FROM childcare_application WHERE facility_id = $1",
            &[id.as_str().into()],
        )?;
        let (waiting, held) = match counts {
            Some(x) => (x.get::<i64>("waiting")?, x.get::<i64>("held")?),
            None => (0, 0),
        };
        let capacity: i64 = r.get("capacity")?;
        let enrolled: i64 = r.get("enrolled")?;
        out.push(InstitutionLine {
            facility_id: id,
            name: r.get("name")?,
            kind: r.get("kind")?,
            inclusive: r.get("inclusive")?,
            filed: r.get::<String>("filing_status")? == "filed",
            capacity,
            free: (capacity - enrolled - held).max(0),
            waiting,
        });
    }
    // Places free first, then by name (sorted here, the same on both databases).
    out.sort_by(|a, b| (a.free == 0, &a.name).cmp(&(b.free == 0, &b.name)));
    Ok(out)
}

// ---------------------------------------------------------------- worklist

/// Worklist lines: an institution's (and its area staff's) waiting
/// applications and accepted offers to enrol (urgent when the start is
/// near); a family's offers to answer.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    if scope.is_family() {
        let offers = family_applications(conn, scope, today)?
            .into_iter()
            .filter(|a| a.status == AppStatus::Offered)
            .count() as i64;
        return Ok(vec![
            WorkItem::new(
                "childcare_offers_to_answer",
                "待答复的托位录取",
                "Childcare places offered to answer",
                offers,
                "/console/family",
            )
            .urgent(),
        ]);
    }
    if !scope.can(Perm::ManageEnrolments) {
        return Ok(Vec::new());
    }
    lapse_overdue(conn, today)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    if scope.facility().is_some() || scope.area_path().is_some() {
        // Only the institution's side acts on these lines.
        if let Some(f) = scope.facility() {
            p.push(f.into());
            w.push_str(&format!(" AND a.facility_id = ${}", p.len()));
        }
        if let Some(path) = scope.area_path() {
            p.push(path.into());
            let lo = p.len();
            p.push(path_upper(path).into());
            w.push_str(&format!(
                " AND a.facility_path >= ${lo} AND a.facility_path < ${}",
                p.len()
            ));
        }
    }
    let soon = (today + Duration::days(3)).to_string();
    p.push(soon.into());
    let s = p.len();
    let r = conn.query_opt(
        &format!(
            "SELECT COALESCE(CAST(SUM(CASE WHEN a.status = 'waiting' THEN 1 ELSE 0 END) AS BIGINT), 0) AS waiting, \
             COALESCE(CAST(SUM(CASE WHEN a.status = 'accepted' AND a.start_date > ${s} THEN 1 ELSE 0 END) AS BIGINT), 0) AS accepted, \
             COALESCE(CAST(SUM(CASE WHEN a.status = 'accepted' AND a.start_date <= ${s} THEN 1 ELSE 0 END) AS BIGINT), 0) AS starting \
             FROM childcare_application a WHERE {w}"
        ),
        &p,
    )?;
    let (waiting, accepted, starting) = match r {
        Some(r) => (r.get("waiting")?, r.get("accepted")?, r.get("starting")?),
        None => (0, 0, 0),
    };
    let url = "/console/childcare/applications";
    Ok(vec![
        WorkItem::new(
            "childcare_applications_waiting",
            "轮候中的入托申请",
            "Childcare applications waiting",
            waiting,
            &format!("{url}?status=waiting"),
        ),
        WorkItem::new(
            "childcare_places_accepted",
            "已接受录取、待入托报到",
            "Places accepted, the child to start later",
            accepted,
            &format!("{url}?status=accepted"),
        ),
        WorkItem::new(
            "childcare_start_due",
            "入托日期将至或已到：查验体检和预防接种后办理入托",
            "Places starting within 3 days or already: check the health check and vaccinations and enrol",
            starting,
            &format!("{url}?status=accepted"),
        )
        .urgent(),
    ])
}

// ---------------------------------------------------------------- demo

/// The demo's childcare intake at one institution: two classes if it has
/// none, the demo family linked (verified) to a child of the county as its
/// parent, and applications for that child and a few others of the county
/// (by the family and by `staff`), with the first one that fits offered a
/// place. Does nothing when the family is linked to a child already.
/// Returns the applications made.
pub fn seed_demo(
    conn: &mut Conn,
    reference: &Reference,
    family: &str,
    staff: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<usize> {
    let linked = conn.query_i64(
        "SELECT COUNT(*) FROM family_link l JOIN person p ON p.id = l.person_id \
         WHERE l.username = $1 AND p.role = 'infant'",
        &[family.into()],
    )?;
    let Some((_, fpath, _, _)) = institution(conn, facility_id)? else {
        return Ok(0);
    };
    if linked > 0 {
        return Ok(0);
    }
    let sys = Scope::system("demo");
    let ck = reference.checker();
    let classes = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_class WHERE facility_id = $1 AND deleted_at IS NULL",
        &[facility_id.into()],
    )?;
    if classes == 0 {
        for (suffix, ty, cap, carers) in [
            ("1", ClassType::InfantClass, 9, 3),
            ("2", ClassType::YoungToddlerClass, 15, 3),
        ] {
            let k = ChildcareClass {
                id: format!("{facility_id}-C{suffix}"),
                facility_id: facility_id.to_string(),
                class_type: ty,
                capacity: cap,
                enrolled: 0,
                caregivers: carers,
                monthly_fee_fen: Some(180_000),
            };
            registry::create(conn, &ck, &sys, &k, today)?;
        }
    }
    // Children of the institution's county aged 7 to 20 months, not enrolled.
    let county: String = fpath.split('/').take(3).collect::<Vec<_>>().join("/") + "/";
    let young = today
        .checked_sub_months(chrono::Months::new(7))
        .unwrap_or(today);
    let old = today
        .checked_sub_months(chrono::Months::new(20))
        .unwrap_or(today);
    let rows = conn.query(
        "SELECT p.id, p.area_path FROM person p WHERE p.role = 'infant' AND p.status = 'active' \
         AND p.deleted_at IS NULL AND p.area_path >= $1 AND p.area_path < $2 \
         AND p.birth_date <= $3 AND p.birth_date > $4 \
         AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE e.infant_id = p.id AND e.deleted_at IS NULL \
             AND e.end_date IS NULL) \
         ORDER BY p.id LIMIT 6",
        &[
            county.as_str().into(),
            path_upper(&county).into(),
            young.to_string().into(),
            old.to_string().into(),
        ],
    )?;
    let kids: Vec<String> = rows
        .iter()
        .map(|r| r.get::<String>("id"))
        .collect::<Result<_>>()?;
    let Some(first) = kids.first() else {
        return Ok(0);
    };
    // The family's child: linked as its parent, verified by the system.
    let link = format!("L-{}", crate::crypto::random_hex(8));
    let path: String = conn
        .query_opt(
            "SELECT area_path FROM person WHERE id = $1",
            &[first.as_str().into()],
        )?
        .map(|r| r.get("area_path"))
        .transpose()?
        .unwrap_or_default();
    conn.execute(
        "INSERT INTO family_link (id, username, person_id, person_path, relationship, status, \
         requested_at, decided_by, decided_at) VALUES ($1, $2, $3, $4, 'parent', 'verified', $5, 'demo', $5)",
        &[
            link.as_str().into(),
            family.into(),
            first.as_str().into(),
            path.into(),
            now_rfc3339().into(),
        ],
    )?;
    let parent = Scope::user(
        crate::scope::Actor {
            user: family.to_string(),
            ip: None,
        },
        Role::Family,
        "/330400/",
        None,
    );
    let mut made = 0;
    for (i, kid) in kids.iter().enumerate() {
        let input = ApplyInput {
            infant_id: kid.clone(),
            facility_ids: vec![facility_id.to_string()],
            care_type: if i % 3 == 2 { "half_day" } else { "full_day" }.into(),
            wanted_start: today,
            note: None,
        };
        let done = if i == 0 {
            family_apply(conn, reference, &parent, &input, today)
        } else {
            apply_in(
                conn,
                reference,
                staff,
                &input,
                ApplicantKind::Staff,
                today,
                &|_| true,
            )
        };
        match done {
            Ok(a) => made += a.len(),
            // A child the rules refuse (an age on the edge) is left out.
            Err(StoreError::Invalid(_) | StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // The second applicant is offered a place in the first class that takes
    // it, so the demo shows an offer (the family's child still waits first
    // for its own offer, and the skip is explained).
    let waiting = conn.query(
        "SELECT id FROM childcare_application WHERE facility_id = $1 AND status = 'waiting' ORDER BY seq",
        &[facility_id.into()],
    )?;
    if let Some(second) = waiting.get(1) {
        let id: String = second.get("id")?;
        let class_ids = conn.query(
            "SELECT id FROM childcare_class WHERE facility_id = $1 AND deleted_at IS NULL ORDER BY id",
            &[facility_id.into()],
        )?;
        for k in &class_ids {
            let input = OfferInput {
                class_id: k.get("id")?,
                start_date: today,
                skip_reason: Some("演示：家长希望就近入托，先录取该名幼儿".into()),
            };
            match offer(conn, reference, &sys, &id, &input, today) {
                Ok(_) => break,
                Err(StoreError::Invalid(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(made)
}
