//! A childcare institution's day (托育机构一日生活), issue 16 part 4: who
//! dropped a child off and who collected it (only people the family
//! authorised, 接送授权人; every refusal logged and shown to the family), the
//! morning and midday health check (晨午检, 《托育机构管理规范（试行）》 art. 24),
//! absences and their reasons, meals, naps, outdoor time (at least 2 hours,
//! art. 18, with the class's shortfall flagged), incidents, the caregivers on
//! duty against the class's ratio, and the daily report each parent reads.
//!
//! Rules are dated parameters in `data/policy/childcare.toml` (`day.*`): the
//! outdoor minutes, the months away after which a child is rechecked
//! (art. 11), the temperature that is a fever, how many days back the day may
//! be recorded, how far ahead a family may report an absence.
//!
//! Who: the institution's own operator records (`RecordChildcareDay`); the
//! county, the city and inspectors read their area's (`ReadChildcareDay`);
//! a family reads its verified children's reports and keeps their pickup
//! list. Names are masked for staff (the family sees its own in full);
//! temperatures and checks are health data, never put in the audit trail.

use chrono::{Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::childcare_day::{
    AbsenceReason, AttendanceStatus, DayEventKind, HealthCheck, IncidentSeverity, Meal, MealAmount,
    PickupRelation, RefusalReason,
};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::{PersonRole, age_months_on, mask_name};
use laoxiao_model::{ClassSizeRule, FieldError};
use laoxiao_rules::subsidies::params::Params;
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::worklist::WorkItem;
use crate::{Reference, audit, family, notify, now_rfc3339, path_upper};

/// Longest note, description or name, in characters.
pub const MAX_NOTE: usize = 500;
/// Longest pickup person's name.
pub const MAX_NAME: usize = 40;
/// Most people authorised for one child.
pub const MAX_PICKUPS: i64 = 10;
/// Most entries a class records on one day.
pub const MAX_EVENTS_PER_DAY: i64 = 2000;
/// Most classes a list answers.
pub const MAX_LIST: usize = 500;
/// Temperatures accepted (tenths of a degree Celsius): a thermometer's range.
pub const TEMPERATURE_TENTHS: std::ops::RangeInclusive<i32> = 340..=430;
/// Longest outdoor spell or nap, in minutes.
pub const MAX_MINUTES: i32 = 480;
const MAX_ID: usize = 64;

// ---------------------------------------------------------------- views

/// A person authorised to drop off and collect a child (接送授权人).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pickup {
    pub id: String,
    pub infant_id: String,
    /// Masked for staff (王*), in full for the family.
    pub name: String,
    pub relation: PickupRelation,
    /// Masked for staff (138****5678), in full for the family.
    pub phone: Option<String>,
    /// `family` or `institution`.
    pub added_side: String,
    pub added_at: String,
    pub revoked_at: Option<String>,
}

impl Pickup {
    /// How the door staff see the person: 王*（祖父母/外祖父母）.
    pub fn label(&self) -> String {
        format!("{}（{}）", self.name, self.relation.label_zh())
    }
}

/// Who a family authorises.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PickupInput {
    pub name: String,
    pub relation: Option<PickupRelation>,
    pub phone: Option<String>,
}

/// One enrolled child on a class's day sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildDay {
    pub enrolment_id: String,
    pub infant_id: String,
    /// Masked (staff see the child's record for the full name, audited).
    pub infant_name: String,
    pub age_months: i32,
    pub care_type: Option<CareType>,
    /// `None` until the child arrives or is reported absent.
    pub status: Option<AttendanceStatus>,
    pub check_in_at: Option<String>,
    /// 王*（父母）
    pub dropped_off_by: Option<String>,
    pub temperature_tenths: Option<i32>,
    pub morning_check: Option<HealthCheck>,
    pub morning_note: Option<String>,
    pub midday_check: Option<HealthCheck>,
    pub midday_note: Option<String>,
    pub check_out_at: Option<String>,
    pub collected_by: Option<String>,
    pub absence_reason: Option<AbsenceReason>,
    pub absence_note: Option<String>,
    /// Away longer than `day.absence_recheck_months`: the check-in needs the
    /// date of a new health check (管理规范 art. 11).
    pub needs_recheck: bool,
    /// Who may drop the child off and collect it (ids and labels).
    pub pickups: Vec<Pickup>,
}

/// An entry of the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayEvent {
    pub id: String,
    pub class_id: String,
    /// `None`: the whole class (outdoor time).
    pub infant_id: Option<String>,
    pub infant_name: Option<String>,
    pub kind: DayEventKind,
    pub at: String,
    pub minutes: Option<i32>,
    pub meal: Option<Meal>,
    pub amount: Option<MealAmount>,
    pub severity: Option<IncidentSeverity>,
    pub note: Option<String>,
    pub guardian_informed: bool,
    pub recorded_by: String,
}

/// A refused handover (拒绝交接记录).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub id: String,
    pub infant_id: String,
    pub infant_name: String,
    pub day: NaiveDate,
    pub at: String,
    /// `check_in` or `check_out`.
    pub direction: String,
    /// Who came, as the staff described them.
    pub presented: Option<String>,
    pub reason: RefusalReason,
    pub recorded_by: String,
}

/// A class's day (班级一日): the children, the ratio on duty, outdoor time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySheet {
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: String,
    pub class_type: ClassType,
    pub day: NaiveDate,
    pub capacity: i64,
    pub enrolled: i64,
    /// Children in the institution now (checked in, not collected).
    pub present: i64,
    /// Children who came at all today.
    pub attended: i64,
    pub absent: i64,
    pub caregivers: i64,
    /// Caregivers on duty today (the class's number unless recorded).
    pub caregivers_on_duty: i64,
    /// Children per caregiver in force (师幼比) and its source.
    pub ratio: i64,
    pub ratio_clause: String,
    /// More children present than the caregivers on duty may care for.
    pub ratio_breach: bool,
    pub outdoor_minutes: i64,
    pub outdoor_required: i64,
    pub outdoor_clause: String,
    /// Children came and the class's outdoor time is below the minimum (for
    /// today: so far).
    pub outdoor_short: bool,
    pub children: Vec<ChildDay>,
    pub events: Vec<DayEvent>,
    pub refusals: Vec<Refusal>,
}

/// A class in the day's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassLine {
    pub class_id: String,
    pub class_type: ClassType,
    pub facility_id: String,
    pub facility_name: String,
    pub enrolled: i64,
    pub present: i64,
    pub attended: i64,
    pub outdoor_minutes: i64,
}

/// What a parent reads about one day (每日报告).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    pub infant_id: String,
    /// In full for the family, masked for staff.
    pub infant_name: String,
    pub facility_name: String,
    pub class_type: Option<ClassType>,
    pub day: NaiveDate,
    pub status: Option<AttendanceStatus>,
    pub check_in_at: Option<String>,
    pub dropped_off_by: Option<String>,
    pub check_out_at: Option<String>,
    pub collected_by: Option<String>,
    pub temperature_tenths: Option<i32>,
    pub morning_check: Option<HealthCheck>,
    pub morning_note: Option<String>,
    pub midday_check: Option<HealthCheck>,
    pub midday_note: Option<String>,
    pub absence_reason: Option<AbsenceReason>,
    pub absence_note: Option<String>,
    pub meals: Vec<DayEvent>,
    pub naps: Vec<DayEvent>,
    pub incidents: Vec<DayEvent>,
    /// The class's outdoor time that day.
    pub outdoor_minutes: i64,
    pub outdoor_required: i64,
    pub refusals: Vec<Refusal>,
}

/// A check-in at the door (入园).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckInInput {
    /// The authorised person who brought the child; `None` records a refusal
    /// of someone not on the list (`presented` describes them).
    pub pickup_id: Option<String>,
    pub presented: Option<String>,
    /// The time; now when `None`.
    pub at: Option<NaiveTime>,
    pub temperature_tenths: Option<i32>,
    pub morning_check: Option<HealthCheck>,
    pub note: Option<String>,
    /// The health recheck after a long absence (管理规范 art. 11).
    pub recheck_date: Option<NaiveDate>,
}

/// A check-out (离园).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckOutInput {
    pub pickup_id: Option<String>,
    pub presented: Option<String>,
    pub at: Option<NaiveTime>,
}

/// The midday check (午检).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MiddayInput {
    pub result: Option<HealthCheck>,
    pub temperature_tenths: Option<i32>,
    pub note: Option<String>,
}

/// An entry of the day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventInput {
    pub kind: Option<DayEventKind>,
    pub infant_id: Option<String>,
    pub at: Option<NaiveTime>,
    pub minutes: Option<i32>,
    pub meal: Option<Meal>,
    pub amount: Option<MealAmount>,
    pub severity: Option<IncidentSeverity>,
    pub note: Option<String>,
    pub guardian_informed: bool,
}

// ---------------------------------------------------------------- helpers

pub(crate) fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

pub(crate) fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

fn param(name: &str, day: NaiveDate) -> Result<(i64, String)> {
    let p = Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
    p.int(name, day)
        .map(|(n, used)| (n, used.clause.to_string()))
        .map_err(|e| StoreError::Reference(e.to_string()))
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

pub(crate) fn check_id(field: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.chars().count() > MAX_ID {
        return Err(invalid(field, "not an id"));
    }
    Ok(())
}

fn note(field: &str, s: Option<&str>) -> Result<Option<String>> {
    crate::text::optional(field, s, MAX_NOTE)
}

fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    let mut out: String = c[..3].iter().collect();
    out.push_str(&"*".repeat(c.len() - 7));
    out.extend(&c[c.len() - 4..]);
    out
}

/// The day may be recorded from `day.backfill_days` back to today.
fn recordable(day: NaiveDate, now: NaiveDateTime) -> Result<()> {
    let today = now.date();
    let (back, clause) = param("day.backfill_days", today)?;
    if day > today {
        return Err(invalid("day", format!("{day} has not come yet")));
    }
    if day < today - Duration::days(back) {
        return Err(invalid(
            "day",
            format!("{day} is more than {back} days ago; the record is closed ({clause})"),
        ));
    }
    Ok(())
}

fn time_or_now(at: Option<NaiveTime>, day: NaiveDate, now: NaiveDateTime) -> Result<String> {
    match at {
        Some(t) if day == now.date() && t > now.time() => {
            Err(invalid("at", format!("{} has not come yet", hhmm(t))))
        }
        Some(t) => Ok(hhmm(t)),
        None if day == now.date() => Ok(hhmm(now.time())),
        None => Err(invalid("at", "give the time of a past day's entry")),
    }
}

/// An enrolment with its institution, class and child, active on `day`.
struct Enrolled {
    id: String,
    infant_id: String,
    facility_id: String,
    facility_path: String,
    class_id: Option<String>,
    start_date: NaiveDate,
}

fn enrolled(conn: &mut Conn, id: &str, day: NaiveDate) -> Result<Option<Enrolled>> {
    conn.query_opt(
        "SELECT e.id, e.infant_id, e.facility_id, e.class_id, e.start_date, f.area_path \
         FROM enrolment e JOIN facility f ON f.id = e.facility_id \
         WHERE e.id = $1 AND e.deleted_at IS NULL AND e.start_date <= $2 \
         AND (e.end_date IS NULL OR e.end_date >= $2)",
        &[id.into(), day.to_string().into()],
    )?
    .map(|r| {
        Ok(Enrolled {
            id: r.get("id")?,
            infant_id: r.get("infant_id")?,
            facility_id: r.get("facility_id")?,
            facility_path: r.get("area_path")?,
            class_id: r.get("class_id")?,
            start_date: r.get("start_date")?,
        })
    })
    .transpose()
}

/// The institution's own staff record its day; nobody else does.
fn recorder(scope: &Scope, facility_id: &str, path: &str) -> Result<()> {
    scope.require(Perm::RecordChildcareDay)?;
    if scope.role().is_some() && scope.facility() != Some(facility_id) {
        return Err(StoreError::Forbidden(
            "only the institution's own staff record its day".into(),
        ));
    }
    if !scope.contains_facility(facility_id, path) {
        return Err(StoreError::Forbidden(
            "only the institution's own staff record its day".into(),
        ));
    }
    Ok(())
}

fn reader(scope: &Scope, facility_id: &str, path: &str) -> bool {
    scope.can(Perm::ReadChildcareDay) && scope.contains_facility(facility_id, path)
}

/// An enrolment the caller records; a record outside reads as missing.
fn enrolled_for_recording(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    day: NaiveDate,
) -> Result<Enrolled> {
    check_id("enrolment_id", id)?;
    let e = enrolled(conn, id, day)?.ok_or_else(|| not_found("enrolment", id))?;
    if !scope.contains_facility(&e.facility_id, &e.facility_path) {
        return Err(not_found("enrolment", id));
    }
    recorder(scope, &e.facility_id, &e.facility_path)?;
    Ok(e)
}

fn attendance_row(conn: &mut Conn, enrolment_id: &str, day: NaiveDate) -> Result<Option<Row>> {
    conn.query_opt(
        "SELECT * FROM childcare_attendance WHERE enrolment_id = $1 AND day = $2",
        &[enrolment_id.into(), day.to_string().into()],
    )
}

fn pickup_label(conn: &mut Conn, id: Option<String>, full: bool) -> Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    let r = conn.query_opt(
        "SELECT name, relation FROM childcare_pickup WHERE id = $1",
        &[id.as_str().into()],
    )?;
    Ok(match r {
        Some(r) => {
            let name: String = r.get("name")?;
            let rel: PickupRelation = r.parse("relation")?;
            let name = if full { name } else { mask_name(&name) };
            Some(format!("{name}（{}）", rel.label_zh()))
        }
        None => None,
    })
}

fn audit_event<'a>(
    action: &'a str,
    entity: &'a str,
    id: &'a str,
    after: serde_json::Value,
) -> audit::Event<'a> {
    audit::Event {
        action,
        entity,
        entity_id: Some(id),
        before: None,
        after: Some(after.to_string()),
    }
}

// ---------------------------------------------------------------- pickups

fn pickup_view(r: &Row, full: bool) -> Result<Pickup> {
    let name: String = r.get("name")?;
    let phone: Option<String> = r.get("phone")?;
    Ok(Pickup {
        id: r.get("id")?,
        infant_id: r.get("infant_id")?,
        name: if full { name } else { mask_name(&name) },
        relation: r.parse("relation")?,
        phone: phone.map(|p| if full { p } else { mask_phone(&p) }),
        added_side: r.get("added_side")?,
        added_at: r.get("added_at")?,
        revoked_at: r.get("revoked_at")?,
    })
}

fn active_pickups(conn: &mut Conn, infant_id: &str, full: bool) -> Result<Vec<Pickup>> {
    conn.query(
        "SELECT * FROM childcare_pickup WHERE infant_id = $1 AND revoked_at IS NULL ORDER BY added_at, id",
        &[infant_id.into()],
    )?
    .iter()
    .map(|r| pickup_view(r, full))
    .collect()
}

/// The caller's side on a child: `Some(true)` the family (full names),
/// `Some(false)` the institution that has it enrolled now, `None` neither.
fn child_side(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    today: NaiveDate,
) -> Result<Option<bool>> {
    check_id("infant_id", infant_id)?;
    if scope.is_family() {
        return Ok(
            family::is_verified_relative(conn, scope, infant_id, PersonRole::Infant)?
                .then_some(true),
        );
    }
    if !scope.can(Perm::ReadChildcareDay) {
        return Ok(None);
    }
    let rows = conn.query(
        "SELECT e.facility_id, f.area_path FROM enrolment e JOIN facility f ON f.id = e.facility_id \
         WHERE e.infant_id = $1 AND e.deleted_at IS NULL AND (e.end_date IS NULL OR e.end_date >= $2)",
        &[infant_id.into(), today.to_string().into()],
    )?;
    for r in rows {
        let (f, p): (String, String) = (r.get("facility_id")?, r.get("area_path")?);
        if reader(scope, &f, &p) {
            return Ok(Some(false));
        }
    }
    Ok(None)
}

/// The people authorised for a child: the family (full) or the institution
/// that has the child now (masked).
pub fn pickups(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    today: NaiveDate,
) -> Result<Vec<Pickup>> {
    let full =
        child_side(conn, scope, infant_id, today)?.ok_or_else(|| not_found("child", infant_id))?;
    active_pickups(conn, infant_id, full)
}

/// Authorises a person for a child: the family itself, or the institution on
/// the family's written authorisation (its own operator only).
pub fn add_pickup(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    input: &PickupInput,
    today: NaiveDate,
) -> Result<Pickup> {
    let full =
        child_side(conn, scope, infant_id, today)?.ok_or_else(|| not_found("child", infant_id))?;
    if !full && !scope.can(Perm::RecordChildcareDay) {
        return Err(StoreError::Forbidden(
            "only the family or the institution's staff authorise a person".into(),
        ));
    }
    let mut errs = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "name",
            format!("give the person's name (1 to {MAX_NAME} characters)"),
        ));
    }
    if input.relation.is_none() {
        errs.push(FieldError::new(
            "relation",
            format!("one of {}", PickupRelation::expected()),
        ));
    }
    let phone = input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(p) = phone
        && !(p.len() >= 7
            && p.len() <= 20
            && p.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+'))
    {
        errs.push(FieldError::new("phone", "digits only, 7 to 20"));
    }
    let (Some(relation), true) = (input.relation, errs.is_empty()) else {
        return Err(StoreError::Invalid(errs));
    };
    conn.transaction(|c| {
        let n = c.query_i64(
            "SELECT COUNT(*) FROM childcare_pickup WHERE infant_id = $1 AND revoked_at IS NULL",
            &[infant_id.into()],
        )?;
        if n >= MAX_PICKUPS {
            return Err(invalid(
                "name",
                format!("a child has at most {MAX_PICKUPS} authorised people; revoke one first"),
            ));
        }
        let id = format!("PU-{}", crate::crypto::random_hex(8));
        c.execute(
            "INSERT INTO childcare_pickup (id, infant_id, name, relation, phone, added_side, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                id.as_str().into(),
                infant_id.into(),
                name.into(),
                relation.code().into(),
                phone.map(str::to_string).into(),
                (if full { "family" } else { "institution" }).into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_pickup_add",
                "childcare_pickup",
                &id,
                serde_json::json!({"infant_id": infant_id, "relation": relation.code()}),
            ),
        )?;
        let r = c
            .query_opt("SELECT * FROM childcare_pickup WHERE id = $1", &[id.as_str().into()])?
            .ok_or_else(|| not_found("pickup", &id))?;
        pickup_view(&r, full)
    })
}

/// Revokes an authorisation (the family, or the institution's staff).
pub fn revoke_pickup(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<()> {
    check_id("id", id)?;
    let infant: Option<String> = conn
        .query_opt(
            "SELECT infant_id FROM childcare_pickup WHERE id = $1 AND revoked_at IS NULL",
            &[id.into()],
        )?
        .map(|r| r.get("infant_id"))
        .transpose()?;
    let infant = infant.ok_or_else(|| not_found("pickup", id))?;
    let full = child_side(conn, scope, &infant, today)?.ok_or_else(|| not_found("pickup", id))?;
    if !full && !scope.can(Perm::RecordChildcareDay) {
        return Err(StoreError::Forbidden(
            "only the family or the institution's staff revoke a person".into(),
        ));
    }
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE childcare_pickup SET revoked_by = $1, revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL",
            &[scope.actor.user.as_str().into(), now_rfc3339().into(), id.into()],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict("already revoked".into()));
        }
        audit::append(
            c,
            scope,
            audit_event("childcare_pickup_revoke", "childcare_pickup", id, serde_json::json!({})),
        )?;
        Ok(())
    })
}

/// Whether `pickup_id` is authorised for the child now.
fn authorised(conn: &mut Conn, infant_id: &str, pickup_id: &str) -> Result<bool> {
    Ok(conn.query_i64(
        "SELECT COUNT(*) FROM childcare_pickup WHERE id = $1 AND infant_id = $2 AND revoked_at IS NULL",
        &[pickup_id.into(), infant_id.into()],
    )? > 0)
}

/// Refuses a handover and logs it in its own transaction (the refusal stays
/// when the request fails). The message never says whose the id was.
fn refuse(
    conn: &mut Conn,
    scope: &Scope,
    e: &Enrolled,
    direction: &str,
    presented: Option<String>,
    reason: RefusalReason,
    (day, at): (NaiveDate, &str),
) -> Result<StoreError> {
    let id = format!("HR-{}", crate::crypto::random_hex(8));
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO childcare_handover_refusal (id, facility_id, facility_path, infant_id, day, at, \
             direction, presented, reason, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                id.as_str().into(),
                e.facility_id.as_str().into(),
                e.facility_path.as_str().into(),
                e.infant_id.as_str().into(),
                day.to_string().into(),
                at.into(),
                direction.into(),
                presented.clone().into(),
                reason.code().into(),
                scope.actor.user.as_str().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_handover_refused",
                "childcare_handover_refusal",
                &id,
                serde_json::json!({"enrolment_id": e.id, "direction": direction, "day": day.to_string()}),
            ),
        )?;
        let ev = notify::Event::new(notify::Template::HandoverRefused, format!("handover_refused:{id}"))
            .param("date", day.to_string())
            .param("time", at)
            .param("direction", if direction == "check_in" { "入园" } else { "离园" })
            .link(format!("/console/family/children/{}/day?date={day}", e.infant_id));
        notify::to_child_families(c, &e.infant_id, ev, chrono::Utc::now())?;
        Ok(())
    })?;
    let reason = match reason {
        RefusalReason::NotListed => {
            "the person is not on the child's list of authorised people (接送授权)"
        }
        RefusalReason::NotAuthorised => {
            "the person is not (or no longer) authorised by the family for this child"
        }
    };
    Ok(StoreError::Invalid(vec![FieldError::new(
        "pickup_id",
        format!(
            "{reason}: the handover is refused and logged ({id}); the child stays with the institution \
             until an authorised person comes, and the family sees the refusal"
        ),
    )]))
}

/// Checks the person at the door; a refusal is logged and returned as the error.
#[allow(clippy::too_many_arguments)]
fn check_person(
    conn: &mut Conn,
    scope: &Scope,
    e: &Enrolled,
    direction: &str,
    pickup_id: Option<&str>,
    presented: Option<&str>,
    day: NaiveDate,
    at: &str,
) -> Result<String> {
    let presented = note("presented", presented)?;
    match pickup_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) if p.chars().count() <= MAX_ID && authorised(conn, &e.infant_id, p)? => {
            Ok(p.to_string())
        }
        Some(_) => Err(refuse(
            conn,
            scope,
            e,
            direction,
            presented,
            RefusalReason::NotAuthorised,
            (day, at),
        )?),
        None => Err(refuse(
            conn,
            scope,
            e,
            direction,
            presented,
            RefusalReason::NotListed,
            (day, at),
        )?),
    }
}

// ---------------------------------------------------------------- the door

fn check_temperature(field: &str, t: Option<i32>) -> Result<()> {
    if let Some(t) = t
        && !TEMPERATURE_TENTHS.contains(&t)
    {
        return Err(invalid(
            field,
            format!(
                "{:.1} °C is not a body temperature (34.0 to 43.0)",
                f64::from(t) / 10.0
            ),
        ));
    }
    Ok(())
}

/// A fever cannot pass a check as normal.
fn check_fever(field: &str, t: Option<i32>, result: HealthCheck, day: NaiveDate) -> Result<()> {
    let (fever, clause) = param("day.fever_tenths", day)?;
    if let Some(t) = t
        && i64::from(t) >= fever
        && result == HealthCheck::Normal
    {
        return Err(invalid(
            field,
            format!(
                "{:.1} °C is a fever (from {:.1} °C): the check cannot be 正常; keep the child under \
                 observation or send it home ({clause})",
                f64::from(t) / 10.0,
                fever as f64 / 10.0
            ),
        ));
    }
    Ok(())
}

/// The last day the child came, or the first day of the enrolment.
fn last_seen(conn: &mut Conn, e: &Enrolled, day: NaiveDate) -> Result<NaiveDate> {
    let last: Option<NaiveDate> = conn
        .query_opt(
            "SELECT MAX(day) AS d FROM childcare_attendance WHERE infant_id = $1 AND day < $2 \
             AND status IN ('present', 'left')",
            &[e.infant_id.as_str().into(), day.to_string().into()],
        )?
        .map(|r| r.get("d"))
        .transpose()?
        .flatten();
    Ok(last.unwrap_or(e.start_date).max(e.start_date))
}

/// Checks a child in at the door with the morning check (入园晨检).
pub fn check_in(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    input: &CheckInInput,
    now: NaiveDateTime,
) -> Result<ChildDay> {
    let day = now.date();
    recordable(day, now)?;
    let e = enrolled_for_recording(conn, scope, enrolment_id, day)?;
    let at = time_or_now(input.at, day, now)?;
    check_temperature("temperature_tenths", input.temperature_tenths)?;
    let Some(result) = input.morning_check else {
        return Err(invalid(
            "morning_check",
            format!(
                "record the morning check (晨检, 《托育机构管理规范（试行）》第二十四条): one of {}",
                HealthCheck::expected()
            ),
        ));
    };
    if input.temperature_tenths.is_none() {
        return Err(invalid(
            "temperature_tenths",
            "take the child's temperature at the morning check (晨检, 管理规范第二十四条)",
        ));
    }
    check_fever("morning_check", input.temperature_tenths, result, day)?;
    let morning_note = note("note", input.note.as_deref())?;
    // Art. 11: more than 3 months away, a new health check before returning.
    let since = last_seen(conn, &e, day)?;
    let (months, clause) = param("day.absence_recheck_months", day)?;
    let months = u32::try_from(months).unwrap_or(3);
    let due = since
        .checked_add_months(Months::new(months))
        .unwrap_or(since);
    if day > due {
        match input.recheck_date {
            Some(r) if r > since && r <= day => {}
            Some(r) => {
                return Err(invalid(
                    "recheck_date",
                    format!(
                        "the health check of {r} is not after the child's last day here ({since}); \
                         a child away more than {months} months is checked again before returning ({clause})"
                    ),
                ));
            }
            None => {
                return Err(invalid(
                    "recheck_date",
                    format!(
                        "the child has not been here since {since}, more than {months} months: give the date \
                         of a new health check first ({clause})"
                    ),
                ));
            }
        }
    }
    if let Some(r) = attendance_row(conn, &e.id, day)? {
        let s: String = r.get("status")?;
        if s != "absent" {
            return Err(StoreError::Conflict(format!(
                "the child is already checked in today ({})",
                AttendanceStatus::parse(&s).map_or(s.as_str(), |s| s.label_zh())
            )));
        }
    }
    let pickup = check_person(
        conn,
        scope,
        &e,
        "check_in",
        input.pickup_id.as_deref(),
        input.presented.as_deref(),
        day,
        &at,
    )?;
    let sent_home = result == HealthCheck::SentHome;
    let status = if sent_home {
        AttendanceStatus::SentHome
    } else {
        AttendanceStatus::Present
    };
    conn.transaction(|c| {
        // An absence reported ahead (a family's 请假) gives way to the child
        // actually coming; the conflict check is the unique (enrolment, day).
        c.execute(
            "DELETE FROM childcare_attendance WHERE enrolment_id = $1 AND day = $2 AND status = 'absent'",
            &[e.id.as_str().into(), day.to_string().into()],
        )?;
        let id = format!("AT-{}", crate::crypto::random_hex(8));
        let inserted = c.execute(
            "INSERT INTO childcare_attendance (id, enrolment_id, infant_id, facility_id, facility_path, class_id, \
             day, status, check_in_at, check_in_pickup, check_in_by, temperature_tenths, morning_check, \
             morning_note, check_out_at, check_out_pickup, check_out_by, recheck_date, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (enrolment_id, day) DO NOTHING",
            &[
                id.as_str().into(),
                e.id.as_str().into(),
                e.infant_id.as_str().into(),
                e.facility_id.as_str().into(),
                e.facility_path.as_str().into(),
                e.class_id.clone().into(),
                day.to_string().into(),
                status.code().into(),
                at.as_str().into(),
                pickup.as_str().into(),
                scope.actor.user.as_str().into(),
                input.temperature_tenths.map(i64::from).into(),
                result.code().into(),
                morning_note.clone().into(),
                // Sent home: the person who brought the child takes it back.
                sent_home.then(|| at.clone()).into(),
                sent_home.then(|| pickup.clone()).into(),
                sent_home.then(|| scope.actor.user.clone()).into(),
                input.recheck_date.map(|d| d.to_string()).into(),
                now_rfc3339().into(),
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(
                "someone else checked the child in meanwhile".into(),
            ));
        }
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_check_in",
                "childcare_attendance",
                &id,
                serde_json::json!({"enrolment_id": e.id, "day": day.to_string(), "status": status.code(),
                    "pickup_id": pickup}),
            ),
        )?;
        child_day(c, &e.id, day, now.date())
    })
}

/// Checks a child out to an authorised person (离园).
pub fn check_out(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    input: &CheckOutInput,
    now: NaiveDateTime,
) -> Result<ChildDay> {
    let day = now.date();
    let e = enrolled_for_recording(conn, scope, enrolment_id, day)?;
    let at = time_or_now(input.at, day, now)?;
    let r = attendance_row(conn, &e.id, day)?;
    let Some(r) = r.filter(|r| r.get::<String>("status").is_ok_and(|s| s == "present")) else {
        return Err(StoreError::Conflict(
            "the child is not checked in today".into(),
        ));
    };
    let came: String = r.get::<Option<String>>("check_in_at")?.unwrap_or_default();
    if at < came {
        return Err(invalid(
            "at",
            format!("{at} is before the check-in at {came}"),
        ));
    }
    let pickup = check_person(
        conn,
        scope,
        &e,
        "check_out",
        input.pickup_id.as_deref(),
        input.presented.as_deref(),
        day,
        &at,
    )?;
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE childcare_attendance SET status = 'left', check_out_at = $1, check_out_pickup = $2, \
             check_out_by = $3, updated_at = $4 WHERE enrolment_id = $5 AND day = $6 AND status = 'present'",
            &[
                at.as_str().into(),
                pickup.as_str().into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
                e.id.as_str().into(),
                day.to_string().into(),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict("someone else checked the child out meanwhile".into()));
        }
        let id: String = r.get("id")?;
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_check_out",
                "childcare_attendance",
                &id,
                serde_json::json!({"enrolment_id": e.id, "day": day.to_string(), "pickup_id": pickup}),
            ),
        )?;
        // The day is over for the child: the family's report is ready.
        let ev = notify::Event::new(notify::Template::DailyReport, format!("daily_report:{}:{day}", e.id))
            .param("date", day.to_string())
            .link(format!("/console/family/children/{}/day?date={day}", e.infant_id));
        notify::to_child_families(c, &e.infant_id, ev, chrono::Utc::now())?;
        child_day(c, &e.id, day, now.date())
    })
}

/// The midday check (午检) of a child present today.
pub fn midday_check(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    input: &MiddayInput,
    now: NaiveDateTime,
) -> Result<ChildDay> {
    let day = now.date();
    let e = enrolled_for_recording(conn, scope, enrolment_id, day)?;
    let Some(result) = input.result else {
        return Err(invalid(
            "result",
            format!(
                "one of {} (午检, 管理规范第二十四条)",
                HealthCheck::expected()
            ),
        ));
    };
    check_temperature("temperature_tenths", input.temperature_tenths)?;
    check_fever("result", input.temperature_tenths, result, day)?;
    let n = note("note", input.note.as_deref())?;
    conn.transaction(|c| {
        let k = c.execute(
            "UPDATE childcare_attendance SET midday_check = $1, midday_note = $2, midday_by = $3, \
             temperature_tenths = COALESCE($4, temperature_tenths), updated_at = $5 \
             WHERE enrolment_id = $6 AND day = $7 AND status = 'present'",
            &[
                result.code().into(),
                n.clone().into(),
                scope.actor.user.as_str().into(),
                input.temperature_tenths.map(i64::from).into(),
                now_rfc3339().into(),
                e.id.as_str().into(),
                day.to_string().into(),
            ],
        )?;
        if k == 0 {
            return Err(StoreError::Conflict(
                "the child is not in the institution now".into(),
            ));
        }
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_midday_check",
                "childcare_attendance",
                &e.id,
                serde_json::json!({"day": day.to_string()}),
            ),
        )?;
        child_day(c, &e.id, day, now.date())
    })
}

fn write_absence(
    c: &mut Conn,
    scope: &Scope,
    e: &Enrolled,
    day: NaiveDate,
    reason: AbsenceReason,
    why: Option<String>,
) -> Result<()> {
    if let Some(r) = attendance_row(c, &e.id, day)? {
        let s: String = r.get("status")?;
        if s != "absent" {
            return Err(StoreError::Conflict(
                "the child came that day; an absence cannot replace a check-in".into(),
            ));
        }
        c.execute(
            "UPDATE childcare_attendance SET absence_reason = $1, absence_note = $2, absence_by = $3, \
             updated_at = $4 WHERE enrolment_id = $5 AND day = $6 AND status = 'absent'",
            &[
                reason.code().into(),
                why.into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
                e.id.as_str().into(),
                day.to_string().into(),
            ],
        )?;
    } else {
        c.execute(
            "INSERT INTO childcare_attendance (id, enrolment_id, infant_id, facility_id, facility_path, class_id, \
             day, status, absence_reason, absence_note, absence_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'absent', $8, $9, $10, $11)",
            &[
                format!("AT-{}", crate::crypto::random_hex(8)).into(),
                e.id.as_str().into(),
                e.infant_id.as_str().into(),
                e.facility_id.as_str().into(),
                e.facility_path.as_str().into(),
                e.class_id.clone().into(),
                day.to_string().into(),
                reason.code().into(),
                why.into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
    }
    audit::append(
        c,
        scope,
        audit_event(
            "childcare_absence",
            "childcare_attendance",
            &e.id,
            serde_json::json!({"day": day.to_string(), "reason": reason.code()}),
        ),
    )?;
    Ok(())
}

/// The institution records an absence and its reason (缺勤登记).
pub fn absent(
    conn: &mut Conn,
    scope: &Scope,
    enrolment_id: &str,
    day: NaiveDate,
    reason: Option<AbsenceReason>,
    why: Option<&str>,
    now: NaiveDateTime,
) -> Result<ChildDay> {
    recordable(day, now)?;
    let e = enrolled_for_recording(conn, scope, enrolment_id, day)?;
    let reason =
        reason.ok_or_else(|| invalid("reason", format!("one of {}", AbsenceReason::expected())))?;
    let why = note("note", why)?;
    conn.transaction(|c| {
        write_absence(c, scope, &e, day, reason, why.clone())?;
        child_day(c, &e.id, day, now.date())
    })
}

/// A family reports its child absent (请假), today or up to
/// `day.absence_notice_days` ahead, at the institution where it is enrolled.
pub fn family_absent(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    day: NaiveDate,
    reason: Option<AbsenceReason>,
    why: Option<&str>,
    now: NaiveDateTime,
) -> Result<DailyReport> {
    let today = now.date();
    if child_side(conn, scope, infant_id, today)? != Some(true) {
        return Err(not_found("child", infant_id));
    }
    let (ahead, clause) = param("day.absence_notice_days", today)?;
    if day < today || day > today + Duration::days(ahead) {
        return Err(invalid(
            "day",
            format!("report an absence for today to {ahead} days ahead ({clause})"),
        ));
    }
    let reason =
        reason.ok_or_else(|| invalid("reason", format!("one of {}", AbsenceReason::expected())))?;
    let why = note("note", why)?;
    let id: Option<String> = conn
        .query_opt(
            "SELECT id FROM enrolment WHERE infant_id = $1 AND deleted_at IS NULL AND start_date <= $2 \
             AND (end_date IS NULL OR end_date >= $2) ORDER BY start_date DESC LIMIT 1",
            &[infant_id.into(), day.to_string().into()],
        )?
        .map(|r| r.get("id"))
        .transpose()?;
    let e = match id {
        Some(id) => enrolled(conn, &id, day)?,
        None => None,
    }
    .ok_or_else(|| {
        invalid(
            "day",
            format!("the child is not enrolled at an institution on {day}"),
        )
    })?;
    conn.transaction(|c| write_absence(c, scope, &e, day, reason, why.clone()))?;
    report(conn, scope, infant_id, day, today)
}

// ---------------------------------------------------------------- entries

/// A live class with its institution.
struct ClassFacts {
    facility_id: String,
    path: String,
    facility_name: String,
    class_type: ClassType,
    capacity: i64,
    enrolled: i64,
    caregivers: i64,
}

fn class_of(conn: &mut Conn, class_id: &str) -> Result<Option<ClassFacts>> {
    conn.query_opt(
        "SELECT c.facility_id, f.area_path, f.name, c.class_type, c.capacity, c.enrolled, c.caregivers \
         FROM childcare_class c JOIN facility f ON f.id = c.facility_id \
         WHERE c.id = $1 AND c.deleted_at IS NULL",
        &[class_id.into()],
    )?
    .map(|r| {
        Ok(ClassFacts {
            facility_id: r.get("facility_id")?,
            path: r.get("area_path")?,
            facility_name: r.get("name")?,
            class_type: r.parse("class_type")?,
            capacity: r.get("capacity")?,
            enrolled: r.get("enrolled")?,
            caregivers: r.get("caregivers")?,
        })
    })
    .transpose()
}

fn event_view(r: &Row, full: bool) -> Result<DayEvent> {
    let name: Option<String> = r.get("infant_name")?;
    Ok(DayEvent {
        id: r.get("id")?,
        class_id: r.get("class_id")?,
        infant_id: r.get("infant_id")?,
        infant_name: name.map(|n| if full { n } else { mask_name(&n) }),
        kind: r.parse("kind")?,
        at: r.get("at")?,
        minutes: r
            .get::<Option<i64>>("minutes")?
            .and_then(|m| i32::try_from(m).ok()),
        meal: r.parse_opt("meal")?,
        amount: r.parse_opt("amount")?,
        severity: r.parse_opt("severity")?,
        note: r.get("note")?,
        guardian_informed: r.get("guardian_informed")?,
        recorded_by: r.get("recorded_by")?,
    })
}

const EVENT_COLS: &str = "v.id, v.class_id, v.infant_id, v.kind, v.at, v.minutes, v.meal, v.amount, \
    v.severity, v.note, v.guardian_informed, v.recorded_by, p.name AS infant_name";

/// Records an entry of a class's day: outdoor time (the class), a meal, a nap
/// or an incident (a child present that day).
pub fn record_event(
    conn: &mut Conn,
    scope: &Scope,
    class_id: &str,
    day: NaiveDate,
    input: &EventInput,
    now: NaiveDateTime,
) -> Result<DayEvent> {
    check_id("class_id", class_id)?;
    recordable(day, now)?;
    let ClassFacts {
        facility_id: fid,
        path,
        ..
    } = class_of(conn, class_id)?
        .filter(|c| scope.contains_facility(&c.facility_id, &c.path))
        .ok_or_else(|| not_found("class", class_id))?;
    recorder(scope, &fid, &path)?;
    let kind = input
        .kind
        .ok_or_else(|| invalid("kind", format!("one of {}", DayEventKind::expected())))?;
    let at = time_or_now(input.at, day, now)?;
    let n = note("note", input.note.as_deref())?;
    let mut errs = Vec::new();
    let minutes = input.minutes;
    if let Some(m) = minutes
        && !(1..=MAX_MINUTES).contains(&m)
    {
        errs.push(FieldError::new(
            "minutes",
            format!("1 to {MAX_MINUTES} minutes"),
        ));
    }
    let infant = input
        .infant_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match kind {
        DayEventKind::Outdoor => {
            if minutes.is_none() {
                errs.push(FieldError::new(
                    "minutes",
                    "how many minutes the class spent outdoors",
                ));
            }
            if infant.is_some() {
                errs.push(FieldError::new(
                    "infant_id",
                    "outdoor time is the class's, not one child's",
                ));
            }
        }
        DayEventKind::Nap => {
            if minutes.is_none() {
                errs.push(FieldError::new(
                    "minutes",
                    "how many minutes the child slept",
                ));
            }
        }
        DayEventKind::Meal => {
            if input.meal.is_none() {
                errs.push(FieldError::new(
                    "meal",
                    format!("one of {}", Meal::expected()),
                ));
            }
            if input.amount.is_none() {
                errs.push(FieldError::new(
                    "amount",
                    format!("one of {}", MealAmount::expected()),
                ));
            }
        }
        DayEventKind::Incident => {
            if input.severity.is_none() {
                errs.push(FieldError::new(
                    "severity",
                    format!("one of {}", IncidentSeverity::expected()),
                ));
            }
            if n.is_none() {
                errs.push(FieldError::new(
                    "note",
                    "describe what happened and what was done",
                ));
            }
        }
    }
    if kind != DayEventKind::Outdoor && infant.is_none() {
        errs.push(FieldError::new("infant_id", "choose the child"));
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    if let Some(i) = infant {
        check_id("infant_id", i)?;
        // Only a child of this class who came that day.
        let came = conn.query_i64(
            "SELECT COUNT(*) FROM childcare_attendance WHERE infant_id = $1 AND class_id = $2 AND day = $3 \
             AND status IN ('present', 'left')",
            &[i.into(), class_id.into(), day.to_string().into()],
        )?;
        if came == 0 {
            return Err(invalid(
                "infant_id",
                "the child is not checked in to this class that day",
            ));
        }
    }
    conn.transaction(|c| {
        let k = c.query_i64(
            "SELECT COUNT(*) FROM childcare_day_event WHERE class_id = $1 AND day = $2",
            &[class_id.into(), day.to_string().into()],
        )?;
        if k >= MAX_EVENTS_PER_DAY {
            return Err(invalid("kind", format!("a class records at most {MAX_EVENTS_PER_DAY} entries a day")));
        }
        let id = format!("DE-{}", crate::crypto::random_hex(8));
        c.execute(
            "INSERT INTO childcare_day_event (id, facility_id, facility_path, class_id, infant_id, day, kind, at, \
             minutes, meal, amount, severity, note, guardian_informed, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            &[
                id.as_str().into(),
                fid.as_str().into(),
                path.as_str().into(),
                class_id.into(),
                infant.map(str::to_string).into(),
                day.to_string().into(),
                kind.code().into(),
                at.as_str().into(),
                minutes.map(i64::from).into(),
                input.meal.map(|m| m.code().to_string()).into(),
                input.amount.map(|m| m.code().to_string()).into(),
                input.severity.map(|m| m.code().to_string()).into(),
                n.clone().into(),
                input.guardian_informed.into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_day_entry",
                "childcare_day_event",
                &id,
                serde_json::json!({"class_id": class_id, "day": day.to_string(), "kind": kind.code()}),
            ),
        )?;
        if let (DayEventKind::Incident, Some(sev @ IncidentSeverity::Serious), Some(child)) =
            (kind, input.severity, infant)
        {
            let ev = notify::Event::new(notify::Template::Incident, format!("incident:{id}"))
                .param("date", day.to_string())
                .param("severity", sev.label_zh())
                .link(format!("/console/family/children/{child}/day?date={day}"));
            notify::to_child_families(c, child, ev, chrono::Utc::now())?;
        }
        let r = c
            .query_opt(
                &format!(
                    "SELECT {EVENT_COLS} FROM childcare_day_event v LEFT JOIN person p ON p.id = v.infant_id \
                     WHERE v.id = $1"
                ),
                &[id.as_str().into()],
            )?
            .ok_or_else(|| not_found("entry", &id))?;
        event_view(&r, false)
    })
}

/// Records the caregivers on duty in a class on a day (当日在岗保育人员).
pub fn set_on_duty(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    class_id: &str,
    day: NaiveDate,
    caregivers: i64,
    now: NaiveDateTime,
) -> Result<DaySheet> {
    check_id("class_id", class_id)?;
    recordable(day, now)?;
    let ClassFacts {
        facility_id: fid,
        path,
        ..
    } = class_of(conn, class_id)?
        .filter(|c| scope.contains_facility(&c.facility_id, &c.path))
        .ok_or_else(|| not_found("class", class_id))?;
    recorder(scope, &fid, &path)?;
    if !(0..=50).contains(&caregivers) {
        return Err(invalid("caregivers_on_duty", "0 to 50"));
    }
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO childcare_class_day (class_id, day, caregivers_on_duty, recorded_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (class_id, day) DO UPDATE SET \
             caregivers_on_duty = excluded.caregivers_on_duty, recorded_by = excluded.recorded_by, \
             updated_at = excluded.updated_at",
            &[
                class_id.into(),
                day.to_string().into(),
                caregivers.into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit_event(
                "childcare_on_duty",
                "childcare_class",
                class_id,
                serde_json::json!({"day": day.to_string(), "caregivers_on_duty": caregivers}),
            ),
        )?;
        Ok(())
    })?;
    sheet(conn, reference, scope, class_id, day, now.date())
}

// ---------------------------------------------------------------- reading

const ATT_COLS: &str = "a.status, a.check_in_at, a.check_in_pickup, a.temperature_tenths, a.morning_check, \
    a.morning_note, a.midday_check, a.midday_note, a.check_out_at, a.check_out_pickup, a.absence_reason, \
    a.absence_note";

fn child_line(conn: &mut Conn, r: &Row, day: NaiveDate, recheck_months: u32) -> Result<ChildDay> {
    let infant_id: String = r.get("infant_id")?;
    let name: String = r.get("name")?;
    let status: Option<AttendanceStatus> = r.parse_opt("status")?;
    let start: NaiveDate = r.get("start_date")?;
    let last: Option<NaiveDate> = r.get("last_seen")?;
    let since = last.unwrap_or(start).max(start);
    let needs_recheck = status.is_none()
        && since
            .checked_add_months(Months::new(recheck_months))
            .is_some_and(|d| day > d);
    Ok(ChildDay {
        enrolment_id: r.get("enrolment_id")?,
        infant_id: infant_id.clone(),
        infant_name: mask_name(&name),
        age_months: age_months_on(r.get("birth_date")?, day),
        care_type: r.parse_opt("care_type")?,
        status,
        check_in_at: r.get("check_in_at")?,
        dropped_off_by: pickup_label(conn, r.get("check_in_pickup")?, false)?,
        temperature_tenths: r
            .get::<Option<i64>>("temperature_tenths")?
            .and_then(|t| i32::try_from(t).ok()),
        morning_check: r.parse_opt("morning_check")?,
        morning_note: r.get("morning_note")?,
        midday_check: r.parse_opt("midday_check")?,
        midday_note: r.get("midday_note")?,
        check_out_at: r.get("check_out_at")?,
        collected_by: pickup_label(conn, r.get("check_out_pickup")?, false)?,
        absence_reason: r.parse_opt("absence_reason")?,
        absence_note: r.get("absence_note")?,
        needs_recheck,
        pickups: active_pickups(conn, &infant_id, false)?,
    })
}

const ENROLLED_ON: &str =
    "e.deleted_at IS NULL AND e.start_date <= $2 AND (e.end_date IS NULL OR e.end_date >= $2)";

fn child_day(
    conn: &mut Conn,
    enrolment_id: &str,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<ChildDay> {
    let (m, _) = param("day.absence_recheck_months", today)?;
    let r = conn
        .query_opt(
            &format!(
                "SELECT e.id AS enrolment_id, e.infant_id, e.care_type, e.start_date, p.name, p.birth_date, {ATT_COLS}, \
                 (SELECT MAX(x.day) FROM childcare_attendance x WHERE x.infant_id = e.infant_id AND x.day < $2 \
                  AND x.status IN ('present', 'left')) AS last_seen \
                 FROM enrolment e JOIN person p ON p.id = e.infant_id \
                 LEFT JOIN childcare_attendance a ON a.enrolment_id = e.id AND a.day = $2 \
                 WHERE e.id = $1 AND {ENROLLED_ON}"
            ),
            &[enrolment_id.into(), day.to_string().into()],
        )?
        .ok_or_else(|| not_found("enrolment", enrolment_id))?;
    child_line(conn, &r, day, u32::try_from(m).unwrap_or(3))
}

/// A class's day (班级一日) for the institution, the county and inspectors.
pub fn sheet(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    class_id: &str,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<DaySheet> {
    check_id("class_id", class_id)?;
    let ClassFacts {
        facility_id: fid,
        facility_name: fname,
        class_type,
        capacity,
        enrolled: enrolled_n,
        caregivers,
        ..
    } = class_of(conn, class_id)?
        .filter(|c| reader(scope, &c.facility_id, &c.path))
        .ok_or_else(|| not_found("class", class_id))?;
    if day > today + Duration::days(366) || day < today - Duration::days(3660) {
        return Err(invalid("day", "within ten years back and a year ahead"));
    }
    let (months, _) = param("day.absence_recheck_months", day)?;
    let months = u32::try_from(months).unwrap_or(3);
    let rows = conn.query(
        &format!(
            "SELECT e.id AS enrolment_id, e.infant_id, e.care_type, e.start_date, p.name, p.birth_date, {ATT_COLS}, \
             (SELECT MAX(x.day) FROM childcare_attendance x WHERE x.infant_id = e.infant_id AND x.day < $2 \
              AND x.status IN ('present', 'left')) AS last_seen \
             FROM enrolment e JOIN person p ON p.id = e.infant_id \
             LEFT JOIN childcare_attendance a ON a.enrolment_id = e.id AND a.day = $2 \
             WHERE e.class_id = $1 AND {ENROLLED_ON} ORDER BY p.name, e.id LIMIT 200"
        ),
        &[class_id.into(), day.to_string().into()],
    )?;
    let mut children = Vec::with_capacity(rows.len());
    for r in &rows {
        children.push(child_line(conn, r, day, months)?);
    }
    let events = conn
        .query(
            &format!(
                "SELECT {EVENT_COLS} FROM childcare_day_event v LEFT JOIN person p ON p.id = v.infant_id \
                 WHERE v.class_id = $1 AND v.day = $2 ORDER BY v.at, v.id LIMIT {MAX_EVENTS_PER_DAY}"
            ),
            &[class_id.into(), day.to_string().into()],
        )?
        .iter()
        .map(|r| event_view(r, false))
        .collect::<Result<Vec<_>>>()?;
    let refusals = refusals_where(
        conn,
        "r.day = $1 AND r.infant_id IN (SELECT e.infant_id FROM enrolment e WHERE e.class_id = $2)",
        &[day.to_string().into(), class_id.into()],
        false,
    )?;
    let on_duty: Option<i64> = conn
        .query_opt(
            "SELECT caregivers_on_duty FROM childcare_class_day WHERE class_id = $1 AND day = $2",
            &[class_id.into(), day.to_string().into()],
        )?
        .map(|r| r.get("caregivers_on_duty"))
        .transpose()?;
    let caregivers_on_duty = on_duty.unwrap_or(caregivers);
    let (ratio, ratio_clause) = ratio_of(&reference.class_limits, class_type, day)?;
    let present = children
        .iter()
        .filter(|c| c.status == Some(AttendanceStatus::Present))
        .count() as i64;
    let attended = children
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                Some(AttendanceStatus::Present | AttendanceStatus::Left)
            )
        })
        .count() as i64;
    let absent = children
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                Some(AttendanceStatus::Absent | AttendanceStatus::SentHome)
            )
        })
        .count() as i64;
    let (required, outdoor_clause) = param("day.outdoor_minutes", day)?;
    let outdoor_minutes: i64 = events
        .iter()
        .filter(|e| e.kind == DayEventKind::Outdoor)
        .map(|e| i64::from(e.minutes.unwrap_or(0)))
        .sum();
    Ok(DaySheet {
        facility_id: fid,
        facility_name: fname,
        class_id: class_id.to_string(),
        class_type,
        day,
        capacity,
        enrolled: enrolled_n,
        present,
        attended,
        absent,
        caregivers,
        caregivers_on_duty,
        ratio,
        ratio_clause,
        ratio_breach: present > caregivers_on_duty * ratio,
        outdoor_minutes,
        outdoor_required: required,
        outdoor_clause,
        outdoor_short: attended > 0 && outdoor_minutes < required,
        children,
        events,
        refusals,
    })
}

/// Children per caregiver for a class type on a day and its source.
fn ratio_of(
    limits: &dyn ClassSizeRule,
    class_type: ClassType,
    day: NaiveDate,
) -> Result<(i64, String)> {
    limits
        .children_per_caregiver(class_type, day)
        .ok_or_else(|| StoreError::Reference(format!("no ratio for {}", class_type.code())))
}

fn refusals_where(conn: &mut Conn, w: &str, p: &[Value], full: bool) -> Result<Vec<Refusal>> {
    conn.query(
        &format!(
            "SELECT r.id, r.infant_id, r.day, r.at, r.direction, r.presented, r.reason, r.recorded_by, p.name \
             FROM childcare_handover_refusal r JOIN person p ON p.id = r.infant_id WHERE {w} \
             ORDER BY r.day DESC, r.at DESC LIMIT 100"
        ),
        p,
    )?
    .iter()
    .map(|r| {
        let name: String = r.get("name")?;
        Ok(Refusal {
            id: r.get("id")?,
            infant_id: r.get("infant_id")?,
            infant_name: if full { name } else { mask_name(&name) },
            day: r.get("day")?,
            at: r.get("at")?,
            direction: r.get("direction")?,
            presented: r.get("presented")?,
            reason: r.parse("reason")?,
            recorded_by: r.get("recorded_by")?,
        })
    })
    .collect()
}

/// The classes of the institutions in scope with the day's counts.
pub fn classes(conn: &mut Conn, scope: &Scope, day: NaiveDate) -> Result<Vec<ClassLine>> {
    scope.require(Perm::ReadChildcareDay)?;
    let mut w = String::from("c.deleted_at IS NULL AND f.deleted_at IS NULL");
    let mut p: Vec<Value> = vec![day.to_string().into()];
    if let Some(f) = scope.facility() {
        p.push(f.into());
        w.push_str(&format!(" AND c.facility_id = ${}", p.len()));
    }
    if let Some(path) = scope.area_path() {
        p.push(path.into());
        let lo = p.len();
        p.push(path_upper(path).into());
        w.push_str(&format!(
            " AND f.area_path >= ${lo} AND f.area_path < ${}",
            p.len()
        ));
    }
    conn.query(
        &format!(
            "SELECT c.id, c.class_type, c.facility_id, f.name, c.enrolled, \
             (SELECT COUNT(*) FROM childcare_attendance a WHERE a.class_id = c.id AND a.day = $1 AND a.status = 'present') AS present, \
             (SELECT COUNT(*) FROM childcare_attendance a WHERE a.class_id = c.id AND a.day = $1 AND a.status IN ('present', 'left')) AS attended, \
             (SELECT CAST(COALESCE(SUM(v.minutes), 0) AS BIGINT) FROM childcare_day_event v WHERE v.class_id = c.id AND v.day = $1 AND v.kind = 'outdoor') AS outdoor \
             FROM childcare_class c JOIN facility f ON f.id = c.facility_id WHERE {w} \
             ORDER BY f.name, c.facility_id, c.class_type, c.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok(ClassLine {
            class_id: r.get("id")?,
            class_type: r.parse("class_type")?,
            facility_id: r.get("facility_id")?,
            facility_name: r.get("name")?,
            enrolled: r.get("enrolled")?,
            present: r.get("present")?,
            attended: r.get("attended")?,
            outdoor_minutes: r.get("outdoor")?,
        })
    })
    .collect()
}

/// A child's day as its parent reads it (每日报告): the family (names in
/// full) or the institution (masked).
pub fn report(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<DailyReport> {
    let full =
        child_side(conn, scope, infant_id, today)?.ok_or_else(|| not_found("child", infant_id))?;
    if day > today + Duration::days(366) || day < today - Duration::days(3660) {
        return Err(invalid("day", "within ten years back and a year ahead"));
    }
    let name: String = conn
        .query_opt("SELECT name FROM person WHERE id = $1", &[infant_id.into()])?
        .map(|r| r.get("name"))
        .transpose()?
        .ok_or_else(|| not_found("child", infant_id))?;
    let enr = conn.query_opt(
        &format!(
            "SELECT e.id, e.class_id, f.name AS facility_name, c.class_type FROM enrolment e \
             JOIN facility f ON f.id = e.facility_id LEFT JOIN childcare_class c ON c.id = e.class_id \
             WHERE e.infant_id = $1 AND {ENROLLED_ON} ORDER BY e.start_date DESC LIMIT 1"
        ),
        &[infant_id.into(), day.to_string().into()],
    )?;
    let (facility_name, class_type, class_id) = match &enr {
        Some(r) => (
            r.get::<String>("facility_name")?,
            r.parse_opt::<ClassType>("class_type")?,
            r.get::<Option<String>>("class_id")?,
        ),
        None => (String::new(), None, None),
    };
    let a = conn.query_opt(
        &format!(
            "SELECT {ATT_COLS} FROM childcare_attendance a WHERE a.infant_id = $1 AND a.day = $2"
        ),
        &[infant_id.into(), day.to_string().into()],
    )?;
    let events = conn
        .query(
            &format!(
                "SELECT {EVENT_COLS} FROM childcare_day_event v LEFT JOIN person p ON p.id = v.infant_id \
                 WHERE v.infant_id = $1 AND v.day = $2 ORDER BY v.at, v.id LIMIT 200"
            ),
            &[infant_id.into(), day.to_string().into()],
        )?
        .iter()
        .map(|r| event_view(r, full))
        .collect::<Result<Vec<_>>>()?;
    let outdoor_minutes = match &class_id {
        Some(c) => conn.query_i64(
            "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM childcare_day_event WHERE class_id = $1 AND day = $2 \
             AND kind = 'outdoor'",
            &[c.as_str().into(), day.to_string().into()],
        )?,
        None => 0,
    };
    let (outdoor_required, _) = param("day.outdoor_minutes", day)?;
    let refusals = refusals_where(
        conn,
        "r.infant_id = $1 AND r.day = $2",
        &[infant_id.into(), day.to_string().into()],
        full,
    )?;
    let get = |col: &str| -> Result<Option<String>> {
        match &a {
            Some(r) => r.get(col),
            None => Ok(None),
        }
    };
    let (dropped, collected) = (get("check_in_pickup")?, get("check_out_pickup")?);
    let by_kind = |k: DayEventKind| {
        events
            .iter()
            .filter(|e| e.kind == k)
            .cloned()
            .collect::<Vec<_>>()
    };
    Ok(DailyReport {
        infant_id: infant_id.to_string(),
        infant_name: if full { name } else { mask_name(&name) },
        facility_name,
        class_type,
        day,
        status: get("status")?.and_then(|s| AttendanceStatus::parse(&s)),
        check_in_at: get("check_in_at")?,
        dropped_off_by: pickup_label(conn, dropped, full)?,
        check_out_at: get("check_out_at")?,
        collected_by: pickup_label(conn, collected, full)?,
        temperature_tenths: match &a {
            Some(r) => r
                .get::<Option<i64>>("temperature_tenths")?
                .and_then(|t| i32::try_from(t).ok()),
            None => None,
        },
        morning_check: get("morning_check")?.and_then(|s| HealthCheck::parse(&s)),
        morning_note: get("morning_note")?,
        midday_check: get("midday_check")?.and_then(|s| HealthCheck::parse(&s)),
        midday_note: get("midday_note")?,
        absence_reason: get("absence_reason")?.and_then(|s| AbsenceReason::parse(&s)),
        absence_note: get("absence_note")?,
        meals: by_kind(DayEventKind::Meal),
        naps: by_kind(DayEventKind::Nap),
        incidents: by_kind(DayEventKind::Incident),
        outdoor_minutes,
        outdoor_required,
        refusals,
    })
}

// ---------------------------------------------------------------- worklist

/// The day's lines: for the institution, its classes short of outdoor time
/// on the last 7 days, refused handovers and serious incidents of the last 7
/// days; for a family, refused handovers of its children.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    let week = (today - Duration::days(7)).to_string();
    if scope.is_family() {
        let ids = family::verified_ids(conn, scope, PersonRole::Infant)?;
        let mut n = 0;
        for id in ids.iter().take(20) {
            n += conn.query_i64(
                "SELECT COUNT(*) FROM childcare_handover_refusal WHERE infant_id = $1 AND day >= $2",
                &[id.as_str().into(), week.as_str().into()],
            )?;
        }
        return Ok(vec![
            WorkItem::new(
                "childcare_handover_refused",
                "近7天有人接送孩子被拒绝（非授权接送人）",
                "Someone not authorised tried to drop off or collect your child in the last 7 days",
                n,
                "/console/family",
            )
            .urgent(),
        ]);
    }
    if !scope.can(Perm::RecordChildcareDay) || scope.facility().is_none() {
        return Ok(Vec::new());
    }
    let Some(f) = scope.facility() else {
        return Ok(Vec::new());
    };
    let (required, _) = param("day.outdoor_minutes", today)?;
    // Classes with children who came and less outdoor time than the minimum,
    // on the days before today.
    let short = conn.query_i64(
        "SELECT COUNT(*) FROM (SELECT a.class_id, a.day FROM childcare_attendance a \
         WHERE a.facility_id = $1 AND a.day >= $2 AND a.day < $3 AND a.status IN ('present', 'left') \
         AND a.class_id IS NOT NULL GROUP BY a.class_id, a.day \
         HAVING (SELECT CAST(COALESCE(SUM(v.minutes), 0) AS BIGINT) FROM childcare_day_event v WHERE v.class_id = a.class_id \
         AND v.day = a.day AND v.kind = 'outdoor') < $4) s",
        &[f.into(), week.as_str().into(), today.to_string().into(), required.into()],
    )?;
    let refused = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_handover_refusal WHERE facility_id = $1 AND day >= $2",
        &[f.into(), week.as_str().into()],
    )?;
    let serious = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_day_event WHERE facility_id = $1 AND day >= $2 AND kind = 'incident' \
         AND severity = 'serious'",
        &[f.into(), week.as_str().into()],
    )?;
    let url = "/console/childcare/day";
    Ok(vec![
        WorkItem::new(
            "childcare_outdoor_short",
            "近7天户外活动不足2小时的班级日（管理规范第十八条）",
            "Class days of the last 7 with less than 2 hours outdoors (art. 18)",
            short,
            url,
        )
        .urgent(),
        WorkItem::new(
            "childcare_handover_refusals",
            "近7天拒绝交接（非授权接送人）",
            "Handovers refused in the last 7 days (person not authorised)",
            refused,
            url,
        )
        .urgent(),
        WorkItem::new(
            "childcare_serious_incidents",
            "近7天严重意外事件",
            "Serious incidents in the last 7 days",
            serious,
            url,
        )
        .urgent(),
    ])
}

// ---------------------------------------------------------------- demo

/// The demo's authorised people: each child enrolled now gets its guardian
/// from the infants register (监护人) as a parent, when it has none yet.
/// One statement, so it costs little at scale 1. Returns the rows added.
pub fn seed_pickups(conn: &mut Conn, today: NaiveDate) -> Result<u64> {
    let now = now_rfc3339();
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO childcare_pickup (id, infant_id, name, relation, phone, added_side, added_by, added_at) \
             SELECT 'PU-' || e.id, e.infant_id, p.guardian_name, 'parent', p.guardian_phone, 'institution', \
             'demo', $2 FROM enrolment e JOIN person p ON p.id = e.infant_id \
             WHERE e.deleted_at IS NULL AND e.start_date <= $1 AND (e.end_date IS NULL OR e.end_date >= $1) \
             AND p.guardian_name IS NOT NULL AND p.guardian_name <> '' \
             AND NOT EXISTS (SELECT 1 FROM childcare_pickup u WHERE u.infant_id = e.infant_id)",
            &[today.to_string().into(), now.as_str().into()],
        )
    })
}

/// The demo's morning at one institution: each child enrolled there today is
/// checked in by its first authorised person (36.5 °C, normal) and each class
/// has had an hour outdoors, so the day page has something to show. Does
/// nothing when the day has begun. Returns the children checked in.
pub fn seed_demo_day(conn: &mut Conn, facility_id: &str, now: NaiveDateTime) -> Result<usize> {
    let day = now.date();
    let begun = conn.query_i64(
        "SELECT COUNT(*) FROM childcare_attendance WHERE facility_id = $1 AND day = $2",
        &[facility_id.into(), day.to_string().into()],
    )?;
    if begun > 0 {
        return Ok(0);
    }
    let rows = conn.query(
        "SELECT e.id, e.class_id, (SELECT MIN(u.id) FROM childcare_pickup u WHERE u.infant_id = e.infant_id          AND u.revoked_at IS NULL) AS pickup FROM enrolment e WHERE e.facility_id = $1 AND e.deleted_at IS NULL          AND e.start_date <= $2 AND (e.end_date IS NULL OR e.end_date >= $2) ORDER BY e.id LIMIT 200",
        &[facility_id.into(), day.to_string().into()],
    )?;
    let scope = Scope::system("childcare");
    let arrival = now
        .date()
        .and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default())
        .min(now);
    let mut n = 0;
    let mut classes = std::collections::BTreeSet::new();
    for (i, r) in rows.iter().enumerate() {
        let (id, pickup): (String, Option<String>) = (r.get("id")?, r.get("pickup")?);
        let Some(pickup) = pickup else { continue };
        // One child in eight stays at home today.
        if i % 8 == 7 {
            continue;
        }
        let input = CheckInInput {
            pickup_id: Some(pickup),
            at: Some(arrival.time()),
            temperature_tenths: Some(365),
            morning_check: Some(HealthCheck::Normal),
            ..CheckInInput::default()
        };
        match check_in(conn, &scope, &id, &input, now) {
            Ok(_) => n += 1,
            // A child back after a long absence waits for its recheck.
            Err(StoreError::Invalid(_)) => continue,
            Err(e) => return Err(e),
        }
        if let Some(c) = r.get::<Option<String>>("class_id")? {
            classes.insert(c);
        }
    }
    for c in classes {
        let outdoor = EventInput {
            kind: Some(DayEventKind::Outdoor),
            minutes: Some(60),
            at: Some(arrival.time()),
            ..EventInput::default()
        };
        record_event(conn, &scope, &c, day, &outdoor, now)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked_to_the_last_four() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn the_outdoor_minimum_is_two_hours_from_the_standard() {
        let (m, clause) = param(
            "day.outdoor_minutes",
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
        )
        .expect("parameter");
        assert_eq!(m, 120);
        assert!(clause.contains("第十八条"), "{clause}");
    }

    #[test]
    fn a_future_time_today_is_refused() {
        let now = NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("time");
        let later = NaiveTime::from_hms_opt(10, 0, 0);
        assert!(time_or_now(later, now.date(), now).is_err());
        assert_eq!(
            time_or_now(None, now.date(), now).ok(),
            Some("09:00".to_string())
        );
        let yesterday = now.date() - Duration::days(1);
        assert!(time_or_now(None, yesterday, now).is_err());
        assert_eq!(
            time_or_now(later, yesterday, now).ok(),
            Some("10:00".to_string())
        );
    }
}
