//! The inspection pages (双随机、一公开): county and city staff see their
//! plans (with the form for a new one), the area's inspections and the
//! rectification orders; a plan's page publishes the commitment, draws and
//! shows every draw, superseded ones with who, when and why; an inspector
//! sees the inspections drawn for them and records one item by item; the
//! facility's operator sees its results and reports a rectification done.
//! The rules are the store's (`laoxiao_store::inspections`).

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_rules::inspections::draw::TargetKind;
use laoxiao_store::inspections::{
    self as ins, Inspection, InspectionRow, NewPlan, RecordInput, Rectification,
};
use laoxiao_store::{Perm, StoreError};
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::encode_segment;

const PATH: &str = "/console/inspections";

fn row_json(r: &InspectionRow) -> Json {
    json!({
        "url": format!("{PATH}/{}", encode_segment(&r.id)),
        "id": r.id,
        "facility": r.facility_name,
        "kind": r.kind.code(),
        "kind_label": r.kind.label_zh(),
        "status": r.status.code(),
        "status_label": r.status.label_zh(),
        "verdict": r.verdict.map(|v| v.code()),
        "verdict_label": r.verdict.map(|v| v.label_zh()),
        "inspected_on": r.inspected_on,
        "inspectors": r.inspectors.join("、"),
    })
}

fn rect_json(r: &Rectification) -> Json {
    json!({
        "id": r.id,
        "inspection_url": format!("{PATH}/{}", encode_segment(&r.inspection_id)),
        "facility": r.facility_name,
        "items": r.items.join("、"),
        "due": r.due,
        "status": r.status.code(),
        "status_label": r.status.label_zh(),
        "overdue": r.overdue,
        "report_note": r.report_note,
        "can_report": r.can_report,
        "can_reinspect": r.can_reinspect,
        "reinspection_url": r.reinspection_id.as_ref().map(|i| format!("{PATH}/{}", encode_segment(i))),
    })
}

fn notice(s: &ConsoleState, ctx: &Ctx) -> Option<String> {
    ctx.param("done")
        .filter(|d| {
            [
                "created",
                "committed",
                "drawn",
                "recorded",
                "published",
                "reported",
                "reinspect",
            ]
            .contains(d)
        })
        .map(|d| s.t(ctx, &format!("inspection.done_{d}")))
}

/// `GET /console/inspections`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    render_index(&s, &ctx, StatusCode::OK, &[], &FormData::default()).await
}

async fn render_index(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: &FormData,
) -> Response {
    let scope = ctx.scope();
    let planner = scope.can(Perm::PlanInspections);
    let data = s
        .db(move |c, r| {
            let plans = if planner {
                ins::list_plans(c, r, &scope)?
            } else {
                Vec::new()
            };
            let rows = ins::list(c, &scope, None)?;
            let rects = ins::rectifications(c, &scope, false, Utc::now())?;
            Ok((plans, rows, rects))
        })
        .await;
    let (plans, rows, rects) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let home = ctx
        .scope()
        .area_path()
        .and_then(|p| p.split('/').rfind(|x| !x.is_empty()))
        .unwrap_or("330400")
        .to_string();
    let page = json!({
        "planner": planner,
        "plans": plans.iter().map(|p| json!({
            "url": format!("{PATH}/plans/{}", encode_segment(&p.id)),
            "title": p.title, "area": p.area_name, "period": p.period,
            "status": p.status, "status_label": s.t(ctx, &format!("inspection.plan_{}", p.status)),
            "ratio": p.ratio_percent, "per": p.inspectors_per_inspection,
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(row_json).collect::<Vec<_>>(),
        "rects": rects.iter().map(rect_json).collect::<Vec<_>>(),
        "form": {
            "title": field(form, "title"),
            "area_code": field(form, "area_code").unwrap_or(home.as_str()),
            "period": field(form, "period"),
            "include_flagged": field(form, "include_flagged").is_some(),
        },
        "notice": notice(s, ctx),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "inspections.html", "inspections", page)
}

/// `POST /console/inspections`: a new plan.
pub async fn create(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let ratio = field(&form, "ratio_percent")
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().parse::<i64>().unwrap_or(-1));
    let input = NewPlan {
        title: field(&form, "title").unwrap_or_default().into(),
        area_code: field(&form, "area_code").unwrap_or_default().into(),
        period: field(&form, "period").unwrap_or_default().into(),
        kinds: Vec::new(),
        ratio_percent: ratio,
        inspectors_per_inspection: None,
        include_flagged: field(&form, "include_flagged").is_some(),
    };
    let result = s
        .db(move |c, r| ins::create_plan(c, r, &scope, &input, Utc::now()))
        .await;
    match result {
        Ok(p) => Redirect::to(&format!(
            "{PATH}/plans/{}?done=created#inspection-notice",
            encode_segment(&p.id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_index(&s, &ctx, st, &errs, &form).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

async fn render_plan(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let d = match s.db(move |c, r| ins::get_plan(c, r, &scope, &id)).await {
        Ok(d) => d,
        Err(e) => return s.error_page(ctx, e),
    };
    let current = d.draws.iter().find(|x| x.status != "superseded");
    let page = json!({
        "plan": {
            "id": d.plan.id, "title": d.plan.title, "area": d.plan.area_name, "period": d.plan.period,
            "ratio": d.plan.ratio_percent, "per": d.plan.inspectors_per_inspection,
            "include_flagged": d.plan.include_flagged,
            "status_label": s.t(ctx, &format!("inspection.plan_{}", d.plan.status)),
        },
        "can_commit": true,
        "needs_reason": current.is_some(),
        "can_draw": current.is_some_and(|x| x.status == "committed"),
        "draws": d.draws.iter().map(|x| json!({
            "id": x.draw_id,
            "url": format!("/api/inspections/draws/{}", encode_segment(&x.draw_id)),
            "status": x.status,
            "status_label": s.t(ctx, &format!("inspection.draw_{}", x.status)),
            "digest": x.roster_digest,
            "commit": x.commit,
            "seed": x.seed,
            "committed_at": x.committed_at,
            "drawn_at": x.drawn_at,
            "facilities": x.roster.facilities.len(),
            "unplanned": x.roster.unplanned.len(),
            "inspectors": x.roster.inspectors.len(),
            "to_draw": x.roster.facilities_to_draw,
            "superseded": x.superseded.as_ref().map(|v| json!({"by": v.by, "at": v.at, "reason": v.reason})),
            "result": x.result.iter().map(|a| json!({
                "facility": a.facility_id,
                "unplanned": a.kind == TargetKind::Unplanned,
                "inspectors": a.inspectors.join("、"),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "rows": d.inspections.iter().map(row_json).collect::<Vec<_>>(),
        "back": PATH,
        "notice": notice(s, ctx),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "inspection_plan.html", "inspections", page)
}

/// `GET /console/inspections/plans/{id}`
pub async fn plan(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    render_plan(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/inspections/plans/{id}`: `action` = commit (`reason`), or draw.
pub async fn plan_act(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let action = field(&form, "action").unwrap_or_default().to_string();
    let reason = field(&form, "reason").map(str::to_string);
    let pid = id.clone();
    let result = s
        .db(move |c, r| match action.as_str() {
            "commit" => {
                ins::commit(c, r, &scope, &pid, reason.as_deref(), Utc::now()).map(|_| "committed")
            }
            "draw" => ins::draw(c, r, &scope, &pid, Utc::now()).map(|_| "drawn"),
            _ => Err(StoreError::Invalid(vec![FieldError::new(
                "action",
                "one of commit, draw",
            )])),
        })
        .await;
    match result {
        Ok(done) => Redirect::to(&format!(
            "{PATH}/plans/{}?done={done}#inspection-notice",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_plan(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

fn inspection_json(i: &Inspection) -> Json {
    json!({
        "row": row_json(&i.row),
        "items": i.items.iter().map(|x| json!({
            "code": x.code, "zh": x.zh, "critical": x.critical,
            "outcome": x.outcome.code(), "outcome_label": x.outcome.label_zh(), "note": x.note,
        })).collect::<Vec<_>>(),
        "draft": i.checklist_draft,
        "note": i.note,
        "photos": i.photos.iter().map(|p| json!({
            "url": format!("/api/inspections/{}/photos/{}", encode_segment(&i.row.id), encode_segment(&p.id)),
            "item": p.item_code, "name": p.file_name,
        })).collect::<Vec<_>>(),
        "rect": i.rectification.as_ref().map(rect_json),
        "checks": i.rectification_checked,
        "cancel_reason": i.cancel_reason,
        "can_record": i.can_record,
        "can_publish": i.can_publish,
    })
}

async fn render_one(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let i = match s.db(move |c, _| ins::get(c, &scope, &id, Utc::now())).await {
        Ok(i) => i,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "i": inspection_json(&i),
        "today": Utc::now().date_naive().to_string(),
        "back": PATH,
        "notice": notice(s, ctx),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "inspection.html", "inspections", page)
}

/// `GET /console/inspections/{id}`
pub async fn show(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    render_one(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/inspections/{id}`: `action` = record (`item.{code}`,
/// `note.{code}`, `note`, `inspected_on`), publish, report (`rect`,
/// `report_note`) or reinspect (`rect`).
pub async fn act(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let action = field(&form, "action").unwrap_or_default().to_string();
    let rect = field(&form, "rect").unwrap_or_default().to_string();
    let report_note = field(&form, "report_note").unwrap_or_default().to_string();
    let mut items = Vec::new();
    for (k, v) in form.iter().take(400) {
        if let Some(code) = k.strip_prefix("item.") {
            let note = field(&form, &format!("note.{code}")).map(str::to_string);
            items.push((code.to_string(), v.clone(), note));
        }
    }
    let inspected_on = field(&form, "inspected_on").and_then(|d| d.parse::<NaiveDate>().ok());
    let input = RecordInput {
        items,
        note: field(&form, "note").map(str::to_string),
        inspected_on,
        rectification_days: None,
    };
    let iid = id.clone();
    let result = s
        .db(move |c, _| {
            let now = Utc::now();
            match action.as_str() {
                "record" => ins::record(c, &scope, &iid, &input, now).map(|_| ("recorded", iid)),
                "publish" => ins::publish(c, &scope, &iid, now).map(|_| ("published", iid)),
                "report" => ins::report_rectified(c, &scope, &rect, &report_note, now)
                    .map(|_| ("reported", iid)),
                "reinspect" => {
                    ins::reinspect(c, &scope, &rect, now).map(|n| ("reinspect", n.row.id))
                }
                _ => Err(StoreError::Invalid(vec![FieldError::new(
                    "action",
                    "one of record, publish, report, reinspect",
                )])),
            }
        })
        .await;
    match result {
        Ok((done, to)) => Redirect::to(&format!(
            "{PATH}/{}?done={done}#inspection-notice",
            encode_segment(&to)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_one(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}
