//! Care-home admission by priority (养老机构入住轮候): applications (入住申请)
//! of an elderly person to one or more care homes, each home's waiting list
//! (轮候名单) ranked by `laoxiao_rules::admission` from the registers at the
//! moment of reading, offers of a free bed (入住通知) with a deadline, admission
//! (入住: the `residence` record), and discharge (退住) that frees the bed.
//!
//! States: `waiting → offered → admitted | declined | lapsed`, and
//! `waiting | offered → withdrawn | cancelled`. Every step is one transaction
//! with its audit entry. Steps that change a home's beds (offer, accept,
//! decline, lapse, discharge) first update the home's `admission_home` row,
//! so two staff acting on one home at once take turns; a step on one
//! application is a conditional update on its state, so of two staff
//! accepting the same offer only one succeeds (the other gets a conflict).
//!
//! Who sees what: a care home's operator its own home's applications; staff
//! the applications to homes in their area and those of people living in
//! their area. Names are always masked here (the person's own record shows
//! them, audited).

use chrono::{NaiveDate, NaiveDateTime};
use laoxiao_model::FieldError;
use laoxiao_model::Residence;
use laoxiao_model::person::{AbilityLevel, SpecialDifficulty, mask_name};
use laoxiao_model::person::{PersonRole, age_on};
use laoxiao_rules::admission::{AdmissionRules, Applicant, Rulebook, rank};
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::worklist::WorkItem;
use crate::{activity, audit, now_rfc3339, path_upper};

/// Longest note or reason, in characters.
pub const MAX_NOTE: usize = 500;
/// Most homes one application names at once.
pub const MAX_HOMES: usize = 5;
/// Most rows a list answers.
pub const MAX_LIST: usize = 500;
/// Offers this many days or fewer from their deadline are urgent on the worklist.
pub const URGENT_DAYS: i64 = 2;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    /// 轮候中
    Waiting,
    /// 已通知入住 (a bed is held until the deadline)
    Offered,
    /// 已入住
    Admitted,
    /// 已放弃 (the applicant refused the offer)
    Declined,
    /// 逾期失效 (the offer's deadline passed)
    Lapsed,
    /// 已撤回 (the applicant's side withdrew)
    Withdrawn,
    /// 已取消 (the home or staff closed it: admitted elsewhere, died, moved out)
    Cancelled,
}

impl AppStatus {
    pub const ALL: [AppStatus; 7] = [
        AppStatus::Waiting,
        AppStatus::Offered,
        AppStatus::Admitted,
        AppStatus::Declined,
        AppStatus::Lapsed,
        AppStatus::Withdrawn,
        AppStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AppStatus::Waiting => "waiting",
            AppStatus::Offered => "offered",
            AppStatus::Admitted => "admitted",
            AppStatus::Declined => "declined",
            AppStatus::Lapsed => "lapsed",
            AppStatus::Withdrawn => "withdrawn",
            AppStatus::Cancelled => "cancelled",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            AppStatus::Waiting => "轮候中",
            AppStatus::Offered => "已通知入住",
            AppStatus::Admitted => "已入住",
            AppStatus::Declined => "已放弃",
            AppStatus::Lapsed => "逾期失效",
            AppStatus::Withdrawn => "已撤回",
            AppStatus::Cancelled => "已取消",
        }
    }

    pub fn parse(s: &str) -> Option<AppStatus> {
        AppStatus::ALL.into_iter().find(|x| x.code() == s)
    }

    /// Still open (waiting or offered).
    pub fn is_open(self) -> bool {
        matches!(self, AppStatus::Waiting | AppStatus::Offered)
    }
}

/// Who made the application: staff for the person, or a relative (the family
/// route comes later; the store already records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Staff,
    Family,
}

impl ApplicantKind {
    pub fn code(self) -> &'static str {
        match self {
            ApplicantKind::Staff => "staff",
            ApplicantKind::Family => "family",
        }
    }
    pub fn parse(s: &str) -> Option<ApplicantKind> {
        [ApplicantKind::Staff, ApplicantKind::Family]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

/// An application as a caller sees it: the name masked, the position and its
/// explanation computed on reading (waiting applications only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub id: String,
    pub person_id: String,
    pub person_name_masked: String,
    pub age: Option<i32>,
    pub facility_id: String,
    pub facility_name: String,
    pub applicant_kind: ApplicantKind,
    pub status: AppStatus,
    pub note: Option<String>,
    pub applied_by: String,
    pub applied_at: String,
    pub applied_date: NaiveDate,
    pub wait_days: i64,
    pub offered_date: Option<NaiveDate>,
    pub offer_deadline: Option<NaiveDate>,
    pub closed_date: Option<NaiveDate>,
    pub close_reason: Option<String>,
    pub residence_id: Option<String>,
    /// Position on the home's waiting list (waiting applications only).
    pub position: Option<u32>,
    pub class_rank: Option<u8>,
    pub explanation_zh: Option<String>,
    pub explanation_en: Option<String>,
}

/// A home's waiting list with its beds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingList {
    pub facility_id: String,
    pub facility_name: String,
    pub beds: i64,
    pub occupied: i64,
    pub open_offers: i64,
    /// beds − occupied − open offers (never below 0).
    pub free_beds: i64,
    /// Open offers first, then the waiting in order, then the waiting who are
    /// not eligible today.
    pub lines: Vec<Application>,
    pub rules_clause: String,
    pub offer_days: i64,
}

/// Filters of the application list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub facility_id: Option<String>,
    /// A county's code (6 digits).
    pub county: Option<String>,
    pub status: Option<AppStatus>,
}

/// What to apply for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyInput {
    pub person_id: String,
    pub facility_ids: Vec<String>,
    pub kind: ApplicantKind,
    pub note: Option<String>,
}

const COLS: &str = "a.id, a.person_id, a.facility_id, a.home_path, a.person_path, a.applicant_kind, \
    a.status, a.note, a.applied_by, a.applied_at, a.applied_date, a.offered_date, a.offer_deadline, \
    a.closed_date, a.close_reason, a.residence_id, p.name AS person_name, p.birth_date, \
    p.ability_level, p.special_difficulty, p.role AS person_role, p.status AS person_status, \
    p.deleted_at AS person_deleted_at, f.name AS facility_name";

const FROM: &str = "admission_application a JOIN person p ON p.id = a.person_id \
    JOIN facility f ON f.id = a.facility_id";

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "admission application",
        id: id.to_string(),
    }
}

fn rules_on(day: NaiveDate) -> Result<AdmissionRules> {
    let book = Rulebook::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
    Ok(book.on(day).clone())
}

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

/// The scope's condition on an application (` AND …`): the operator's home;
/// staff: the home's area or the person's area in their subtree.
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
                " AND a.home_path >= ${lo} AND a.home_path < ${hi}"
            ));
        } else {
            w.push_str(&format!(
                " AND ((a.home_path >= ${lo} AND a.home_path < ${hi}) OR (a.person_path >= ${lo} AND a.person_path < ${hi}))"
            ));
        }
    }
}

/// The home's side: its operator, or staff whose area holds the home.
fn home_side(scope: &Scope, r: &Row) -> Result<bool> {
    Ok(scope.contains_facility(
        &r.get::<String>("facility_id")?,
        &r.get::<String>("home_path")?,
    ))
}

/// The applicant's side: staff (not an operator) whose area holds the person.
fn person_side(scope: &Scope, r: &Row) -> Result<bool> {
    Ok(scope.facility().is_none() && scope.contains_path(&r.get::<String>("person_path")?))
}

fn categories(raw: Option<String>) -> Vec<SpecialDifficulty> {
    raw.unwrap_or_default()
        .split(';')
        .filter_map(SpecialDifficulty::parse)
        .collect()
}

fn ability(n: Option<i64>) -> Option<AbilityLevel> {
    n.and_then(|n| AbilityLevel::parse(&n.to_string()))
}

fn parse_at(s: &str) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

fn view(r: &Row, today: NaiveDate) -> Result<Application> {
    let status: String = r.get("status")?;
    let status = AppStatus::parse(&status)
        .ok_or_else(|| StoreError::Database(format!("column status: bad value {status:?}")))?;
    let kind: String = r.get("applicant_kind")?;
    let applied_date: NaiveDate = r.get("applied_date")?;
    let end = r.get::<Option<NaiveDate>>("closed_date")?.unwrap_or(today);
    let birth: NaiveDate = r.get("birth_date")?;
    Ok(Application {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        person_name_masked: mask_name(&r.get::<String>("person_name")?),
        age: Some(age_on(birth, today)),
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        applicant_kind: ApplicantKind::parse(&kind).unwrap_or(ApplicantKind::Staff),
        status,
        note: r.get("note")?,
        applied_by: r.get("applied_by")?,
        applied_at: r.get("applied_at")?,
        applied_date,
        wait_days: (end - applied_date).num_days().max(0),
        offered_date: r.get("offered_date")?,
        offer_deadline: r.get("offer_deadline")?,
        closed_date: r.get("closed_date")?,
        close_reason: r.get("close_reason")?,
        residence_id: r.get("residence_id")?,
        position: None,
        class_rank: None,
        explanation_zh: None,
        explanation_en: None,
    })
}

fn applicant(r: &Row, in_care_home: bool) -> Result<Applicant> {
    Ok(Applicant {
        key: r.get("id")?,
        birth_date: r.get("birth_date")?,
        ability: ability(r.get("ability_level")?),
        categories: categories(r.get("special_difficulty")?),
        applied_at: parse_at(&r.get::<String>("applied_at")?),
        active_elderly: r.get::<String>("person_role")? == "elderly"
            && r.get::<String>("person_status")? == "active"
            && r.get::<Option<String>>("person_deleted_at")?.is_none(),
        in_care_home,
    })
}

/// People among `ids` living in a care home on `day`.
fn in_care_homes(conn: &mut Conn, person_ids: &[String], day: NaiveDate) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let d = day.to_string();
    for chunk in person_ids.chunks(200) {
        let mut p: Vec<Value> = vec![d.as_str().into()];
        let mut marks = Vec::new();
        for id in chunk {
            p.push(id.as_str().into());
            marks.push(format!("${}", p.len()));
        }
        let rows = conn.query(
            &format!(
                "SELECT DISTINCT person_id FROM residence WHERE deleted_at IS NULL AND admitted_date <= $1 \
                 AND (discharged_date IS NULL OR discharged_date > $1) AND person_id IN ({})",
                marks.join(", ")
            ),
            &p,
        )?;
        for r in rows {
            out.push(r.get("person_id")?);
        }
    }
    Ok(out)
}

/// Marks offers past their deadline `lapsed` (audited as the system) and, for
/// each home that had one, offers the bed to the next applicant. Called before
/// every read and step, so no clock job is needed (the CLI can run it too).
pub fn lapse_overdue(conn: &mut Conn, today: NaiveDate) -> Result<usize> {
    // A read first: pages call this on every view, and most days nothing is
    // overdue, so no write lock is taken for nothing.
    let due = conn.query_i64(
        "SELECT COUNT(*) FROM admission_application WHERE status = 'offered' AND offer_deadline < $1",
        &[today.to_string().into()],
    )?;
    if due == 0 {
        return Ok(0);
    }
    conn.transaction(|c| {
        let rows = c.query(
            "SELECT id, facility_id FROM admission_application WHERE status = 'offered' \
             AND offer_deadline < $1 ORDER BY id",
            &[today.to_string().into()],
        )?;
        let sys = Scope::system("admission-lapse");
        let mut homes: Vec<String> = Vec::new();
        let mut n = 0;
        for r in &rows {
            let id: String = r.get("id")?;
            let home: String = r.get("facility_id")?;
            lock_home(c, &home)?;
            let k = c.execute(
                "UPDATE admission_application SET status = 'lapsed', closed_by = $1, closed_date = $2, \
                 close_reason = $3 WHERE id = $4 AND status = 'offered'",
                &[
                    "system".into(),
                    today.to_string().into(),
                    "offer deadline passed".into(),
                    id.as_str().into(),
                ],
            )?;
            if k > 0 {
                n += 1;
                audit::append(c, &sys, event("admission_lapse", &id, None))?;
                if !homes.contains(&home) {
                    homes.push(home);
                }
            }
        }
        for h in homes {
            offer_next_in(c, &sys, &h, today)?;
        }
        Ok(n)
    })
}

fn event<'a>(action: &'a str, id: &'a str, after: Option<serde_json::Value>) -> audit::Event<'a> {
    audit::Event {
        action,
        entity: "admission_application",
        entity_id: Some(id),
        before: None,
        after: after.map(|v| v.to_string()),
    }
}

/// Takes the home's turn: every step that changes its beds updates this row
/// first, so such steps on one home run one after the other.
fn lock_home(conn: &mut Conn, facility_id: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO admission_home (facility_id, offers, updated_at) VALUES ($1, 0, $2) \
         ON CONFLICT (facility_id) DO UPDATE SET updated_at = excluded.updated_at",
        &[facility_id.into(), now_rfc3339().into()],
    )?;
    Ok(())
}

/// A live care home (kind elderly_institution): its name, path and beds.
fn home(conn: &mut Conn, facility_id: &str) -> Result<Option<(String, String, i64)>> {
    let r = conn.query_opt(
        "SELECT name, area_path, beds FROM facility WHERE id = $1 AND kind = 'elderly_institution' \
         AND deleted_at IS NULL",
        &[facility_id.into()],
    )?;
    r.map(|r| {
        Ok((
            r.get("name")?,
            r.get("area_path")?,
            r.get::<Option<i64>>("beds")?.unwrap_or(0),
        ))
    })
    .transpose()
}

/// Applies for a person to one or more care homes: one application per home.
/// The person must be an elderly person of the caller's area (the applicant's
/// side; an operator cannot apply), eligible today, and not already waiting
/// for that home. One transaction with its audit entries.
pub fn apply(
    conn: &mut Conn,
    scope: &Scope,
    input: &ApplyInput,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::ManageAdmissions)?;
    if scope.facility().is_some() {
        // Judged like any other bad field: operators see no people to apply for.
        return Err(invalid(
            "person_id",
            "care-home operators do not apply for people; the person's village or town does",
        ));
    }
    apply_in(conn, scope, input, today, &|path| scope.contains_path(path))
}

/// A family account applies for a verified relative (子女为父母申请入住):
/// the same rules as staff, the application marked `family`. Not found
/// unless the person is the caller's verified relative. `OrderServices`.
pub fn family_apply(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
    facility_ids: &[String],
    note: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::OrderServices)?;
    let person_id = person_id.trim();
    if !crate::family::is_verified_relative(conn, scope, person_id, PersonRole::Elderly)? {
        return Err(crate::family::person_not_found(person_id));
    }
    let input = ApplyInput {
        person_id: person_id.to_string(),
        facility_ids: facility_ids.to_vec(),
        kind: ApplicantKind::Family,
        note: note.map(str::to_string),
    };
    // The link was checked above; the person's area does not matter.
    apply_in(conn, scope, &input, today, &|_| true)
}

/// The applications of the calling family's verified relatives (newest
/// first, at most 50 per relative), positions explained while waiting.
pub fn family_applications(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::OrderServices)?;
    lapse_overdue(conn, today)?;
    let mut out = Vec::new();
    for pid in crate::family::verified_ids(conn, scope, PersonRole::Elderly)? {
        let rows = conn.query(
            &format!(
                "SELECT {COLS} FROM {FROM} WHERE a.person_id = $1 \
                 ORDER BY a.applied_at DESC, a.id LIMIT 50"
            ),
            &[pid.as_str().into()],
        )?;
        for r in &rows {
            out.push(describe(conn, r, today)?);
        }
    }
    Ok(out)
}

/// The care homes of a verified relative's county, to apply to, with beds
/// and waiting counts. Not found unless the person is the caller's verified
/// relative. `OrderServices`.
pub fn family_homes(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
    today: NaiveDate,
) -> Result<Vec<HomeLine>> {
    scope.require(Perm::OrderServices)?;
    let path = crate::family::relative_path(conn, scope, person_id.trim(), PersonRole::Elderly)?
        .ok_or_else(|| crate::family::person_not_found(person_id))?;
    // A county's path is its first two levels: "/330400/330402/".
    let county: String = path.split('/').take(3).collect::<Vec<_>>().join("/") + "/";
    let w = "f.kind = 'elderly_institution' AND f.deleted_at IS NULL \
             AND f.area_path >= $1 AND f.area_path < $2";
    let p: Vec<Value> = vec![county.as_str().into(), path_upper(&county).into()];
    home_lines(conn, w, p, today)
}

/// Steps a family may take on a relative's application: accept or decline
/// an offer, or withdraw. Not found unless the application's person is the
/// caller's verified relative. `OrderServices`.
pub fn family_step(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    step: Step,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::OrderServices)?;
    if step == Step::Cancel {
        return Err(StoreError::Conflict(
            "only the care home's side may cancel an application".into(),
        ));
    }
    step_in(conn, scope, id, step, reason, today, &|c, r| {
        let pid: String = r.get("person_id")?;
        Ok((
            false,
            crate::family::is_verified_relative(c, scope, &pid, PersonRole::Elderly)?,
        ))
    })
}

fn apply_in(
    conn: &mut Conn,
    scope: &Scope,
    input: &ApplyInput,
    today: NaiveDate,
    visible: &dyn Fn(&str) -> bool,
) -> Result<Vec<Application>> {
    let note = crate::text::optional("note", input.note.as_deref(), MAX_NOTE)?;
    let mut homes: Vec<String> = Vec::new();
    for f in &input.facility_ids {
        let f = f.trim().to_string();
        if !f.is_empty() && !homes.contains(&f) {
            homes.push(f);
        }
    }
    if homes.is_empty() {
        return Err(invalid("facility_ids", "choose at least one care home"));
    }
    if homes.len() > MAX_HOMES {
        return Err(invalid(
            "facility_ids",
            format!("at most {MAX_HOMES} care homes"),
        ));
    }
    conn.transaction(|c| {
        let person = c
            .query_opt(
                "SELECT id, area_path, role, status, birth_date, ability_level, special_difficulty \
                 FROM person WHERE id = $1 AND deleted_at IS NULL",
                &[input.person_id.trim().into()],
            )?
            .filter(|r| r.get::<String>("area_path").is_ok_and(|p| visible(&p)))
            .ok_or_else(|| StoreError::NotFound {
                what: "person",
                id: input.person_id.clone(),
            })?;
        let person_id: String = person.get("id")?;
        let person_path: String = person.get("area_path")?;
        let rules = rules_on(today)?;
        let in_home = !in_care_homes(c, std::slice::from_ref(&person_id), today)?.is_empty();
        let a = Applicant {
            key: String::new(),
            birth_date: person.get("birth_date")?,
            ability: ability(person.get("ability_level")?),
            categories: categories(person.get("special_difficulty")?),
            applied_at: NaiveDateTime::default(),
            active_elderly: person.get::<String>("role")? == "elderly"
                && person.get::<String>("status")? == "active",
            in_care_home: in_home,
        };
        let why = laoxiao_rules::admission::eligibility(&rules, &a, today);
        if !why.is_empty() {
            let words: Vec<&str> = why.iter().map(|w| w.en()).collect();
            return Err(invalid("person_id", format!("not eligible: {}", words.join("; "))));
        }
        let mut ids = Vec::new();
        for (i, f) in homes.iter().enumerate() {
            let field = format!("facility_ids[{i}]");
            let Some((_, home_path, _)) = home(c, f)? else {
                return Err(invalid(&field, "no such care home"));
            };
            let open = c.query_i64(
                "SELECT COUNT(*) FROM admission_application WHERE person_id = $1 AND facility_id = $2 \
                 AND status IN ('waiting', 'offered')",
                &[person_id.as_str().into(), f.as_str().into()],
            )?;
            if open > 0 {
                return Err(StoreError::Conflict(format!(
                    "an application of this person to care home {f} is open already"
                )));
            }
            let id = format!("ADM-{}", crate::crypto::random_hex(8));
            c.execute(
                "INSERT INTO admission_application (id, person_id, facility_id, home_path, person_path, \
                 applicant_kind, status, note, applied_by, applied_at, applied_date) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $8, $9, $10)",
                &[
                    id.as_str().into(),
                    person_id.as_str().into(),
                    f.as_str().into(),
                    home_path.into(),
                    person_path.as_str().into(),
                    input.kind.code().into(),
                    note.clone().into(),
                    scope.actor.user.as_str().into(),
                    now_rfc3339().into(),
                    today.to_string().into(),
                ],
            )?;
            audit::append(
                c,
                scope,
                event(
                    "admission_apply",
                    &id,
                    Some(serde_json::json!({"person_id": person_id, "facility_id": f, "kind": input.kind.code()})),
                ),
            )?;
            ids.push(id);
        }
        // The person was found visible above; the caller may not see the home.
        let sys = Scope::system(&scope.actor.user);
        let mut out = Vec::new();
        for id in ids {
            out.push(get_in(c, &sys, &id, today)?);
        }
        Ok(out)
    })
}

fn row(conn: &mut Conn, id: &str) -> Result<Option<Row>> {
    conn.query_opt(
        &format!("SELECT {COLS} FROM {FROM} WHERE a.id = $1"),
        &[id.into()],
    )
}

/// One application in the caller's view (otherwise not found), with its
/// position on the home's list when waiting.
pub fn get(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Application> {
    scope.require(Perm::ManageAdmissions)?;
    lapse_overdue(conn, today)?;
    get_in(conn, scope, id, today)
}

fn get_in(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Application> {
    let r = row(conn, id)?.ok_or_else(|| not_found(id))?;
    if !(home_side(scope, &r)? || person_side(scope, &r)?) {
        return Err(not_found(id));
    }
    describe(conn, &r, today)
}

/// An application's view with its position explained while waiting.
fn describe(conn: &mut Conn, r: &Row, today: NaiveDate) -> Result<Application> {
    let mut a = view(r, today)?;
    if a.status == AppStatus::Waiting {
        let ranked = ranked_home(conn, &a.facility_id, today)?;
        if let Some(x) = ranked.into_iter().find(|x| x.id == a.id) {
            a.position = x.position;
            a.class_rank = x.class_rank;
            a.explanation_zh = x.explanation_zh;
            a.explanation_en = x.explanation_en;
        }
    }
    Ok(a)
}

/// A home's open applications: offers first (by deadline), then the waiting
/// ranked, then the waiting who are not eligible today.
fn ranked_home(conn: &mut Conn, facility_id: &str, today: NaiveDate) -> Result<Vec<Application>> {
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE a.facility_id = $1 AND a.status IN ('waiting', 'offered') \
             ORDER BY a.id"
        ),
        &[facility_id.into()],
    )?;
    let persons: Vec<String> = rows
        .iter()
        .map(|r| r.get("person_id"))
        .collect::<Result<_>>()?;
    let housed = in_care_homes(conn, &persons, today)?;
    let rules = rules_on(today)?;
    let mut offered = Vec::new();
    let mut waiting = Vec::new();
    let mut apps = Vec::new();
    for r in &rows {
        let v = view(r, today)?;
        if v.status == AppStatus::Offered {
            offered.push(v);
        } else {
            let pid: String = r.get("person_id")?;
            apps.push(applicant(r, housed.contains(&pid))?);
            waiting.push(v);
        }
    }
    offered.sort_by_key(|a| (a.offer_deadline, a.id.clone()));
    let mut out = offered;
    for x in rank(&rules, &apps, today) {
        if let Some(mut v) = waiting.iter().find(|w| w.id == x.key).cloned() {
            v.position = x.position;
            v.class_rank = x.class_rank;
            v.explanation_zh = Some(x.explanation_zh);
            v.explanation_en = Some(x.explanation_en);
            out.push(v);
        }
    }
    Ok(out)
}

/// Beds, occupied beds (active residences) and open offers of a home.
fn beds(
    conn: &mut Conn,
    facility_id: &str,
    beds: i64,
    today: NaiveDate,
) -> Result<(i64, i64, i64)> {
    let occupied = conn.query_i64(
        "SELECT COUNT(*) FROM residence WHERE facility_id = $1 AND deleted_at IS NULL \
         AND admitted_date <= $2 AND (discharged_date IS NULL OR discharged_date > $2)",
        &[facility_id.into(), today.to_string().into()],
    )?;
    let offers = conn.query_i64(
        "SELECT COUNT(*) FROM admission_application WHERE facility_id = $1 AND status = 'offered'",
        &[facility_id.into()],
    )?;
    Ok((beds, occupied, offers))
}

/// The waiting list of a home in the caller's view: its operator, or staff
/// whose area holds the home.
pub fn waiting_list(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<WaitingList> {
    scope.require(Perm::ManageAdmissions)?;
    lapse_overdue(conn, today)?;
    let (name, _path, total) = home(conn, facility_id)?
        .filter(|(_, p, _)| scope.contains_facility(facility_id, p))
        .ok_or_else(|| StoreError::NotFound {
            what: "care home",
            id: facility_id.to_string(),
        })?;
    let (beds, occupied, open_offers) = beds(conn, facility_id, total, today)?;
    let rules = rules_on(today)?;
    Ok(WaitingList {
        facility_id: facility_id.to_string(),
        facility_name: name,
        beds,
        occupied,
        open_offers,
        free_beds: (beds - occupied - open_offers).max(0),
        lines: ranked_home(conn, facility_id, today)?,
        rules_clause: rules.clause,
        offer_days: rules.offer_days,
    })
}

/// Lists applications in the caller's view (newest first, at most
/// [`MAX_LIST`]). Positions are not computed here (the waiting list has them).
pub fn list(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<Vec<Application>> {
    scope.require(Perm::ManageAdmissions)?;
    lapse_overdue(conn, today)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    push_visible(scope, &mut w, &mut p);
    if let Some(f) = &q.facility_id {
        p.push(f.as_str().into());
        w.push_str(&format!(" AND a.facility_id = ${}", p.len()));
    }
    if let Some(c) = &q.county {
        if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("county", "a county code has 6 digits"));
        }
        let lo = format!("/330400/{c}/");
        p.push(path_upper(&lo).into());
        p.push(lo.into());
        w.push_str(&format!(
            " AND a.home_path >= ${} AND a.home_path < ${}",
            p.len(),
            p.len() - 1
        ));
    }
    if let Some(s) = q.status {
        p.push(s.code().into());
        w.push_str(&format!(" AND a.status = ${}", p.len()));
    }
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE {w} ORDER BY a.applied_at DESC, a.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?;
    rows.iter().map(|r| view(r, today)).collect()
}

/// Offers a free bed of the home to the first eligible waiting applicant
/// (the home's side). `None` when no bed is free or nobody eligible waits.
/// One transaction with its audit entry.
pub fn offer_next(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<Option<Application>> {
    scope.require(Perm::ManageAdmissions)?;
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let Some((_, path, _)) = home(c, facility_id)? else {
            return Err(StoreError::NotFound {
                what: "care home",
                id: facility_id.to_string(),
            });
        };
        if !scope.contains_facility(facility_id, &path) {
            return Err(StoreError::NotFound {
                what: "care home",
                id: facility_id.to_string(),
            });
        }
        let id = offer_next_in(c, scope, facility_id, today)?;
        id.map(|id| get_in(c, scope, &id, today)).transpose()
    })
}

fn offer_next_in(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<Option<String>> {
    lock_home(conn, facility_id)?;
    let Some((_, _, total)) = home(conn, facility_id)? else {
        return Ok(None);
    };
    let (beds, occupied, offers) = beds(conn, facility_id, total, today)?;
    if beds - occupied - offers <= 0 {
        return Ok(None);
    }
    let rules = rules_on(today)?;
    let Some(first) = ranked_home(conn, facility_id, today)?
        .into_iter()
        .find(|a| a.status == AppStatus::Waiting && a.position == Some(1))
    else {
        return Ok(None);
    };
    let deadline = today + chrono::Duration::days(rules.offer_days);
    let n = conn.execute(
        "UPDATE admission_application SET status = 'offered', offered_by = $1, offered_date = $2, \
         offer_deadline = $3 WHERE id = $4 AND status = 'waiting'",
        &[
            scope.actor.user.as_str().into(),
            today.to_string().into(),
            deadline.to_string().into(),
            first.id.as_str().into(),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(
            "the application changed meanwhile; try again".into(),
        ));
    }
    conn.execute(
        "UPDATE admission_home SET offers = offers + 1 WHERE facility_id = $1",
        &[facility_id.into()],
    )?;
    audit::append(
        conn,
        scope,
        event(
            "admission_offer",
            &first.id,
            Some(
                serde_json::json!({"facility_id": facility_id, "deadline": deadline.to_string(),
                "class_rank": first.class_rank}),
            ),
        ),
    )?;
    Ok(Some(first.id))
}

/// What the applicant's answer or a closing step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 接受入住: the residence record is created, other applications close.
    Accept,
    /// 放弃: the bed passes to the next applicant.
    Decline,
    /// 撤回 (the applicant's side).
    Withdraw,
    /// 取消 (the home's side, or staff: died, moved, admitted elsewhere).
    Cancel,
}

impl Step {
    pub fn code(self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Decline => "decline",
            Step::Withdraw => "withdraw",
            Step::Cancel => "cancel",
        }
    }
}

/// Takes one step on an application: accept or decline an offer (either
/// side), withdraw (the applicant's side) or cancel (the home's side) an open
/// one. Declining, or closing an offered application, offers the bed to the
/// next applicant. Of two staff taking a step on one application at once,
/// one succeeds and the other gets a conflict. One transaction with its
/// audit entries.
pub fn step(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    step: Step,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<Application> {
    scope.require(Perm::ManageAdmissions)?;
    step_in(conn, scope, id, step, reason, today, &|_, r| {
        Ok((home_side(scope, r)?, person_side(scope, r)?))
    })
}

/// Whether the caller acts for the home and for the applicant on an application.
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
    if matches!(step, Step::Cancel) && reason.is_none() {
        return Err(invalid("reason", "give a reason for cancelling"));
    }
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let r = row(c, id)?.ok_or_else(|| not_found(id))?;
        let (home, applicant) = sides(c, &r)?;
        let allowed = match step {
            Step::Accept | Step::Decline => home || applicant,
            Step::Withdraw => applicant,
            Step::Cancel => home,
        };
        if !allowed {
            if home || applicant {
                // The role may act here, only not on this side: a state of
                // the application, like a closed one (409).
                return Err(StoreError::Conflict(format!(
                    "only the {} side may {} an application",
                    if step == Step::Withdraw {
                        "applicant's"
                    } else {
                        "care home's"
                    },
                    step.code()
                )));
            }
            return Err(not_found(id));
        }
        let app = view(&r, today)?;
        let facility_id = app.facility_id.clone();
        let from = match step {
            Step::Accept | Step::Decline => "offered",
            Step::Withdraw | Step::Cancel => app.status.code(),
        };
        if (matches!(step, Step::Accept | Step::Decline) && app.status != AppStatus::Offered)
            || !app.status.is_open()
        {
            return Err(StoreError::Conflict(format!(
                "the application is {}, it cannot be {}ed",
                app.status.code(),
                step.code()
            )));
        }
        lock_home(c, &facility_id)?;
        let to = match step {
            Step::Accept => AppStatus::Admitted,
            Step::Decline => AppStatus::Declined,
            Step::Withdraw => AppStatus::Withdrawn,
            Step::Cancel => AppStatus::Cancelled,
        };
        let n = c.execute(
            "UPDATE admission_application SET status = $1, closed_by = $2, closed_date = $3, \
             close_reason = $4 WHERE id = $5 AND status = $6",
            &[
                to.code().into(),
                scope.actor.user.as_str().into(),
                today.to_string().into(),
                reason.clone().into(),
                id.into(),
                from.into(),
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
                match step {
                    Step::Accept => "admission_accept",
                    Step::Decline => "admission_decline",
                    Step::Withdraw => "admission_withdraw",
                    Step::Cancel => "admission_cancel",
                },
                id,
                None,
            ),
        )?;
        if step == Step::Accept {
            admit(c, scope, &app, today)?;
        } else if app.status == AppStatus::Offered {
            offer_next_in(c, scope, &facility_id, today)?;
        }
        get_in(c, &Scope::system(&scope.actor.user), id, today)
    })
}

/// The admission itself: the residence record (audited as a create), and the
/// person's other open applications cancelled (their held beds offered on).
fn admit(conn: &mut Conn, scope: &Scope, app: &Application, today: NaiveDate) -> Result<()> {
    let res = Residence {
        id: format!("RES-{}", crate::crypto::random_hex(8)),
        person_id: app.person_id.clone(),
        facility_id: app.facility_id.clone(),
        admitted_date: today,
        discharged_date: None,
    };
    activity::upsert(conn, &res, &now_rfc3339())?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "create",
            entity: "residence",
            entity_id: Some(&res.id),
            before: None,
            after: audit::snapshot(&res),
        },
    )?;
    conn.execute(
        "UPDATE admission_application SET residence_id = $1 WHERE id = $2",
        &[res.id.as_str().into(), app.id.as_str().into()],
    )?;
    let others = conn.query(
        "SELECT id, facility_id, status FROM admission_application WHERE person_id = $1 AND id <> $2 \
         AND status IN ('waiting', 'offered') ORDER BY id",
        &[app.person_id.as_str().into(), app.id.as_str().into()],
    )?;
    for o in others {
        let oid: String = o.get("id")?;
        let ohome: String = o.get("facility_id")?;
        let was_offered = o.get::<String>("status")? == "offered";
        conn.execute(
            "UPDATE admission_application SET status = 'cancelled', closed_by = $1, closed_date = $2, \
             close_reason = $3 WHERE id = $4 AND status IN ('waiting', 'offered')",
            &[
                scope.actor.user.as_str().into(),
                today.to_string().into(),
                format!("admitted to {}", app.facility_name).into(),
                oid.as_str().into(),
            ],
        )?;
        audit::append(conn, scope, event("admission_cancel", &oid, None))?;
        if was_offered {
            offer_next_in(conn, scope, &ohome, today)?;
        }
    }
    Ok(())
}

/// Discharges a resident (退住): the residence's discharged date is set
/// (`date`, not after today nor before the admission) and, when `offer` is
/// set, the freed bed is offered to the next applicant (returned). The home's
/// side only. One transaction with its audit entries.
pub fn discharge(
    conn: &mut Conn,
    scope: &Scope,
    residence_id: &str,
    date: NaiveDate,
    offer: bool,
    today: NaiveDate,
) -> Result<Option<Application>> {
    scope.require(Perm::ManageAdmissions)?;
    lapse_overdue(conn, today)?;
    conn.transaction(|c| {
        let nf = || StoreError::NotFound {
            what: "residence",
            id: residence_id.to_string(),
        };
        let r = c
            .query_opt(
                "SELECT r.id, r.person_id, r.facility_id, r.admitted_date, r.discharged_date, f.area_path \
                 FROM residence r JOIN facility f ON f.id = r.facility_id \
                 WHERE r.id = $1 AND r.deleted_at IS NULL",
                &[residence_id.into()],
            )?
            .ok_or_else(nf)?;
        let facility_id: String = r.get("facility_id")?;
        if !scope.contains_facility(&facility_id, &r.get::<String>("area_path")?) {
            return Err(nf());
        }
        let before = Residence {
            id: r.get("id")?,
            person_id: r.get("person_id")?,
            facility_id: facility_id.clone(),
            admitted_date: r.get("admitted_date")?,
            discharged_date: r.get("discharged_date")?,
        };
        if before.discharged_date.is_some() {
            return Err(StoreError::Conflict("the resident was discharged already".into()));
        }
        if date > today {
            return Err(invalid("date", "the discharge date is in the future"));
        }
        if date < before.admitted_date {
            return Err(invalid("date", "the discharge date is before the admission"));
        }
        lock_home(c, &facility_id)?;
        let n = c.execute(
            "UPDATE residence SET discharged_date = $1, updated_at = $2 WHERE id = $3 AND discharged_date IS NULL",
            &[date.to_string().into(), now_rfc3339().into(), residence_id.into()],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict("the resident was discharged already".into()));
        }
        let after = Residence {
            discharged_date: Some(date),
            ..before.clone()
        };
        // The row's hash and version follow the change, like any residence write.
        activity::upsert(c, &after, &now_rfc3339())?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "discharge",
                entity: "residence",
                entity_id: Some(residence_id),
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )?;
        if !offer {
            return Ok(None);
        }
        let id = offer_next_in(c, scope, &facility_id, today)?;
        id.map(|id| get_in(c, &Scope::system(&scope.actor.user), &id, today))
            .transpose()
    })
}

/// Waiting-list figures of one home or one county.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitFigure {
    /// The facility id, or the county code.
    pub key: String,
    pub name: String,
    /// Waiting applications (a home) or waiting people (a county: a person
    /// waiting for two of its homes counts once).
    pub waiting: i64,
    pub median_wait_days: Option<i64>,
    pub longest_wait_days: Option<i64>,
}

/// Waiting-list figures of the scope's area, per home and per county.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub homes: Vec<WaitFigure>,
    pub counties: Vec<WaitFigure>,
    pub total_waiting: i64,
    pub open_offers: i64,
}

/// The median of sorted days (the lower middle of an even count).
fn median(sorted: &[i64]) -> Option<i64> {
    if sorted.is_empty() {
        None
    } else {
        Some(sorted[(sorted.len() - 1) / 2])
    }
}

/// Waiting-list length and median / longest wait (days since applying) per
/// home and per county, over applications to homes in the caller's area (an
/// operator: its home). Counts only: analysts may read them.
pub fn figures(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Figures> {
    figures_under(conn, scope, None, today)
}

/// [`figures`] restricted to the homes under an area path (the overview of a
/// drilled-down area), within the scope.
pub fn figures_under(
    conn: &mut Conn,
    scope: &Scope,
    under: Option<&str>,
    today: NaiveDate,
) -> Result<Figures> {
    if !scope.can(Perm::Aggregates) && !scope.can(Perm::ManageAdmissions) {
        return Err(StoreError::Forbidden(format!(
            "the role {} may not do this",
            scope.role_code()
        )));
    }
    let mut w = String::from("a.status IN ('waiting', 'offered')");
    let mut p: Vec<Value> = Vec::new();
    scope.push_sql(&mut w, &mut p, "a.home_path", Some("a.facility_id"));
    if let Some(path) = under {
        p.push(path.into());
        w.push_str(&format!(" AND a.home_path >= ${}", p.len()));
        p.push(path_upper(path).into());
        w.push_str(&format!(" AND a.home_path < ${}", p.len()));
    }
    let rows = conn.query(
        &format!(
            "SELECT a.facility_id, a.person_id, a.home_path, a.status, a.applied_date, f.name AS facility_name \
             FROM admission_application a JOIN facility f ON f.id = a.facility_id WHERE {w} \
             ORDER BY a.facility_id"
        ),
        &p,
    )?;
    use std::collections::BTreeMap;
    let mut homes: BTreeMap<String, (String, Vec<i64>)> = BTreeMap::new();
    let mut counties: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut total = 0;
    let mut offers = 0;
    for r in &rows {
        if r.get::<String>("status")? == "offered" {
            offers += 1;
            continue;
        }
        total += 1;
        let days = (today - r.get::<NaiveDate>("applied_date")?)
            .num_days()
            .max(0);
        let fid: String = r.get("facility_id")?;
        homes
            .entry(fid)
            .or_insert_with(|| (r.get("facility_name").unwrap_or_default(), Vec::new()))
            .1
            .push(days);
        let path: String = r.get("home_path")?;
        let county = path.split('/').nth(2).unwrap_or_default().to_string();
        let e = counties
            .entry(county)
            .or_default()
            .entry(r.get("person_id")?)
            .or_insert(0);
        *e = (*e).max(days);
    }
    let fig = |key: String, name: String, mut d: Vec<i64>| {
        d.sort_unstable();
        WaitFigure {
            key,
            name,
            waiting: i64::try_from(d.len()).unwrap_or(i64::MAX),
            median_wait_days: median(&d),
            longest_wait_days: d.last().copied(),
        }
    };
    let names: BTreeMap<String, String> = conn
        .query("SELECT code, name FROM area WHERE level = 'county'", &[])?
        .iter()
        .map(|r| Ok((r.get("code")?, r.get("name")?)))
        .collect::<Result<_>>()?;
    Ok(Figures {
        homes: homes.into_iter().map(|(k, (n, d))| fig(k, n, d)).collect(),
        counties: counties
            .into_iter()
            .map(|(k, m)| {
                let n = names.get(&k).cloned().unwrap_or_else(|| k.clone());
                fig(k, n, m.into_values().collect())
            })
            .collect(),
        total_waiting: total,
        open_offers: offers,
    })
}

/// The scope's admission worklist: offers waiting for an answer (urgent when
/// the deadline is [`URGENT_DAYS`] days away or less), applicants waiting in
/// the area, and (a home's side) vacancies with nobody offered yet.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    if !scope.can(Perm::ManageAdmissions) {
        return Ok(Vec::new());
    }
    lapse_overdue(conn, today)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    push_visible(scope, &mut w, &mut p);
    let rows = conn.query(
        &format!(
            "SELECT a.status, a.offer_deadline FROM admission_application a \
             WHERE a.status IN ('waiting', 'offered') AND {w}"
        ),
        &p,
    )?;
    let (mut offered, mut urgent, mut waiting) = (0, 0, 0);
    for r in &rows {
        if r.get::<String>("status")? == "offered" {
            let d: Option<NaiveDate> = r.get("offer_deadline")?;
            if d.is_some_and(|d| (d - today).num_days() <= URGENT_DAYS) {
                urgent += 1;
            } else {
                offered += 1;
            }
        } else {
            waiting += 1;
        }
    }
    let mut items = vec![
        WorkItem::new(
            "admission_offers_due",
            "入住通知即将到期待答复",
            "Admission offers about to lapse",
            urgent,
            "/console/admission?status=offered",
        )
        .urgent(),
        WorkItem::new(
            "admission_offers_open",
            "入住通知待答复",
            "Admission offers awaiting an answer",
            offered,
            "/console/admission?status=offered",
        ),
        WorkItem::new(
            "admission_waiting",
            "养老机构入住轮候中",
            "Waiting for a care-home place",
            waiting,
            "/console/admission?status=waiting",
        ),
    ];
    // Vacancies: the scope's homes with a free bed and someone waiting.
    let mut hw = String::from("f.kind = 'elderly_institution' AND f.deleted_at IS NULL");
    let mut hp: Vec<Value> = Vec::new();
    scope.push_sql(&mut hw, &mut hp, "f.area_path", Some("f.id"));
    let homes = conn.query(
        &format!(
            "SELECT f.id, f.beds FROM facility f WHERE {hw} AND EXISTS (SELECT 1 FROM admission_application a \
             WHERE a.facility_id = f.id AND a.status = 'waiting') ORDER BY f.id LIMIT 1000"
        ),
        &hp,
    )?;
    let mut vacant = 0;
    let mut first = None;
    for h in &homes {
        let id: String = h.get("id")?;
        let total = h.get::<Option<i64>>("beds")?.unwrap_or(0);
        let (b, o, f) = beds(conn, &id, total, today)?;
        if b - o - f > 0 {
            vacant += 1;
            first.get_or_insert(id);
        }
    }
    let url = match (&first, vacant) {
        (Some(id), 1) => format!("/console/admission/homes/{id}"),
        _ => "/console/admission/homes".to_string(),
    };
    items.push(
        WorkItem::new(
            "admission_vacancies",
            "有空床位未发入住通知的养老机构",
            "Care homes with a free bed and no offer",
            vacant,
            &url,
        )
        .urgent(),
    );
    Ok(crate::worklist::order(items))
}

/// Care homes in the caller's view with their beds (for the console's pick
/// lists and the homes page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HomeLine {
    pub id: String,
    pub name: String,
    pub beds: i64,
    pub occupied: i64,
    pub open_offers: i64,
    pub waiting: i64,
}

/// The care homes the scope holds (an operator: its own), at most 500.
pub fn homes(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<HomeLine>> {
    scope.require(Perm::ManageAdmissions)?;
    let mut w = String::from("f.kind = 'elderly_institution' AND f.deleted_at IS NULL");
    let mut p: Vec<Value> = Vec::new();
    scope.push_sql(&mut w, &mut p, "f.area_path", Some("f.id"));
    home_lines(conn, &w, p, today)
}

fn home_lines(
    conn: &mut Conn,
    w: &str,
    mut p: Vec<Value>,
    today: NaiveDate,
) -> Result<Vec<HomeLine>> {
    p.push(today.to_string().into());
    let d = p.len();
    let rows = conn.query(
        &format!(
            "SELECT f.id, f.name, f.beds, \
             (SELECT COUNT(*) FROM residence r WHERE r.facility_id = f.id AND r.deleted_at IS NULL \
              AND r.admitted_date <= ${d} AND (r.discharged_date IS NULL OR r.discharged_date > ${d})) AS occupied, \
             (SELECT COUNT(*) FROM admission_application a WHERE a.facility_id = f.id AND a.status = 'offered') AS offers, \
             (SELECT COUNT(*) FROM admission_application a WHERE a.facility_id = f.id AND a.status = 'waiting') AS waiting \
             FROM facility f WHERE {w} ORDER BY f.area_path, f.id LIMIT 500"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            Ok(HomeLine {
                id: r.get("id")?,
                name: r.get("name")?,
                beds: r.get::<Option<i64>>("beds")?.unwrap_or(0),
                occupied: r.get("occupied")?,
                open_offers: r.get("offers")?,
                waiting: r.get("waiting")?,
            })
        })
        .collect()
}

/// Synthetic applications for the demo: up to `n` eligible elderly people
/// (a sample, not everyone) apply to one or two care homes of their county,
/// on dates spread over the past year; then each home with a free bed offers
/// it, and a share of the offers is accepted. Returns the number of
/// applications made.
pub fn seed_demo(conn: &mut Conn, n: usize, today: NaiveDate) -> Result<usize> {
    let homes = conn.query(
        "SELECT id, area_path FROM facility WHERE kind = 'elderly_institution' AND deleted_at IS NULL \
         ORDER BY id LIMIT 2000",
        &[],
    )?;
    if homes.is_empty() {
        return Ok(0);
    }
    let homes: Vec<(String, String)> = homes
        .iter()
        .map(|r| Ok((r.get("id")?, r.get("area_path")?)))
        .collect::<Result<_>>()?;
    let limit = i64::try_from(n).unwrap_or(0) * 4;
    let people = conn.query(
        &format!(
            "SELECT p.id, p.area_path FROM person p WHERE p.role = 'elderly' AND p.status = 'active' \
             AND p.deleted_at IS NULL AND (p.special_difficulty IS NOT NULL OR p.ability_level >= 2) \
             AND NOT EXISTS (SELECT 1 FROM residence r WHERE r.person_id = p.id AND r.deleted_at IS NULL \
             AND r.discharged_date IS NULL) ORDER BY p.id LIMIT {limit}"
        ),
        &[],
    )?;
    let sys = Scope::system("demo");
    let mut made = 0;
    conn.transaction(|c| {
        for (i, r) in people.iter().enumerate().step_by(4).take(n) {
            let pid: String = r.get("id")?;
            let path: String = r.get("area_path")?;
            let county: String = path.split('/').take(3).collect::<Vec<_>>().join("/");
            let local: Vec<&(String, String)> =
                homes.iter().filter(|(_, h)| h.starts_with(&county)).collect();
            let pool: Vec<&(String, String)> = if local.is_empty() {
                homes.iter().collect()
            } else {
                local
            };
            let mut picks = vec![pool[i % pool.len()]];
            if i % 3 == 0 && pool.len() > 1 {
                picks.push(pool[(i / 3 + 1) % pool.len()]);
            }
            let applied = today - chrono::Duration::days(i64::try_from(i % 360).unwrap_or(0) + 1);
            for (fid, hpath) in picks {
                let id = format!("ADM-{}", crate::crypto::random_hex(8));
                let at = format!("{applied}T09:00:00Z");
                c.execute(
                    "INSERT INTO admission_application (id, person_id, facility_id, home_path, person_path, \
                     applicant_kind, status, applied_by, applied_at, applied_date) \
                     VALUES ($1, $2, $3, $4, $5, 'staff', 'waiting', 'demo', $6, $7)",
                    &[
                        id.as_str().into(),
                        pid.as_str().into(),
                        fid.as_str().into(),
                        hpath.as_str().into(),
                        path.as_str().into(),
                        at.into(),
                        applied.to_string().into(),
                    ],
                )?;
                made += 1;
            }
        }
        Ok(())
    })?;
    // Offers on the homes with a free bed, then a share accepted.
    let with_apps = conn.query(
        "SELECT DISTINCT facility_id FROM admission_application WHERE status = 'waiting' ORDER BY facility_id",
        &[],
    )?;
    let ids: Vec<String> = with_apps
        .iter()
        .map(|r| r.get("facility_id"))
        .collect::<Result<_>>()?;
    let mut offered = Vec::new();
    for (k, fid) in ids.iter().enumerate().take(60) {
        let o = conn.transaction(|c| offer_next_in(c, &sys, fid, today))?;
        if let Some(o) = o {
            offered.push((k, o));
        }
    }
    for (k, id) in offered {
        if k % 2 == 0 {
            // An accepted offer may have been cancelled meanwhile (the same person).
            match step(conn, &sys, &id, Step::Accept, None, today) {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_lower_middle() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 2, 9, 10]), Some(2));
        assert_eq!(median(&[1, 2, 9]), Some(2));
    }

    #[test]
    fn statuses_round_trip() {
        for s in AppStatus::ALL {
            assert_eq!(AppStatus::parse(s.code()), Some(s));
        }
        assert!(AppStatus::Offered.is_open());
        assert!(!AppStatus::Lapsed.is_open());
    }
}
