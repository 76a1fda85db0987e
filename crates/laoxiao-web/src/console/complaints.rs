//! The complaint pages (投诉): the register of one's facility or area (late
//! ones first, with status and lateness filters) and, for county and city
//! staff, the figures; one complaint with the acknowledge and answer forms;
//! and a family's own pages: the form with its complaints and tracking
//! codes, and one complaint with its answer and the closing form. The rules
//! are the store's (`laoxiao_store::complaints`).

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Local, Utc};
use laoxiao_model::FieldError;
use laoxiao_store::Perm;
use laoxiao_store::complaints::{
    self as ct, Category, Complaint, ComplaintRow, Counts, ListQuery, NewComplaint, Status,
};
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::encode_segment;

const PATH: &str = "/console/complaints";
const FAMILY_PATH: &str = "/console/family/complaints";

/// A stored UTC time as local `YYYY-MM-DD HH:MM`.
fn when(s: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{:.0}%", x * 100.0))
}

fn rating(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.1}"))
}

fn counts_json(c: &Counts) -> Json {
    json!({
        "received": c.received, "open": c.open, "late": c.late, "answered": c.answered,
        "on_time": share(c.on_time_share()), "rating": rating(c.average_rating()),
        "recent": c.recent,
    })
}

fn row_json(r: &ComplaintRow, url: String) -> Json {
    json!({
        "url": url,
        "id": r.id,
        "code": r.tracking_code,
        "facility": r.facility_name,
        "category": r.category.label_zh(),
        "status": r.status.code(),
        "status_label": r.status.label_zh(),
        "person": r.person_name,
        "filed_at": when(&r.filed_at),
        "ack_due": when(&r.ack_due),
        "answer_due": when(&r.answer_due),
        "late": r.late,
        "escalation": r.escalation_reason.map(|e| e.label_zh()),
        "source": r.source.label_zh(),
        "rating": r.rating,
    })
}

fn complaint_json(c: &Complaint) -> Json {
    json!({
        "row": row_json(&c.row, String::new()),
        "body": c.body,
        "phone": c.contact_phone,
        "acknowledged_at": c.acknowledged_at.as_deref().map(when),
        "answer": c.answer,
        "answered_at": c.answered_at.as_deref().map(when),
        "answered_side": c.answered_side.map(|s| s.label_zh()),
        "closed_at": c.closed_at.as_deref().map(when),
        "rating_comment": c.rating_comment,
        "can_close": c.can_close,
        "can_acknowledge": c.can_acknowledge,
        "can_answer": c.can_answer,
    })
}

fn categories() -> Vec<Json> {
    Category::ALL
        .iter()
        .map(|c| json!({"value": c.code(), "label": c.label_zh()}))
        .collect()
}

fn notice(s: &ConsoleState, ctx: &Ctx, allowed: &[&str]) -> Option<String> {
    ctx.param("done")
        .filter(|d| allowed.contains(d))
        .map(|d| s.t(ctx, &format!("complaint.done_{d}")))
}

// ---------------------------------------------------------------- staff

/// `GET /console/complaints?status=…&late=1&facility=…`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let supervise = scope.can(Perm::SuperviseComplaints) && scope.facility().is_none();
    let status = ctx.param("status").and_then(Status::parse);
    let late = ctx.param("late").map(|v| v == "1");
    let query = ListQuery {
        status,
        facility_id: ctx.param("facility").map(str::to_string),
        late,
    };
    let now = Utc::now();
    let data = s
        .db(move |c, r| {
            let rows = ct::list(c, &scope, &query, now)?;
            let figures = if supervise {
                Some(ct::figures(c, r, &scope, now)?)
            } else {
                None
            };
            Ok((rows, figures))
        })
        .await;
    let (rows, figures) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let page = json!({
        "rows": rows.iter().map(|r| row_json(r, format!("{PATH}/{}", encode_segment(&r.id)))).collect::<Vec<_>>(),
        "statuses": Status::ALL.iter().map(|v| json!({"value": v.code(), "label": v.label_zh(), "selected": Some(*v) == status})).collect::<Vec<_>>(),
        "late": match late { Some(true) => "1", Some(false) => "0", None => "" },
        "figures": figures.as_ref().map(|f| json!({
            "total": counts_json(&f.total),
            "areas": f.areas.iter().map(|a| json!({
                "name": a.name, "counts": counts_json(&a.counts), "inspection_due": a.inspection_due,
            })).collect::<Vec<_>>(),
            "facilities": f.facilities.iter().map(|l| json!({
                "url": format!("{PATH}?facility={}", encode_segment(&l.facility_id)),
                "name": l.facility_name, "counts": counts_json(&l.counts), "inspection_due": l.inspection_due,
            })).collect::<Vec<_>>(),
            "repeat_days": f.repeat_days,
            "repeat_threshold": f.repeat_threshold,
        })),
    });
    s.render(&ctx, "complaints.html", "complaints", page)
}

async fn render_one(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let c = match s
        .db(move |c, r| ct::get(c, r, &scope, &id, Utc::now()))
        .await
    {
        Ok(c) => c,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "c": complaint_json(&c),
        "back": PATH,
        "notice": notice(s, ctx, &["acknowledged", "answered"]),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "complaint.html", "complaints", page)
}

/// `GET /console/complaints/{id}`
pub async fn show(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    render_one(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/complaints/{id}`: `action` = acknowledge, or answer (`answer`).
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
    let text = field(&form, "answer").unwrap_or_default().to_string();
    let cid = id.clone();
    let result = s
        .db(move |c, r| match action.as_str() {
            "acknowledge" => {
                ct::acknowledge(c, r, &scope, &cid, Utc::now()).map(|_| "acknowledged")
            }
            "answer" => ct::answer(c, r, &scope, &cid, &text, Utc::now()).map(|_| "answered"),
            _ => Err(laoxiao_store::StoreError::Invalid(vec![FieldError::new(
                "action",
                "one of acknowledge, answer",
            )])),
        })
        .await;
    match result {
        Ok(done) => Redirect::to(&format!(
            "{PATH}/{}?done={done}#complaint-notice",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_one(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- family

async fn render_family(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: &FormData,
) -> Response {
    let scope = ctx.scope();
    let data = s
        .db(move |c, _| {
            let kids = laoxiao_store::family::children(c, &scope)?;
            let rows = ct::family_list(c, &scope, Utc::now())?;
            Ok((kids, rows))
        })
        .await;
    let (kids, rows) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let chosen = field(form, "person_id")
        .or_else(|| ctx.param("child"))
        .map(str::to_string);
    let page = json!({
        "children": kids.iter().map(|k| json!({
            "id": k.person_id, "name": k.name,
            "selected": chosen.as_deref() == Some(k.person_id.as_str()),
        })).collect::<Vec<_>>(),
        "categories": categories(),
        "form": {
            "category": field(form, "category"),
            "body": field(form, "body"),
            "phone": field(form, "contact_phone"),
        },
        "rows": rows.iter().map(|r| row_json(r, format!("{FAMILY_PATH}/{}", encode_segment(&r.id)))).collect::<Vec<_>>(),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "family_complaints.html", "family", page)
}

/// `GET /console/family/complaints?child=…`: the form and one's complaints.
pub async fn family_index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, FAMILY_PATH, headers, q);
    render_family(&s, &ctx, StatusCode::OK, &[], &Vec::new()).await
}

/// `POST /console/family/complaints`: file one (`person_id`, `category`,
/// `body`, `contact_phone`).
pub async fn family_file(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, FAMILY_PATH, headers, q);
    let scope = ctx.scope();
    let input = NewComplaint {
        person_id: field(&form, "person_id").map(str::to_string),
        facility_id: None,
        category: field(&form, "category").unwrap_or_default().to_string(),
        body: field(&form, "body").unwrap_or_default().to_string(),
        contact_phone: field(&form, "contact_phone").map(str::to_string),
        source: None,
    };
    if input.person_id.is_none() {
        let errs = [FieldError::new(
            "person_id",
            "the child the complaint is about",
        )];
        return render_family(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, &form).await;
    }
    match s
        .db(move |c, r| ct::file(c, r, &scope, &input, Utc::now()))
        .await
    {
        Ok(c) => Redirect::to(&format!(
            "{FAMILY_PATH}/{}?done=filed#complaint-notice",
            encode_segment(&c.row.id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_family(&s, &ctx, st, &errs, &form).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

async fn render_family_one(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let c = match s
        .db(move |c, r| ct::get(c, r, &scope, &id, Utc::now()))
        .await
    {
        Ok(c) => c,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "c": complaint_json(&c),
        "back": FAMILY_PATH,
        "notice": notice(s, ctx, &["filed", "closed"]),
        "ratings": (1..=5).rev().map(|n| json!({"value": n, "label": s.t(ctx, &format!("complaint.rating_{n}"))})).collect::<Vec<_>>(),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "family_complaint.html", "family", page)
}

/// `GET /console/family/complaints/{id}`
pub async fn family_show(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, FAMILY_PATH, headers, q);
    render_family_one(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/family/complaints/{id}`: close with `rating` 1–5 and `comment`.
pub async fn family_close(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, FAMILY_PATH, headers, q);
    let Some(rating) = field(&form, "rating").and_then(|v| v.parse::<i64>().ok()) else {
        let errs = [FieldError::new("rating", "choose a rating from 1 to 5")];
        return render_family_one(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
    };
    let comment = field(&form, "comment").map(str::to_string);
    let scope = ctx.scope();
    let cid = id.clone();
    match s
        .db(move |c, r| ct::close(c, r, &scope, &cid, rating, comment.as_deref(), Utc::now()))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "{FAMILY_PATH}/{}?done=closed#complaint-notice",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_family_one(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}
