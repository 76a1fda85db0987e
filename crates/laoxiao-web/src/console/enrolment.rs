//! Childcare applications and enrolment pages (入托申请与录取): the
//! applications of one's institution or area with the institution's classes
//! and free places; one application with the offer, answer and enrolment
//! forms; and the family's side (its children, their applications, the form
//! to apply). The rules are the store's
//! (`laoxiao_store::childcare_applications`); names are masked for staff.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::facility::CareType;
use laoxiao_store::StoreError;
use laoxiao_store::childcare_applications::{
    self as ca, AppStatus, Application, ApplyInput, ClassPlaces, EnrolInput, ListQuery, OfferInput,
    Step,
};
use serde_json::{Value as Json, json};

use super::family::errors_json;
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::admission::today;
use crate::encode_segment;

/// Field errors and conflicts go back on the form (the family pages' rule);
/// a child not found for an application is the form's field too.
fn form_errors(e: PageError) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    match e {
        PageError::Store(e @ StoreError::NotFound { what: "child", .. }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::new("infant_id", e.to_string())],
        )),
        other => super::family::form_errors(other),
    }
}

fn date(form: &FormData, name: &str) -> Option<NaiveDate> {
    field(form, name).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn yuan(fen: Option<i64>) -> Option<String> {
    fen.map(|f| format!("{}.{:02}", f / 100, f % 100))
}

pub(super) fn row(s: &ConsoleState, ctx: &Ctx, a: &Application) -> Json {
    json!({
        "id": a.id,
        "url": format!("/console/childcare/applications/{}", encode_segment(&a.id)),
        "child": a.infant_name,
        "age_months": a.age_months,
        "institution": a.facility_name,
        "care_type": s.t(ctx, &format!("enrolment.care_{}", a.care_type.code())),
        "wanted_start": a.wanted_start.to_string(),
        "status_code": a.status.code(),
        "status": s.t(ctx, &format!("enrolment.status_{}", a.status.code())),
        "waiting": a.status == AppStatus::Waiting,
        "offered": a.status == AppStatus::Offered,
        "accepted": a.status == AppStatus::Accepted,
        "open": a.status.is_open(),
        "applied_date": a.applied_date.to_string(),
        "wait_days": a.wait_days,
        "position": a.position,
        "waiting_total": a.waiting_total,
        "class_id": a.class_id,
        "class_type": a.class_type.map(|t| t.label_zh()),
        "start_date": a.start_date.map(|d| d.to_string()),
        "deadline": a.offer_deadline.map(|d| d.to_string()),
        "health_check_date": a.health_check_date.map(|d| d.to_string()),
        "enrolment_id": a.enrolment_id,
        "close_reason": a.close_reason,
        "kind": s.t(ctx, &format!("enrolment.kind_{}", a.applicant_kind.code())),
    })
}

fn class_row(c: &ClassPlaces) -> Json {
    json!({
        "id": c.class_id,
        "type": c.class_type.label_zh(),
        "capacity": c.capacity,
        "enrolled": c.enrolled,
        "held": c.held,
        "free": c.free,
        "caregivers": c.caregivers,
        "ratio": c.children_per_caregiver.map(|n| format!("1:{n}")),
        "ages": match (c.min_age_months, c.max_age_months) {
            (Some(lo), Some(hi)) => Some(format!("{lo}–{hi}")),
            _ => None,
        },
        "fee": yuan(c.monthly_fee_fen),
        "cap": yuan(c.price_cap_fen),
    })
}

fn care_types(s: &ConsoleState, ctx: &Ctx, chosen: Option<&str>) -> Vec<Json> {
    CareType::VALUES
        .iter()
        .map(|v| {
            json!({"value": v.code, "label": s.t(ctx, &format!("enrolment.care_{}", v.code)),
                   "selected": chosen == Some(v.code)})
        })
        .collect()
}

// ---------------------------------------------------------------- staff

async fn render_index(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let st = ctx.param("status").and_then(AppStatus::parse);
    let q = ListQuery {
        facility_id: None,
        status: st,
    };
    let own = scope.facility().map(str::to_string);
    let data = s
        .db(move |c, r| {
            let day = today();
            let list = ca::list(c, &scope, &q, day)?;
            let counts = ca::counts(c, &scope, day)?;
            let intake = match own.as_deref().filter(|f| !f.is_empty()) {
                Some(f) => match ca::intake(c, r, &scope, f, day) {
                    Ok(i) => Some(i),
                    // An operator of another kind of facility has no classes here.
                    Err(StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            Ok((list, counts, intake))
        })
        .await;
    let (list, counts, intake) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| *d == "applied")
        .map(|_| s.t(ctx, "enrolment.done_applied"));
    let statuses: Vec<Json> = counts
        .iter()
        .map(|(x, n)| {
            json!({"value": x.code(), "label": s.t(ctx, &format!("enrolment.status_{}", x.code())),
                   "count": n, "selected": st == Some(*x),
                   "url": format!("/console/childcare/applications?status={}", x.code())})
        })
        .collect();
    let page = json!({
        "items": list.iter().map(|a| row(s, ctx, a)).collect::<Vec<_>>(),
        "statuses": statuses,
        "status_selected": st.map(|x| x.code()),
        "intake": intake.as_ref().map(|i| json!({
            "name": i.facility_name,
            "free": i.free,
            "offer_days": i.offer_days,
            "classes": i.classes.iter().map(class_row).collect::<Vec<_>>(),
        })),
        "can_apply": ctx.scope().facility().is_none(),
        "care_types": care_types(s, ctx, form.get("care_type").and_then(|v| v.as_str())),
        "today": today().to_string(),
        "f": form,
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(
        ctx,
        status,
        "enrolments.html",
        "childcare_applications",
        page,
    )
}

/// `GET /console/childcare/applications`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/applications", headers, q);
    render_index(&s, &ctx, StatusCode::OK, &[], json!({})).await
}

fn apply_input(form: &FormData) -> (ApplyInput, Json, Vec<FieldError>) {
    let infant = field(form, "infant_id").unwrap_or_default().to_string();
    // Ids separated by spaces, commas or 、 (a list typed by hand), or one per
    // checkbox.
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "facility_ids")
        .flat_map(|(_, v)| {
            v.split([' ', ',', '，', '、'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .take(ca::MAX_INSTITUTIONS + 1)
        .collect();
    let care = field(form, "care_type").unwrap_or_default().to_string();
    let start = date(form, "wanted_start");
    let note = field(form, "note").map(str::to_string);
    let keep = json!({"infant_id": infant, "facility_ids": ids.join(" "), "care_type": care,
                      "wanted_start": field(form, "wanted_start"), "note": note});
    let mut errs = Vec::new();
    if start.is_none() {
        errs.push(FieldError::new("wanted_start", "YYYY-MM-DD"));
    }
    (
        ApplyInput {
            infant_id: infant,
            facility_ids: ids,
            care_type: care,
            wanted_start: start.unwrap_or_else(today),
            note,
        },
        keep,
        errs,
    )
}

/// `POST /console/childcare/applications`: apply for a child of the area.
pub async fn apply(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/applications", headers, q);
    let (input, keep, errs) = apply_input(&form);
    if !errs.is_empty() {
        return render_index(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep).await;
    }
    let scope = ctx.scope();
    match s
        .db(move |c, r| ca::apply(c, r, &scope, &input, today()))
        .await
    {
        Ok(_) => Redirect::to("/console/childcare/applications?done=applied").into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_index(&s, &ctx, st, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

async fn render_app(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let data = s
        .db(move |c, r| {
            let day = today();
            let a = ca::get(c, &scope, &id, day)?;
            // The institution's classes, for the offer form: only its side finds them.
            let classes = match ca::intake(c, r, &scope, &a.facility_id, day) {
                Ok(i) => Some(i.classes),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            Ok((a, classes))
        })
        .await;
    let (a, classes) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let institution_side = classes.is_some();
    let notice = ctx
        .param("done")
        .filter(|d| ["offer", "accept", "decline", "withdraw", "cancel", "enrol"].contains(d))
        .map(|d| s.t(ctx, &format!("enrolment.done_{d}")));
    let page = json!({
        "a": row(s, ctx, &a),
        "note": a.note,
        "applied_by": a.applied_by,
        "institution_side": institution_side,
        "can_offer": institution_side && a.status == AppStatus::Waiting,
        "can_enrol": institution_side && a.status == AppStatus::Accepted,
        "can_answer": a.status == AppStatus::Offered,
        "can_withdraw": !institution_side && a.status.is_open(),
        "can_cancel": institution_side && a.status.is_open(),
        "classes": classes.unwrap_or_default().iter().map(class_row).collect::<Vec<_>>(),
        "today": today().to_string(),
        "f": form,
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(
        ctx,
        status,
        "enrolment.html",
        "childcare_applications",
        page,
    )
}

/// `GET /console/childcare/applications/{id}`
pub async fn application(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/applications", headers, q);
    render_app(&s, &ctx, id, StatusCode::OK, &[], json!({})).await
}

/// `POST /console/childcare/applications/{id}`: `action` = offer (`class_id`,
/// `start_date`, `skip_reason`), accept, decline, withdraw, cancel (`reason`)
/// or enrol (`health_check_date`, `vaccinations_confirmed`).
pub async fn act(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/applications", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let keep = json!({"class_id": field(&form, "class_id"), "start_date": field(&form, "start_date"),
                      "skip_reason": field(&form, "skip_reason"), "reason": field(&form, "reason"),
                      "health_check_date": field(&form, "health_check_date")});
    let scope = ctx.scope();
    let app_id = id.clone();
    let res = match action.as_str() {
        "offer" => {
            let Some(start) = date(&form, "start_date") else {
                let e = [FieldError::new(
                    "start_date",
                    s.t(&ctx, "enrolment.bad_date"),
                )];
                return render_app(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &e, keep).await;
            };
            let input = OfferInput {
                class_id: field(&form, "class_id").unwrap_or_default().to_string(),
                start_date: start,
                skip_reason: field(&form, "skip_reason").map(str::to_string),
            };
            s.db(move |c, r| ca::offer(c, r, &scope, &app_id, &input, today()))
                .await
        }
        "enrol" => {
            let Some(hc) = date(&form, "health_check_date") else {
                let e = [FieldError::new(
                    "health_check_date",
                    s.t(&ctx, "enrolment.bad_date"),
                )];
                return render_app(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &e, keep).await;
            };
            let input = EnrolInput {
                health_check_date: hc,
                vaccinations_confirmed: field(&form, "vaccinations_confirmed") == Some("yes"),
            };
            s.db(move |c, r| ca::enrol(c, r, &scope, &app_id, &input, today()))
                .await
        }
        "accept" | "decline" | "withdraw" | "cancel" => {
            let step = match action.as_str() {
                "accept" => Step::Accept,
                "decline" => Step::Decline,
                "withdraw" => Step::Withdraw,
                _ => Step::Cancel,
            };
            let reason = field(&form, "reason").map(str::to_string);
            s.db(move |c, _| ca::step(c, &scope, &app_id, step, reason.as_deref(), today()))
                .await
        }
        _ => {
            let e = [FieldError::new(
                "action",
                s.t(&ctx, "enrolment.action_unknown"),
            )];
            return render_app(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &e, keep).await;
        }
    };
    match res {
        Ok(_) => Redirect::to(&format!(
            "/console/childcare/applications/{}?done={action}",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_app(&s, &ctx, id, st, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- family

/// What the family home shows of childcare: the verified children, their
/// applications, and the institutions of each child's county.
pub(super) type FamilyChildcare = (
    Vec<laoxiao_store::family::Child>,
    Vec<Application>,
    Vec<Vec<ca::InstitutionLine>>,
);

/// Reads [`FamilyChildcare`] for the calling family.
pub(super) fn family_data(
    c: &mut laoxiao_store::Conn,
    scope: &laoxiao_store::Scope,
) -> Result<FamilyChildcare, StoreError> {
    let kids = laoxiao_store::family::children(c, scope)?;
    let apps = ca::family_applications(c, scope, today())?;
    let mut inst = Vec::new();
    for k in &kids {
        inst.push(ca::family_institutions(c, scope, &k.person_id)?);
    }
    Ok((kids, apps, inst))
}

/// The family home's childcare part: each verified child with its
/// applications and the institutions of its county to apply to.
pub(super) fn family_json(
    s: &ConsoleState,
    ctx: &Ctx,
    data: &FamilyChildcare,
    form: &Json,
) -> Json {
    let (kids, apps, inst) = data;
    let children: Vec<Json> = kids
        .iter()
        .zip(inst)
        .map(|(k, inst)| {
            json!({
                "id": k.person_id,
                "name": k.name,
                "relationship": s.t(ctx, &format!("family.rel_{}", k.relationship.code())),
                "action": format!("/console/family/children/{}", encode_segment(&k.person_id)),
                "applications": apps.iter().filter(|a| a.infant_id == k.person_id).map(|a| row(s, ctx, a)).collect::<Vec<_>>(),
                "institutions": inst.iter().take(50).map(|i| json!({
                    "id": i.facility_id, "name": i.name, "free": i.free, "waiting": i.waiting,
                    "inclusive": i.inclusive, "filed": i.filed,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "children": children,
        "care_types": care_types(s, ctx, form.get("care_type").and_then(|v| v.as_str())),
        "today": today().to_string(),
    })
}

/// `POST /console/family/children/{id}`: apply for one's child.
pub async fn family_apply(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let (mut input, keep, errs) = apply_input(&form);
    input.infant_id = id;
    if !errs.is_empty() {
        return super::family::render_home(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, keep)
            .await;
    }
    let scope = ctx.scope();
    match s
        .db(move |c, r| ca::family_apply(c, r, &scope, &input, today()))
        .await
    {
        Ok(_) => Redirect::to("/console/family?done=cc_applied#h-children").into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => super::family::render_home(&s, &ctx, st, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `POST /console/family/childcare-applications/{id}`: `step` = accept,
/// decline or withdraw.
pub async fn family_step(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let code = field(&form, "step").unwrap_or_default().to_string();
    let step = match code.as_str() {
        "accept" => Step::Accept,
        "decline" => Step::Decline,
        "withdraw" => Step::Withdraw,
        _ => {
            let e = [FieldError::new("step", s.t(&ctx, "family.action_unknown"))];
            return super::family::render_home(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &e,
                json!({}),
            )
            .await;
        }
    };
    let scope = ctx.scope();
    match s
        .db(move |c, _| ca::family_step(c, &scope, &id, step, None, today()))
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/console/family?done=cc_{code}#h-children")).into_response()
        }
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => super::family::render_home(&s, &ctx, st, &errs, json!({})).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}
