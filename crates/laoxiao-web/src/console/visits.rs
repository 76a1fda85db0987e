//! Visiting rounds (探访关爱) and home-care beds (家庭养老床位) in the console:
//! the month's rounds per village (and generating them), a visitor's own
//! list and the overdue list, the visit form (made for a phone), follow-ups
//! for the town, and home-care bed completion with a contract's service
//! visits. The rules are the store's (`laoxiao_store::visits`).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::visit::{VisitConcern, VisitOutcome};
use laoxiao_rules::visits::{VisitRules, parse_month};
use laoxiao_store::visits::{self as v, ServiceInput, Task, TaskQuery, VisitInput};
use laoxiao_store::{Perm, StoreError};
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::encode_segment;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn this_month() -> NaiveDate {
    parse_month(&today().format("%Y-%m").to_string()).unwrap_or_else(today)
}

/// The `month` query parameter, or this month.
fn month_param(ctx: &Ctx) -> Result<NaiveDate, PageError> {
    match ctx.param("month") {
        None => Ok(this_month()),
        Some(m) => parse_month(m)
            .filter(|d| (2020..=2035).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| PageError::BadRequest("month: YYYY-MM from 2020 to 2035".into())),
    }
}

fn errors_json(errors: &[FieldError]) -> Vec<Json> {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect()
}

fn task_row(s: &ConsoleState, ctx: &Ctx, t: &Task) -> Json {
    json!({
        "id": t.id,
        "url": format!("/console/visits/tasks/{}", encode_segment(&t.id)),
        "person": t.person_name_masked,
        "person_url": format!("/console/people/{}", encode_segment(&t.person_id)),
        "area": super::area_name(s, &t.area_code),
        "visitor": t.visitor,
        "due_date": t.due_date.to_string(),
        "visited": t.status == v::TaskStatus::Visited,
        "attempts": t.attempts,
        "outcome": t.outcome.map(|o| s.t(ctx, &format!("visits.outcome_{}", o.code()))),
        "visited_date": t.visited_date.map(|d| d.to_string()),
        "overdue": t.overdue,
    })
}

/// `GET /console/visits`: the month's rounds per village.
pub async fn rounds(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits", headers, q);
    render_rounds(&s, &ctx, StatusCode::OK, &[], None).await
}

async fn render_rounds(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    notice: Option<String>,
) -> Response {
    let first = match month_param(ctx) {
        Ok(m) => m,
        Err(e) => return s.error_page(ctx, e),
    };
    let due = VisitRules::embedded()
        .ok()
        .and_then(|r| r.for_month(first).ok())
        .map(|m| m.due_date.to_string())
        .unwrap_or_default();
    let month = v::month_key(first);
    let scope = ctx.scope();
    let m2 = month.clone();
    let rows = match s.db(move |c, _| v::progress(c, &scope, &m2, today())).await {
        Ok(r) => r,
        Err(e) => return s.error_page(ctx, e),
    };
    let mut total = (0, 0, 0, 0);
    let areas: Vec<Json> = rows
        .iter()
        .map(|p| {
            total.0 += p.due;
            total.1 += p.visited;
            total.2 += p.overdue;
            total.3 += p.unassigned;
            json!({
                "area": super::area_name(s, &p.area_code),
                "tasks_url": format!("/console/visits/overdue?area={}&month={month}&status=open", p.area_code),
                "due": p.due, "visited": p.visited, "attempted": p.attempted,
                "open": p.open, "overdue": p.overdue, "unassigned": p.unassigned,
                "percent": v::percent(p.visited, p.due),
            })
        })
        .collect();
    let page = json!({
        "month": month,
        "due_date": due,
        "areas": areas,
        "total": {"due": total.0, "visited": total.1, "overdue": total.2, "unassigned": total.3,
                  "percent": v::percent(total.1, total.0)},
        "can_generate": ctx.auth.can(Perm::ManageVisits),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "visits.html", "visits", page)
}

/// `POST /console/visits`: generate the month's rounds.
pub async fn generate(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits", headers, q);
    let Some(first) = field(&form, "month").and_then(parse_month) else {
        let errs = [FieldError::new("month", s.t(&ctx, "visits.month_invalid"))];
        return render_rounds(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, None).await;
    };
    let rules = match VisitRules::embedded().and_then(|r| r.for_month(first)) {
        Ok(r) => r,
        Err(e) => {
            // A month before the rules' first date: the form's input.
            let errs = [FieldError::new("month", e.to_string())];
            return render_rounds(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, None).await;
        }
    };
    let scope = ctx.scope();
    match s
        .db(move |c, _| v::generate_rounds(c, &scope, &rules))
        .await
    {
        Ok(g) => Redirect::to(&format!(
            "/console/visits?month={}&created={}",
            g.month, g.created
        ))
        .into_response(),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn task_list(s: &ConsoleState, ctx: &Ctx, mine: bool) -> Response {
    let scope = ctx.scope();
    let month = match ctx.param("month") {
        None if mine => Some(v::month_key(this_month())),
        None => None,
        Some(_) => match month_param(ctx) {
            Ok(m) => Some(v::month_key(m)),
            Err(e) => return s.error_page(ctx, e),
        },
    };
    let area_path = ctx
        .param("area")
        .and_then(|a| s.store.reference.areas.get(a))
        .map(|a| a.path.clone());
    // The overdue list; `status=open` shows every open task (an area's
    // link from the rounds).
    let open_only = !mine && ctx.param("status") == Some("open");
    let q = TaskQuery {
        month: month.clone(),
        area_path,
        visitor: mine.then(|| scope.actor.user.clone()),
        open_only,
        overdue_only: !mine && !open_only,
        limit: 500,
        offset: 0,
    };
    let tasks = match s
        .db(move |c, _| v::list_tasks(c, &scope, &q, today()))
        .await
    {
        Ok(t) => t,
        Err(e) => return s.error_page(ctx, e),
    };
    let (open, done): (Vec<&Task>, Vec<&Task>) =
        tasks.iter().partition(|t| t.status == v::TaskStatus::Open);
    let page = json!({
        "mine": mine,
        "open_only": open_only,
        "month": month,
        "open": open.iter().map(|t| task_row(s, ctx, t)).collect::<Vec<_>>(),
        "done": done.iter().map(|t| task_row(s, ctx, t)).collect::<Vec<_>>(),
        "notice": ctx.param("done").filter(|d| *d == "recorded").map(|_| s.t(ctx, "visits.done_recorded")),
    });
    s.render(ctx, "visits_tasks.html", "visits", page)
}

/// `GET /console/visits/mine`: the caller's visits this month.
pub async fn mine(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/mine", headers, q);
    task_list(&s, &ctx, true).await
}

/// `GET /console/visits/overdue`: open visits past their due day.
pub async fn overdue(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/overdue", headers, q);
    task_list(&s, &ctx, false).await
}

async fn render_form(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let t = match s.db(move |c, _| v::get_task(c, &scope, &id, today())).await {
        Ok(t) => t,
        Err(e) => return s.error_page(ctx, e),
    };
    let chosen: Vec<String> = form
        .get("concerns")
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let outcome = form
        .get("outcome")
        .and_then(|o| o.as_str())
        .unwrap_or("in_person")
        .to_string();
    let page = json!({
        "task": task_row(s, ctx, &t),
        "action": format!("/console/visits/tasks/{}", encode_segment(&t.id)),
        "outcomes": VisitOutcome::ALL.iter().map(|o| json!({
            "value": o.code(), "label": s.t(ctx, &format!("visits.outcome_{}", o.code())),
            "checked": o.code() == outcome,
        })).collect::<Vec<_>>(),
        "concerns": VisitConcern::ALL.iter().map(|c| json!({
            "value": c.code(), "label": s.t(ctx, &format!("visits.concern_{}", c.code())),
            "checked": chosen.iter().any(|x| x == c.code()),
        })).collect::<Vec<_>>(),
        "today": today().to_string(),
        "f": form,
        "error_list": errors_json(errors),
        "errors": errors.iter().map(|e| (e.field.clone(), e.reason.clone())).collect::<std::collections::BTreeMap<_, _>>(),
    });
    s.render_status(ctx, status, "visit_form.html", "visits", page)
}

/// `GET /console/visits/tasks/{id}`: the visit form.
pub async fn task_form(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/tasks", headers, q);
    render_form(&s, &ctx, id, StatusCode::OK, &[], json!({})).await
}

/// `POST /console/visits/tasks/{id}`: record the visit.
pub async fn record(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/tasks", headers, q);
    let concerns_raw: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "concerns")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let keep = json!({
        "outcome": field(&form, "outcome"),
        "date": field(&form, "date"),
        "concerns": concerns_raw,
        "note": field(&form, "note"),
        "follow_up": field(&form, "follow_up"),
        "needs_follow_up": field(&form, "needs_follow_up").is_some(),
    });
    let mut errs = Vec::new();
    let outcome = match field(&form, "outcome").and_then(VisitOutcome::parse) {
        Some(o) => Some(o),
        None => {
            errs.push(FieldError::new(
                "outcome",
                s.t(&ctx, "visits.outcome_required"),
            ));
            None
        }
    };
    let date = match field(&form, "date").map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
        Some(Ok(d)) => Some(d),
        _ => {
            errs.push(FieldError::new("date", s.t(&ctx, "visits.date_invalid")));
            None
        }
    };
    let mut concerns = Vec::new();
    for c in &concerns_raw {
        match VisitConcern::parse(c) {
            Some(x) => concerns.push(x),
            None => errs.push(FieldError::new(
                "concerns",
                s.t(&ctx, "visits.concern_invalid"),
            )),
        }
    }
    let wants_follow_up = field(&form, "needs_follow_up").is_some();
    let follow_up = field(&form, "follow_up").map(str::to_string);
    if wants_follow_up && follow_up.is_none() {
        errs.push(FieldError::new(
            "follow_up",
            s.t(&ctx, "visits.follow_up_required"),
        ));
    }
    let (Some(outcome), Some(date), true) = (outcome, date, errs.is_empty()) else {
        return render_form(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await;
    };
    let input = VisitInput {
        outcome,
        date,
        concerns,
        note: field(&form, "note").map(str::to_string),
        follow_up: if wants_follow_up { follow_up } else { None },
    };
    let scope = ctx.scope();
    let id2 = id.clone();
    match s
        .db(move |c, _| v::record_visit(c, &scope, &id2, &input, today()))
        .await
    {
        Ok(_) => Redirect::to("/console/visits/mine?done=recorded").into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_form(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_form(&s, &ctx, id, StatusCode::CONFLICT, &errs, keep).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn render_followups(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let all = ctx.param("status") == Some("all");
    let items = match s
        .db(move |c, _| v::list_followups(c, &scope, !all, 500))
        .await
    {
        Ok(i) => i,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "all": all,
        "can_close": ctx.auth.can(Perm::ManageVisits),
        "items": items.iter().map(|f| json!({
            "id": f.id,
            "action": format!("/console/visits/followups/{}", encode_segment(&f.id)),
            "person": f.person_name_masked,
            "person_url": format!("/console/people/{}", encode_segment(&f.person_id)),
            "need": f.need,
            "open": f.open,
            "created_by": f.created_by,
            "created_at": f.created_at,
            "done_by": f.done_by,
            "done_note": f.done_note,
        })).collect::<Vec<_>>(),
        "notice": ctx.param("done").filter(|d| *d == "closed").map(|_| s.t(ctx, "visits.done_closed")),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "visits_followups.html", "visits", page)
}

/// `GET /console/visits/followups`: follow-ups for the town.
pub async fn followups(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/followups", headers, q);
    render_followups(&s, &ctx, StatusCode::OK, &[]).await
}

/// `POST /console/visits/followups/{id}`: close one with a note.
pub async fn close(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/followups", headers, q);
    let note = field(&form, "note").unwrap_or_default().to_string();
    let scope = ctx.scope();
    match s
        .db(move |c, _| v::close_followup(c, &scope, &id, &note))
        .await
    {
        Ok(_) => Redirect::to("/console/visits/followups?done=closed").into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_followups(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_followups(&s, &ctx, StatusCode::CONFLICT, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `GET /console/visits/completion`: home-care bed completion in a month.
pub async fn completion(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/completion", headers, q);
    let first = match month_param(&ctx) {
        Ok(m) => m,
        Err(e) => return s.error_page(&ctx, e),
    };
    let alert = VisitRules::embedded()
        .map(|r| r.completion_alert(first))
        .unwrap_or(0);
    let scope = ctx.scope();
    let rows = match s.db(move |c, _| v::completion(c, &scope, first)).await {
        Ok(r) => r,
        Err(e) => return s.error_page(&ctx, e),
    };
    let areas = v::completion_by_area(&rows, alert);
    let hours = |m: i64| format!("{:.1}", m as f64 / 60.0);
    let page = json!({
        "month": v::month_key(first),
        "alert": alert,
        "contracts": rows.iter().map(|c| json!({
            "id": c.contract_id,
            "url": format!("/console/visits/contracts/{}", encode_segment(&c.contract_id)),
            "area": super::area_name(&s, &c.area_code),
            "facility": c.facility_id,
            "planned": hours(c.planned_minutes),
            "delivered": hours(c.delivered_minutes),
            "percent": c.percent,
            "low": c.percent < f64::from(alert),
        })).collect::<Vec<_>>(),
        "areas": areas.iter().map(|a| json!({
            "area": super::area_name(&s, &a.area_code),
            "contracts": a.contracts,
            "planned": hours(a.planned_minutes),
            "delivered": hours(a.delivered_minutes),
            "percent": a.percent,
            "below": a.below_alert,
        })).collect::<Vec<_>>(),
    });
    s.render(&ctx, "visits_completion.html", "visits", page)
}

async fn render_contract(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let id2 = id.clone();
    let items = match s.db(move |c, _| v::list_services(c, &scope, &id2)).await {
        Ok(i) => i,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "id": id,
        "record_url": format!("/console/home_care_beds/{}", encode_segment(&id)),
        "action": format!("/console/visits/contracts/{}", encode_segment(&id)),
        "can_record": ctx.auth.can(Perm::WriteFacilities),
        "items": items.iter().map(|x| json!({
            "date": x.date.to_string(), "minutes": x.minutes, "services": x.services,
            "staff_id": x.staff_id, "recorded_by": x.recorded_by,
        })).collect::<Vec<_>>(),
        "today": today().to_string(),
        "f": form,
        "error_list": errors_json(errors),
        "notice": ctx.param("done").filter(|d| *d == "recorded").map(|_| s.t(ctx, "visits.done_service")),
    });
    s.render_status(ctx, status, "visits_contract.html", "visits", page)
}

/// `GET /console/visits/contracts/{id}`: a contract's service visits.
pub async fn contract(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/contracts", headers, q);
    render_contract(&s, &ctx, id, StatusCode::OK, &[], json!({})).await
}

/// `POST /console/visits/contracts/{id}`: record a service visit.
pub async fn record_service(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/visits/contracts", headers, q);
    let keep = json!({
        "date": field(&form, "date"), "minutes": field(&form, "minutes"),
        "services": field(&form, "services"), "staff_id": field(&form, "staff_id"),
    });
    let mut errs = Vec::new();
    let date = match field(&form, "date").map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
        Some(Ok(d)) => Some(d),
        _ => {
            errs.push(FieldError::new("date", s.t(&ctx, "visits.date_invalid")));
            None
        }
    };
    let minutes = match field(&form, "minutes").map(str::parse::<i64>) {
        Some(Ok(m)) => m,
        _ => {
            errs.push(FieldError::new(
                "minutes",
                s.t(&ctx, "visits.minutes_invalid"),
            ));
            0
        }
    };
    let (Some(date), true) = (date, errs.is_empty()) else {
        return render_contract(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await;
    };
    let input = ServiceInput {
        date,
        minutes,
        services: field(&form, "services").unwrap_or_default().to_string(),
        staff_id: field(&form, "staff_id").map(str::to_string),
    };
    let scope = ctx.scope();
    let id2 = id.clone();
    match s
        .db(move |c, _| v::record_service(c, &scope, &id2, &input, today()))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/console/visits/contracts/{}?done=recorded",
            encode_segment(&id)
        ))
        .into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_contract(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
