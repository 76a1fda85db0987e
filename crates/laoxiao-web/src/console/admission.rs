//! Care-home admission (养老机构入住轮候) pages: the applications and the
//! waiting figures of one's area with the apply form; a home's waiting list
//! with every position explained and the offer actions; one application with
//! its position and its answers. The rules are the store's
//! (`laoxiao_store::admission`); names are masked on every page.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::StoreError;
use laoxiao_store::admission::{
    self as adm, AppStatus, ApplicantKind, Application, ApplyInput, ListQuery, Step,
};
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::admission::today;

fn row(s: &ConsoleState, ctx: &Ctx, a: &Application) -> Json {
    json!({
        "id": a.id,
        "url": format!("/console/admission/applications/{}", crate::encode_segment(&a.id)),
        "person_name": a.person_name_masked,
        "age": a.age,
        "home": a.facility_name,
        "home_url": format!("/console/admission/homes/{}", crate::encode_segment(&a.facility_id)),
        "status": a.status.code(),
        "status_label": s.t(ctx, &format!("admission.status_{}", a.status.code())),
        "offered": a.status == AppStatus::Offered,
        "open": a.status.is_open(),
        "applied_date": a.applied_date.to_string(),
        "wait_days": a.wait_days,
        "deadline": a.offer_deadline.map(|d| d.to_string()),
        "position": a.position,
        "class_rank": a.class_rank,
        "explanation": if matches!(ctx.lang, super::i18n::Lang::En) { a.explanation_en.clone() } else { a.explanation_zh.clone() },
        "close_reason": a.close_reason,
        "residence_id": a.residence_id,
    })
}

fn errors_json(errors: &[FieldError]) -> Vec<Json> {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect()
}

async fn render_index(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let st = ctx.param("status").and_then(AppStatus::parse);
    let home = ctx.param("home").map(str::to_string);
    let q = ListQuery {
        facility_id: home.clone(),
        county: None,
        status: st,
    };
    let data = s
        .db(move |c, _| {
            let day = today();
            let list = adm::list(c, &scope, &q, day)?;
            let homes = adm::homes(c, &scope, day)?;
            let figs = adm::figures(c, &scope, day)?;
            Ok((list, homes, figs))
        })
        .await;
    let (list, homes, figs) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["applied", "offered", "none", "discharged"].contains(d))
        .map(|d| s.t(ctx, &format!("admission.done_{d}")));
    let statuses: Vec<Json> = AppStatus::ALL
        .iter()
        .map(|x| {
            json!({"value": x.code(), "label": s.t(ctx, &format!("admission.status_{}", x.code())),
                   "selected": st == Some(*x)})
        })
        .collect();
    let page = json!({
        "items": list.iter().map(|a| row(s, ctx, a)).collect::<Vec<_>>(),
        "homes": homes.iter().map(|h| json!({
            "id": h.id, "name": h.name, "beds": h.beds, "occupied": h.occupied,
            "offers": h.open_offers, "waiting": h.waiting,
            "free": (h.beds - h.occupied - h.open_offers).max(0),
            "url": format!("/console/admission/homes/{}", crate::encode_segment(&h.id)),
            "selected": home.as_deref() == Some(h.id.as_str()),
        })).collect::<Vec<_>>(),
        "figures": figs,
        "statuses": statuses,
        "can_apply": ctx.scope().facility().is_none(),
        "f": form,
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "admission.html", "admission", page)
}

/// `GET /console/admission`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    render_index(&s, &ctx, StatusCode::OK, &[], json!({})).await
}

/// `POST /console/admission`: apply (a person, one or more homes).
pub async fn apply(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    let person = field(&form, "person_id").unwrap_or_default().to_string();
    let homes: Vec<String> = form
        .iter()
        .filter(|(k, v)| k == "facility_ids" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .take(adm::MAX_HOMES + 1)
        .collect();
    let note = field(&form, "note").map(str::to_string);
    let kind = match field(&form, "applicant_kind") {
        Some("family") => ApplicantKind::Family,
        _ => ApplicantKind::Staff,
    };
    let keep = json!({"person_id": person, "note": note, "facility_ids": homes});
    let input = ApplyInput {
        person_id: person,
        facility_ids: homes,
        kind,
        note,
    };
    let scope = ctx.scope();
    match s
        .db(move |c, _| adm::apply(c, &scope, &input, today()))
        .await
    {
        Ok(_) => Redirect::to("/console/admission?done=applied").into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_index(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await
        }
        Err(PageError::Store(e @ (StoreError::Conflict(_) | StoreError::NotFound { .. }))) => {
            let errs = [FieldError::new("person_id", e.to_string())];
            render_index(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn render_home(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let wl = match s
        .db(move |c, _| adm::waiting_list(c, &scope, &id, today()))
        .await
    {
        Ok(w) => w,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["offered", "none", "discharged"].contains(d))
        .map(|d| s.t(ctx, &format!("admission.done_{d}")));
    let page = json!({
        "home": {
            "id": wl.facility_id, "name": wl.facility_name, "beds": wl.beds,
            "occupied": wl.occupied, "offers": wl.open_offers, "free": wl.free_beds,
            "action": format!("/console/admission/homes/{}", crate::encode_segment(&wl.facility_id)),
        },
        "lines": wl.lines.iter().map(|a| row(s, ctx, a)).collect::<Vec<_>>(),
        "clause": wl.rules_clause,
        "offer_days": wl.offer_days,
        "today": today().to_string(),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "admission_home.html", "admission", page)
}

/// `GET /console/admission/homes/{id}`: the waiting list.
pub async fn home(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    render_home(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/admission/homes/{id}`: `action` = offer (the next
/// applicant) or discharge (`residence_id`, `date`).
pub async fn home_act(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    let scope = ctx.scope();
    let back = format!("/console/admission/homes/{}", crate::encode_segment(&id));
    let home_id = id.clone();
    let res = match field(&form, "action") {
        Some("offer") => s
            .db(move |c, _| adm::offer_next(c, &scope, &home_id, today()))
            .await
            .map(|o| if o.is_some() { "offered" } else { "none" }),
        Some("discharge") => {
            let rid = field(&form, "residence_id").unwrap_or_default().to_string();
            let date =
                field(&form, "date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let Some(date) = date else {
                let errs = [FieldError::new("date", s.t(&ctx, "admission.bad_date"))];
                return render_home(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
            };
            s.db(move |c, _| adm::discharge(c, &scope, &rid, date, true, today()))
                .await
                .map(|_| "discharged")
        }
        _ => {
            let errs = [FieldError::new("action", "one of offer, discharge")];
            return render_home(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
        }
    };
    match res {
        Ok(done) => Redirect::to(&format!("{back}?done={done}")).into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_home(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(
            e @ (StoreError::Conflict(_)
            | StoreError::NotFound {
                what: "residence", ..
            }),
        )) => {
            let errs = [FieldError::new("residence_id", e.to_string())];
            render_home(&s, &ctx, id, StatusCode::CONFLICT, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn render_app(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let a = match s.db(move |c, _| adm::get(c, &scope, &id, today())).await {
        Ok(a) => a,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["accept", "decline", "withdraw", "cancel"].contains(d))
        .map(|d| s.t(ctx, &format!("admission.done_{d}")));
    let page = json!({
        "a": row(s, ctx, &a),
        "kind_label": s.t(ctx, &format!("admission.kind_{}", a.applicant_kind.code())),
        "applied_by": a.applied_by,
        "note": a.note,
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "admission_application.html", "admission", page)
}

/// `GET /console/admission/applications/{id}`
pub async fn application(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    render_app(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/admission/applications/{id}`: `action` = accept, decline,
/// withdraw or cancel (`reason`).
pub async fn application_act(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/admission", headers, q);
    let step = match field(&form, "action") {
        Some("accept") => Step::Accept,
        Some("decline") => Step::Decline,
        Some("withdraw") => Step::Withdraw,
        Some("cancel") => Step::Cancel,
        _ => {
            let errs = [FieldError::new(
                "action",
                "one of accept, decline, withdraw, cancel",
            )];
            return render_app(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
        }
    };
    let reason = field(&form, "reason").map(str::to_string);
    let scope = ctx.scope();
    let app_id = id.clone();
    let res = s
        .db(move |c, _| adm::step(c, &scope, &app_id, step, reason.as_deref(), today()))
        .await;
    match res {
        Ok(_) => Redirect::to(&format!(
            "/console/admission/applications/{}?done={}",
            crate::encode_segment(&id),
            step.code()
        ))
        .into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_app(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(e @ (StoreError::Conflict(_) | StoreError::Forbidden(_)))) => {
            let errs = [FieldError::new("action", e.to_string())];
            render_app(&s, &ctx, id, StatusCode::CONFLICT, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
