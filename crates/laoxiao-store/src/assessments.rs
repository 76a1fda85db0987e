//! Ability assessments (老年人能力评估, GB/T 42195-2022) as a workflow.
//!
//! An assessment of an elderly person is written as a draft (草稿): the reason
//! (评估原因), the day, the 26 answers, the Annex A facts the level rules read
//! (coma, diagnoses, care-risk events in the past 30 days) and two certified
//! assessors (评估员, staff records with `certified`, distinct). Finishing it
//! (完成) computes the result with `laoxiao_rules::assessment` and freezes it
//! in the row; in the same transaction the person's `ability_level` is set
//! (audited, the assessment named as its source), a `service_record` of kind
//! `ability_assessment` is written (the indicators count it) and the next due
//! day (复评到期) is stored. A finished result may be appealed (申请复评); a
//! review assessment (reason 复评, `review_of` the appealed one) by two other
//! assessors then replaces it (the appealed one becomes `superseded`).
//!
//! Scoped by the person's current area (joined, never copied). Reading needs
//! `ReadPeople`; drafting and finishing `Assess`; appealing and flagging a
//! change of condition (即时评估) `WritePeople`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::activity::{ServiceKind, ServiceRecord};
use laoxiao_model::person::{AbilityLevel, mask_name};
use laoxiao_rules::RulesError;
use laoxiao_rules::assessment::{Facts, Outcome, Standard};
use serde::{Deserialize, Serialize};

use crate::db::{Conn, Row, Value};
use crate::error::{Result, RowError, StoreError};
use crate::scope::{Perm, Scope};
use crate::worklist::WorkItem;
use crate::{Reference, activity, audit, facilities, now_rfc3339, people};

pub mod demo;
pub mod import;

/// Longest appeal or flag note, in characters.
pub const MAX_NOTE: usize = 500;
/// Most diagnoses one assessment may list.
pub const MAX_DIAGNOSES: usize = 30;
/// Most rows a list or due list answers at once.
pub const MAX_LIMIT: u32 = 500;
/// Days ahead the due list looks (due soon, not yet overdue).
pub const DUE_HORIZON_DAYS: i64 = 30;
/// The earliest assessment day accepted (the standard's issue).
pub fn earliest_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 12, 30).unwrap_or_default()
}

/// Why an assessment is made (A.1 评估原因).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 首次评估
    First,
    /// 常规评估
    Routine,
    /// 即时评估 (after a change of condition)
    Immediate,
    /// 对评估结果有疑问进行复评 (review on appeal)
    Review,
    /// 其他
    Other,
}

impl Reason {
    pub const ALL: [Reason; 5] = [
        Reason::First,
        Reason::Routine,
        Reason::Immediate,
        Reason::Review,
        Reason::Other,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Reason::First => "first",
            Reason::Routine => "routine",
            Reason::Immediate => "immediate",
            Reason::Review => "review",
            Reason::Other => "other",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Reason::First => "首次评估",
            Reason::Routine => "常规评估",
            Reason::Immediate => "即时评估",
            Reason::Review => "对评估结果有疑问进行复评",
            Reason::Other => "其他",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Reason::First => "First assessment",
            Reason::Routine => "Routine",
            Reason::Immediate => "Immediate (change of condition)",
            Reason::Review => "Review on appeal",
            Reason::Other => "Other",
        }
    }
    /// Accepts the code, the Chinese label or 复评.
    pub fn parse(s: &str) -> Option<Reason> {
        let s = s.trim();
        Reason::ALL
            .into_iter()
            .find(|r| r.code() == s || r.zh() == s)
            .or_else(|| (s == "复评").then_some(Reason::Review))
    }
}

/// Where an assessment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 草稿: answers may change.
    Draft,
    /// 已完成: the result is frozen and is the person's level.
    Finished,
    /// 申请复评: the result is disputed; a review assessment is due.
    Appealed,
    /// 已被复评结果取代.
    Superseded,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Draft,
        State::Finished,
        State::Appealed,
        State::Superseded,
    ];
    pub fn code(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Finished => "finished",
            State::Appealed => "appealed",
            State::Superseded => "superseded",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            State::Draft => "草稿",
            State::Finished => "已完成",
            State::Appealed => "申请复评",
            State::Superseded => "已被复评取代",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            State::Draft => "Draft",
            State::Finished => "Finished",
            State::Appealed => "Appealed",
            State::Superseded => "Superseded by review",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// What a draft holds (create and update take the whole of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub person_id: String,
    pub reason: Reason,
    pub assessed_on: NaiveDate,
    pub assessor1_id: String,
    pub assessor2_id: String,
    /// The assessing organisation (评估机构); the first assessor's employer when absent.
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// Item code (`B.1.1`) → score; a draft may leave items out.
    #[serde(default)]
    pub answers: BTreeMap<String, u8>,
    /// A.5.11 昏迷.
    #[serde(default)]
    pub coma: bool,
    /// A.4.1 disease keys (`dementia`, `mental_disorder`, `hypertension`, …).
    #[serde(default)]
    pub diagnoses: Vec<String>,
    /// A.2.14 care-risk events in the past 30 days, by type key.
    #[serde(default)]
    pub risk_events: BTreeMap<String, u32>,
    /// For a review (reason `review`): the appealed assessment.
    #[serde(default)]
    pub review_of: Option<String>,
}

impl Draft {
    /// The Annex A facts the level rules read.
    pub fn facts(&self) -> Facts {
        Facts {
            coma: self.coma,
            dementia: self.diagnoses.iter().any(|d| d == "dementia"),
            mental_disorder: self.diagnoses.iter().any(|d| d == "mental_disorder"),
            risk_events: self.risk_events.clone(),
        }
    }
}

/// An assessor as the report shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessor {
    pub id: String,
    /// Masked (张**).
    pub name: String,
    pub facility_id: String,
}

/// An assessment as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub id: String,
    pub state: State,
    pub draft: Draft,
    /// Masked.
    pub person_name: String,
    pub person_area_code: String,
    pub assessors: Vec<Assessor>,
    pub organisation_id: Option<String>,
    /// The frozen result, once finished.
    pub outcome: Option<Outcome>,
    pub appeal_reason: Option<String>,
    /// The review that replaced this one, if any.
    pub reviewed_by: Option<String>,
    pub service_record_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub finished_by: Option<String>,
    pub finished_at: Option<String>,
}

/// A line of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub person_area_code: String,
    pub reason: Reason,
    pub assessed_on: NaiveDate,
    pub state: State,
    pub total: Option<i64>,
    pub final_level: Option<AbilityLevel>,
}

/// Filters of the list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// An area code: the person lives in its subtree.
    pub area: Option<String>,
    pub state: Option<State>,
    pub person_id: Option<String>,
    pub limit: Option<u32>,
    /// Keyset cursor: the last id of the previous page.
    pub after: Option<String>,
}

/// Why a person is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueCause {
    /// The period since the last finished assessment has run (常规复评).
    Routine,
    /// Staff flagged a change of condition (即时评估).
    Immediate,
    /// An ability level on the register, never assessed here.
    NeverAssessed,
}

impl DueCause {
    pub fn code(self) -> &'static str {
        match self {
            DueCause::Routine => "routine",
            DueCause::Immediate => "immediate",
            DueCause::NeverAssessed => "never_assessed",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            DueCause::Routine => "常规复评",
            DueCause::Immediate => "即时评估",
            DueCause::NeverAssessed => "从未评估",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            DueCause::Routine => "Routine reassessment",
            DueCause::Immediate => "Change of condition",
            DueCause::NeverAssessed => "Never assessed",
        }
    }
}

/// A person due for assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueLine {
    pub person_id: String,
    /// Masked.
    pub person_name: String,
    pub person_area_code: String,
    pub ability_level: Option<AbilityLevel>,
    pub cause: DueCause,
    /// `None` for people never assessed (due now, not overdue).
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub last_assessment_id: Option<String>,
}

/// Filters of the due list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DueQuery {
    pub area: Option<String>,
    /// Only those past their due day.
    pub overdue: bool,
    pub limit: Option<u32>,
}

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "assessment",
        id: id.chars().take(64).collect(),
    }
}

fn standard() -> Result<&'static Standard> {
    Standard::embedded().map_err(|e| StoreError::Reference(e.to_string()))
}

fn rules_err(e: RulesError) -> StoreError {
    match e {
        RulesError::Answer { item, reason } => {
            let field = if item.starts_with("risk_events") {
                item
            } else {
                format!("answers.{item}")
            };
            invalid(&field, reason)
        }
        other => StoreError::Reference(other.to_string()),
    }
}

/// A fresh id (random: says nothing about how many there are).
pub fn new_id() -> String {
    format!("AS-{}", crate::crypto::random_hex(8))
}

/// The person's path and role if live, elderly and in the scope.
fn person_in_scope(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Option<Row>> {
    let mut p = vec![Value::from(id)];
    let mut w = String::from("id = $1 AND deleted_at IS NULL AND role = 'elderly'");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    conn.query_opt(
        &format!("SELECT id, name, area_path, residence_area_code, status FROM person WHERE {w}"),
        &p,
    )
}

/// Checks one assessor: a live staff record, certified, employed on the day.
/// A missing record and an uncertified one answer alike (no oracle).
fn check_assessor(conn: &mut Conn, id: &str, on: NaiveDate) -> Result<Option<String>> {
    let row = conn.query_opt(
        "SELECT facility_id, certified, hired_date, left_date FROM staff WHERE id = $1 AND deleted_at IS NULL",
        &[id.into()],
    )?;
    let Some(r) = row else {
        return Ok(None);
    };
    let certified: bool = r.get("certified")?;
    let hired: NaiveDate = r.get("hired_date")?;
    let left: Option<NaiveDate> = r.get("left_date")?;
    if !certified || hired > on || left.is_some_and(|l| l < on) {
        return Ok(None);
    }
    Ok(Some(r.get("facility_id")?))
}

/// Every problem with a draft (answers may be partial). Returns the
/// organisation to record (given, or the first assessor's employer).
fn check_draft(
    conn: &mut Conn,
    scope: &Scope,
    d: &Draft,
    today: NaiveDate,
    own_id: Option<&str>,
) -> Result<Option<String>> {
    let std = standard()?;
    let mut errs = Vec::new();
    if person_in_scope(conn, scope, &d.person_id)?.is_none() {
        errs.push(FieldError::new(
            "person_id",
            "no elderly person with this id in your area",
        ));
    }
    if d.assessed_on > today {
        errs.push(FieldError::new("assessed_on", "must not be in the future"));
    } else if d.assessed_on < earliest_day() {
        errs.push(FieldError::new(
            "assessed_on",
            "GB/T 42195-2022 applies from 2022-12-30",
        ));
    }
    for (code, score) in &d.answers {
        match std.item(code) {
            None => errs.push(FieldError::new(
                format!("answers.{}", code.chars().take(20).collect::<String>()),
                "not an item of GB/T 42195-2022 Annex B",
            )),
            Some(it) if !it.options.iter().any(|o| o.score == *score) => {
                let allowed: Vec<String> = it.options.iter().map(|o| o.score.to_string()).collect();
                errs.push(FieldError::new(
                    format!("answers.{code}"),
                    format!(
                        "{} has no option scored {score}; options: {}",
                        it.zh,
                        allowed.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if d.diagnoses.len() > MAX_DIAGNOSES {
        errs.push(FieldError::new(
            "diagnoses",
            format!("at most {MAX_DIAGNOSES}"),
        ));
    }
    let mut seen = BTreeSet::new();
    for k in &d.diagnoses {
        if !std.diagnoses.iter().any(|x| &x.key == k) {
            errs.push(FieldError::new(
                "diagnoses",
                format!(
                    "unknown disease {:?} (A.4.1 list)",
                    k.chars().take(40).collect::<String>()
                ),
            ));
        } else if !seen.insert(k) {
            errs.push(FieldError::new("diagnoses", format!("{k} listed twice")));
        }
    }
    for (k, n) in &d.risk_events {
        if !std.risk_events.iter().any(|t| &t.key == k) {
            errs.push(FieldError::new(
                format!("risk_events.{}", k.chars().take(20).collect::<String>()),
                "unknown care-risk event type",
            ));
        } else if *n > laoxiao_rules::assessment::MAX_RISK_EVENTS {
            errs.push(FieldError::new(
                format!("risk_events.{k}"),
                format!("at most {}", laoxiao_rules::assessment::MAX_RISK_EVENTS),
            ));
        }
    }
    let org1 = check_assessor(conn, &d.assessor1_id, d.assessed_on)?;
    if org1.is_none() {
        errs.push(FieldError::new(
            "assessor1_id",
            "not a certified staff member employed on the assessment day",
        ));
    }
    if d.assessor2_id == d.assessor1_id {
        errs.push(FieldError::new(
            "assessor2_id",
            "the two assessors must be different people",
        ));
    } else if check_assessor(conn, &d.assessor2_id, d.assessed_on)?.is_none() {
        errs.push(FieldError::new(
            "assessor2_id",
            "not a certified staff member employed on the assessment day",
        ));
    }
    let organisation = match &d.organisation_id {
        Some(o) => {
            let live = conn
                .query_opt(
                    "SELECT id FROM facility WHERE id = $1 AND deleted_at IS NULL",
                    &[o.as_str().into()],
                )?
                .is_some();
            if !live {
                errs.push(FieldError::new("organisation_id", "no such organisation"));
            }
            Some(o.clone())
        }
        None => org1,
    };
    match (d.reason, &d.review_of) {
        (Reason::Review, None) => errs.push(FieldError::new(
            "review_of",
            "a review names the appealed assessment",
        )),
        (Reason::Review, Some(of)) => {
            let mut p = vec![Value::from(of.as_str())];
            let mut w = String::from("a.id = $1");
            scope.push_sql(&mut w, &mut p, "p.area_path", None);
            let row = conn.query_opt(
                &format!(
                    "SELECT a.person_id, a.state, a.assessor1_id, a.assessor2_id FROM ability_assessment a \
                     JOIN person p ON p.id = a.person_id WHERE {w}"
                ),
                &p,
            )?;
            match row {
                None => errs.push(FieldError::new(
                    "review_of",
                    "no such assessment in your area",
                )),
                Some(r) => {
                    if r.get::<String>("person_id")? != d.person_id {
                        errs.push(FieldError::new(
                            "review_of",
                            "the appealed assessment is of another person",
                        ));
                    }
                    if r.get::<String>("state")? != State::Appealed.code() {
                        errs.push(FieldError::new(
                            "review_of",
                            "only an appealed assessment is reviewed",
                        ));
                    }
                    let before: [String; 2] = [r.get("assessor1_id")?, r.get("assessor2_id")?];
                    for (f, a) in [
                        ("assessor1_id", &d.assessor1_id),
                        ("assessor2_id", &d.assessor2_id),
                    ] {
                        if before.contains(a) {
                            errs.push(FieldError::new(
                                f,
                                "a review is made by assessors other than the appealed assessment's",
                            ));
                        }
                    }
                    let mut q = vec![Value::from(of.as_str())];
                    let mut sql = String::from(
                        "SELECT id FROM ability_assessment WHERE review_of = $1 AND state <> 'superseded'",
                    );
                    if let Some(own) = own_id {
                        q.push(own.into());
                        sql.push_str(" AND id <> $2");
                    }
                    if conn.query_opt(&sql, &q)?.is_some() {
                        errs.push(FieldError::new(
                            "review_of",
                            "a review of this assessment exists already",
                        ));
                    }
                }
            }
        }
        (_, Some(_)) => errs.push(FieldError::new(
            "review_of",
            "only a review (reason review) names an appealed assessment",
        )),
        (_, None) => {}
    }
    if errs.is_empty() {
        Ok(organisation)
    } else {
        Err(StoreError::Invalid(errs))
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Database(format!("stored assessment: {e}")))
}

fn audit_event(conn: &mut Conn, scope: &Scope, action: &str, id: &str, d: &Draft) -> Result<()> {
    // The snapshot leaves the answers and health facts out (personal data):
    // the assessment row itself is the record of them.
    let after = serde_json::json!({
        "id": id,
        "person_id": d.person_id,
        "reason": d.reason,
        "assessed_on": d.assessed_on,
        "assessor1_id": d.assessor1_id,
        "assessor2_id": d.assessor2_id,
        "review_of": d.review_of,
    })
    .to_string();
    audit::append(
        conn,
        scope,
        audit::Event {
            action,
            entity: "ability_assessment",
            entity_id: Some(id),
            before: None,
            after: Some(after),
        },
    )?;
    Ok(())
}

/// Creates a draft. One transaction with its audit entry.
pub fn create(conn: &mut Conn, scope: &Scope, d: &Draft, today: NaiveDate) -> Result<Assessment> {
    scope.require(Perm::Assess)?;
    conn.transaction(|c| {
        let id = new_id();
        create_in(c, scope, &id, d, today)?;
        get_in(c, scope, &id)
    })
}

fn create_in(conn: &mut Conn, scope: &Scope, id: &str, d: &Draft, today: NaiveDate) -> Result<()> {
    let org = check_draft(conn, scope, d, today, None)?;
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO ability_assessment (id, person_id, reason, assessed_on, state, answers, coma, \
         diagnoses, risk_events, assessor1_id, assessor2_id, organisation_id, review_of, \
         created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
        &[
            id.into(),
            d.person_id.as_str().into(),
            d.reason.code().into(),
            d.assessed_on.into(),
            json(&d.answers)?.into(),
            d.coma.into(),
            json(&d.diagnoses)?.into(),
            json(&d.risk_events)?.into(),
            d.assessor1_id.as_str().into(),
            d.assessor2_id.as_str().into(),
            org.into(),
            d.review_of.clone().into(),
            scope.actor.user.as_str().into(),
            now.into(),
        ],
    )?;
    audit_event(conn, scope, "assessment_create", id, d)
}

/// Replaces a draft's content (the person stays). One transaction with its audit entry.
pub fn update(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    d: &Draft,
    today: NaiveDate,
) -> Result<Assessment> {
    scope.require(Perm::Assess)?;
    conn.transaction(|c| {
        let before = get_in(c, scope, id)?;
        if before.state != State::Draft {
            return Err(StoreError::Conflict(format!(
                "assessment {id} is {}: only a draft changes",
                before.state.code()
            )));
        }
        if before.draft.person_id != d.person_id {
            return Err(invalid("person_id", "a draft's person does not change"));
        }
        let org = check_draft(c, scope, d, today, Some(id))?;
        c.execute(
            "UPDATE ability_assessment SET reason = $1, assessed_on = $2, answers = $3, coma = $4, \
             diagnoses = $5, risk_events = $6, assessor1_id = $7, assessor2_id = $8, \
             organisation_id = $9, review_of = $10, updated_at = $11 WHERE id = $12 AND state = 'draft'",
            &[
                d.reason.code().into(),
                d.assessed_on.into(),
                json(&d.answers)?.into(),
                d.coma.into(),
                json(&d.diagnoses)?.into(),
                json(&d.risk_events)?.into(),
                d.assessor1_id.as_str().into(),
                d.assessor2_id.as_str().into(),
                org.into(),
                d.review_of.clone().into(),
                now_rfc3339().into(),
                id.into(),
            ],
        )?;
        audit_event(c, scope, "assessment_update", id, d)?;
        get_in(c, scope, id)
    })
}

/// Finishes a draft: computes and freezes the result, sets the person's
/// ability level (audited, the assessment as its source), writes the
/// `ability_assessment` service record and the next due day; a review
/// supersedes the appealed assessment. One transaction.
pub fn finish(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    today: NaiveDate,
) -> Result<Assessment> {
    scope.require(Perm::Assess)?;
    conn.transaction(|c| finish_in(c, reference, scope, id, today))
}

fn finish_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    today: NaiveDate,
) -> Result<Assessment> {
    let a = get_in(conn, scope, id)?;
    if a.state != State::Draft {
        return Err(StoreError::Conflict(format!(
            "assessment {id} is {} already",
            a.state.code()
        )));
    }
    let d = &a.draft;
    // The draft's checks again: an assessor may have lost a certificate since.
    check_draft(conn, scope, d, today, Some(id))?;
    let std = standard()?;
    let missing = std.check_answers(&d.answers);
    if !missing.is_empty() {
        return Err(StoreError::Invalid(
            missing
                .into_iter()
                .map(|e| FieldError::new(format!("answers.{}", e.item), e.reason))
                .collect(),
        ));
    }
    let outcome = std
        .assess(&d.answers, &d.facts(), d.assessed_on)
        .map_err(rules_err)?;
    let now = now_rfc3339();
    let record_id = format!("SR-{id}");
    conn.execute(
        "UPDATE ability_assessment SET state = 'finished', total = $1, initial_level = $2, \
         final_level = $3, result = $4, service_record_id = $5, finished_by = $6, finished_at = $7, \
         updated_at = $7 WHERE id = $8 AND state = 'draft'",
        &[
            Value::Int(i64::from(outcome.total)),
            Value::Int(i64::from(outcome.initial_level.number())),
            Value::Int(i64::from(outcome.final_level.number())),
            json(&outcome)?.into(),
            record_id.as_str().into(),
            scope.actor.user.as_str().into(),
            now.as_str().into(),
            id.into(),
        ],
    )?;
    // The person's level, with the assessment as its source.
    let mut person = people::get(
        conn,
        reference,
        &Scope::system(&scope.actor.user),
        &d.person_id,
    )?;
    let before_level = person.ability_level;
    person.ability_level = Some(outcome.final_level);
    people::upsert(conn, reference, &person, &now)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "ability_level_from_assessment",
            entity: "person",
            entity_id: Some(&d.person_id),
            before: Some(serde_json::json!({ "ability_level": before_level }).to_string()),
            after: Some(
                serde_json::json!({
                    "ability_level": outcome.final_level,
                    "source_assessment_id": id,
                })
                .to_string(),
            ),
        },
    )?;
    // The service record the indicators read.
    let record = ServiceRecord {
        id: record_id.clone(),
        person_id: d.person_id.clone(),
        kind: ServiceKind::AbilityAssessment,
        date: d.assessed_on,
        facility_id: a.organisation_id.clone(),
        ability_level: Some(outcome.final_level),
        note: Some(format!("GB/T 42195-2022 评估 {id}")),
    };
    activity::upsert(conn, &record, &now)?;
    // The next routine assessment, unless a later one is recorded already.
    let due = std.due_after(d.assessed_on).map_err(rules_err)?;
    let path: String = person_in_scope(conn, &Scope::system(""), &d.person_id)?
        .map(|r| r.get("area_path"))
        .transpose()?
        .unwrap_or_default();
    let newer = conn.query_opt(
        "SELECT a.id FROM ability_assessment a WHERE a.person_id = $1 AND a.id <> $2 \
         AND a.state IN ('finished', 'appealed') AND a.assessed_on > $3",
        &[d.person_id.as_str().into(), id.into(), d.assessed_on.into()],
    )?;
    if newer.is_none() {
        set_due(
            conn,
            &d.person_id,
            &path,
            due,
            DueCause::Routine,
            Some(id),
            None,
            &scope.actor.user,
        )?;
    }
    if let Some(of) = &d.review_of {
        conn.execute(
            "UPDATE ability_assessment SET state = 'superseded', updated_at = $1 WHERE id = $2 AND state = 'appealed'",
            &[now.as_str().into(), of.as_str().into()],
        )?;
        audit::append(
            conn,
            scope,
            audit::Event {
                action: "assessment_supersede",
                entity: "ability_assessment",
                entity_id: Some(of),
                before: None,
                after: Some(serde_json::json!({ "reviewed_by": id }).to_string()),
            },
        )?;
    }
    audit_event(conn, scope, "assessment_finish", id, d)?;
    get_in(conn, scope, id)
}

#[allow(clippy::too_many_arguments)]
fn set_due(
    conn: &mut Conn,
    person_id: &str,
    path: &str,
    due_on: NaiveDate,
    cause: DueCause,
    last: Option<&str>,
    note: Option<&str>,
    by: &str,
) -> Result<()> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO assessment_due (person_id, area_path, due_on, cause, last_assessment_id, flag_note, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (person_id) DO UPDATE SET area_path = excluded.area_path, due_on = excluded.due_on, \
         cause = excluded.cause, last_assessment_id = COALESCE(excluded.last_assessment_id, assessment_due.last_assessment_id), \
         flag_note = excluded.flag_note, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        &[
            person_id.into(),
            path.into(),
            due_on.into(),
            cause.code().into(),
            last.map(str::to_string).into(),
            note.map(str::to_string).into(),
            by.into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// Disputes a finished result (申请复评): a review by two other assessors is
/// then due. `WritePeople` (staff file it for the person). One transaction
/// with its audit entry.
pub fn appeal(conn: &mut Conn, scope: &Scope, id: &str, reason: &str) -> Result<Assessment> {
    scope.require(Perm::WritePeople)?;
    conn.transaction(|c| appeal_in(c, scope, id, reason))
}

pub(crate) fn appeal_in(c: &mut Conn, scope: &Scope, id: &str, reason: &str) -> Result<Assessment> {
    let reason = crate::text::required("reason", reason, MAX_NOTE, "give a reason")?;
    {
        let a = get_in(c, scope, id)?;
        if a.state != State::Finished {
            return Err(StoreError::Conflict(format!(
                "assessment {id} is {}: only a finished assessment is appealed",
                a.state.code()
            )));
        }
        let now = now_rfc3339();
        c.execute(
            "UPDATE ability_assessment SET state = 'appealed', appeal_reason = $1, appealed_by = $2, \
             appealed_at = $3, updated_at = $3 WHERE id = $4 AND state = 'finished'",
            &[
                reason.as_str().into(),
                scope.actor.user.as_str().into(),
                now.into(),
                id.into(),
            ],
        )?;
        audit_event(c, scope, "assessment_appeal", id, &a.draft)?;
        get_in(c, scope, id)
    }
}

/// Marks a person due at once after a change of condition (即时评估).
/// `WritePeople`. One transaction with its audit entry.
pub fn flag_change(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
    note: &str,
    today: NaiveDate,
) -> Result<()> {
    scope.require(Perm::WritePeople)?;
    conn.transaction(|c| flag_change_in(c, scope, person_id, note, today))
}

pub(crate) fn flag_change_in(
    c: &mut Conn,
    scope: &Scope,
    person_id: &str,
    note: &str,
    today: NaiveDate,
) -> Result<()> {
    let note = crate::text::required("note", note, MAX_NOTE, "give a reason")?;
    {
        let row = person_in_scope(c, scope, person_id)?.ok_or_else(|| StoreError::NotFound {
            what: "person",
            id: person_id.chars().take(64).collect(),
        })?;
        let path: String = row.get("area_path")?;
        set_due(
            c,
            person_id,
            &path,
            today,
            DueCause::Immediate,
            None,
            Some(&note),
            &scope.actor.user,
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "assessment_flag_change",
                entity: "person",
                entity_id: Some(person_id),
                before: None,
                after: Some(serde_json::json!({ "due_on": today }).to_string()),
            },
        )?;
        Ok(())
    }
}

const COLS: &str = "a.id, a.person_id, a.reason, a.assessed_on, a.state, a.answers, a.coma, a.diagnoses, \
    a.risk_events, a.assessor1_id, a.assessor2_id, a.organisation_id, a.review_of, a.total, \
    a.final_level, a.result, a.service_record_id, a.appeal_reason, a.created_by, a.created_at, \
    a.finished_by, a.finished_at, p.name AS person_name, p.residence_area_code";

fn parse_reason(r: &Row) -> Result<Reason> {
    let s: String = r.get("reason")?;
    Reason::parse(&s).ok_or_else(|| StoreError::Database(format!("unknown reason {s:?}")))
}

fn parse_state(r: &Row) -> Result<State> {
    let s: String = r.get("state")?;
    State::parse(&s).ok_or_else(|| StoreError::Database(format!("unknown state {s:?}")))
}

fn level(n: Option<i64>) -> Option<AbilityLevel> {
    n.and_then(|n| u8::try_from(n).ok())
        .map(laoxiao_rules::assessment::level_of)
}

/// One assessment in the scope (outside it: not found). `ReadPeople`.
pub fn get(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Assessment> {
    get_in(conn, scope, id)
}

fn get_in(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Assessment> {
    scope.require(Perm::ReadPeople)?;
    let mut p = vec![Value::from(id)];
    let mut w = String::from("a.id = $1 AND p.deleted_at IS NULL");
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    let r = conn
        .query_opt(
            &format!(
                "SELECT {COLS} FROM ability_assessment a JOIN person p ON p.id = a.person_id WHERE {w}"
            ),
            &p,
        )?
        .ok_or_else(|| not_found(id))?;
    let draft = Draft {
        person_id: r.get("person_id")?,
        reason: parse_reason(&r)?,
        assessed_on: r.get("assessed_on")?,
        assessor1_id: r.get("assessor1_id")?,
        assessor2_id: r.get("assessor2_id")?,
        organisation_id: r.get("organisation_id")?,
        answers: from_json(&r.get::<String>("answers")?)?,
        coma: r.get("coma")?,
        diagnoses: from_json(&r.get::<String>("diagnoses")?)?,
        risk_events: from_json(&r.get::<String>("risk_events")?)?,
        review_of: r.get("review_of")?,
    };
    let mut assessors = Vec::new();
    for sid in [&draft.assessor1_id, &draft.assessor2_id] {
        if let Some(s) = conn.query_opt(
            "SELECT id, name, facility_id FROM staff WHERE id = $1",
            &[sid.as_str().into()],
        )? {
            assessors.push(Assessor {
                id: s.get("id")?,
                name: mask_name(&s.get::<String>("name")?),
                facility_id: s.get("facility_id")?,
            });
        }
    }
    let reviewed_by = conn
        .query_opt(
            "SELECT id FROM ability_assessment WHERE review_of = $1 AND state <> 'draft'",
            &[id.into()],
        )?
        .map(|x| x.get("id"))
        .transpose()?;
    let outcome = r
        .get::<Option<String>>("result")?
        .map(|s| from_json::<Outcome>(&s))
        .transpose()?;
    Ok(Assessment {
        id: r.get("id")?,
        state: parse_state(&r)?,
        person_name: mask_name(&r.get::<String>("person_name")?),
        person_area_code: r.get("residence_area_code")?,
        organisation_id: draft.organisation_id.clone(),
        draft,
        assessors,
        outcome,
        appeal_reason: r.get("appeal_reason")?,
        reviewed_by,
        service_record_id: r.get("service_record_id")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        finished_by: r.get("finished_by")?,
        finished_at: r.get("finished_at")?,
    })
}

fn area_filter(
    reference: &Reference,
    area: Option<&str>,
    col: &str,
    w: &mut String,
    p: &mut Vec<Value>,
) -> Result<()> {
    if let Some(code) = area {
        let path = facilities::area_path(reference, code).map_err(|_| {
            invalid(
                "area",
                format!(
                    "unknown area code {:?}",
                    code.chars().take(20).collect::<String>()
                ),
            )
        })?;
        p.push(path.as_str().into());
        w.push_str(&format!(" AND {col} >= ${}", p.len()));
        p.push(crate::path_upper(&path).into());
        w.push_str(&format!(" AND {col} < ${}", p.len()));
    }
    Ok(())
}

fn limit_of(l: Option<u32>) -> Result<i64> {
    match l {
        None => Ok(50),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(invalid("limit", format!("from 1 to {MAX_LIMIT}"))),
    }
}

/// Assessments in the scope, newest id last (keyset by id). `ReadPeople`.
pub fn list(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &ListQuery,
) -> Result<Vec<Summary>> {
    scope.require(Perm::ReadPeople)?;
    let mut p = Vec::new();
    let mut w = String::from("p.deleted_at IS NULL");
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    area_filter(reference, q.area.as_deref(), "p.area_path", &mut w, &mut p)?;
    if let Some(s) = q.state {
        p.push(s.code().into());
        w.push_str(&format!(" AND a.state = ${}", p.len()));
    }
    if let Some(id) = &q.person_id {
        p.push(id.as_str().into());
        w.push_str(&format!(" AND a.person_id = ${}", p.len()));
    }
    if let Some(after) = &q.after {
        p.push(after.as_str().into());
        w.push_str(&format!(" AND a.id > ${}", p.len()));
    }
    p.push(Value::Int(limit_of(q.limit)?));
    let rows = conn.query(
        &format!(
            "SELECT a.id, a.person_id, a.reason, a.assessed_on, a.state, a.total, a.final_level, \
             p.name AS person_name, p.residence_area_code FROM ability_assessment a \
             JOIN person p ON p.id = a.person_id WHERE {w} ORDER BY a.id LIMIT ${}",
            p.len()
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            Ok(Summary {
                id: r.get("id")?,
                person_id: r.get("person_id")?,
                person_name: mask_name(&r.get::<String>("person_name")?),
                person_area_code: r.get("residence_area_code")?,
                reason: parse_reason(r)?,
                assessed_on: r.get("assessed_on")?,
                state: parse_state(r)?,
                total: r.get("total")?,
                final_level: level(r.get("final_level")?),
            })
        })
        .collect()
}

/// People in the scope due for assessment: past or within
/// [`DUE_HORIZON_DAYS`] of their due day, flagged for a change of condition,
/// or with an ability level but never assessed. Overdue first, then by due
/// day. `ReadPeople`.
pub fn due(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    today: NaiveDate,
    q: &DueQuery,
) -> Result<Vec<DueLine>> {
    scope.require(Perm::ReadPeople)?;
    let limit = limit_of(q.limit)?;
    let horizon = if q.overdue {
        today.pred_opt().unwrap_or(today)
    } else {
        today + chrono::Days::new(DUE_HORIZON_DAYS as u64)
    };
    let mut p = vec![Value::from(horizon)];
    let mut w = String::from(
        "d.due_on <= $1 AND p.deleted_at IS NULL AND p.status = 'active' AND p.role = 'elderly'",
    );
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    area_filter(reference, q.area.as_deref(), "p.area_path", &mut w, &mut p)?;
    p.push(Value::Int(limit));
    let rows = conn.query(
        &format!(
            "SELECT d.person_id, d.due_on, d.cause, d.last_assessment_id, p.name, p.residence_area_code, \
             p.ability_level FROM assessment_due d JOIN person p ON p.id = d.person_id \
             WHERE {w} ORDER BY d.due_on, d.person_id LIMIT ${}",
            p.len()
        ),
        &p,
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let due_on: NaiveDate = r.get("due_on")?;
        let cause = match r.get::<String>("cause")?.as_str() {
            "immediate" => DueCause::Immediate,
            _ => DueCause::Routine,
        };
        out.push(DueLine {
            person_id: r.get("person_id")?,
            person_name: mask_name(&r.get::<String>("name")?),
            person_area_code: r.get("residence_area_code")?,
            ability_level: level(r.get("ability_level")?),
            cause,
            due_on: Some(due_on),
            overdue: due_on < today,
            last_assessment_id: r.get("last_assessment_id")?,
        });
    }
    if !q.overdue && (out.len() as i64) < limit {
        let mut p = Vec::new();
        let mut w = String::from(NEVER_ASSESSED);
        scope.push_sql(&mut w, &mut p, "p.area_path", None);
        area_filter(reference, q.area.as_deref(), "p.area_path", &mut w, &mut p)?;
        p.push(Value::Int(limit - out.len() as i64));
        let rows = conn.query(
            &format!(
                "SELECT p.id, p.name, p.residence_area_code, p.ability_level FROM person p \
                 WHERE {w} ORDER BY p.area_path, p.id LIMIT ${}",
                p.len()
            ),
            &p,
        )?;
        for r in &rows {
            out.push(DueLine {
                person_id: r.get("id")?,
                person_name: mask_name(&r.get::<String>("name")?),
                person_area_code: r.get("residence_area_code")?,
                ability_level: level(r.get("ability_level")?),
                cause: DueCause::NeverAssessed,
                due_on: None,
                overdue: false,
                last_assessment_id: None,
            });
        }
    }
    Ok(out)
}

const NEVER_ASSESSED: &str = "p.role = 'elderly' AND p.deleted_at IS NULL AND p.status = 'active' \
    AND p.ability_level IS NOT NULL \
    AND NOT EXISTS (SELECT 1 FROM assessment_due d WHERE d.person_id = p.id)";

/// Counts for the worklist: (overdue, due within the horizon, never assessed).
pub fn due_counts(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<(i64, i64, i64)> {
    scope.require(Perm::ReadPeople)?;
    let horizon = today + chrono::Days::new(DUE_HORIZON_DAYS as u64);
    let mut p = vec![Value::from(today), Value::from(horizon)];
    let mut w = String::from("p.deleted_at IS NULL AND p.status = 'active' AND p.role = 'elderly'");
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    let r = conn.query_opt(
        &format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN d.due_on < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue, \
             CAST(COALESCE(SUM(CASE WHEN d.due_on >= $1 AND d.due_on <= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS soon \
             FROM assessment_due d JOIN person p ON p.id = d.person_id WHERE {w}"
        ),
        &p,
    )?;
    let (overdue, soon) = match r {
        Some(r) => (r.get("overdue")?, r.get("soon")?),
        None => (0, 0),
    };
    let mut p = Vec::new();
    let mut w = String::from(NEVER_ASSESSED);
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    let never = conn.query_i64(&format!("SELECT COUNT(*) FROM person p WHERE {w}"), &p)?;
    Ok((overdue, soon, never))
}

/// The worklist lines of assessments: overdue (urgent), due within 30 days,
/// never assessed, and appealed results waiting for a review (for those who
/// assess). Empty for a scope that may not read people.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    if !scope.can(Perm::ReadPeople) || scope.facility().is_some() {
        return Ok(Vec::new());
    }
    let (overdue, soon, never) = due_counts(conn, scope, today)?;
    let mut items = vec![
        WorkItem::new(
            "assessments_overdue",
            "能力评估逾期未复评",
            "Ability assessments overdue",
            overdue,
            "/console/assessments/due?overdue=true",
        )
        .urgent(),
        WorkItem::new(
            "assessments_due",
            "30天内到期的能力评估",
            "Ability assessments due within 30 days",
            soon,
            "/console/assessments/due",
        ),
        WorkItem::new(
            "assessments_never",
            "有能力等级但从未评估",
            "Ability level on the register, never assessed",
            never,
            "/console/assessments/due",
        ),
    ];
    if scope.can(Perm::Assess) {
        let mut p = Vec::new();
        let mut w = String::from("a.state = 'appealed' AND p.deleted_at IS NULL");
        scope.push_sql(&mut w, &mut p, "p.area_path", None);
        let n = conn.query_i64(
            &format!(
                "SELECT COUNT(*) FROM ability_assessment a JOIN person p ON p.id = a.person_id WHERE {w}"
            ),
            &p,
        )?;
        items.push(WorkItem::new(
            "assessments_appealed",
            "待复评的申诉",
            "Appeals waiting for a review",
            n,
            "/console/assessments?state=appealed",
        ));
    }
    Ok(crate::worklist::order(items))
}

/// Turns row errors from a validation into import row errors.
pub(crate) fn row_errors(row: usize, e: StoreError) -> Vec<RowError> {
    match e {
        StoreError::Invalid(errs) => errs
            .into_iter()
            .map(|f| RowError {
                row,
                column: f.field,
                reason: f.reason,
            })
            .collect(),
        other => vec![RowError {
            row,
            column: String::new(),
            reason: other.to_string(),
        }],
    }
}
