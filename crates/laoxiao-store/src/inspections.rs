//! Random inspections (双随机、一公开, `random_inspection`), issue 17 part 2:
//! inspection plans per period and area (检查计划), their draws (抽取) with
//! commit–reveal, the inspections they assign, item outcomes against the
//! checklist (检查清单), evidence photos, the result (检查结果), its
//! publication (结果公开), rectification orders (整改通知) and re-inspections
//! (复查). The draw itself is pure and lives in
//! `laoxiao_rules::inspections::draw`; this module freezes the rosters, keeps
//! the seed until the draw and records everything. `docs/inspections.md`.
//!
//! Who: county and city staff plan, commit, draw, publish and order
//! re-inspections (`PlanInspections`); the drawn inspectors, and only they,
//! record an inspection (`RecordInspections`); the facility's operator reads
//! its own results and orders and reports a rectification done
//! (`RectifyInspections`). A record outside the caller's reach is not found.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_rules::inspections::checklists::{self, Outcome, Verdict};
use laoxiao_rules::inspections::draw::{
    self as dr, Assignment, DrawDocument, Entry, Pair, Roster, Supersession, TargetKind,
};
use laoxiao_rules::subsidies::Params;
use serde::Serialize;

use crate::childcare_day::invalid;
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Role, Scope};
use crate::uploads::Checked;
use crate::{Reference, audit, path_upper};

/// Longest plan title, in characters.
pub const MAX_TITLE: usize = 100;
/// Longest period label (`2025-Q3`, `2025年下半年`), in characters.
pub const MAX_PERIOD: usize = 20;
/// Longest note (an item's or the inspection's), in characters.
pub const MAX_NOTE: usize = 1000;
/// Longest reason for a new draw, in characters.
pub const MAX_REASON: usize = 500;
/// Most rows a list answers.
pub const MAX_LIST: usize = 500;
/// Most photos per inspection.
pub const MAX_PHOTOS: usize = 50;
/// Longest rectification deadline an inspector may set, in days.
pub const MAX_RECTIFICATION_DAYS: i64 = 365;
const MAX_ID: usize = 64;

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.chars().take(MAX_ID).collect(),
    }
}

fn check_id(field: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.chars().count() > MAX_ID {
        return Err(invalid(field, "not an id"));
    }
    Ok(())
}

fn param(name: &str, day: NaiveDate) -> Result<i64> {
    Params::embedded()
        .map_err(|e| StoreError::Reference(e.to_string()))?
        .int(name, day)
        .map(|(n, _)| n)
        .map_err(|e| StoreError::Reference(e.to_string()))
}

fn rules(e: laoxiao_rules::RulesError) -> StoreError {
    StoreError::Reference(e.to_string())
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Database(format!("stored JSON: {e}")))
}

/// The town (镇街) code of an area path: its third segment, when it has one.
pub fn town_of(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .nth(2)
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------- views

/// An inspection plan (检查计划).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub area_code: String,
    pub area_name: String,
    pub period: String,
    /// The facility kinds the plan covers (those with a checklist).
    pub kinds: Vec<String>,
    pub ratio_percent: i64,
    pub inspectors_per_inspection: i64,
    /// Facilities flagged by repeated complaints are added as unplanned.
    pub include_flagged: bool,
    pub created_by: String,
    pub created_at: String,
    /// `draft` (no draw), `committed`, `drawn`.
    pub status: String,
}

/// A plan with its draws (the superseded ones too) and its inspections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDetail {
    pub plan: Plan,
    /// Newest first; each as its public document (the seed only once drawn
    /// or superseded).
    pub draws: Vec<DrawDocument>,
    pub inspections: Vec<InspectionRow>,
}

/// A new plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewPlan {
    pub title: String,
    pub area_code: String,
    pub period: String,
    /// Empty: every kind with a checklist.
    pub kinds: Vec<String>,
    /// Empty: `inspection.ratio_percent`.
    pub ratio_percent: Option<i64>,
    /// Empty: `inspection.min_inspectors`; never fewer.
    pub inspectors_per_inspection: Option<i64>,
    pub include_flagged: bool,
}

/// How an inspection came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 随机抽查.
    Random,
    /// 不定向检查（投诉较多）.
    Unplanned,
    /// 整改复查.
    Reinspection,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Random => "random",
            Kind::Unplanned => "unplanned",
            Kind::Reinspection => "reinspection",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Random => "随机抽查",
            Kind::Unplanned => "不定向检查",
            Kind::Reinspection => "整改复查",
        }
    }
    fn parse(s: &str) -> Result<Kind> {
        [Kind::Random, Kind::Unplanned, Kind::Reinspection]
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| StoreError::Database(format!("inspection kind {s:?}")))
    }
}

/// Where an inspection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 待检查.
    Assigned,
    /// 已检查 (not yet public).
    Recorded,
    /// 已公开.
    Published,
    /// 已撤销 (its draw was superseded before it was recorded).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Assigned,
        Status::Recorded,
        Status::Published,
        Status::Cancelled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Status::Assigned => "assigned",
            Status::Recorded => "recorded",
            Status::Published => "published",
            Status::Cancelled => "cancelled",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Assigned => "待检查",
            Status::Recorded => "已检查",
            Status::Published => "已公开",
            Status::Cancelled => "已撤销",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.code() == s.trim())
    }
}

/// An inspection as a list row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectionRow {
    pub id: String,
    pub plan_id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub facility_kind: String,
    pub area_path: String,
    pub kind: Kind,
    pub status: Status,
    pub verdict: Option<Verdict>,
    pub inspected_on: Option<String>,
    pub published_at: Option<String>,
    /// The drawn inspectors' account names.
    pub inspectors: Vec<String>,
}

/// One item's outcome as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ItemResult {
    pub code: String,
    pub zh: String,
    pub critical: bool,
    pub outcome: Outcome,
    #[serde(default)]
    pub note: Option<String>,
}

/// An evidence photo (检查佐证照片).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Photo {
    pub id: String,
    pub item_code: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// An inspection in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    #[serde(flatten)]
    pub row: InspectionRow,
    pub draw_id: Option<String>,
    /// The checklist to fill in (before recording) or as recorded.
    pub items: Vec<ItemResult>,
    pub checklist_draft: bool,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<String>,
    pub photos: Vec<Photo>,
    /// The order this inspection issued.
    pub rectification: Option<Rectification>,
    /// For a re-inspection: the order it checks.
    pub rectification_checked: Option<String>,
    pub cancel_reason: Option<String>,
    pub can_record: bool,
    pub can_publish: bool,
}

/// Where a rectification order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RectStatus {
    /// 整改中.
    Open,
    /// 已报整改完成 (waiting for the re-inspection).
    Reported,
    /// 复查中.
    Reinspecting,
    /// 已整改（复查合格）.
    Closed,
    /// 整改不到位（复查仍不合格）.
    Failed,
}

impl RectStatus {
    pub const ALL: [RectStatus; 5] = [
        RectStatus::Open,
        RectStatus::Reported,
        RectStatus::Reinspecting,
        RectStatus::Closed,
        RectStatus::Failed,
    ];
    pub fn code(self) -> &'static str {
        match self {
            RectStatus::Open => "open",
            RectStatus::Reported => "reported",
            RectStatus::Reinspecting => "reinspecting",
            RectStatus::Closed => "closed",
            RectStatus::Failed => "failed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RectStatus::Open => "整改中",
            RectStatus::Reported => "已报整改",
            RectStatus::Reinspecting => "复查中",
            RectStatus::Closed => "已整改",
            RectStatus::Failed => "整改不到位",
        }
    }
    fn parse(s: &str) -> Result<RectStatus> {
        RectStatus::ALL
            .into_iter()
            .find(|x| x.code() == s)
            .ok_or_else(|| StoreError::Database(format!("rectification status {s:?}")))
    }
    fn is_open(self) -> bool {
        !matches!(self, RectStatus::Closed | RectStatus::Failed)
    }
}

/// A rectification order (整改通知) for the failed items of an inspection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rectification {
    pub id: String,
    pub inspection_id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    /// The failed item codes.
    pub items: Vec<String>,
    /// The deadline (a date).
    pub due: String,
    pub status: RectStatus,
    pub issued_at: String,
    pub reported_at: Option<String>,
    pub report_note: Option<String>,
    pub reinspection_id: Option<String>,
    pub closed_at: Option<String>,
    /// Open past its deadline (逾期未整改).
    pub overdue: bool,
    pub can_report: bool,
    pub can_reinspect: bool,
}

/// A published result as the public portal shows it (结果公开): no person,
/// no inspector, no note or photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicResult {
    pub inspection_id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub facility_kind: String,
    pub area_code: String,
    pub period: String,
    pub kind: Kind,
    pub inspected_on: String,
    pub verdict: Verdict,
    /// The failed items' labels (what must be put right).
    pub failed_items: Vec<String>,
    pub rectification_due: Option<String>,
    pub rectification_status: Option<RectStatus>,
    pub published_at: String,
}

/// A facility held from subsidies by its inspections (the link the subsidy
/// engine consults): its latest published result 不合格 and not yet put
/// right, or a rectification order overdue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsidyHold {
    pub facility_id: String,
    /// `failed_inspection` or `overdue_rectification`.
    pub reason: String,
    pub inspection_id: String,
    pub since: String,
}

// ---------------------------------------------------------------- standing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// County or city staff of the area (or the system).
    Planner,
    /// One of the drawn inspectors.
    Inspector,
    /// The facility's operator.
    Operator,
}

fn standing(
    conn: &mut Conn,
    scope: &Scope,
    inspection_id: &str,
    facility_id: &str,
    path: &str,
    status: Status,
) -> Result<Option<Standing>> {
    match scope.role() {
        None => Ok(Some(Standing::Planner)),
        Some(Role::Inspector) => {
            let n = conn.query_i64(
                "SELECT COUNT(*) FROM inspection_inspector WHERE inspection_id = $1 AND username = $2",
                &[inspection_id.into(), scope.actor.user.as_str().into()],
            )?;
            Ok((n > 0 && scope.can(Perm::RecordInspections)).then_some(Standing::Inspector))
        }
        Some(Role::FacilityOperator) => Ok((scope.can(Perm::ReadInspections)
            && scope.contains_facility(facility_id, path)
            && matches!(status, Status::Recorded | Status::Published))
        .then_some(Standing::Operator)),
        Some(_) => Ok(
            (scope.can(Perm::PlanInspections) && scope.contains_path(path))
                .then_some(Standing::Planner),
        ),
    }
}

// ---------------------------------------------------------------- plans

const PLAN_COLS: &str = "p.id, p.title, p.area_code, p.area_path, p.period, p.kinds, p.ratio_percent, \
    p.inspectors_per_inspection, p.include_flagged, p.created_by, p.created_at, \
    (SELECT d.status FROM inspection_draw d WHERE d.plan_id = p.id AND d.status <> 'superseded' \
     ORDER BY d.seq DESC LIMIT 1) AS draw_status";

fn plan_view(reference: &Reference, r: &Row) -> Result<Plan> {
    let code: String = r.get("area_code")?;
    let kinds: String = r.get("kinds")?;
    Ok(Plan {
        id: r.get("id")?,
        title: r.get("title")?,
        area_name: reference
            .areas
            .get(&code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.clone()),
        area_code: code,
        period: r.get("period")?,
        kinds: kinds
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
        ratio_percent: r.get("ratio_percent")?,
        inspectors_per_inspection: r.get("inspectors_per_inspection")?,
        include_flagged: r.get::<i64>("include_flagged")? != 0,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        status: r
            .get::<Option<String>>("draw_status")?
            .unwrap_or_else(|| "draft".into()),
    })
}

/// Creates a plan for an area in the caller's scope (county or city staff).
pub fn create_plan(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    input: &NewPlan,
    now: DateTime<Utc>,
) -> Result<Plan> {
    scope.require(Perm::PlanInspections)?;
    let today = now.date_naive();
    let mut errs = Vec::new();
    let mut take = |r: Result<String>| match r {
        Ok(s) => Some(s),
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(_) => None,
    };
    let title = take(crate::text::required(
        "title",
        &input.title,
        MAX_TITLE,
        "a title of 1 to 100 characters",
    ));
    let period = take(crate::text::required(
        "period",
        &input.period,
        MAX_PERIOD,
        "the period, e.g. 2025-Q3 (1 to 20 characters)",
    ));
    let area = reference
        .areas
        .get(input.area_code.trim())
        .filter(|a| scope.contains_path(&a.path));
    if area.is_none() {
        errs.push(FieldError::new(
            "area_code",
            "an area code within your area (a county, or the city)",
        ));
    }
    let mut kinds: Vec<String> = if input.kinds.is_empty() {
        checklists::KINDS.iter().map(|k| k.to_string()).collect()
    } else {
        input.kinds.iter().map(|k| k.trim().to_string()).collect()
    };
    kinds.sort();
    kinds.dedup();
    if kinds.len() > checklists::KINDS.len()
        || kinds
            .iter()
            .any(|k| !checklists::KINDS.contains(&k.as_str()))
    {
        errs.push(FieldError::new(
            "kinds",
            format!("facility kinds among {}", checklists::KINDS.join(", ")),
        ));
    }
    let ratio = match input.ratio_percent {
        Some(r) if !(1..=100).contains(&r) => {
            errs.push(FieldError::new("ratio_percent", "from 1 to 100"));
            0
        }
        Some(r) => r,
        None => param("inspection.ratio_percent", today)?,
    };
    let min = param("inspection.min_inspectors", today)?;
    let per = match input.inspectors_per_inspection {
        Some(n) if n < min || n > i64::from(dr::MAX_PER_INSPECTION) => {
            errs.push(FieldError::new(
                "inspectors_per_inspection",
                format!(
                    "from {min} (国办发〔2015〕58号: at least {min}) to {}",
                    dr::MAX_PER_INSPECTION
                ),
            ));
            0
        }
        Some(n) => n,
        None => min,
    };
    let (Some(title), Some(period), Some(area), true) = (title, period, area, errs.is_empty())
    else {
        return Err(StoreError::Invalid(errs));
    };
    let id = format!("IP-{}", crate::crypto::random_hex(6));
    let at = ts(now);
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO inspection_plan (id, title, area_code, area_path, period, kinds, ratio_percent, \
             inspectors_per_inspection, include_flagged, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                id.as_str().into(),
                title.as_str().into(),
                area.code.as_str().into(),
                area.path.as_str().into(),
                period.as_str().into(),
                kinds.join(",").into(),
                ratio.into(),
                per.into(),
                i64::from(input.include_flagged).into(),
                scope.actor.user.as_str().into(),
                at.as_str().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_plan_create",
                entity: "inspection_plan",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"area": area.code, "period": period, "ratio_percent": ratio,
                        "inspectors_per_inspection": per})
                    .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    get_plan(conn, reference, scope, &id).map(|d| d.plan)
}

fn load_plan(conn: &mut Conn, reference: &Reference, scope: &Scope, id: &str) -> Result<Plan> {
    scope.require(Perm::PlanInspections)?;
    check_id("id", id)?;
    let r = conn
        .query_opt(
            &format!("SELECT {PLAN_COLS} FROM inspection_plan p WHERE p.id = $1"),
            &[id.into()],
        )?
        .ok_or_else(|| not_found("inspection plan", id))?;
    let path: String = r.get("area_path")?;
    if !scope.contains_path(&path) {
        return Err(not_found("inspection plan", id));
    }
    plan_view(reference, &r)
}

/// The plans of the caller's area, newest first.
pub fn list_plans(conn: &mut Conn, reference: &Reference, scope: &Scope) -> Result<Vec<Plan>> {
    scope.require(Perm::PlanInspections)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    scope.push_sql(&mut w, &mut p, "p.area_path", None);
    let rows = conn.query(
        &format!(
            "SELECT {PLAN_COLS} FROM inspection_plan p WHERE {w} \
             ORDER BY p.created_at DESC, p.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?;
    rows.iter().map(|r| plan_view(reference, r)).collect()
}

/// A plan with its draws and inspections.
pub fn get_plan(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
) -> Result<PlanDetail> {
    let plan = load_plan(conn, reference, scope, id)?;
    let rows = conn.query(
        &format!("{DRAW_SELECT} WHERE d.plan_id = $1 ORDER BY d.seq DESC LIMIT 100"),
        &[id.into()],
    )?;
    let draws = rows
        .iter()
        .map(|r| draw_doc(&plan, r))
        .collect::<Result<Vec<_>>>()?;
    let inspections = list_where(conn, "i.plan_id = $1", vec![id.into()])?;
    Ok(PlanDetail {
        plan,
        draws,
        inspections,
    })
}

// ---------------------------------------------------------------- draws

const DRAW_SELECT: &str = "SELECT d.id, d.plan_id, d.seq, d.status, d.roster, d.roster_digest, d.commit_hash, \
    d.seed, d.committed_by, d.committed_at, d.drawn_at, d.result, d.superseded_by, d.superseded_at, \
    d.supersede_reason, d.next_draw_id FROM inspection_draw d";

/// The public document of a draw: the seed only once revealed (drawn, or
/// superseded, when it is revealed so the record is complete).
fn draw_doc(plan: &Plan, r: &Row) -> Result<DrawDocument> {
    let status: String = r.get("status")?;
    let drawn_at: Option<String> = r.get("drawn_at")?;
    let revealed = drawn_at.is_some() || status == "superseded";
    let result: Option<String> = r.get("result")?;
    let superseded = match r.get::<Option<String>>("superseded_at")? {
        Some(at) => Some(Supersession {
            by: r
                .get::<Option<String>>("superseded_by")?
                .unwrap_or_default(),
            at,
            reason: r
                .get::<Option<String>>("supersede_reason")?
                .unwrap_or_default(),
            next_draw_id: r.get("next_draw_id")?,
        }),
        None => None,
    };
    Ok(DrawDocument {
        format: dr::FORMAT.into(),
        draw_id: r.get("id")?,
        title: plan.title.clone(),
        area_code: plan.area_code.clone(),
        period: plan.period.clone(),
        ratio_percent: u32::try_from(plan.ratio_percent).unwrap_or_default(),
        roster: from_json(&r.get::<String>("roster")?)?,
        roster_digest: r.get("roster_digest")?,
        commit: r.get("commit_hash")?,
        committed_at: r.get("committed_at")?,
        seed: if revealed { Some(r.get("seed")?) } else { None },
        drawn_at,
        result: match result {
            Some(s) => from_json(&s)?,
            None => Vec::new(),
        },
        status,
        superseded,
    })
}

/// A draw's public document, for the plan's staff (and `verify-draw`).
pub fn draw_document(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    draw_id: &str,
) -> Result<DrawDocument> {
    scope.require(Perm::PlanInspections)?;
    check_id("id", draw_id)?;
    let r = conn
        .query_opt(&format!("{DRAW_SELECT} WHERE d.id = $1"), &[draw_id.into()])?
        .ok_or_else(|| not_found("draw", draw_id))?;
    let plan_id: String = r.get("plan_id")?;
    let plan =
        load_plan(conn, reference, scope, &plan_id).map_err(|_| not_found("draw", draw_id))?;
    draw_doc(&plan, &r)
}

/// Freezes the rosters of a plan as they stand now: the facilities of its
/// kinds in its area (一单: 检查对象名录库), those flagged by repeated
/// complaints (unplanned), the inspector pool (active `inspector` accounts of
/// the area or above it) and last time's pairings.
fn freeze(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    plan: &Plan,
    path: &str,
    now: DateTime<Utc>,
) -> Result<Roster> {
    let mut w = String::from("deleted_at IS NULL AND area_path >= $1 AND area_path < $2");
    let mut p: Vec<Value> = vec![path.into(), path_upper(path).into()];
    let mut marks = Vec::new();
    for k in &plan.kinds {
        p.push(k.as_str().into());
        marks.push(format!("${}", p.len()));
    }
    w.push_str(&format!(" AND kind IN ({})", marks.join(", ")));
    let rows = conn.query(
        &format!(
            "SELECT id, area_path FROM facility WHERE {w} ORDER BY id LIMIT {}",
            dr::MAX_FACILITIES
        ),
        &p,
    )?;
    let mut facilities = Vec::with_capacity(rows.len());
    for r in &rows {
        facilities.push(Entry {
            id: r.get("id")?,
            town: town_of(&r.get::<String>("area_path")?),
        });
    }
    let mut unplanned = Vec::new();
    if plan.include_flagged && scope.can(Perm::SuperviseComplaints) {
        let f = crate::complaints::figures(conn, reference, scope, now)?;
        for line in f.facilities.iter().filter(|l| l.inspection_due) {
            if !line.area_path.starts_with(path) {
                continue;
            }
            let kind = conn.query_opt(
                "SELECT kind FROM facility WHERE id = $1 AND deleted_at IS NULL",
                &[line.facility_id.as_str().into()],
            )?;
            let Some(kind) = kind else { continue };
            let kind: String = kind.get("kind")?;
            if checklists::KINDS.contains(&kind.as_str()) {
                unplanned.push(Entry {
                    id: line.facility_id.clone(),
                    town: town_of(&line.area_path),
                });
            }
        }
    }
    let rows = conn.query(
        &format!(
            "SELECT u.username, a.path FROM users u JOIN area a ON a.code = u.area_code \
             WHERE u.role = 'inspector' AND u.disabled = $1 ORDER BY u.username LIMIT {}",
            dr::MAX_INSPECTORS
        ),
        &[false.into()],
    )?;
    let mut inspectors = Vec::new();
    for r in &rows {
        let home: String = r.get("path")?;
        if home.starts_with(path) || path.starts_with(home.as_str()) {
            inspectors.push(Entry {
                id: r.get("username")?,
                town: town_of(&home),
            });
        }
    }
    // Last time: the inspectors of each facility's latest recorded inspection.
    let rows = conn.query(
        &format!(
            "SELECT i.facility_id, i.recorded_at, ii.username FROM inspection i \
             JOIN inspection_inspector ii ON ii.inspection_id = i.id \
             WHERE i.status IN ('recorded', 'published') AND i.facility_path >= $1 AND i.facility_path < $2 \
             ORDER BY i.facility_id, i.recorded_at DESC LIMIT {}",
            dr::MAX_PREVIOUS
        ),
        &[path.into(), path_upper(path).into()],
    )?;
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    let mut previous = Vec::new();
    for r in &rows {
        let f: String = r.get("facility_id")?;
        let at: Option<String> = r.get("recorded_at")?;
        let at = at.unwrap_or_default();
        let first = latest.entry(f.clone()).or_insert_with(|| at.clone());
        if *first == at {
            previous.push(Pair {
                facility_id: f,
                inspector_id: r.get("username")?,
            });
        }
    }
    let count = dr::count_for_ratio(
        facilities.len(),
        u32::try_from(plan.ratio_percent).unwrap_or(100),
    );
    let mut roster = Roster {
        plan_id: plan.id.clone(),
        facilities_to_draw: count,
        inspectors_per_inspection: u32::try_from(plan.inspectors_per_inspection).unwrap_or(2),
        facilities,
        unplanned,
        inspectors,
        previous,
    };
    roster.normalise();
    Ok(roster)
}

fn draw_error(e: dr::DrawError) -> StoreError {
    match e {
        dr::DrawError::TooFewInspectors {
            facility_id,
            eligible,
            needed,
        } => invalid(
            "inspectors",
            format!(
                "facility {facility_id} has {eligible} inspector(s) free of conflict (same town, or inspected it last time); {needed} are needed: add inspectors to the pool"
            ),
        ),
        dr::DrawError::Invalid { field, reason } => invalid(&field, reason),
    }
}

/// Freezes the rosters and publishes the commitment to a fresh seed (公示
/// 抽取承诺). When the plan has a current draw (committed or drawn), a
/// reason is required: that draw is superseded (who, when, why; its seed is
/// revealed, its inspections not yet recorded are cancelled) and stays on
/// the record. Answers the new draw's document (no seed yet).
pub fn commit(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    plan_id: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DrawDocument> {
    let plan = load_plan(conn, reference, scope, plan_id)?;
    let reason = crate::text::optional("reason", reason, MAX_REASON)?;
    let path: String = conn
        .query_opt(
            "SELECT area_path FROM inspection_plan WHERE id = $1",
            &[plan_id.into()],
        )?
        .ok_or_else(|| not_found("inspection plan", plan_id))?
        .get("area_path")?;
    let current = conn.query_opt(
        "SELECT id, seq, status FROM inspection_draw WHERE plan_id = $1 AND status <> 'superseded' \
         ORDER BY seq DESC LIMIT 1",
        &[plan_id.into()],
    )?;
    let last_seq = conn.query_i64(
        "SELECT COALESCE(MAX(seq), 0) FROM inspection_draw WHERE plan_id = $1",
        &[plan_id.into()],
    )?;
    if current.is_some() && reason.is_none() {
        return Err(invalid(
            "reason",
            "the plan has a published draw: a new one needs a reason, and the old one stays on the record as superseded",
        ));
    }
    let roster = freeze(conn, reference, scope, &plan, &path, now)?;
    if roster.facilities.is_empty() && roster.unplanned.is_empty() {
        return Err(invalid(
            "kinds",
            "no facility of these kinds in the plan's area",
        ));
    }
    dr::feasible(&roster).map_err(draw_error)?;
    // Lower-case hex, as the draw document's other digests.
    let seed = crate::crypto::random_hex(32).to_ascii_lowercase();
    let commit = dr::commit_of(&seed).map_err(draw_error)?;
    let digest = dr::roster_digest(&roster);
    let id = format!("ID-{}", crate::crypto::random_hex(6));
    let at = ts(now);
    let roster_json = json(&roster)?;
    conn.transaction(|c| {
        if let Some(cur) = &current {
            let old: String = cur.get("id")?;
            let n = c.execute(
                "UPDATE inspection_draw SET status = 'superseded', superseded_by = $1, superseded_at = $2, \
                 supersede_reason = $3, next_draw_id = $4 WHERE id = $5 AND status <> 'superseded'",
                &[
                    scope.actor.user.as_str().into(),
                    at.as_str().into(),
                    reason.as_deref().into(),
                    id.as_str().into(),
                    old.as_str().into(),
                ],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(
                    "the draw changed at the same moment; reload".into(),
                ));
            }
            c.execute(
                "UPDATE inspection SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2, updated_at = $1 \
                 WHERE draw_id = $3 AND status = 'assigned'",
                &[
                    at.as_str().into(),
                    reason.as_deref().into(),
                    old.as_str().into(),
                ],
            )?;
            audit::append(
                c,
                scope,
                audit::Event {
                    action: "inspection_draw_supersede",
                    entity: "inspection_draw",
                    entity_id: Some(&old),
                    before: None,
                    after: Some(
                        serde_json::json!({"reason": reason, "next_draw_id": id}).to_string(),
                    ),
                },
            )?;
        }
        c.execute(
            "INSERT INTO inspection_draw (id, plan_id, seq, status, roster, roster_digest, commit_hash, seed, \
             committed_by, committed_at) VALUES ($1, $2, $3, 'committed', $4, $5, $6, $7, $8, $9)",
            &[
                id.as_str().into(),
                plan_id.into(),
                (last_seq + 1).into(),
                roster_json.as_str().into(),
                digest.as_str().into(),
                commit.as_str().into(),
                seed.as_str().into(),
                scope.actor.user.as_str().into(),
                at.as_str().into(),
            ],
        )?;
        // The seed never goes to the audit trail before the draw.
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_draw_commit",
                entity: "inspection_draw",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"plan_id": plan_id, "roster_digest": digest, "commit": commit,
                        "facilities": roster.facilities.len(), "inspectors": roster.inspectors.len()})
                    .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    draw_document(conn, reference, scope, &id)
}

/// Makes the committed draw of a plan (抽取): reveals the seed, runs the
/// draw on the frozen rosters and creates one inspection per target with its
/// inspectors. Drawing twice is 409.
pub fn draw(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    plan_id: &str,
    now: DateTime<Utc>,
) -> Result<DrawDocument> {
    let _plan = load_plan(conn, reference, scope, plan_id)?;
    let r = conn
        .query_opt(
            "SELECT id, status, roster, seed FROM inspection_draw WHERE plan_id = $1 \
             AND status <> 'superseded' ORDER BY seq DESC LIMIT 1",
            &[plan_id.into()],
        )?
        .ok_or_else(|| invalid("status", "publish the commitment first (commit), then draw"))?;
    let id: String = r.get("id")?;
    if r.get::<String>("status")? != "committed" {
        return Err(StoreError::Conflict(
            "drawn already: a new draw needs a new commitment with a reason".into(),
        ));
    }
    let roster: Roster = from_json(&r.get::<String>("roster")?)?;
    let seed: String = r.get("seed")?;
    let result = dr::draw(&seed, &roster).map_err(draw_error)?;
    let at = ts(now);
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE inspection_draw SET status = 'drawn', drawn_by = $1, drawn_at = $2, result = $3 \
             WHERE id = $4 AND status = 'committed'",
            &[
                scope.actor.user.as_str().into(),
                at.as_str().into(),
                json(&result)?.into(),
                id.as_str().into(),
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(
                "drawn at the same moment; reload".into(),
            ));
        }
        for a in &result {
            let kind = match a.kind {
                TargetKind::Random => Kind::Random,
                TargetKind::Unplanned => Kind::Unplanned,
            };
            new_inspection(c, plan_id, Some(&id), a, kind, None, &at)?;
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_draw",
                entity: "inspection_draw",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"seed": seed, "targets": result.len()}).to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    draw_document(conn, reference, scope, &id)
}

fn new_inspection(
    c: &mut Conn,
    plan_id: &str,
    draw_id: Option<&str>,
    a: &Assignment,
    kind: Kind,
    rectification: Option<&str>,
    at: &str,
) -> Result<String> {
    let f = c
        .query_opt(
            "SELECT area_path, kind FROM facility WHERE id = $1",
            &[a.facility_id.as_str().into()],
        )?
        .ok_or_else(|| not_found("facility", &a.facility_id))?;
    let id = format!("IN-{}", crate::crypto::random_hex(6));
    c.execute(
        "INSERT INTO inspection (id, plan_id, draw_id, facility_id, facility_path, facility_kind, kind, status, \
         rectification_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'assigned', $8, $9, $9)",
        &[
            id.as_str().into(),
            plan_id.into(),
            draw_id.into(),
            a.facility_id.as_str().into(),
            f.get::<String>("area_path")?.into(),
            f.get::<String>("kind")?.into(),
            kind.code().into(),
            rectification.into(),
            at.into(),
        ],
    )?;
    for u in &a.inspectors {
        c.execute(
            "INSERT INTO inspection_inspector (inspection_id, username) VALUES ($1, $2)",
            &[id.as_str().into(), u.as_str().into()],
        )?;
    }
    Ok(id)
}

// ---------------------------------------------------------------- inspections

const ROW_COLS: &str = "i.id, i.plan_id, i.draw_id, i.facility_id, f.name AS facility_name, i.facility_kind, \
    i.facility_path, i.kind, i.status, i.verdict, i.inspected_on, i.published_at";

fn inspectors_of(conn: &mut Conn, id: &str) -> Result<Vec<String>> {
    conn.query(
        "SELECT username FROM inspection_inspector WHERE inspection_id = $1 ORDER BY username",
        &[id.into()],
    )?
    .iter()
    .map(|r| r.get("username"))
    .collect()
}

fn row_view(conn: &mut Conn, r: &Row) -> Result<InspectionRow> {
    let id: String = r.get("id")?;
    let verdict: Option<String> = r.get("verdict")?;
    Ok(InspectionRow {
        inspectors: inspectors_of(conn, &id)?,
        id,
        plan_id: r.get("plan_id")?,
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        facility_kind: r.get("facility_kind")?,
        area_path: r.get("facility_path")?,
        kind: Kind::parse(&r.get::<String>("kind")?)?,
        status: Status::parse(&r.get::<String>("status")?)
            .ok_or_else(|| StoreError::Database("inspection status".into()))?,
        verdict: verdict.as_deref().and_then(Verdict::parse),
        inspected_on: r.get("inspected_on")?,
        published_at: r.get("published_at")?,
    })
}

fn list_where(conn: &mut Conn, w: &str, p: Vec<Value>) -> Result<Vec<InspectionRow>> {
    let rows = conn.query(
        &format!(
            "SELECT {ROW_COLS} FROM inspection i JOIN facility f ON f.id = i.facility_id WHERE {w} \
             ORDER BY i.created_at DESC, i.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?;
    rows.iter().map(|r| row_view(conn, r)).collect()
}

/// The inspections the caller may see: an inspector the ones they were
/// drawn for; an operator its facility's recorded and published ones;
/// county and city staff their area's. Optionally one status.
pub fn list(conn: &mut Conn, scope: &Scope, status: Option<Status>) -> Result<Vec<InspectionRow>> {
    scope.require(Perm::ReadInspections)?;
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    match scope.role() {
        Some(Role::Inspector) => {
            p.push(scope.actor.user.as_str().into());
            w.push_str(
                " AND i.id IN (SELECT inspection_id FROM inspection_inspector WHERE username = $1)",
            );
        }
        Some(Role::FacilityOperator) => {
            scope.push_sql(&mut w, &mut p, "i.facility_path", Some("i.facility_id"));
            w.push_str(" AND i.status IN ('recorded', 'published')");
        }
        Some(_) if !scope.can(Perm::PlanInspections) => return Ok(Vec::new()),
        _ => scope.push_sql(&mut w, &mut p, "i.facility_path", Some("i.facility_id")),
    }
    if let Some(s) = status {
        p.push(s.code().into());
        w.push_str(&format!(" AND i.status = ${}", p.len()));
    }
    list_where(conn, &w, p)
}

fn load(conn: &mut Conn, scope: &Scope, id: &str) -> Result<(Row, Standing)> {
    scope.require(Perm::ReadInspections)?;
    check_id("id", id)?;
    let r = conn
        .query_opt(
            &format!(
                "SELECT {ROW_COLS}, i.items, i.note, i.recorded_by, i.recorded_at, i.rectification_id, \
                 i.cancel_reason, i.checklist_from FROM inspection i JOIN facility f ON f.id = i.facility_id \
                 WHERE i.id = $1"
            ),
            &[id.into()],
        )?
        .ok_or_else(|| not_found("inspection", id))?;
    let fid: String = r.get("facility_id")?;
    let path: String = r.get("facility_path")?;
    let status = Status::parse(&r.get::<String>("status")?)
        .ok_or_else(|| StoreError::Database("inspection status".into()))?;
    let side = standing(conn, scope, id, &fid, &path, status)?
        .ok_or_else(|| not_found("inspection", id))?;
    Ok((r, side))
}

/// One inspection as the caller may see it.
pub fn get(conn: &mut Conn, scope: &Scope, id: &str, now: DateTime<Utc>) -> Result<Inspection> {
    let (r, side) = load(conn, scope, id)?;
    let row = row_view(conn, &r)?;
    let recorded: Option<String> = r.get("items")?;
    let day = now.date_naive();
    let (items, draft) = match recorded {
        Some(s) => (from_json::<Vec<ItemResult>>(&s)?, false),
        None => match checklists::for_kind(&row.facility_kind, day).map_err(rules)? {
            Some(c) => (
                c.items
                    .iter()
                    .map(|i| ItemResult {
                        code: i.code.clone(),
                        zh: i.zh.clone(),
                        critical: i.critical,
                        outcome: Outcome::NotApplicable,
                        note: None,
                    })
                    .collect(),
                c.draft,
            ),
            None => (Vec::new(), false),
        },
    };
    let photos = conn
        .query(
            "SELECT id, item_code, sha256, content_type, size, file_name, uploaded_by, uploaded_at \
             FROM inspection_photo WHERE inspection_id = $1 ORDER BY uploaded_at, id",
            &[id.into()],
        )?
        .iter()
        .map(|p| {
            Ok(Photo {
                id: p.get("id")?,
                item_code: p.get("item_code")?,
                sha256: p.get("sha256")?,
                content_type: p.get("content_type")?,
                size: p.get("size")?,
                file_name: p.get("file_name")?,
                uploaded_by: p.get("uploaded_by")?,
                uploaded_at: p.get("uploaded_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let rect = rect_where(conn, scope, "r.inspection_id = $2", vec![id.into()], now)?
        .into_iter()
        .next();
    Ok(Inspection {
        can_record: row.status == Status::Assigned
            && (side == Standing::Inspector || scope.role().is_none()),
        can_publish: side == Standing::Planner && row.status == Status::Recorded,
        draw_id: r.get("draw_id")?,
        items,
        checklist_draft: draft,
        note: r.get("note")?,
        recorded_by: r.get("recorded_by")?,
        recorded_at: r.get("recorded_at")?,
        photos,
        rectification: rect,
        rectification_checked: r.get("rectification_id")?,
        cancel_reason: r.get("cancel_reason")?,
        row,
    })
}

/// An inspection's record: each item's outcome and note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordInput {
    /// (item code, outcome code or label, note).
    pub items: Vec<(String, String, Option<String>)>,
    pub note: Option<String>,
    /// The day of the visit; today when absent (never in the future).
    pub inspected_on: Option<NaiveDate>,
    /// The rectification deadline in days; `inspection.rectification_days`
    /// when absent.
    pub rectification_days: Option<i64>,
}

/// Records an inspection (检查结果录入): only one of its drawn inspectors,
/// once. Every checklist item needs an outcome; the result follows from
/// them (any critical item failed 不合格, any other 基本合格, none 合格).
/// Failed items issue a rectification order with its deadline; a
/// re-inspection closes the order it checks (合格) or marks it 整改不到位.
pub fn record(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    input: &RecordInput,
    now: DateTime<Utc>,
) -> Result<Inspection> {
    scope.require(Perm::RecordInspections)?;
    let (r, side) = load(conn, scope, id)?;
    if side != Standing::Inspector && scope.role().is_some() {
        return Err(StoreError::Forbidden(
            "only the inspectors drawn for this inspection record it".into(),
        ));
    }
    let status = Status::parse(&r.get::<String>("status")?)
        .ok_or_else(|| StoreError::Database("inspection status".into()))?;
    if status != Status::Assigned {
        return Err(StoreError::Conflict(format!(
            "the inspection is {} already",
            status.label_zh()
        )));
    }
    let kind_code: String = r.get("facility_kind")?;
    let today = now.date_naive();
    let day = input.inspected_on.unwrap_or(today);
    let mut errs = Vec::new();
    if day > today || day < today - Duration::days(366) {
        errs.push(FieldError::new(
            "inspected_on",
            "the day of the visit: not in the future, within the last year",
        ));
    }
    let checklist = checklists::for_kind(&kind_code, day)
        .map_err(rules)?
        .ok_or_else(|| invalid("items", "no checklist for this facility kind"))?;
    if input.items.len() > checklists::MAX_ITEMS {
        errs.push(FieldError::new("items", "too many items"));
    }
    let mut given: BTreeMap<&str, (Outcome, Option<String>)> = BTreeMap::new();
    for (code, outcome, note) in input.items.iter().take(checklists::MAX_ITEMS) {
        let field = format!("items.{}", code.chars().take(40).collect::<String>());
        if !checklist.items.iter().any(|i| &i.code == code) {
            errs.push(FieldError::new(&field, "not an item of this checklist"));
            continue;
        }
        let Some(o) = Outcome::parse(outcome) else {
            errs.push(FieldError::new(
                &field,
                "outcome: pass (符合), fail (不符合) or not_applicable (不适用)",
            ));
            continue;
        };
        let note = match crate::text::optional(&field, note.as_deref(), MAX_NOTE) {
            Ok(n) => n,
            Err(StoreError::Invalid(v)) => {
                errs.extend(v);
                None
            }
            Err(e) => return Err(e),
        };
        if given.insert(code.as_str(), (o, note)).is_some() {
            errs.push(FieldError::new(&field, "given twice"));
        }
    }
    for i in &checklist.items {
        if !given.contains_key(i.code.as_str()) {
            errs.push(FieldError::new(
                format!("items.{}", i.code),
                "missing: every item needs an outcome",
            ));
        }
    }
    let note = match crate::text::optional("note", input.note.as_deref(), MAX_NOTE) {
        Ok(n) => n,
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            None
        }
        Err(e) => return Err(e),
    };
    let days = match input.rectification_days {
        Some(d) if !(1..=MAX_RECTIFICATION_DAYS).contains(&d) => {
            errs.push(FieldError::new(
                "rectification_days",
                format!("from 1 to {MAX_RECTIFICATION_DAYS}"),
            ));
            0
        }
        Some(d) => d,
        None => param("inspection.rectification_days", day)?,
    };
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    let items: Vec<ItemResult> = checklist
        .items
        .iter()
        .filter_map(|i| {
            given.get(i.code.as_str()).map(|(o, n)| ItemResult {
                code: i.code.clone(),
                zh: i.zh.clone(),
                critical: i.critical,
                outcome: *o,
                note: n.clone(),
            })
        })
        .collect();
    let outcomes: Vec<(String, Outcome)> =
        items.iter().map(|i| (i.code.clone(), i.outcome)).collect();
    let verdict = checklists::verdict(checklist, &outcomes);
    let failed: Vec<String> = items
        .iter()
        .filter(|i| i.outcome == Outcome::Fail)
        .map(|i| i.code.clone())
        .collect();
    let kind = Kind::parse(&r.get::<String>("kind")?)?;
    let checked: Option<String> = r.get("rectification_id")?;
    let fid: String = r.get("facility_id")?;
    let path: String = r.get("facility_path")?;
    let at = ts(now);
    let due = (day + Duration::days(days)).to_string();
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE inspection SET status = 'recorded', items = $1, note = $2, verdict = $3, inspected_on = $4, \
             recorded_by = $5, recorded_at = $6, checklist_from = $7, updated_at = $6 \
             WHERE id = $8 AND status = 'assigned'",
            &[
                json(&items)?.into(),
                note.as_deref().into(),
                verdict.code().into(),
                day.to_string().into(),
                scope.actor.user.as_str().into(),
                at.as_str().into(),
                checklist.from.to_string().into(),
                id.into(),
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(
                "recorded at the same moment by another inspector; reload".into(),
            ));
        }
        if !failed.is_empty() {
            let rid = format!("RO-{}", crate::crypto::random_hex(6));
            c.execute(
                "INSERT INTO rectification (id, inspection_id, facility_id, facility_path, items, due, status, \
                 issued_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7)",
                &[
                    rid.as_str().into(),
                    id.into(),
                    fid.as_str().into(),
                    path.as_str().into(),
                    json(&failed)?.into(),
                    due.as_str().into(),
                    at.as_str().into(),
                ],
            )?;
        }
        if kind == Kind::Reinspection
            && let Some(rect) = &checked
        {
            let to = if failed.is_empty() {
                RectStatus::Closed
            } else {
                RectStatus::Failed
            };
            c.execute(
                "UPDATE rectification SET status = $1, closed_at = $2, updated_at = $2 \
                 WHERE id = $3 AND status = 'reinspecting'",
                &[to.code().into(), at.as_str().into(), rect.as_str().into()],
            )?;
        }
        // Outcomes and the result; never the notes (they may name people).
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_record",
                entity: "inspection",
                entity_id: Some(id),
                before: None,
                after: Some(
                    serde_json::json!({"verdict": verdict.code(), "failed": failed, "inspected_on": day.to_string()})
                        .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    get(conn, scope, id, now)
}

/// Adds an evidence photo (already checked and kept by `uploads`) to an
/// item of an inspection not yet published: its drawn inspectors only.
pub fn add_photo(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    item_code: &str,
    file: &Checked,
    now: DateTime<Utc>,
) -> Result<Photo> {
    scope.require(Perm::RecordInspections)?;
    let (r, side) = load(conn, scope, id)?;
    if side != Standing::Inspector && scope.role().is_some() {
        return Err(StoreError::Forbidden(
            "only the inspectors drawn for this inspection add photos".into(),
        ));
    }
    let status: String = r.get("status")?;
    if !matches!(status.as_str(), "assigned" | "recorded") {
        return Err(StoreError::Conflict(
            "photos are added before the result is published".into(),
        ));
    }
    if file.content_type == "application/pdf" {
        return Err(StoreError::UploadType(
            "evidence photos are JPEG or PNG".into(),
        ));
    }
    let kind: String = r.get("facility_kind")?;
    let checklist = checklists::for_kind(&kind, now.date_naive()).map_err(rules)?;
    if !checklist.is_some_and(|c| c.items.iter().any(|i| i.code == item_code)) {
        return Err(invalid(
            "item",
            "not an item of this inspection's checklist",
        ));
    }
    let n = conn.query_i64(
        "SELECT COUNT(*) FROM inspection_photo WHERE inspection_id = $1",
        &[id.into()],
    )?;
    if n >= MAX_PHOTOS as i64 {
        return Err(StoreError::Conflict(format!(
            "at most {MAX_PHOTOS} photos per inspection"
        )));
    }
    let pid = format!("PH-{}", crate::crypto::random_hex(6));
    let at = ts(now);
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO inspection_photo (id, inspection_id, item_code, sha256, content_type, size, file_name, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                pid.as_str().into(),
                id.into(),
                item_code.into(),
                file.sha256.as_str().into(),
                file.content_type.into(),
                (file.size as i64).into(),
                file.file_name.as_str().into(),
                scope.actor.user.as_str().into(),
                at.as_str().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_photo_add",
                entity: "inspection",
                entity_id: Some(id),
                before: None,
                after: Some(
                    serde_json::json!({"photo": pid, "item": item_code, "sha256": file.sha256})
                        .to_string(),
                ),
            },
        )?;
        Ok(())
    })?;
    Ok(Photo {
        id: pid,
        item_code: item_code.into(),
        sha256: file.sha256.clone(),
        content_type: file.content_type.into(),
        size: file.size as i64,
        file_name: file.file_name.clone(),
        uploaded_by: scope.actor.user.clone(),
        uploaded_at: at,
    })
}

/// One photo of an inspection the caller may see.
pub fn photo(conn: &mut Conn, scope: &Scope, id: &str, photo_id: &str) -> Result<Photo> {
    let _ = load(conn, scope, id)?;
    check_id("photo", photo_id)?;
    let p = conn
        .query_opt(
            "SELECT id, item_code, sha256, content_type, size, file_name, uploaded_by, uploaded_at \
             FROM inspection_photo WHERE id = $1 AND inspection_id = $2",
            &[photo_id.into(), id.into()],
        )?
        .ok_or_else(|| not_found("photo", photo_id))?;
    Ok(Photo {
        id: p.get("id")?,
        item_code: p.get("item_code")?,
        sha256: p.get("sha256")?,
        content_type: p.get("content_type")?,
        size: p.get("size")?,
        file_name: p.get("file_name")?,
        uploaded_by: p.get("uploaded_by")?,
        uploaded_at: p.get("uploaded_at")?,
    })
}

/// Publishes a recorded result (结果公开): county or city staff of the area.
/// From then on [`published_results`] shows it.
pub fn publish(conn: &mut Conn, scope: &Scope, id: &str, now: DateTime<Utc>) -> Result<Inspection> {
    scope.require(Perm::PlanInspections)?;
    let (r, side) = load(conn, scope, id)?;
    if side != Standing::Planner {
        return Err(StoreError::Forbidden(
            "county or city staff publish results".into(),
        ));
    }
    let status: String = r.get("status")?;
    if status != "recorded" {
        return Err(StoreError::Conflict(if status == "published" {
            "published already".into()
        } else {
            "record the inspection before publishing it".into()
        }));
    }
    let at = ts(now);
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE inspection SET status = 'published', published_by = $1, published_at = $2, updated_at = $2 \
             WHERE id = $3 AND status = 'recorded'",
            &[scope.actor.user.as_str().into(), at.as_str().into(), id.into()],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict("published at the same moment".into()));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "inspection_publish",
                entity: "inspection",
                entity_id: Some(id),
                before: None,
                after: None,
            },
        )?;
        Ok(())
    })?;
    get(conn, scope, id, now)
}

// ---------------------------------------------------------------- rectification

const RECT_COLS: &str = "r.id, r.inspection_id, r.facility_id, f.name AS facility_name, r.facility_path, r.items, \
    r.due, r.status, r.issued_at, r.reported_at, r.report_note, r.reinspection_id, r.closed_at";

fn rect_where(
    conn: &mut Conn,
    scope: &Scope,
    w: &str,
    mut p: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<Vec<Rectification>> {
    p.insert(0, now.date_naive().to_string().into());
    let rows = conn.query(
        &format!(
            "SELECT {RECT_COLS}, CAST($1 AS TEXT) AS today FROM rectification r \
             JOIN facility f ON f.id = r.facility_id WHERE {w} \
             ORDER BY r.due, r.id LIMIT {MAX_LIST}"
        ),
        &p,
    )?;
    let today = now.date_naive().to_string();
    let planner = scope.role().is_none()
        || (scope.can(Perm::PlanInspections) && scope.role() != Some(Role::FacilityOperator));
    rows.iter()
        .map(|r| {
            let status = RectStatus::parse(&r.get::<String>("status")?)?;
            let due: String = r.get("due")?;
            let fid: String = r.get("facility_id")?;
            Ok(Rectification {
                id: r.get("id")?,
                inspection_id: r.get("inspection_id")?,
                facility_name: r.get("facility_name")?,
                area_path: r.get("facility_path")?,
                items: from_json(&r.get::<String>("items")?)?,
                overdue: status.is_open() && due < today,
                can_report: status == RectStatus::Open
                    && (scope.role().is_none()
                        || (scope.can(Perm::RectifyInspections)
                            && scope.facility() == Some(fid.as_str()))),
                can_reinspect: planner && matches!(status, RectStatus::Open | RectStatus::Reported),
                facility_id: fid,
                due,
                status,
                issued_at: r.get("issued_at")?,
                reported_at: r.get("reported_at")?,
                report_note: r.get("report_note")?,
                reinspection_id: r.get("reinspection_id")?,
                closed_at: r.get("closed_at")?,
            })
        })
        .collect()
}

/// The rectification orders the caller may see (an operator its facility's,
/// an inspector those of their inspections, staff their area's), the
/// earliest deadline first; `overdue` only those open past it.
pub fn rectifications(
    conn: &mut Conn,
    scope: &Scope,
    overdue: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Rectification>> {
    scope.require(Perm::ReadInspections)?;
    // `$1` is today (added by rect_where).
    let mut w = String::from("1 = 1");
    let mut p: Vec<Value> = Vec::new();
    if scope.role() == Some(Role::Inspector) {
        p.push(scope.actor.user.as_str().into());
        w.push_str(" AND r.inspection_id IN (SELECT inspection_id FROM inspection_inspector WHERE username = $2)");
    } else if scope.role().is_some()
        && !scope.can(Perm::PlanInspections)
        && scope.role() != Some(Role::FacilityOperator)
    {
        return Ok(Vec::new());
    } else {
        // Offset by one: `$1` is today (added by rect_where).
        let mut tmp = String::new();
        let mut q: Vec<Value> = vec![Value::Null];
        scope.push_sql(&mut tmp, &mut q, "r.facility_path", Some("r.facility_id"));
        w.push_str(&tmp);
        p.extend(q.into_iter().skip(1));
    }
    if overdue {
        w.push_str(" AND r.status IN ('open', 'reported', 'reinspecting') AND r.due < $1");
    }
    rect_where(conn, scope, &w, p, now)
}

fn load_rect(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Rectification> {
    scope.require(Perm::ReadInspections)?;
    check_id("id", id)?;
    let found = rect_where(conn, scope, "r.id = $2", vec![id.into()], now)?
        .into_iter()
        .next()
        .ok_or_else(|| not_found("rectification", id))?;
    let visible = match scope.role() {
        None => true,
        Some(Role::FacilityOperator) => scope.facility() == Some(found.facility_id.as_str()),
        Some(Role::Inspector) => conn.query_i64(
            "SELECT COUNT(*) FROM inspection_inspector WHERE inspection_id = $1 AND username = $2",
            &[
                found.inspection_id.as_str().into(),
                scope.actor.user.as_str().into(),
            ],
        )? > 0,
        Some(_) => scope.can(Perm::PlanInspections) && scope.contains_path(&found.area_path),
    };
    if !visible {
        return Err(not_found("rectification", id));
    }
    Ok(found)
}

/// The facility's operator reports the rectification done (整改完成报告),
/// with a note of what was done; the county then orders the re-inspection.
pub fn report_rectified(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Rectification> {
    scope.require(Perm::RectifyInspections)?;
    let r = load_rect(conn, scope, id, now)?;
    let note = crate::text::required(
        "note",
        note,
        MAX_NOTE,
        "say what was put right (1 to 1000 characters)",
    )?;
    if !r.can_report {
        return Err(if r.status == RectStatus::Open {
            StoreError::Forbidden("the facility's own operator reports its rectification".into())
        } else {
            StoreError::Conflict(format!("the order is {} already", r.status.label_zh()))
        });
    }
    let at = ts(now);
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE rectification SET status = 'reported', reported_by = $1, reported_at = $2, report_note = $3, \
             updated_at = $2 WHERE id = $4 AND status = 'open'",
            &[
                scope.actor.user.as_str().into(),
                at.as_str().into(),
                note.as_str().into(),
                id.into(),
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict("changed at the same moment".into()));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "rectification_report",
                entity: "rectification",
                entity_id: Some(id),
                before: None,
                after: None,
            },
        )?;
        Ok(())
    })?;
    load_rect(conn, scope, id, now)
}

/// Orders the re-inspection of a rectification (复查): a new inspection of
/// the same facility by the same inspectors (they know the failed items),
/// kind `reinspection`. Its record closes the order (合格) or marks it
/// 整改不到位.
pub fn reinspect(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Inspection> {
    scope.require(Perm::PlanInspections)?;
    let r = load_rect(conn, scope, id, now)?;
    if !r.can_reinspect {
        return Err(
            if matches!(r.status, RectStatus::Open | RectStatus::Reported) {
                StoreError::Forbidden("county or city staff order re-inspections".into())
            } else {
                StoreError::Conflict(format!("the order is {} already", r.status.label_zh()))
            },
        );
    }
    let plan_id: String = conn
        .query_opt(
            "SELECT plan_id FROM inspection WHERE id = $1",
            &[r.inspection_id.as_str().into()],
        )?
        .ok_or_else(|| not_found("inspection", &r.inspection_id))?
        .get("plan_id")?;
    let inspectors = inspectors_of(conn, &r.inspection_id)?;
    let at = ts(now);
    let new_id = conn.transaction(|c| {
        let a = Assignment {
            facility_id: r.facility_id.clone(),
            kind: TargetKind::Random,
            inspectors,
        };
        let nid = new_inspection(c, &plan_id, None, &a, Kind::Reinspection, Some(id), &at)?;
        let n = c.execute(
            "UPDATE rectification SET status = 'reinspecting', reinspection_id = $1, updated_at = $2 \
             WHERE id = $3 AND status IN ('open', 'reported')",
            &[nid.as_str().into(), at.as_str().into(), id.into()],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict("changed at the same moment".into()));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "rectification_reinspect",
                entity: "rectification",
                entity_id: Some(id),
                before: None,
                after: Some(serde_json::json!({"reinspection_id": nid}).to_string()),
            },
        )?;
        Ok(nid)
    })?;
    get(conn, scope, &new_id, now)
}

// ---------------------------------------------------------------- public and links

/// The published results of an area (the public portal's read; no scope:
/// only public fields, no person, no inspector, no note, no photo), newest
/// first.
pub fn published_results(conn: &mut Conn, area_path: &str) -> Result<Vec<PublicResult>> {
    let rows = conn.query(
        &format!(
            "SELECT i.id, i.facility_id, f.name, i.facility_kind, f.area_code, p.period, i.kind, i.inspected_on, \
             i.verdict, i.items, i.published_at, r.due, r.status AS rect_status \
             FROM inspection i JOIN facility f ON f.id = i.facility_id JOIN inspection_plan p ON p.id = i.plan_id \
             LEFT JOIN rectification r ON r.inspection_id = i.id \
             WHERE i.status = 'published' AND i.facility_path >= $1 AND i.facility_path < $2 \
             ORDER BY i.published_at DESC, i.id LIMIT {MAX_LIST}"
        ),
        &[area_path.into(), path_upper(area_path).into()],
    )?;
    rows.iter()
        .map(|r| {
            let items: Vec<ItemResult> = from_json(&r.get::<String>("items")?)?;
            let verdict: String = r.get("verdict")?;
            let rs: Option<String> = r.get("rect_status")?;
            Ok(PublicResult {
                inspection_id: r.get("id")?,
                facility_id: r.get("facility_id")?,
                facility_name: r.get("name")?,
                facility_kind: r.get("facility_kind")?,
                area_code: r.get("area_code")?,
                period: r.get("period")?,
                kind: Kind::parse(&r.get::<String>("kind")?)?,
                inspected_on: r.get("inspected_on")?,
                verdict: Verdict::parse(&verdict)
                    .ok_or_else(|| StoreError::Database("verdict".into()))?,
                failed_items: items
                    .into_iter()
                    .filter(|i| i.outcome == Outcome::Fail)
                    .map(|i| i.zh)
                    .collect(),
                rectification_due: r.get("due")?,
                rectification_status: rs.as_deref().map(RectStatus::parse).transpose()?,
                published_at: r.get("published_at")?,
            })
        })
        .collect()
}

/// The latest published result of a facility (shown beside its rating).
pub fn latest_result(conn: &mut Conn, facility_id: &str) -> Result<Option<(Verdict, String)>> {
    let r = conn.query_opt(
        "SELECT verdict, inspected_on FROM inspection WHERE facility_id = $1 AND status = 'published' \
         ORDER BY inspected_on DESC, published_at DESC LIMIT 1",
        &[facility_id.into()],
    )?;
    match r {
        Some(r) => {
            let v: String = r.get("verdict")?;
            Ok(Verdict::parse(&v).map(|v| (v, r.get("inspected_on").unwrap_or_default())))
        }
        None => Ok(None),
    }
}

/// The facilities of an area whose subsidies are held by their inspections
/// on a day (the documented link the subsidy engine consults): the latest
/// published result 不合格 with its rectification not closed, or any
/// rectification order open past its deadline.
pub fn subsidy_holds(conn: &mut Conn, area_path: &str, day: NaiveDate) -> Result<Vec<SubsidyHold>> {
    let today = day.to_string();
    let rows = conn.query(
        &format!(
            "SELECT i.facility_id, i.id, i.verdict, i.inspected_on, i.published_at, r.status, r.due \
             FROM inspection i LEFT JOIN rectification r ON r.inspection_id = i.id \
             WHERE i.status = 'published' AND i.facility_path >= $1 AND i.facility_path < $2 \
             AND i.inspected_on <= $3 ORDER BY i.facility_id, i.inspected_on DESC, i.published_at DESC LIMIT {}",
            MAX_LIST * 10
        ),
        &[
            area_path.into(),
            path_upper(area_path).into(),
            today.as_str().into(),
        ],
    )?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in &rows {
        let fid: String = r.get("facility_id")?;
        let latest = seen.insert(fid.clone());
        let verdict: String = r.get("verdict")?;
        let status: Option<String> = r.get("status")?;
        let due: Option<String> = r.get("due")?;
        let open = status.as_deref().is_some_and(|s| !matches!(s, "closed"));
        let id: String = r.get("id")?;
        let since: String = r.get("inspected_on")?;
        if latest && verdict == "fail" && open {
            out.push(SubsidyHold {
                facility_id: fid,
                reason: "failed_inspection".into(),
                inspection_id: id,
                since,
            });
        } else if open
            && status.as_deref() != Some("failed")
            && due.as_deref().is_some_and(|d| d < today.as_str())
            && !out.iter().any(|h: &SubsidyHold| h.facility_id == fid)
        {
            out.push(SubsidyHold {
                facility_id: fid,
                reason: "overdue_rectification".into(),
                inspection_id: id,
                since: due.unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- demo

/// Demo: one plan of the county with a published draw (the demo's inspector
/// accounts and two more, `inspector3` and `inspector4`, make the pool), its first inspection recorded with a failed item
/// (a rectification order) and published, the second recorded and passed,
/// the rest waiting for the inspectors. Cheap: a roster of the county's
/// facilities and a few dozen rows. Returns the plan id, or none when a plan
/// exists already.
pub fn seed_demo(
    conn: &mut Conn,
    reference: &Reference,
    county: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if conn.query_i64("SELECT COUNT(*) FROM inspection_plan", &[])? > 0 {
        return Ok(None);
    }
    let Some(area) = reference.areas.get(county) else {
        return Ok(None);
    };
    let sys = Scope::system("demo");
    // At least four targets even in a small demo city (5% of a county's
    // facilities at scale 1), so two stay for the inspectors to record.
    let n = conn.query_i64(
        "SELECT COUNT(*) FROM facility WHERE deleted_at IS NULL AND area_path >= $1 AND area_path < $2 \
         AND kind IN ('elderly_institution', 'town_home_care_center', 'village_care_station', 'childcare_institution')",
        &[area.path.as_str().into(), path_upper(&area.path).into()],
    )?;
    let ratio = if n > 0 { (400 + n - 1) / n } else { 5 }.clamp(5, 100);
    let plan = create_plan(
        conn,
        reference,
        &sys,
        &NewPlan {
            title: "2025年下半年养老托育机构双随机抽查".into(),
            area_code: county.into(),
            period: "2025-H2".into(),
            kinds: vec![],
            ratio_percent: Some(ratio),
            inspectors_per_inspection: None,
            include_flagged: false,
        },
        now - Duration::days(10),
    )?;
    // Two more inspectors in the pool (no login is printed for them): with
    // only the two demo accounts, recusal (last time's inspectors stand
    // aside) would leave no one for a second draw of a facility recorded.
    for name in ["inspector3", "inspector4"] {
        if crate::accounts::get_user(conn, name).is_err() {
            let password = format!("pool-{}", crate::crypto::random_hex(12));
            crate::accounts::create_user(
                conn,
                reference,
                &sys,
                name,
                Role::Inspector,
                county,
                None,
                &password,
            )?;
        }
    }
    // Too few inspectors or facilities: the plan stays a draft.
    match commit(
        conn,
        reference,
        &sys,
        &plan.id,
        None,
        now - Duration::days(9),
    ) {
        Ok(_) => {}
        Err(StoreError::Invalid(_)) => return Ok(Some(plan.id)),
        Err(e) => return Err(e),
    }
    draw(conn, reference, &sys, &plan.id, now - Duration::days(8))?;
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM inspection WHERE plan_id = $1 ORDER BY created_at, id LIMIT 2",
            &[plan.id.as_str().into()],
        )?
        .iter()
        .map(|r| r.get("id"))
        .collect::<Result<_>>()?;
    for (n, id) in ids.iter().enumerate() {
        let insp = get(conn, &sys, id, now)?;
        let items = insp
            .items
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let fail = n == 0 && k == insp.items.len() - 1;
                (
                    i.code.clone(),
                    if fail { "fail" } else { "pass" }.to_string(),
                    fail.then(|| "现场未见公示".to_string()),
                )
            })
            .collect();
        record(
            conn,
            &sys,
            id,
            &RecordInput {
                items,
                note: None,
                inspected_on: Some((now - Duration::days(5)).date_naive()),
                rectification_days: None,
            },
            now - Duration::days(5),
        )?;
        if n == 0 {
            publish(conn, &sys, id, now - Duration::days(4))?;
        }
    }
    Ok(Some(plan.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn towns_are_the_third_segment() {
        assert_eq!(
            town_of("/330400/330402/330402001/330402001001/"),
            "330402001"
        );
        assert_eq!(town_of("/330400/330402/"), "");
        assert_eq!(Status::parse("published"), Some(Status::Published));
        assert_eq!(RectStatus::Reported.label_zh(), "已报整改");
    }
}
