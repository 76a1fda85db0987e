//! The complaint register (投诉登记), issue 16 part 5 and the groundwork of
//! issue 17's portal: a complaint about any facility (childcare institutions
//! now, care homes later), filed by a family about its verified child's
//! institution (家长投诉), recorded by the facility's staff (来电来访) or,
//! later, sent from the public portal (门户).
//!
//! States: received 已受理 → acknowledged 已确认 → answered 已答复 → closed
//! 已办结. Two deadlines are set at filing from dated parameters
//! (`data/policy/complaints.toml`): `ack_due` (`complaint.ack_days`) and
//! `answer_due` (`complaint.answer_days`). A complaint past one unmet is late
//! (逾期); [`escalate_due`] records the escalation to the county (督办) with
//! its audit entry, and the county may then answer it itself.
//!
//! Who: the facility's own operator acknowledges and answers
//! (`HandleComplaints`); county and city staff read their area's, the late
//! ones first, answer a late one, and read the figures
//! (`SuperviseComplaints`). A family sees only the complaints it filed and
//! closes one with a rating (办结评价) once answered, or once the answer
//! deadline passed without an answer.
//!
//! The body, the contact phone and the rating comment are personal: never
//! in the audit trail or the logs. The phone is stored encrypted with the
//! field key used for ID numbers and shown masked to staff. Each state change
//! is one function and one transaction with its audit entry (acknowledge,
//! answer, escalate, close), so the notification outbox can be added to each.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_model::person::{PersonRole, mask_name};
use laoxiao_rules::subsidies::Params;
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Reference, audit, family};

/// Longest complaint body, in characters.
pub const MAX_BODY: usize = 2000;
/// Longest answer, in characters.
pub const MAX_ANSWER: usize = 2000;
/// Longest rating comment, in characters.
pub const MAX_COMMENT: usize = 500;
/// Most complaints a list answers.
pub const MAX_LIST: usize = 500;
/// Most facility lines the figures hold.
pub const MAX_FACILITIES: usize = 2000;
/// A family may still complain about an institution its child left this
/// many days ago (a complaint often follows leaving).
pub const AFTER_LEAVING_DAYS: i64 = 90;
const MAX_ID: usize = 64;
/// Crockford's base32 alphabet (no I, L, O, U: read aloud over the phone).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

use crate::childcare_day::invalid;

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "complaint",
        id: id.chars().take(MAX_ID).collect(),
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn check_id(field: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.chars().count() > MAX_ID {
        return Err(invalid(field, "not an id"));
    }
    Ok(())
}

// ---------------------------------------------------------------- enums

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = ($code:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$v => $zh),+ }
            }

            /// The code or the Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.code() == s || v.label_zh() == s)
            }

            /// The accepted values, for an error message.
            pub fn expected() -> String {
                $name::ALL
                    .iter()
                    .map(|v| format!("{} ({})", v.code(), v.label_zh()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                $name::parse(s).ok_or_else(|| format!("one of {}", $name::expected()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// Where a complaint came from (投诉来源).
    Source {
        /// 家长（家属）在线投诉.
        Family = ("family", "家长投诉"),
        /// 机构登记的来电来访.
        Staff = ("staff", "来电来访登记"),
        /// 公众门户（issue 17）.
        Portal = ("portal", "门户投诉"),
    }
}

code_enum! {
    /// What a complaint is about (投诉类别).
    Category {
        Safety = ("safety", "安全"),
        HygieneHealth = ("hygiene_health", "卫生健康"),
        Fees = ("fees", "收费"),
        StaffConduct = ("staff_conduct", "人员行为"),
        Meals = ("meals", "膳食"),
        ServiceQuality = ("service_quality", "服务质量"),
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// Where a complaint stands (办理状态).
    Status {
        /// 已受理: filed, waiting for the facility.
        Received = ("received", "已受理"),
        /// 已确认: the facility confirmed it has it.
        Acknowledged = ("acknowledged", "已确认"),
        /// 已答复: answered (by the facility, or the county once late).
        Answered = ("answered", "已答复"),
        /// 已办结: closed by the complainant, with a rating.
        Closed = ("closed", "已办结"),
    }
}

impl Status {
    /// Not yet answered.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Received | Status::Acknowledged)
    }
}

code_enum! {
    /// Why a complaint was escalated (逾期原因).
    Escalation {
        /// 逾期未确认.
        AckLate = ("ack_late", "逾期未确认"),
        /// 逾期未答复.
        AnswerLate = ("answer_late", "逾期未答复"),
    }
}

code_enum! {
    /// Who answered (答复方).
    Side {
        Facility = ("facility", "机构"),
        Supervisor = ("supervisor", "监管部门（督办）"),
    }
}

// ---------------------------------------------------------------- views

/// A complaint as a list row (no body: lists stay lean and carry less).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintRow {
    pub id: String,
    /// The public tracking code (查询码), `TS` + 10 characters.
    pub tracking_code: String,
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    pub source: Source,
    pub category: Category,
    pub status: Status,
    /// The child or person concerned (masked for staff, in full for the family).
    pub person_name: Option<String>,
    pub filed_at: String,
    pub ack_due: String,
    pub answer_due: String,
    pub escalated_at: Option<String>,
    pub escalation_reason: Option<Escalation>,
    /// Escalated, or a deadline passed (or was met late).
    pub late: bool,
    pub rating: Option<i64>,
}

/// A complaint in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Complaint {
    #[serde(flatten)]
    pub row: ComplaintRow,
    pub person_id: Option<String>,
    pub filed_by: Option<String>,
    pub body: String,
    /// Masked for staff (138****5678), in full for the complainant.
    pub contact_phone: Option<String>,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_side: Option<Side>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    pub rating_comment: Option<String>,
    pub updated_at: String,
    /// The caller may close it now (the complainant: answered, or the answer
    /// deadline passed without one).
    pub can_close: bool,
    /// The caller may acknowledge it now (the facility's own staff).
    pub can_acknowledge: bool,
    /// The caller may answer it now (the facility, or a supervisor once late).
    pub can_answer: bool,
}

/// A complaint to file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewComplaint {
    /// The child or person concerned (a family: one of its verified children).
    pub person_id: Option<String>,
    /// The facility (a family may leave it out: the child's institution).
    pub facility_id: Option<String>,
    /// A [`Category`] code or Chinese label.
    pub category: String,
    pub body: String,
    pub contact_phone: Option<String>,
    /// Only the system (the portal, tests) chooses; otherwise by caller.
    pub source: Option<Source>,
}

/// Filters of the staff list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub facility_id: Option<String>,
    /// Only late ones (`Some(true)`), only not late (`Some(false)`).
    pub late: Option<bool>,
}

/// Counts for one facility or area (投诉统计).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub received: i64,
    /// Not yet answered.
    pub open: i64,
    /// Escalated, or a deadline passed or was met late.
    pub late: i64,
    pub answered: i64,
    /// Answered by the answer deadline.
    pub answered_on_time: i64,
    /// Answered, plus open ones past the answer deadline: the base of the share.
    pub answer_due: i64,
    /// Filed within the last `complaint.repeat_days`.
    pub recent: i64,
    pub rated: i64,
    pub rating_sum: i64,
}

impl Counts {
    /// Answered within the deadline ÷ complaints whose answer has fallen due
    /// (answered, or open past the deadline); `None` when none has.
    pub fn on_time_share(&self) -> Option<f64> {
        (self.answer_due > 0).then(|| self.answered_on_time as f64 / self.answer_due as f64)
    }

    pub fn average_rating(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.rating_sum as f64 / self.rated as f64)
    }

    fn add(&mut self, o: &Counts) {
        self.received += o.received;
        self.open += o.open;
        self.late += o.late;
        self.answered += o.answered;
        self.answered_on_time += o.answered_on_time;
        self.answer_due += o.answer_due;
        self.recent += o.recent;
        self.rated += o.rated;
        self.rating_sum += o.rating_sum;
    }
}

/// One facility's line of the figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityLine {
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    pub counts: Counts,
    /// At least `complaint.repeat_threshold` complaints within
    /// `complaint.repeat_days`: 须安排不定期检查 (issue 17 turns it into an
    /// unplanned inspection).
    pub inspection_due: bool,
}

/// One area's line (a county below the city, a town below a county).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaLine {
    pub code: String,
    pub name: String,
    pub counts: Counts,
    /// Facilities of the area flagged for an unplanned inspection.
    pub inspection_due: i64,
}

/// The complaint figures of the caller's area (投诉统计).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub total: Counts,
    pub areas: Vec<AreaLine>,
    pub facilities: Vec<FacilityLine>,
    pub repeat_days: i64,
    pub repeat_threshold: i64,
}

// ---------------------------------------------------------------- helpers

fn params() -> Result<&'static Params> {
    Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))
}

fn param(name: &str, day: NaiveDate) -> Result<i64> {
    params()?
        .int(name, day)
        .map(|(n, _)| n)
        .map_err(|e| StoreError::Reference(e.to_string()))
}

/// A new tracking code: `TS` and 10 Crockford base32 characters (50 random
/// bits): unguessable, and safe to read aloud.
pub fn tracking_code() -> String {
    let raw = crate::crypto::random_hex(8);
    let mut n = u64::from_str_radix(&raw, 16).unwrap_or_default();
    let mut s = String::from("TS");
    for _ in 0..10 {
        s.push(char::from(CROCKFORD[(n & 31) as usize]));
        n >>= 5;
    }
    s
}

/// A contact phone: a mobile (11 digits from 1) or a landline with its area
/// code (from 0, 10 to 12 digits); spaces and hyphens are dropped.
pub fn clean_phone(s: &str) -> Result<Option<String>> {
    let t: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.chars().all(|c| c.is_ascii_digit());
    let mobile = digits && t.len() == 11 && t.starts_with('1');
    let landline = digits && t.starts_with('0') && (10..=12).contains(&t.len());
    if mobile || landline {
        Ok(Some(t))
    } else {
        Err(invalid(
            "contact_phone",
            "a mobile number (11 digits starting with 1) or a landline with its area code (starting with 0)",
        ))
    }
}

/// 138****5678: the first three and last four digits.
pub fn mask_phone(p: &str) -> String {
    let n = p.chars().count();
    if n < 8 {
        return "*".repeat(n);
    }
    p.chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// z***@example.com: an e-mail address (a portal complaint's contact) with
/// the local part hidden but its first character.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// The SQL of "late": escalated, or a deadline passed unmet (before now or
/// before it was closed unanswered), or met late. `$1` is now.
const LATE: &str = "(c.escalated_at IS NOT NULL \
    OR (c.acknowledged_at IS NULL AND c.ack_due < COALESCE(c.closed_at, $1)) \
    OR (c.answered_at IS NULL AND c.answer_due < COALESCE(c.closed_at, $1)) \
    OR c.acknowledged_at > c.ack_due OR c.answered_at > c.answer_due)";

fn row_cols() -> String {
    format!(
        "c.id, c.tracking_code, c.facility_id, f.name AS facility_name, c.facility_path, c.source, \
         c.category, c.status, c.person_id, p.name AS person_name, c.filed_at, c.ack_due, c.answer_due, \
         c.escalated_at, c.escalation_reason, c.rating, CASE WHEN {LATE} THEN 1 ELSE 0 END AS late"
    )
}

const FROM: &str = "FROM complaint c JOIN facility f ON f.id = c.facility_id \
    LEFT JOIN person p ON p.id = c.person_id";

const FULL_COLS: &str = "c.filed_by, c.body, c.contact_phone, c.acknowledged_at, c.acknowledged_by, \
    c.answer, c.answered_by, c.answered_side, c.answered_at, c.closed_at, c.rating_comment, c.updated_at";

fn row_view(r: &Row, full: bool) -> Result<ComplaintRow> {
    let name: Option<String> = r.get("person_name")?;
    Ok(ComplaintRow {
        id: r.get("id")?,
        tracking_code: r.get("tracking_code")?,
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        area_path: r.get("facility_path")?,
        source: r.parse("source")?,
        category: r.parse("category")?,
        status: r.parse("status")?,
        person_name: name.map(|n| if full { n } else { mask_name(&n) }),
        filed_at: r.get("filed_at")?,
        ack_due: r.get("ack_due")?,
        answer_due: r.get("answer_due")?,
        escalated_at: r.get("escalated_at")?,
        escalation_reason: r.parse_opt("escalation_reason")?,
        late: r.get::<i64>("late")? != 0,
        rating: r.get("rating")?,
    })
}

/// How the caller stands to a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// The family that filed it.
    Complainant,
    /// The facility's own staff (or the system).
    Facility,
    /// County or city staff of the area.
    Supervisor,
}

/// Whether and how the caller sees a complaint; `None`: not found.
fn side_of(scope: &Scope, r: &Row) -> Result<Option<Standing>> {
    let fid: String = r.get("facility_id")?;
    let path: String = r.get("facility_path")?;
    let filed_by: Option<String> = r.get("filed_by")?;
    let source: Source = r.parse("source")?;
    if scope.is_family() {
        return Ok((source == Source::Family
            && filed_by.as_deref() == Some(scope.actor.user.as_str()))
        .then_some(Standing::Complainant));
    }
    if scope.role().is_none() || scope.facility() == Some(fid.as_str()) {
        return Ok(
            (scope.can(Perm::HandleComplaints) && scope.contains_facility(&fid, &path))
                .then_some(Standing::Facility),
        );
    }
    Ok(
        (scope.can(Perm::SuperviseComplaints) && scope.contains_facility(&fid, &path))
            .then_some(Standing::Supervisor),
    )
}

fn fetch(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<Option<Row>> {
    conn.query_opt(
        &format!("SELECT {}, {FULL_COLS} {FROM} WHERE c.id = $2", row_cols()),
        &[ts(now).into(), id.into()],
    )
}

fn view(reference: &Reference, r: &Row, side: Standing, now: DateTime<Utc>) -> Result<Complaint> {
    let own = side == Standing::Complainant;
    let row = row_view(r, own)?;
    let phone = match r.get::<Option<String>>("contact_phone")? {
        Some(enc) => {
            let plain = reference.keys()?.decrypt(&enc)?;
            Some(if own {
                plain
            } else if plain.contains('@') {
                mask_email(&plain)
            } else {
                mask_phone(&plain)
            })
        }
        None => None,
    };
    let answer_due_passed = row.answer_due.as_str() < ts(now).as_str();
    let can_close =
        own && (row.status == Status::Answered || (row.status.is_open() && answer_due_passed));
    let can_acknowledge = side == Standing::Facility && row.status == Status::Received;
    let can_answer = row.status.is_open()
        && (side == Standing::Facility || (side == Standing::Supervisor && row.late));
    Ok(Complaint {
        person_id: r.get("person_id")?,
        filed_by: r.get("filed_by")?,
        body: r.get("body")?,
        contact_phone: phone,
        acknowledged_at: r.get("acknowledged_at")?,
        acknowledged_by: r.get("acknowledged_by")?,
        answer: r.get("answer")?,
        answered_by: r.get("answered_by")?,
        answered_side: r.parse_opt("answered_side")?,
        answered_at: r.get("answered_at")?,
        closed_at: r.get("closed_at")?,
        rating_comment: r.get("rating_comment")?,
        updated_at: r.get("updated_at")?,
        can_close,
        can_acknowledge,
        can_answer,
        row,
    })
}

/// The complaint and how the caller stands to it; not found when the
/// caller may not see it (its existence does not leak).
fn load(conn: &mut Conn, scope: &Scope, id: &str, now: DateTime<Utc>) -> Result<(Row, Standing)> {
    check_id("id", id)?;
    let r = fetch(conn, id, now)?.ok_or_else(|| not_found(id))?;
    let side = side_of(scope, &r)?.ok_or_else(|| not_found(id))?;
    Ok((r, side))
}

// ---------------------------------------------------------------- filing

/// The facility a family complains about: the given one, or the child's
/// current institution. The child must be enrolled there (or have left it
/// within [`AFTER_LEAVING_DAYS`]).
fn family_facility(
    conn: &mut Conn,
    child: &str,
    given: Option<&str>,
    today: NaiveDate,
) -> Result<String> {
    let since = (today - Duration::days(AFTER_LEAVING_DAYS)).to_string();
    let rows = conn.query(
        "SELECT facility_id FROM enrolment WHERE infant_id = $1 AND deleted_at IS NULL \
         AND start_date <= $2 AND (end_date IS NULL OR end_date >= $3) \
         ORDER BY start_date DESC, id LIMIT 20",
        &[child.into(), today.to_string().into(), since.into()],
    )?;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.get("facility_id"))
        .collect::<Result<_>>()?;
    match given {
        Some(f) if ids.iter().any(|x| x == f) => Ok(f.to_string()),
        // Said the same whether the facility exists or not.
        Some(_) => Err(invalid(
            "facility_id",
            "not an institution your child is enrolled at",
        )),
        None => ids.into_iter().next().ok_or_else(|| {
            invalid(
                "facility_id",
                "your child is not enrolled at an institution; a complaint is about the child's institution",
            )
        }),
    }
}

/// Files a complaint (投诉受理). A family: about the institution of one of
/// its verified children (`person_id`), source `family`. A facility's own
/// staff: one received by phone or in person, source `staff`. The system
/// (the portal of issue 17, tests): any facility, the source given. The
/// deadlines come from the parameters in force on the filing day. Every
/// refusal names its field; nothing is written.
pub fn file(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    input: &NewComplaint,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let today = now.date_naive();
    let mut errs = Vec::new();
    let category = Category::parse(&input.category);
    if category.is_none() {
        errs.push(FieldError::new(
            "category",
            format!("one of {}", Category::expected()),
        ));
    }
    let body = match crate::text::required(
        "body",
        &input.body,
        MAX_BODY,
        "say what happened (1 to 2000 characters)",
    ) {
        Ok(b) => Some(b),
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(e) => return Err(e),
    };
    // The portal (the system filing for the public) may take an e-mail
    // address instead of a phone; it is stored in the same encrypted column.
    let raw_contact = input.contact_phone.as_deref().unwrap_or("");
    let email_ok = scope.role().is_none() && input.source == Some(Source::Portal);
    let phone = match if email_ok && raw_contact.contains('@') {
        crate::portal_public::clean_email(raw_contact)
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    "contact_phone",
                    "an e-mail address such as name@example.com",
                )
            })
    } else {
        clean_phone(raw_contact)
    } {
        Ok(p) => p,
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(e) => return Err(e),
    };
    let person = input
        .person_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let given = input
        .facility_id
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if let Some(p) = person {
        check_id("person_id", p)?;
    }
    if let Some(f) = given {
        check_id("facility_id", f)?;
    }
    // Who files decides the source and the facility.
    let (source, facility_id) = if scope.is_family() {
        scope.require(Perm::OrderServices)?;
        let Some(child) = person else {
            errs.push(FieldError::new(
                "person_id",
                "the child the complaint is about",
            ));
            return Err(StoreError::Invalid(errs));
        };
        if !family::is_verified_relative(conn, scope, child, PersonRole::Infant)? {
            return Err(StoreError::NotFound {
                what: "child",
                id: child.to_string(),
            });
        }
        match family_facility(conn, child, given, today) {
            Ok(f) => (Source::Family, f),
            Err(StoreError::Invalid(v)) => {
                errs.extend(v);
                return Err(StoreError::Invalid(errs));
            }
            Err(e) => return Err(e),
        }
    } else if scope.role().is_none() {
        let Some(f) = given else {
            errs.push(FieldError::new(
                "facility_id",
                "the facility complained about",
            ));
            return Err(StoreError::Invalid(errs));
        };
        (input.source.unwrap_or(Source::Portal), f.to_string())
    } else {
        scope.require(Perm::HandleComplaints)?;
        let Some(own) = scope.facility().filter(|f| !f.is_empty()) else {
            return Err(StoreError::Forbidden(
                "a complaint received by phone or in person is recorded by the facility's own staff".into(),
            ));
        };
        if given.is_some_and(|g| g != own) {
            return Err(invalid("facility_id", "only your own facility's"));
        }
        (Source::Staff, own.to_string())
    };
    let fac = conn
        .query_opt(
            "SELECT area_path FROM facility WHERE id = $1 AND deleted_at IS NULL",
            &[facility_id.as_str().into()],
        )?
        .ok_or_else(|| invalid("facility_id", "no such facility"))?;
    let path: String = fac.get("area_path")?;
    if !scope.is_family() && !scope.contains_facility(&facility_id, &path) {
        return Err(invalid("facility_id", "no such facility"));
    }
    // Staff and the portal may name a person only of the registers.
    let person_id = match (source, person) {
        (Source::Family, p) => p.map(str::to_string),
        (_, Some(p)) => {
            let n = conn.query_i64(
                "SELECT COUNT(*) FROM person WHERE id = $1 AND deleted_at IS NULL",
                &[p.into()],
            )?;
            if n == 0 {
                errs.push(FieldError::new("person_id", "no such person"));
            }
            Some(p.to_string())
        }
        (_, None) => None,
    };
    let (Some(category), Some(body), true) = (category, body, errs.is_empty()) else {
        return Err(StoreError::Invalid(errs));
    };
    let ack_days = param("complaint.ack_days", today)?;
    let answer_days = param("complaint.answer_days", today)?;
    let ack_due = ts(now + Duration::days(ack_days.clamp(0, 366)));
    let answer_due = ts(now + Duration::days(answer_days.clamp(0, 366)));
    let phone_enc = match &phone {
        Some(p) => Some(reference.keys()?.encrypt(p)?),
        None => None,
    };
    let id = format!("CT-{}", crate::crypto::random_hex(8));
    let at = ts(now);
    let mut code = tracking_code();
    for _ in 0..4 {
        let taken = conn.query_i64(
            "SELECT COUNT(*) FROM complaint WHERE tracking_code = $1",
            &[code.as_str().into()],
        )?;
        if taken == 0 {
            break;
        }
        code = tracking_code();
    }
    let filed_by = scope.role().map(|_| scope.actor.user.clone());
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO complaint (id, tracking_code, facility_id, facility_path, source, filed_by, person_id, \
             category, body, contact_phone, status, filed_at, ack_due, answer_due, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $12)",
            &[
                id.as_str().into(),
                code.as_str().into(),
                facility_id.as_str().into(),
                path.as_str().into(),
                source.code().into(),
                filed_by.as_deref().into(),
                person_id.as_deref().into(),
                category.code().into(),
                body.as_str().into(),
                phone_enc.as_deref().into(),
                Status::Received.code().into(),
                at.as_str().into(),
                ack_due.as_str().into(),
                answer_due.as_str().into(),
            ],
        )?;
        // Never the body or the phone: they are the complainant's.
        audit::append(
            c,
            scope,
            audit::Event {
                action: "complaint_file",
                entity: "complaint",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({
                        "tracking_code": code, "facility_id": facility_id, "source": source.code(),
                        "category": category.code(), "ack_due": ack_due, "answer_due": answer_due,
                    })
                    .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    get(conn, reference, scope, &id, now)
}

// ---------------------------------------------------------------- reading

/// One complaint as the caller may see it (the complainant in full, staff
/// with the person and phone masked); not found outside the caller's reach.
pub fn get(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let (r, side) = load(conn, scope, id, now)?;
    view(reference, &r, side, now)
}

/// The complaints of the caller's area or facility (the late open ones
/// first, then the newest).
pub fn list(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>> {
    if !(scope.can(Perm::HandleComplaints) || scope.can(Perm::SuperviseComplaints))
        || scope.is_family()
    {
        return Err(StoreError::Forbidden(
            "the role may not read the complaint register".into(),
        ));
    }
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = vec![ts(now).into()];
    scope.push_sql(&mut w, &mut p, "c.facility_path", Some("c.facility_id"));
    if let Some(s) = q.status {
        p.push(s.code().into());
        w.push_str(&format!(" AND c.status = ${}", p.len()));
    }
    if let Some(f) = q.facility_id.as_deref().filter(|f| !f.is_empty()) {
        check_id("facility", f)?;
        p.push(f.into());
        w.push_str(&format!(" AND c.facility_id = ${}", p.len()));
    }
    match q.late {
        Some(true) => w.push_str(&format!(" AND {LATE}")),
        Some(false) => w.push_str(&format!(" AND NOT {LATE}")),
        None => {}
    }
    conn.query(
        &format!(
            "SELECT {} {FROM} WHERE {w} \
             ORDER BY CASE WHEN c.status IN ('received', 'acknowledged') AND {LATE} THEN 0 ELSE 1 END, \
             c.filed_at DESC, c.id LIMIT {MAX_LIST}",
            row_cols()
        ),
        &p,
    )?
    .iter()
    .map(|r| row_view(r, false))
    .collect()
}

/// The complaints the calling family filed, newest first.
pub fn family_list(
    conn: &mut Conn,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>> {
    if !scope.is_family() {
        return Err(StoreError::Forbidden(
            "only a family account has its own complaints".into(),
        ));
    }
    conn.query(
        &format!(
            "SELECT {} {FROM} WHERE c.source = 'family' AND c.filed_by = $2 \
             ORDER BY c.filed_at DESC, c.id LIMIT {MAX_LIST}",
            row_cols()
        ),
        &[ts(now).into(), scope.actor.user.as_str().into()],
    )?
    .iter()
    .map(|r| row_view(r, true))
    .collect()
}

// ---------------------------------------------------------------- steps

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(format!(
        "the complaint was {what} at the same moment by someone else; reload it"
    ))
}

/// The facility confirms it has the complaint (受理确认): its own staff
/// only, once. A second acknowledgement, or one at the same moment, is 409.
pub fn acknowledge(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let (r, side) = load(conn, scope, id, now)?;
    scope.require(Perm::HandleComplaints)?;
    if side != Standing::Facility {
        return Err(StoreError::Forbidden(
            "only the facility's own staff acknowledge a complaint".into(),
        ));
    }
    let status: Status = r.parse("status")?;
    if status != Status::Received {
        return Err(StoreError::Conflict(format!(
            "the complaint is {} ({}), not waiting to be acknowledged",
            status.label_zh(),
            status.code()
        )));
    }
    let at = ts(now);
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE complaint SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, \
             updated_at = $1 WHERE id = $3 AND status = 'received'",
            &[at.as_str().into(), scope.actor.user.as_str().into(), id.into()],
        )?;
        if n != 1 {
            return Err(conflict("acknowledged"));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "complaint_acknowledge",
                entity: "complaint",
                entity_id: Some(id),
                before: Some(r#"{"status":"received"}"#.into()),
                after: Some(r#"{"status":"acknowledged"}"#.into()),
            },
        )?;
        Ok(())
    })?;
    get(conn, reference, scope, id, now)
}

/// Answers the complaint (答复): the facility's own staff, or county or
/// city staff of the area once it is late (督办). Two answering at once: one
/// wins, the other gets 409 (a conditional update on the status).
pub fn answer(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let (r, side) = load(conn, scope, id, now)?;
    let answered_side = match side {
        Standing::Facility => {
            scope.require(Perm::HandleComplaints)?;
            Side::Facility
        }
        Standing::Supervisor => {
            scope.require(Perm::SuperviseComplaints)?;
            if r.get::<i64>("late")? == 0 {
                return Err(StoreError::Forbidden(
                    "the facility answers a complaint; the county answers it itself only once it is late".into(),
                ));
            }
            Side::Supervisor
        }
        Standing::Complainant => {
            return Err(StoreError::Forbidden(
                "the complainant does not answer the complaint".into(),
            ));
        }
    };
    let text = crate::text::required("answer", text, MAX_ANSWER, "write the answer")?;
    let status: Status = r.parse("status")?;
    if !status.is_open() {
        return Err(StoreError::Conflict(format!(
            "the complaint is {} ({}) already",
            status.label_zh(),
            status.code()
        )));
    }
    let at = ts(now);
    conn.transaction(|c| {
        // Answering implies acknowledging: a first answer sets both.
        let n = c.execute(
            "UPDATE complaint SET status = 'answered', answer = $1, answered_by = $2, answered_side = $3, \
             answered_at = $4, acknowledged_at = COALESCE(acknowledged_at, $4), \
             acknowledged_by = COALESCE(acknowledged_by, $2), updated_at = $4 \
             WHERE id = $5 AND status IN ('received', 'acknowledged')",
            &[
                text.as_str().into(),
                scope.actor.user.as_str().into(),
                answered_side.code().into(),
                at.as_str().into(),
                id.into(),
            ],
        )?;
        if n != 1 {
            return Err(conflict("answered"));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "complaint_answer",
                entity: "complaint",
                entity_id: Some(id),
                before: Some(serde_json::json!({"status": status.code()}).to_string()),
                after: Some(
                    serde_json::json!({"status": "answered", "side": answered_side.code()})
                        .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    get(conn, reference, scope, id, now)
}

/// The complainant closes the complaint with a rating 1–5 and an optional
/// comment (办结评价): once answered, or once the answer deadline passed
/// without an answer.
pub fn close(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    rating: i64,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let (r, side) = load(conn, scope, id, now)?;
    if side != Standing::Complainant {
        return Err(StoreError::Forbidden(
            "only the complainant closes a complaint".into(),
        ));
    }
    let mut errs = Vec::new();
    if !(1..=5).contains(&rating) {
        errs.push(FieldError::new("rating", "from 1 to 5"));
    }
    let comment = match crate::text::optional("comment", comment, MAX_COMMENT) {
        Ok(c) => c,
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(e) => return Err(e),
    };
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let status: Status = r.parse("status")?;
    let answer_due: String = r.get("answer_due")?;
    let at = ts(now);
    let may = status == Status::Answered || (status.is_open() && answer_due < at);
    if status == Status::Closed {
        return Err(StoreError::Conflict(
            "the complaint is closed already".into(),
        ));
    }
    if !may {
        return Err(invalid(
            "status",
            format!(
                "a complaint is closed once answered, or after its answer deadline {answer_due} without an answer"
            ),
        ));
    }
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE complaint SET status = 'closed', closed_at = $1, rating = $2, rating_comment = $3, \
             updated_at = $1 WHERE id = $4 AND status = $5",
            &[
                at.as_str().into(),
                rating.into(),
                comment.as_deref().into(),
                id.into(),
                status.code().into(),
            ],
        )?;
        if n != 1 {
            return Err(conflict("changed"));
        }
        // The rating is not personal; the comment is, and stays out.
        audit::append(
            c,
            scope,
            audit::Event {
                action: "complaint_close",
                entity: "complaint",
                entity_id: Some(id),
                before: Some(serde_json::json!({"status": status.code()}).to_string()),
                after: Some(serde_json::json!({"status": "closed", "rating": rating}).to_string()),
            },
        )?;
        Ok(())
    })?;
    get(conn, reference, scope, id, now)
}

// ---------------------------------------------------------------- escalation

/// Marks open complaints past a deadline escalated (逾期升级, 督办), each
/// with its audit entry, as the system; returns how many. Run periodically by
/// the server; lists and figures judge lateness from the deadlines
/// themselves, so a complaint is never shown on time while this waits.
pub fn escalate_due(conn: &mut Conn, now: DateTime<Utc>) -> Result<usize> {
    let at = ts(now);
    let rows = conn.query(
        "SELECT id, status, ack_due, answer_due FROM complaint \
         WHERE status IN ('received', 'acknowledged') AND escalated_at IS NULL \
         AND ((status = 'received' AND ack_due < $1) OR answer_due < $1) ORDER BY id LIMIT 5000",
        &[at.as_str().into()],
    )?;
    if rows.is_empty() {
        return Ok(0);
    }
    let sys = Scope::system("complaint-escalation");
    conn.transaction(|c| {
        let mut n = 0;
        for r in &rows {
            let id: String = r.get("id")?;
            let answer_due: String = r.get("answer_due")?;
            let why = if answer_due < at {
                Escalation::AnswerLate
            } else {
                Escalation::AckLate
            };
            let k = c.execute(
                "UPDATE complaint SET escalated_at = $1, escalation_reason = $2 \
                 WHERE id = $3 AND escalated_at IS NULL AND status IN ('received', 'acknowledged')",
                &[at.as_str().into(), why.code().into(), id.as_str().into()],
            )?;
            if k > 0 {
                n += 1;
                audit::append(
                    c,
                    &sys,
                    audit::Event {
                        action: "complaint_escalate",
                        entity: "complaint",
                        entity_id: Some(&id),
                        before: None,
                        after: Some(serde_json::json!({"reason": why.code()}).to_string()),
                    },
                )?;
            }
        }
        Ok(n)
    })
}

// ---------------------------------------------------------------- figures

/// The area one level below `depth` segments of a path (`/330400/330402/…`:
/// depth 1 is the city, so its lines are counties).
fn area_below(path: &str, depth: usize) -> Option<&str> {
    path.split('/').filter(|s| !s.is_empty()).nth(depth)
}

/// The complaint figures of the caller's area (county and city staff): per
/// facility (one `GROUP BY` in SQL) and per county or town below the
/// caller's area (the facility lines added up), with the facilities that
/// reached `complaint.repeat_threshold` within `complaint.repeat_days`.
pub fn figures(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Figures> {
    scope.require(Perm::SuperviseComplaints)?;
    if scope.is_family() {
        return Err(StoreError::Forbidden("not a family's".into()));
    }
    let today = now.date_naive();
    let repeat_days = param("complaint.repeat_days", today)?;
    let repeat_threshold = param("complaint.repeat_threshold", today)?;
    let since = ts(now - Duration::days(repeat_days.clamp(0, 3660)));
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = vec![ts(now).into(), since.into()];
    scope.push_sql(&mut w, &mut p, "c.facility_path", Some("c.facility_id"));
    let rows = conn.query(
        &format!(
            "SELECT c.facility_id, f.name, c.facility_path, \
             CAST(COUNT(*) AS BIGINT) AS received, \
             CAST(SUM(CASE WHEN c.status IN ('received', 'acknowledged') THEN 1 ELSE 0 END) AS BIGINT) AS open, \
             CAST(SUM(CASE WHEN {LATE} THEN 1 ELSE 0 END) AS BIGINT) AS late, \
             CAST(SUM(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS answered, \
             CAST(SUM(CASE WHEN c.answered_at IS NOT NULL AND c.answered_at <= c.answer_due THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
             CAST(SUM(CASE WHEN c.answered_at IS NOT NULL OR c.answer_due < $1 THEN 1 ELSE 0 END) AS BIGINT) AS due, \
             CAST(SUM(CASE WHEN c.filed_at >= $2 THEN 1 ELSE 0 END) AS BIGINT) AS recent, \
             CAST(COUNT(c.rating) AS BIGINT) AS rated, \
             CAST(COALESCE(SUM(c.rating), 0) AS BIGINT) AS rating_sum \
             FROM complaint c JOIN facility f ON f.id = c.facility_id WHERE {w} \
             GROUP BY c.facility_id, f.name, c.facility_path \
             ORDER BY c.facility_path, c.facility_id LIMIT {MAX_FACILITIES}"
        ),
        &p,
    )?;
    let mut facilities = Vec::with_capacity(rows.len());
    for r in &rows {
        let counts = Counts {
            received: r.get("received")?,
            open: r.get("open")?,
            late: r.get("late")?,
            answered: r.get("answered")?,
            answered_on_time: r.get("on_time")?,
            answer_due: r.get("due")?,
            recent: r.get("recent")?,
            rated: r.get("rated")?,
            rating_sum: r.get("rating_sum")?,
        };
        facilities.push(FacilityLine {
            facility_id: r.get("facility_id")?,
            facility_name: r.get("name")?,
            area_path: r.get("facility_path")?,
            inspection_due: counts.recent >= repeat_threshold,
            counts,
        });
    }
    // The areas one level below the caller's: a county's towns, the city's counties.
    let depth = scope
        .area_path()
        .map(|p| p.split('/').filter(|s| !s.is_empty()).count())
        .unwrap_or(1);
    let mut areas: BTreeMap<String, AreaLine> = BTreeMap::new();
    let mut total = Counts::default();
    for f in &facilities {
        total.add(&f.counts);
        let Some(code) = area_below(&f.area_path, depth)
            .or_else(|| area_below(&f.area_path, depth.saturating_sub(1)))
        else {
            continue;
        };
        let line = areas.entry(code.to_string()).or_insert_with(|| AreaLine {
            code: code.to_string(),
            name: reference
                .areas
                .get(code)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| code.to_string()),
            counts: Counts::default(),
            inspection_due: 0,
        });
        line.counts.add(&f.counts);
        line.inspection_due += i64::from(f.inspection_due);
    }
    // Flagged facilities first, then the most complaints.
    facilities.sort_by(|a, b| {
        b.inspection_due
            .cmp(&a.inspection_due)
            .then(b.counts.late.cmp(&a.counts.late))
            .then(b.counts.received.cmp(&a.counts.received))
            .then(a.facility_id.cmp(&b.facility_id))
    });
    Ok(Figures {
        total,
        areas: areas.into_values().collect(),
        facilities,
        repeat_days,
        repeat_threshold,
    })
}

// ---------------------------------------------------------------- demo

/// Demo complaints at one childcare institution, filed by the system on
/// behalf of the families of its first enrolled children: one new, one
/// acknowledged, one answered, one closed with a rating, one late. Returns
/// how many; none when the institution has some already.
pub fn seed_demo(
    conn: &mut Conn,
    reference: &Reference,
    facility_id: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let have = conn.query_i64(
        "SELECT COUNT(*) FROM complaint WHERE facility_id = $1",
        &[facility_id.into()],
    )?;
    if have > 0 {
        return Ok(0);
    }
    let kids: Vec<String> = conn
        .query(
            "SELECT infant_id FROM enrolment WHERE facility_id = $1 AND deleted_at IS NULL \
             ORDER BY id LIMIT 5",
            &[facility_id.into()],
        )?
        .iter()
        .map(|r| r.get("infant_id"))
        .collect::<Result<_>>()?;
    let sys = Scope::system("demo");
    let cases = [
        (
            Category::Meals,
            "午餐菜量偏少，孩子回家说没吃饱，希望机构关注。",
            1,
            None,
        ),
        (
            Category::HygieneHealth,
            "午睡室通风不好，近期班上多名幼儿咳嗽。",
            3,
            Some("ack"),
        ),
        (
            Category::Fees,
            "十月账单伙食费退费天数与实际请假天数不符。",
            6,
            Some("answer"),
        ),
        (
            Category::ServiceQuality,
            "接送时间门口秩序混乱，等候时间长。",
            12,
            Some("close"),
        ),
        (
            Category::Safety,
            "户外活动区一处护栏松动，存在安全隐患。",
            20,
            None,
        ),
    ];
    let mut n = 0;
    for (i, (cat, body, days_ago, step)) in cases.iter().enumerate() {
        let at = now - Duration::days(*days_ago);
        let input = NewComplaint {
            person_id: kids.get(i).cloned(),
            facility_id: Some(facility_id.to_string()),
            category: cat.code().into(),
            body: (*body).into(),
            contact_phone: Some(format!("1380000{:04}", 1000 + i)),
            source: Some(Source::Family),
        };
        let c = file(conn, reference, &sys, &input, at)?;
        let later = at + Duration::days(1);
        match *step {
            Some("ack") => {
                acknowledge(conn, reference, &sys, &c.row.id, later)?;
            }
            Some("answer") | Some("close") => {
                answer(
                    conn,
                    reference,
                    &sys,
                    &c.row.id,
                    "已核对考勤，少退的两天伙食费将在下月账单中退还，感谢指正。",
                    later,
                )?;
                if *step == Some("close") {
                    // The system stands in for the family here; set directly.
                    conn.execute(
                        "UPDATE complaint SET status = 'closed', closed_at = $1, rating = 4, updated_at = $1 WHERE id = $2",
                        &[ts(later + Duration::days(1)).into(), c.row.id.as_str().into()],
                    )?;
                }
            }
            _ => {}
        }
        n += 1;
    }
    escalate_due(conn, now)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_are_ts_and_ten_crockford_characters() {
        let a = tracking_code();
        assert_eq!(a.len(), 12);
        assert!(a.starts_with("TS"));
        assert!(a[2..].bytes().all(|b| CROCKFORD.contains(&b)));
        assert_ne!(a, tracking_code());
    }

    #[test]
    fn phones_are_checked_and_masked() {
        assert_eq!(
            clean_phone("138-1234 5678").expect("ok").as_deref(),
            Some("13812345678")
        );
        assert_eq!(clean_phone("  ").expect("blank"), None);
        assert!(clean_phone("12345").is_err());
        assert!(clean_phone("0573-8888888").is_ok());
        assert!(clean_phone("2381234567x").is_err());
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn categories_parse_by_code_and_label() {
        assert_eq!(Category::parse("膳食"), Some(Category::Meals));
        assert_eq!(Category::parse("fees"), Some(Category::Fees));
        assert_eq!(Category::parse("x"), None);
        assert_eq!(Status::Acknowledged.label_zh(), "已确认");
        assert_eq!(area_below("/330400/330402/330402001/", 1), Some("330402"));
        assert_eq!(
            area_below("/330400/330402/330402001/", 2),
            Some("330402001")
        );
    }
}
