//! The key-project pages (重点项目): the area's projects with their schedule
//! status (behind-schedule ones flagged) and filters; one project with its
//! milestones, reports and the forms to report progress, set a milestone and
//! mark it completed. The rules are the store's
//! (`laoxiao_store::key_projects`); photos are added through the API.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::key_projects::ScheduleStatus;
use laoxiao_store::StoreError;
use laoxiao_store::key_projects::{
    self as kp, CompleteInput, Filter, MilestoneInput, Project, ReportInput,
};
use laoxiao_store::open_data::amount;
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};

const PATH: &str = "/console/key-projects";

fn reason_code(r: &laoxiao_rules::key_projects::Reason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn project_json(s: &ConsoleState, ctx: &Ctx, p: &Project) -> Json {
    let unit = p
        .capacity_kind
        .as_deref()
        .map(|k| s.t(ctx, &format!("key_projects.unit_{k}")))
        .unwrap_or_default();
    json!({
        "url": format!("{PATH}/{}", p.number),
        "number": p.number,
        "name": p.name,
        "type": s.t(ctx, &format!("key_projects.type_{}", p.project_type)),
        "county": p.county_name,
        "town": p.town,
        "description": p.description,
        "capacity": p.capacity.map(|c| format!("{c} {unit}")),
        "delivered": p.delivered_capacity.map(|c| format!("{c} {unit}")),
        "investment_planned": amount(p.investment_planned_10k_yuan),
        "investment_spent": amount(p.investment_spent_10k_yuan),
        "funding_requested": p.funding_requested_10k_yuan.map(amount),
        "funding_granted": amount(p.funding_granted_10k_yuan),
        "implementing_unit": p.implementing_unit,
        "planned_start": p.planned_start.to_string(),
        "planned_end": p.planned_end.to_string(),
        "percent": p.percent_complete,
        "last_report_date": p.last_report_date.map(|d| d.to_string()),
        "completed_on": p.completed_on.map(|d| d.to_string()),
        "facility_id": p.facility_id,
        "status": p.status.code(),
        "status_label": s.t(ctx, &format!("key_projects.status_{}", p.status.code())),
        "behind": p.status == ScheduleStatus::Behind,
        "reasons": p.reasons.iter().map(|r| s.t(ctx, &format!("key_projects.reason_{}", reason_code(r)))).collect::<Vec<_>>(),
    })
}

fn counties(s: &ConsoleState, ctx: &Ctx, chosen: &str) -> Vec<Json> {
    let scope = ctx.scope();
    s.store
        .reference
        .areas
        .all()
        .iter()
        .filter(|a| a.level == AreaLevel::County && scope.contains_path(&a.path))
        .map(|a| json!({"value": a.code, "label": a.name, "selected": a.code == chosen}))
        .collect()
}

/// `GET /console/key-projects?county=…&type=…&status=…`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let county = ctx.param("county").unwrap_or("").to_string();
    let ptype = ctx.param("type").unwrap_or("").to_string();
    let status = ctx.param("status").and_then(ScheduleStatus::parse);
    let filter = Filter {
        county: (!county.is_empty()).then(|| county.clone()),
        project_type: (!ptype.is_empty()).then(|| ptype.clone()),
        status,
    };
    let today = Utc::now().date_naive();
    let rows = match s
        .db(move |c, r| kp::list(c, r, &scope, &filter, today))
        .await
    {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let behind = rows
        .iter()
        .filter(|p| p.status == ScheduleStatus::Behind)
        .count();
    let types: Vec<Json> = ["elderly", "childcare"]
        .iter()
        .map(|t| {
            json!({
                "value": t, "label": s.t(&ctx, &format!("key_projects.type_{t}")), "selected": *t == ptype,
            })
        })
        .collect();
    let page = json!({
        "rows": rows.iter().map(|p| project_json(&s, &ctx, p)).collect::<Vec<_>>(),
        "behind": behind,
        "counties": counties(&s, &ctx, &county),
        "types": types,
        "statuses": ScheduleStatus::ALL.iter().map(|v| json!({
            "value": v.code(), "label": s.t(&ctx, &format!("key_projects.status_{}", v.code())),
            "selected": Some(*v) == status,
        })).collect::<Vec<_>>(),
    });
    s.render(&ctx, "key_projects.html", "key_projects", page)
}

async fn render_one(
    s: &ConsoleState,
    ctx: &Ctx,
    number: i64,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let today = Utc::now().date_naive();
    let d = match s.db(move |c, r| kp::get(c, r, &scope, number, today)).await {
        Ok(d) => d,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["report", "milestone", "complete"].contains(d))
        .map(|d| s.t(ctx, &format!("key_projects.done_{d}")));
    let page = json!({
        "p": project_json(s, ctx, &d.project),
        "open": d.project.completed_on.is_none(),
        "milestones": d.milestones.iter().map(|m| json!({
            "id": m.id, "title": m.title, "planned_on": m.planned_on.to_string(),
            "done_on": m.done_on.map(|x| x.to_string()),
            "late": m.done_on.is_none() && m.planned_on < today,
        })).collect::<Vec<_>>(),
        "reports": d.reports.iter().map(|r| json!({
            "date": r.report_date.to_string(),
            "spent": amount(r.investment_spent_10k_yuan),
            "granted": amount(r.funding_granted_10k_yuan),
            "percent": r.percent_complete,
            "body": r.body,
            "by": r.reported_by,
            "photos": r.photos.iter().map(|ph| json!({
                "name": ph.file_name,
                "url": format!("/api/key-projects/{number}/photos/{}", ph.id),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "today": today.to_string(),
        "back": PATH,
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "key_project.html", "key_projects", page)
}

/// `GET /console/key-projects/{number}`
pub async fn show(
    State(s): State<ConsoleState>,
    axum::extract::Path(number): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let Ok(number) = number.parse::<i64>() else {
        return s.error_page(
            &ctx,
            super::PageError::Store(StoreError::NotFound {
                what: "key project",
                id: number.chars().take(20).collect(),
            }),
        );
    };
    render_one(&s, &ctx, number, StatusCode::OK, &[]).await
}

fn date(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let v = field(form, name)?;
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(name, "a date, YYYY-MM-DD"));
            None
        }
    }
}

fn number<T: std::str::FromStr>(
    form: &FormData,
    name: &str,
    errs: &mut Vec<FieldError>,
) -> Option<T> {
    let v = field(form, name)?;
    match v.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(name, "a number"));
            None
        }
    }
}

fn need<T>(v: Option<T>, name: &str, errs: &mut Vec<FieldError>) -> Option<T> {
    if v.is_none() && !errs.iter().any(|e| e.field == name) {
        errs.push(FieldError::new(name, "required"));
    }
    v
}

enum Action {
    Report(ReportInput),
    Milestone(MilestoneInput),
    Complete(CompleteInput),
}

fn parse_action(form: &FormData) -> Result<Action, Vec<FieldError>> {
    let mut errs = Vec::new();
    let action = match field(form, "action").unwrap_or_default() {
        "report" => {
            let report_date = date(form, "report_date", &mut errs);
            let spent = number::<f64>(form, "investment_spent_10k_yuan", &mut errs);
            let granted = number::<f64>(form, "funding_granted_10k_yuan", &mut errs);
            let percent = number::<i64>(form, "percent_complete", &mut errs);
            let (Some(d), Some(sp), Some(pc)) = (
                need(report_date, "report_date", &mut errs),
                need(spent, "investment_spent_10k_yuan", &mut errs),
                need(percent, "percent_complete", &mut errs),
            ) else {
                return Err(errs);
            };
            Action::Report(ReportInput {
                report_date: d,
                investment_spent_10k_yuan: sp,
                funding_granted_10k_yuan: granted.unwrap_or(0.0),
                percent_complete: pc,
                body: field(form, "body").unwrap_or_default().to_string(),
            })
        }
        "milestone" => {
            let planned = date(form, "planned_on", &mut errs);
            let done = date(form, "done_on", &mut errs);
            let Some(planned) = need(planned, "planned_on", &mut errs) else {
                return Err(errs);
            };
            Action::Milestone(MilestoneInput {
                id: field(form, "id").map(str::to_string),
                title: field(form, "title").unwrap_or_default().to_string(),
                planned_on: planned,
                done_on: done,
            })
        }
        "complete" => {
            let on = date(form, "completed_on", &mut errs);
            let cap = number::<i64>(form, "delivered_capacity", &mut errs);
            let (Some(on), Some(cap)) = (
                need(on, "completed_on", &mut errs),
                need(cap, "delivered_capacity", &mut errs),
            ) else {
                return Err(errs);
            };
            Action::Complete(CompleteInput {
                completed_on: on,
                delivered_capacity: cap,
                facility_id: field(form, "facility_id").map(str::to_string),
                area_code: field(form, "area_code").map(str::to_string),
            })
        }
        _ => {
            return Err(vec![FieldError::new(
                "action",
                "one of report, milestone, complete",
            )]);
        }
    };
    if errs.is_empty() {
        Ok(action)
    } else {
        Err(errs)
    }
}

/// `POST /console/key-projects/{number}`: `action` = report, milestone or complete.
pub async fn act(
    State(s): State<ConsoleState>,
    axum::extract::Path(number): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let Ok(number) = number.parse::<i64>() else {
        return s.error_page(
            &ctx,
            super::PageError::Store(StoreError::NotFound {
                what: "key project",
                id: number.chars().take(20).collect(),
            }),
        );
    };
    let action = match parse_action(&form) {
        Ok(a) => a,
        Err(errs) => {
            return render_one(&s, &ctx, number, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
        }
    };
    let scope = ctx.scope();
    let today = Utc::now().date_naive();
    let result = s
        .db(move |c, r| match action {
            Action::Report(i) => kp::record_report(c, &scope, number, &i, today).map(|_| "report"),
            Action::Milestone(i) => {
                kp::set_milestone(c, &scope, number, &i, today).map(|_| "milestone")
            }
            Action::Complete(i) => {
                kp::complete(c, r, &scope, number, &i, today).map(|_| "complete")
            }
        })
        .await;
    match result {
        Ok(done) => Redirect::to(&format!("{PATH}/{number}?done={done}#kp-notice")).into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_one(&s, &ctx, number, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}
