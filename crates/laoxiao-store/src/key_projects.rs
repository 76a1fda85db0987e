//! The key projects (重点项目, 附件1 of the plan) as a register, issue 17
//! part 4: the plan's 72 projects (`laoxiao_rules::plan`, seeded at start by
//! [`seed`], keyed by the plan's number), their milestones (节点), progress
//! reports (进度填报) with photos, and completion (竣工), which links the
//! project to the facility of the register it became (a new one, or an
//! existing one in scope) in one transaction with the audit entries.
//!
//! Who: county and city staff of the project's area (`ManageKeyProjects`);
//! a project outside the scope is not found. The schedule status (on track,
//! behind, completed) is `laoxiao_rules::key_projects::status` on the day
//! asked. The public sees [`public`]: no implementing unit, no photos, no
//! report text (docs/key-projects.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use laoxiao_model::facility::{Facility, FacilityKind};
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::key_projects::{self as rules, Facts, Reason, ScheduleParams, ScheduleStatus};
use laoxiao_rules::plan::{CapacityKind, IndicatorGroup, KeyProject, Plan};
use laoxiao_rules::subsidies::{Params, Value as ParamValue};
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::uploads::Checked;
use crate::{Reference, audit, facilities, now_rfc3339};

/// The largest amount accepted, in 10k yuan (10 billion yuan: the largest
/// project of the plan is 3.2 billion).
pub const MAX_AMOUNT_10K: f64 = 1_000_000.0;
/// Longest report text and milestone title, in characters.
pub const MAX_BODY: usize = 2000;
pub const MAX_TITLE: usize = 100;
/// Most milestones per project and photos per report.
pub const MAX_MILESTONES: i64 = 50;
pub const MAX_PHOTOS: i64 = 10;
/// Most reports a project page lists (newest first).
pub const MAX_REPORTS: usize = 200;
/// The largest capacity a completion may deliver (beds or slots).
pub const MAX_CAPACITY: i64 = 10_000;

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.chars().take(64).collect(),
    }
}

fn reference_err(e: laoxiao_rules::RulesError) -> StoreError {
    StoreError::Reference(e.to_string())
}

/// 10k yuan (万元, as the plan prints) to whole yuan.
pub fn yuan_of_10k(field: &str, v: f64) -> Result<i64> {
    if !v.is_finite() || !(0.0..=MAX_AMOUNT_10K).contains(&v) {
        return Err(invalid(
            field,
            format!("an amount in 10k yuan from 0 to {MAX_AMOUNT_10K}"),
        ));
    }
    // Bounded above, so the product fits; rounding to whole yuan.
    Ok((v * 10_000.0).round() as i64)
}

/// Whole yuan to 10k yuan.
pub fn ten_k(yuan: i64) -> f64 {
    yuan as f64 / 10_000.0
}

fn type_code(g: IndicatorGroup) -> &'static str {
    match g {
        IndicatorGroup::Elderly => "elderly",
        IndicatorGroup::Childcare => "childcare",
    }
}

fn capacity_code(k: CapacityKind) -> &'static str {
    match k {
        CapacityKind::Beds => "beds",
        CapacityKind::Slots => "slots",
    }
}

fn plan() -> Result<Plan> {
    Plan::embedded().map_err(reference_err)
}

fn text_param(name: &str, day: NaiveDate) -> Result<String> {
    match Params::embedded()
        .map_err(reference_err)?
        .at(name, day)
        .map_err(reference_err)?
        .value
    {
        ParamValue::Text(s) => Ok(s),
        ParamValue::Int(n) => Ok(n.to_string()),
    }
}

/// The county and the area (the town when the plan names one) of a project.
pub fn resolve_area(
    reference: &Reference,
    p: &KeyProject,
    day: NaiveDate,
) -> Result<(String, String, String)> {
    let areas = reference.areas.all();
    let county = areas
        .iter()
        .find(|a| a.level == AreaLevel::County && a.name == p.county);
    let town = p.town.as_deref().and_then(|t| {
        areas.iter().find(|a| {
            a.level == AreaLevel::Town
                && a.name == t
                && county.is_none_or(|c| a.parent_code.as_deref() == Some(c.code.as_str()))
        })
    });
    let county = match (county, town) {
        (Some(c), _) => c,
        (None, Some(t)) => t
            .parent_code
            .as_deref()
            .and_then(|c| reference.areas.get(c))
            .ok_or_else(|| StoreError::Reference(format!("project {}: county", p.number)))?,
        (None, None) => {
            // 经开区 without a town: the county the parameter names.
            let code = text_param("key_project.jingkai_county", day)?;
            reference.areas.get(&code).ok_or_else(|| {
                StoreError::Reference(format!("project {}: no county {code}", p.number))
            })?
        }
    };
    let area = town.unwrap_or(county);
    Ok((county.code.clone(), area.code.clone(), area.path.clone()))
}

/// Adds the plan's projects missing from the register (at every start; the
/// rows already there are kept). Returns how many were added.
pub fn seed(conn: &mut Conn, reference: &Reference) -> Result<usize> {
    let plan = plan()?;
    let have: Vec<i64> = conn
        .query("SELECT number FROM key_project", &[])?
        .iter()
        .map(|r| r.get::<i64>("number"))
        .collect::<Result<_>>()?;
    let missing: Vec<&KeyProject> = plan
        .key_projects
        .iter()
        .filter(|p| !have.contains(&i64::from(p.number)))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let day = chrono::Utc::now().date_naive();
    let sp = ScheduleParams::embedded(day).map_err(reference_err)?;
    let now = now_rfc3339();
    conn.transaction(|c| {
        for p in &missing {
            let (county, area, path) = resolve_area(reference, p, day)?;
            let requested = match p.central_funding_requested_10k_yuan {
                Some(v) => Some(yuan_of_10k("central_funding_requested", v)?),
                None => None,
            };
            c.execute(
                "INSERT INTO key_project (number, name, project_type, county_code, area_code, area_path, \
                 capacity_kind, capacity, investment_planned_yuan, funding_requested_yuan, planned_start, \
                 planned_end, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                &[
                    i64::from(p.number).into(),
                    p.name.as_str().into(),
                    type_code(p.project_type).into(),
                    county.into(),
                    area.into(),
                    path.into(),
                    p.capacity_kind.map(capacity_code).into(),
                    p.capacity.map(i64::from).into(),
                    yuan_of_10k("total_investment", p.total_investment_10k_yuan)?.into(),
                    requested.into(),
                    sp.period_start.into(),
                    sp.period_end.into(),
                    now.as_str().into(),
                ],
            )?;
        }
        Ok(missing.len())
    })
}

/// A milestone (节点).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Milestone {
    pub id: String,
    pub title: String,
    pub planned_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// A photo of a report (staff only, never public).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Photo {
    pub id: String,
    pub report_id: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
}

/// A progress report (进度填报).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub id: String,
    pub report_date: NaiveDate,
    pub investment_spent_10k_yuan: f64,
    pub funding_granted_10k_yuan: f64,
    pub percent_complete: i64,
    pub body: String,
    pub reported_by: String,
    pub reported_at: String,
    pub photos: Vec<Photo>,
}

/// A project as staff see it in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub number: i64,
    pub name: String,
    /// `elderly` or `childcare`.
    pub project_type: String,
    pub county_code: String,
    pub county_name: String,
    pub area_code: String,
    pub town: Option<String>,
    pub description: String,
    /// `beds` or `slots`; `None` when the plan states none.
    pub capacity_kind: Option<String>,
    pub capacity: Option<i64>,
    pub investment_planned_10k_yuan: f64,
    pub funding_requested_10k_yuan: Option<f64>,
    /// The plan marks the central funding 已下达.
    pub funding_granted_in_plan: bool,
    pub implementing_unit: String,
    pub planned_start: NaiveDate,
    pub planned_end: NaiveDate,
    pub investment_spent_10k_yuan: f64,
    pub funding_granted_10k_yuan: f64,
    pub percent_complete: i64,
    pub last_report_date: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub delivered_capacity: Option<i64>,
    pub facility_id: Option<String>,
    pub status: ScheduleStatus,
    pub reasons: Vec<Reason>,
}

/// A project with its milestones and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub project: Project,
    pub milestones: Vec<Milestone>,
    /// Newest first.
    pub reports: Vec<Report>,
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub county: Option<String>,
    pub project_type: Option<String>,
    pub status: Option<ScheduleStatus>,
}

const COLUMNS: &str = "number, name, project_type, county_code, area_code, capacity_kind, capacity, \
     investment_planned_yuan, funding_requested_yuan, planned_start, planned_end, completed_on, \
     delivered_capacity, facility_id";

struct Latest {
    date: NaiveDate,
    spent: i64,
    granted: i64,
    percent: i64,
}

/// Reads projects (rows of `COLUMNS`) with their latest report and
/// milestones, and computes their status on `day`.
fn assemble(
    conn: &mut Conn,
    reference: &Reference,
    rows: Vec<Row>,
    day: NaiveDate,
) -> Result<Vec<(Project, Vec<Milestone>)>> {
    let plan = plan()?;
    let sp = ScheduleParams::embedded(day).map_err(reference_err)?;
    let numbers: Vec<i64> = rows
        .iter()
        .map(|r| r.get::<i64>("number"))
        .collect::<Result<_>>()?;
    let mut latest: BTreeMap<i64, Latest> = BTreeMap::new();
    let mut milestones: BTreeMap<i64, Vec<Milestone>> = BTreeMap::new();
    if !numbers.is_empty() {
        // All projects' reports, newest last per project: at most 72 projects
        // with their reports, a small table.
        for r in conn.query(
            "SELECT project_number, report_date, investment_spent_yuan, funding_granted_yuan, \
             percent_complete FROM key_project_report ORDER BY project_number, report_date, reported_at",
            &[],
        )? {
            latest.insert(
                r.get("project_number")?,
                Latest {
                    date: r.get("report_date")?,
                    spent: r.get("investment_spent_yuan")?,
                    granted: r.get("funding_granted_yuan")?,
                    percent: r.get("percent_complete")?,
                },
            );
        }
        for r in conn.query(
            "SELECT id, project_number, title, planned_on, done_on FROM key_project_milestone \
             ORDER BY project_number, planned_on, id",
            &[],
        )? {
            milestones
                .entry(r.get("project_number")?)
                .or_default()
                .push(Milestone {
                    id: r.get("id")?,
                    title: r.get("title")?,
                    planned_on: r.get("planned_on")?,
                    done_on: r.get("done_on")?,
                });
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let number: i64 = r.get("number")?;
        let from_plan = plan.key_project(u32::try_from(number).unwrap_or(0));
        let county_code: String = r.get("county_code")?;
        let area_code: String = r.get("area_code")?;
        let county_name = reference
            .areas
            .get(&county_code)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let town = (area_code != county_code)
            .then(|| reference.areas.get(&area_code).map(|a| a.name.clone()))
            .flatten();
        let ms = milestones.remove(&number).unwrap_or_default();
        let l = latest.get(&number);
        let completed_on: Option<NaiveDate> = r.get("completed_on")?;
        let facts = Facts {
            completed: completed_on.is_some(),
            planned_start: r.get("planned_start")?,
            planned_end: r.get("planned_end")?,
            latest: l.map(|l| (l.date, l.percent)),
            milestones: ms
                .iter()
                .map(|m| rules::Milestone {
                    title: m.title.clone(),
                    planned_on: m.planned_on,
                    done_on: m.done_on,
                })
                .collect(),
        };
        let (status, reasons) = rules::status(&facts, &sp, day);
        out.push((
            Project {
                number,
                name: r.get("name")?,
                project_type: r.get("project_type")?,
                county_code,
                county_name,
                area_code,
                town,
                description: from_plan.map(|p| p.description.clone()).unwrap_or_default(),
                capacity_kind: r.get("capacity_kind")?,
                capacity: r.get("capacity")?,
                investment_planned_10k_yuan: ten_k(r.get("investment_planned_yuan")?),
                funding_requested_10k_yuan: r
                    .get::<Option<i64>>("funding_requested_yuan")?
                    .map(ten_k),
                funding_granted_in_plan: from_plan.is_some_and(|p| p.central_funding_granted),
                implementing_unit: from_plan
                    .map(|p| p.implementing_unit.clone())
                    .unwrap_or_default(),
                planned_start: facts.planned_start,
                planned_end: facts.planned_end,
                investment_spent_10k_yuan: ten_k(l.map_or(0, |l| l.spent)),
                funding_granted_10k_yuan: ten_k(l.map_or(0, |l| l.granted)),
                percent_complete: if completed_on.is_some() {
                    100
                } else {
                    l.map_or(0, |l| l.percent)
                },
                last_report_date: l.map(|l| l.date),
                completed_on,
                delivered_capacity: r.get("delivered_capacity")?,
                facility_id: r.get("facility_id")?,
                status,
                reasons,
            },
            ms,
        ));
    }
    Ok(out)
}

/// The projects in the scope, by number, filtered; statuses on `day`.
pub fn list(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    filter: &Filter,
    day: NaiveDate,
) -> Result<Vec<Project>> {
    scope.require(Perm::ManageKeyProjects)?;
    let mut w = String::from(" WHERE 1 = 1");
    let mut p: Vec<Value> = Vec::new();
    scope.push_sql(&mut w, &mut p, "area_path", None);
    if let Some(c) = &filter.county {
        if reference
            .areas
            .get(c)
            .is_none_or(|a| a.level != AreaLevel::County)
        {
            return Err(invalid("county", "a county code (e.g. 330402)"));
        }
        p.push(c.as_str().into());
        w.push_str(&format!(" AND county_code = ${}", p.len()));
    }
    if let Some(t) = &filter.project_type {
        if t != "elderly" && t != "childcare" {
            return Err(invalid("type", "elderly or childcare"));
        }
        p.push(t.as_str().into());
        w.push_str(&format!(" AND project_type = ${}", p.len()));
    }
    let rows = conn.query(
        &format!("SELECT {COLUMNS} FROM key_project{w} ORDER BY number"),
        &p,
    )?;
    Ok(assemble(conn, reference, rows, day)?
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| filter.status.is_none_or(|s| s == p.status))
        .collect())
}

fn row_in_scope(conn: &mut Conn, scope: &Scope, number: i64) -> Result<Row> {
    scope.require(Perm::ManageKeyProjects)?;
    let mut w = String::from(" WHERE number = $1");
    let mut p: Vec<Value> = vec![number.into()];
    scope.push_sql(&mut w, &mut p, "area_path", None);
    conn.query_opt(&format!("SELECT {COLUMNS} FROM key_project{w}"), &p)?
        .ok_or_else(|| not_found("key project", &number.to_string()))
}

/// One project in the scope with its milestones and reports.
pub fn get(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    number: i64,
    day: NaiveDate,
) -> Result<Detail> {
    let row = row_in_scope(conn, scope, number)?;
    let (project, milestones) = assemble(conn, reference, vec![row], day)?
        .into_iter()
        .next()
        .ok_or_else(|| not_found("key project", &number.to_string()))?;
    let mut photos: BTreeMap<String, Vec<Photo>> = BTreeMap::new();
    for r in conn.query(
        "SELECT ph.id, ph.report_id, ph.sha256, ph.content_type, ph.size, ph.file_name \
         FROM key_project_photo ph JOIN key_project_report r ON r.id = ph.report_id \
         WHERE r.project_number = $1 ORDER BY ph.uploaded_at, ph.id",
        &[number.into()],
    )? {
        let report_id: String = r.get("report_id")?;
        photos.entry(report_id.clone()).or_default().push(Photo {
            id: r.get("id")?,
            report_id,
            sha256: r.get("sha256")?,
            content_type: r.get("content_type")?,
            size: r.get("size")?,
            file_name: r.get("file_name")?,
        });
    }
    let reports = conn
        .query(
            "SELECT id, report_date, investment_spent_yuan, funding_granted_yuan, percent_complete, \
             body, reported_by, reported_at FROM key_project_report WHERE project_number = $1 \
             ORDER BY report_date DESC, reported_at DESC",
            &[number.into()],
        )?
        .into_iter()
        .take(MAX_REPORTS)
        .map(|r| {
            let id: String = r.get("id")?;
            Ok(Report {
                photos: photos.remove(&id).unwrap_or_default(),
                id,
                report_date: r.get("report_date")?,
                investment_spent_10k_yuan: ten_k(r.get("investment_spent_yuan")?),
                funding_granted_10k_yuan: ten_k(r.get("funding_granted_yuan")?),
                percent_complete: r.get("percent_complete")?,
                body: r.get("body")?,
                reported_by: r.get("reported_by")?,
                reported_at: r.get("reported_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Detail {
        project,
        milestones,
        reports,
    })
}

fn check_text(field: &str, s: &str, max: usize, required: bool) -> Result<String> {
    let s = s.trim();
    if required && s.is_empty() {
        return Err(invalid(field, "required"));
    }
    if s.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(field, "no control characters"));
    }
    Ok(s.to_string())
}

fn check_day(field: &str, d: NaiveDate, today: NaiveDate) -> Result<()> {
    let earliest = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN);
    if d < earliest || d > today {
        return Err(invalid(
            field,
            format!("a date from 2020-01-01 to today ({today})"),
        ));
    }
    Ok(())
}

fn audit_event(
    conn: &mut Conn,
    scope: &Scope,
    action: &str,
    number: i64,
    after: serde_json::Value,
) -> Result<()> {
    let id = number.to_string();
    audit::append(
        conn,
        scope,
        audit::Event {
            action,
            entity: "key_project",
            entity_id: Some(&id),
            before: None,
            after: Some(after.to_string()),
        },
    )?;
    Ok(())
}

/// A progress report as entered.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub report_date: NaiveDate,
    pub investment_spent_10k_yuan: f64,
    pub funding_granted_10k_yuan: f64,
    pub percent_complete: i64,
    pub body: String,
}

/// Records a progress report of a project in the scope (not of a completed
/// one). One transaction with its audit entry; returns the report's id.
pub fn record_report(
    conn: &mut Conn,
    scope: &Scope,
    number: i64,
    input: &ReportInput,
    today: NaiveDate,
) -> Result<String> {
    let row = row_in_scope(conn, scope, number)?;
    if row.get::<Option<NaiveDate>>("completed_on")?.is_some() {
        return Err(StoreError::Conflict(format!(
            "key project {number} is completed; no more reports"
        )));
    }
    check_day("report_date", input.report_date, today)?;
    let spent = yuan_of_10k("investment_spent_10k_yuan", input.investment_spent_10k_yuan)?;
    let granted = yuan_of_10k("funding_granted_10k_yuan", input.funding_granted_10k_yuan)?;
    if !(0..=100).contains(&input.percent_complete) {
        return Err(invalid("percent_complete", "a whole number from 0 to 100"));
    }
    let body = check_text("body", &input.body, MAX_BODY, false)?;
    let id = format!("KR-{}", crate::crypto::random_hex(8));
    let now = now_rfc3339();
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO key_project_report (id, project_number, report_date, investment_spent_yuan, \
             funding_granted_yuan, percent_complete, body, reported_by, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                id.as_str().into(),
                number.into(),
                input.report_date.into(),
                spent.into(),
                granted.into(),
                input.percent_complete.into(),
                body.as_str().into(),
                scope.actor.user.as_str().into(),
                now.as_str().into(),
            ],
        )?;
        c.execute(
            "UPDATE key_project SET updated_at = $2 WHERE number = $1",
            &[number.into(), now.as_str().into()],
        )?;
        audit_event(
            c,
            scope,
            "key_project_report",
            number,
            serde_json::json!({"report": id, "report_date": input.report_date,
                "investment_spent_yuan": spent, "funding_granted_yuan": granted,
                "percent_complete": input.percent_complete}),
        )
    })?;
    Ok(id)
}

/// Adds a photo (already checked and kept by `uploads`) to a report of a
/// project in the scope. JPEG or PNG only.
pub fn add_photo(
    conn: &mut Conn,
    scope: &Scope,
    number: i64,
    report_id: &str,
    file: &Checked,
) -> Result<Photo> {
    row_in_scope(conn, scope, number)?;
    if conn
        .query_opt(
            "SELECT id FROM key_project_report WHERE id = $1 AND project_number = $2",
            &[report_id.into(), number.into()],
        )?
        .is_none()
    {
        return Err(not_found("report", report_id));
    }
    if !file.content_type.starts_with("image/") {
        return Err(StoreError::UploadType("photos are JPEG or PNG".into()));
    }
    let n: i64 = conn
        .query_opt(
            "SELECT COUNT(*) AS n FROM key_project_photo WHERE report_id = $1",
            &[report_id.into()],
        )?
        .map(|r| r.get("n"))
        .transpose()?
        .unwrap_or(0);
    if n >= MAX_PHOTOS {
        return Err(invalid(
            "file",
            format!("at most {MAX_PHOTOS} photos per report"),
        ));
    }
    let photo = Photo {
        id: format!("KP-{}", crate::crypto::random_hex(8)),
        report_id: report_id.to_string(),
        sha256: file.sha256.clone(),
        content_type: file.content_type.to_string(),
        size: i64::try_from(file.size).unwrap_or(i64::MAX),
        file_name: file.file_name.clone(),
    };
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO key_project_photo (id, report_id, sha256, content_type, size, file_name, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                photo.id.as_str().into(),
                report_id.into(),
                photo.sha256.as_str().into(),
                photo.content_type.as_str().into(),
                photo.size.into(),
                photo.file_name.as_str().into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit_event(
            c,
            scope,
            "key_project_photo",
            number,
            serde_json::json!({"report": report_id, "photo": photo.id, "sha256": photo.sha256}),
        )
    })?;
    Ok(photo)
}

/// One photo of a project in the scope.
pub fn photo(conn: &mut Conn, scope: &Scope, number: i64, photo_id: &str) -> Result<Photo> {
    row_in_scope(conn, scope, number)?;
    let r = conn
        .query_opt(
            "SELECT ph.id, ph.report_id, ph.sha256, ph.content_type, ph.size, ph.file_name \
             FROM key_project_photo ph JOIN key_project_report r ON r.id = ph.report_id \
             WHERE ph.id = $1 AND r.project_number = $2",
            &[photo_id.into(), number.into()],
        )?
        .ok_or_else(|| not_found("photo", photo_id))?;
    Ok(Photo {
        id: r.get("id")?,
        report_id: r.get("report_id")?,
        sha256: r.get("sha256")?,
        content_type: r.get("content_type")?,
        size: r.get("size")?,
        file_name: r.get("file_name")?,
    })
}

/// A milestone as entered: a new one (`id` none) or a change to one.
#[derive(Debug, Clone)]
pub struct MilestoneInput {
    pub id: Option<String>,
    pub title: String,
    pub planned_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// Adds or changes a milestone of a project in the scope; returns its id.
pub fn set_milestone(
    conn: &mut Conn,
    scope: &Scope,
    number: i64,
    input: &MilestoneInput,
    today: NaiveDate,
) -> Result<String> {
    row_in_scope(conn, scope, number)?;
    let title = check_text("title", &input.title, MAX_TITLE, true)?;
    let earliest = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(2035, 12, 31).unwrap_or(NaiveDate::MAX);
    if input.planned_on < earliest || input.planned_on > latest {
        return Err(invalid(
            "planned_on",
            "a date from 2020-01-01 to 2035-12-31",
        ));
    }
    if let Some(d) = input.done_on {
        check_day("done_on", d, today)?;
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        let id = match &input.id {
            Some(id) => {
                let n = c.execute(
                    "UPDATE key_project_milestone SET title = $3, planned_on = $4, done_on = $5, \
                     updated_by = $6, updated_at = $7 WHERE id = $1 AND project_number = $2",
                    &[
                        id.as_str().into(),
                        number.into(),
                        title.as_str().into(),
                        input.planned_on.into(),
                        input.done_on.into(),
                        scope.actor.user.as_str().into(),
                        now.as_str().into(),
                    ],
                )?;
                if n == 0 {
                    return Err(not_found("milestone", id));
                }
                id.clone()
            }
            None => {
                let n: i64 = c
                    .query_opt(
                        "SELECT COUNT(*) AS n FROM key_project_milestone WHERE project_number = $1",
                        &[number.into()],
                    )?
                    .map(|r| r.get("n"))
                    .transpose()?
                    .unwrap_or(0);
                if n >= MAX_MILESTONES {
                    return Err(invalid(
                        "title",
                        format!("at most {MAX_MILESTONES} milestones per project"),
                    ));
                }
                let id = format!("KM-{}", crate::crypto::random_hex(8));
                c.execute(
                    "INSERT INTO key_project_milestone (id, project_number, title, planned_on, done_on, \
                     updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        id.as_str().into(),
                        number.into(),
                        title.as_str().into(),
                        input.planned_on.into(),
                        input.done_on.into(),
                        scope.actor.user.as_str().into(),
                        now.as_str().into(),
                    ],
                )?;
                id
            }
        };
        c.execute(
            "UPDATE key_project SET updated_at = $2 WHERE number = $1",
            &[number.into(), now.as_str().into()],
        )?;
        audit_event(
            c,
            scope,
            "key_project_milestone",
            number,
            serde_json::json!({"milestone": id, "planned_on": input.planned_on, "done_on": input.done_on}),
        )?;
        Ok(id)
    })
}

/// Completion as entered: the day, the capacity delivered and the facility
/// it became (an existing one in the scope, or a new one in `area_code`).
#[derive(Debug, Clone)]
pub struct CompleteInput {
    pub completed_on: NaiveDate,
    pub delivered_capacity: i64,
    pub facility_id: Option<String>,
    /// A town or village of the project's county, for a new facility
    /// (default: the project's town).
    pub area_code: Option<String>,
}

/// Marks a project in the scope completed (竣工). With a delivered capacity
/// it links an existing facility in the scope, or creates one in the
/// facility register (name and kind from the project, the capacity as its
/// beds or approved slots). One transaction with the audit entries; returns
/// the facility's id.
pub fn complete(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    number: i64,
    input: &CompleteInput,
    today: NaiveDate,
) -> Result<Option<String>> {
    let row = row_in_scope(conn, scope, number)?;
    if row.get::<Option<NaiveDate>>("completed_on")?.is_some() {
        return Err(StoreError::Conflict(format!(
            "key project {number} is already completed"
        )));
    }
    check_day("completed_on", input.completed_on, today)?;
    if !(0..=MAX_CAPACITY).contains(&input.delivered_capacity) {
        return Err(invalid(
            "delivered_capacity",
            format!("a whole number from 0 to {MAX_CAPACITY}"),
        ));
    }
    let capacity_kind: Option<String> = row.get("capacity_kind")?;
    let project_type: String = row.get("project_type")?;
    let county_code: String = row.get("county_code")?;
    let project_area: String = row.get("area_code")?;
    let name: String = row.get("name")?;
    let slots = match capacity_kind.as_deref() {
        Some("slots") => true,
        Some(_) => false,
        None => project_type == "childcare",
    };
    conn.transaction(|c| {
        let facility_id = if let Some(fid) = &input.facility_id {
            // An existing facility in the scope; one outside it is not found.
            let f = facilities::get(c, scope, fid).map_err(|_| not_found("facility", fid))?;
            let in_county = reference
                .areas
                .get(&f.area_code)
                .is_some_and(|a| a.path.contains(&format!("/{county_code}/")));
            if !in_county {
                return Err(invalid("facility_id", "a facility in the project's county"));
            }
            if let Some(other) = c.query_opt(
                "SELECT number FROM key_project WHERE facility_id = $1",
                &[fid.as_str().into()],
            )? {
                let n: i64 = other.get("number")?;
                return Err(StoreError::Conflict(format!(
                    "facility {fid:?} is already the result of key project {n}"
                )));
            }
            Some(f.id)
        } else if input.delivered_capacity > 0 {
            let area_code = input.area_code.clone().unwrap_or(project_area.clone());
            let area = reference
                .areas
                .get(&area_code)
                .ok_or_else(|| invalid("area_code", "an area code"))?;
            if !area.path.contains(&format!("/{county_code}/"))
                || !matches!(area.level, AreaLevel::Town | AreaLevel::Village)
            {
                return Err(invalid(
                    "area_code",
                    "a town or village of the project's county",
                ));
            }
            let f = Facility {
                id: facilities::new_id(),
                name: name.clone(),
                kind: if project_type == "childcare" {
                    FacilityKind::ChildcareInstitution
                } else {
                    FacilityKind::ElderlyInstitution
                },
                area_code,
                beds: (!slots).then_some(input.delivered_capacity),
                approved_slots: slots.then_some(input.delivered_capacity),
                opening_date: Some(input.completed_on),
                ..Facility::default()
            };
            Some(facilities::create_in(c, reference, scope, &f)?.id)
        } else {
            None
        };
        c.execute(
            "UPDATE key_project SET completed_on = $2, delivered_capacity = $3, facility_id = $4, \
             updated_at = $5 WHERE number = $1",
            &[
                number.into(),
                input.completed_on.into(),
                input.delivered_capacity.into(),
                facility_id.clone().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit_event(
            c,
            scope,
            "key_project_complete",
            number,
            serde_json::json!({"completed_on": input.completed_on,
                "delivered_capacity": input.delivered_capacity, "facility": facility_id}),
        )?;
        Ok(facility_id)
    })
}

/// A project as the public portal and the open dataset show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicProject {
    pub number: i64,
    pub name: String,
    pub project_type: String,
    pub county_code: String,
    pub county_name: String,
    pub town: Option<String>,
    pub description: String,
    pub capacity_kind: Option<String>,
    pub capacity: Option<i64>,
    pub delivered_capacity: Option<i64>,
    pub investment_planned_10k_yuan: f64,
    pub investment_spent_10k_yuan: f64,
    pub status: ScheduleStatus,
    pub percent_complete: i64,
    pub last_report_date: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
}

/// Progress of one county (or the city, `county_code` empty).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CountyProgress {
    pub county_code: String,
    pub county_name: String,
    pub projects: i64,
    pub completed: i64,
    pub behind: i64,
    pub beds_planned: i64,
    pub beds_delivered: i64,
    pub slots_planned: i64,
    pub slots_delivered: i64,
    pub investment_planned_10k_yuan: f64,
    pub investment_spent_10k_yuan: f64,
}

/// Every project's public fields, by number, with statuses on `day`
/// (no account: the system's scope, then only public fields).
pub fn public(
    conn: &mut Conn,
    reference: &Reference,
    day: NaiveDate,
) -> Result<Vec<PublicProject>> {
    let all = list(
        conn,
        reference,
        &Scope::system("portal"),
        &Filter::default(),
        day,
    )?;
    Ok(all
        .into_iter()
        .map(|p| PublicProject {
            number: p.number,
            name: p.name,
            project_type: p.project_type,
            county_code: p.county_code,
            county_name: p.county_name,
            town: p.town,
            description: p.description,
            capacity_kind: p.capacity_kind,
            capacity: p.capacity,
            delivered_capacity: p.delivered_capacity,
            investment_planned_10k_yuan: p.investment_planned_10k_yuan,
            investment_spent_10k_yuan: p.investment_spent_10k_yuan,
            status: p.status,
            percent_complete: p.percent_complete,
            last_report_date: p.last_report_date,
            completed_on: p.completed_on,
        })
        .collect())
}

/// Progress by county (in code order), then the city's total last.
pub fn by_county(projects: &[PublicProject]) -> Vec<CountyProgress> {
    let mut by: BTreeMap<String, CountyProgress> = BTreeMap::new();
    let mut city = CountyProgress::default();
    for p in projects {
        let c = by
            .entry(p.county_code.clone())
            .or_insert_with(|| CountyProgress {
                county_code: p.county_code.clone(),
                county_name: p.county_name.clone(),
                ..CountyProgress::default()
            });
        for t in [&mut *c, &mut city] {
            t.projects += 1;
            t.completed += i64::from(p.status == ScheduleStatus::Completed);
            t.behind += i64::from(p.status == ScheduleStatus::Behind);
            let planned = p.capacity.unwrap_or(0);
            let delivered = p.delivered_capacity.unwrap_or(0);
            match p.capacity_kind.as_deref() {
                Some("slots") => {
                    t.slots_planned += planned;
                    t.slots_delivered += delivered;
                }
                Some(_) => {
                    t.beds_planned += planned;
                    t.beds_delivered += delivered;
                }
                None => {}
            }
            t.investment_planned_10k_yuan += p.investment_planned_10k_yuan;
            t.investment_spent_10k_yuan += p.investment_spent_10k_yuan;
        }
    }
    let mut out: Vec<CountyProgress> = by.into_values().collect();
    out.push(city);
    for c in &mut out {
        c.investment_planned_10k_yuan = round2(c.investment_planned_10k_yuan);
        c.investment_spent_10k_yuan = round2(c.investment_spent_10k_yuan);
    }
    out
}

/// The demo's progress (only when no report exists yet): every fourth
/// project reported twice and completed with its planned capacity (a new
/// facility in its town, or the county's first town); the next ones reported
/// once, with a milestone ahead. Small: about 18 facilities, 50 writes.
pub fn seed_demo(conn: &mut Conn, reference: &Reference, today: NaiveDate) -> Result<usize> {
    if conn
        .query_opt("SELECT id FROM key_project_report LIMIT 1", &[])?
        .is_some()
    {
        return Ok(0);
    }
    let sys = Scope::system("demo");
    let projects = list(conn, reference, &sys, &Filter::default(), today)?;
    let day = |n: i64| today - chrono::Duration::days(n);
    let mut done = 0;
    for p in projects.iter().filter(|p| p.completed_on.is_none()) {
        let planned = p.investment_planned_10k_yuan;
        match p.number % 4 {
            0 => {
                record_report(
                    conn,
                    &sys,
                    p.number,
                    &ReportInput {
                        report_date: day(200),
                        investment_spent_10k_yuan: round2(planned * 0.6),
                        funding_granted_10k_yuan: p.funding_requested_10k_yuan.unwrap_or(0.0),
                        percent_complete: 60,
                        body: "主体结构完工，进入装修阶段。".into(),
                    },
                    today,
                )?;
                record_report(
                    conn,
                    &sys,
                    p.number,
                    &ReportInput {
                        report_date: day(40),
                        investment_spent_10k_yuan: planned,
                        funding_granted_10k_yuan: p.funding_requested_10k_yuan.unwrap_or(0.0),
                        percent_complete: 100,
                        body: "完成竣工验收。".into(),
                    },
                    today,
                )?;
                let town = if p.area_code == p.county_code {
                    reference
                        .areas
                        .children(&p.county_code)
                        .first()
                        .map(|a| a.code.clone())
                } else {
                    None
                };
                complete(
                    conn,
                    reference,
                    &sys,
                    p.number,
                    &CompleteInput {
                        completed_on: day(30),
                        delivered_capacity: p.capacity.unwrap_or(0),
                        facility_id: None,
                        area_code: town,
                    },
                    today,
                )?;
                done += 1;
            }
            1 => {
                record_report(
                    conn,
                    &sys,
                    p.number,
                    &ReportInput {
                        report_date: day(15),
                        investment_spent_10k_yuan: round2(planned * 0.85),
                        funding_granted_10k_yuan: 0.0,
                        percent_complete: 85,
                        body: "室内装修及设备安装。".into(),
                    },
                    today,
                )?;
                set_milestone(
                    conn,
                    &sys,
                    p.number,
                    &MilestoneInput {
                        id: None,
                        title: "竣工验收".into(),
                        planned_on: today + chrono::Duration::days(60),
                        done_on: None,
                    },
                    today,
                )?;
                done += 1;
            }
            _ => {}
        }
    }
    Ok(done)
}

/// When the register last changed (the newest `updated_at`), for the open
/// dataset's version; `None` before the seed.
pub fn last_change(conn: &mut Conn) -> Result<Option<String>> {
    conn.query_opt("SELECT MAX(updated_at) AS t FROM key_project", &[])?
        .map(|r| r.get::<Option<String>>("t"))
        .transpose()
        .map(Option::flatten)
}

/// Rounds to two decimals (10k yuan to the hundred yuan).
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_convert_and_are_bounded() {
        assert_eq!(yuan_of_10k("x", 25912.73).expect("ok"), 259_127_300);
        assert_eq!(ten_k(259_127_300), 25912.73);
        assert!(yuan_of_10k("x", -1.0).is_err());
        assert!(yuan_of_10k("x", f64::NAN).is_err());
        assert!(yuan_of_10k("x", MAX_AMOUNT_10K + 1.0).is_err());
    }

    #[test]
    fn every_plan_project_resolves_to_a_county_of_jiaxing() {
        let reference = Reference::jiaxing().expect("reference");
        let plan = Plan::embedded().expect("plan");
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("day");
        for p in &plan.key_projects {
            let (county, area, path) = resolve_area(&reference, p, day).expect("resolves");
            assert_eq!(
                reference.areas.get(&county).map(|a| a.level),
                Some(AreaLevel::County),
                "project {}",
                p.number
            );
            assert!(
                path.contains(&format!("/{county}/")),
                "project {}",
                p.number
            );
            assert!(reference.areas.get(&area).is_some());
        }
        // 长水街道 (经开区) is administratively in 南湖区, 嘉北街道 in 秀洲区.
        let p42 = plan.key_project(42).expect("42");
        assert_eq!(resolve_area(&reference, p42, day).expect("42").0, "330402");
        let p44 = plan.key_project(44).expect("44");
        assert_eq!(resolve_area(&reference, p44, day).expect("44").0, "330411");
    }
}
