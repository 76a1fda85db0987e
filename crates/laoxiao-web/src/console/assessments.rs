//! Ability assessment pages (老年人能力评估, GB/T 42195-2022): the list, the
//! form with all 26 items grouped by domain (radio groups with the standard's
//! descriptors, one fieldset each), the result page with the explanation,
//! the printable report in the standard's layout (print stylesheet) and the
//! due list. The rules are the store's and the rules crate's; names are masked.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_rules::assessment::Standard;
use laoxiao_store::StoreError;
use laoxiao_store::assessments::{self as asm, Assessment, Reason};
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn enc(s: &str) -> String {
    crate::encode_segment(s)
}

fn std_or_error() -> Result<&'static Standard, PageError> {
    Standard::embedded().map_err(|e| PageError::Store(StoreError::Reference(e.to_string())))
}

fn level_label(s: &ConsoleState, ctx: &Ctx, n: u8) -> String {
    s.t(ctx, &format!("assess.level_{n}"))
}

fn state_label(s: &ConsoleState, ctx: &Ctx, st: asm::State) -> String {
    s.t(ctx, &format!("assess.state_{}", st.code()))
}

fn reason_label(s: &ConsoleState, ctx: &Ctx, r: Reason) -> String {
    s.t(ctx, &format!("assess.reason_{}", r.code()))
}

/// The form's domains and items with the chosen scores marked.
fn form_domains(std: &Standard, answers: &BTreeMap<String, u8>) -> Vec<Json> {
    std.domains
        .iter()
        .map(|d| {
            let items: Vec<Json> = std
                .items
                .iter()
                .filter(|i| i.domain == d.code)
                .map(|i| {
                    let chosen = answers.get(&i.code).copied();
                    json!({
                        "code": i.code,
                        "dom_id": i.code.replace('.', "-"),
                        "zh": i.zh, "en": i.en, "hint": i.hint, "max": i.max(),
                        "options": i.options.iter().map(|o| json!({
                            "score": o.score, "zh": o.zh, "checked": chosen == Some(o.score),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"code": d.code, "zh": d.zh, "en": d.en, "max": d.max, "items": items})
        })
        .collect()
}

/// The form's values from a draft.
fn form_values(d: &asm::Draft) -> Json {
    json!({
        "person_id": d.person_id,
        "reason": d.reason.code(),
        "assessed_on": d.assessed_on.to_string(),
        "assessor1_id": d.assessor1_id,
        "assessor2_id": d.assessor2_id,
        "organisation_id": d.organisation_id,
        "coma": d.coma,
        "diagnoses": d.diagnoses,
        "risk_events": d.risk_events,
        "review_of": d.review_of,
    })
}

/// A draft from the form's fields; unreadable values become field errors.
fn draft_from_form(std: &Standard, form: &FormData) -> (asm::Draft, Vec<FieldError>) {
    let mut errs = Vec::new();
    let reason = match field(form, "reason").and_then(Reason::parse) {
        Some(r) => r,
        None => {
            errs.push(FieldError::new("reason", "choose a reason"));
            Reason::First
        }
    };
    let assessed_on = match field(form, "assessed_on")
        .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
    {
        Some(d) => d,
        None => {
            errs.push(FieldError::new("assessed_on", "a date YYYY-MM-DD"));
            today()
        }
    };
    let mut answers = BTreeMap::new();
    for it in &std.items {
        if let Some(v) = field(form, &format!("item_{}", it.code)) {
            match v.parse::<u8>() {
                Ok(n) => {
                    answers.insert(it.code.clone(), n);
                }
                Err(_) => errs.push(FieldError::new(
                    format!("answers.{}", it.code),
                    "choose one of the options",
                )),
            }
        }
    }
    let diagnoses: Vec<String> = form
        .iter()
        .filter(|(k, v)| k == "diagnoses" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .take(asm::MAX_DIAGNOSES + 1)
        .collect();
    let mut risk_events = BTreeMap::new();
    for t in &std.risk_events {
        if let Some(v) = field(form, &format!("risk_{}", t.key)) {
            match v.parse::<u32>() {
                Ok(0) => {}
                Ok(n) => {
                    risk_events.insert(t.key.clone(), n);
                }
                Err(_) => errs.push(FieldError::new(
                    format!("risk_events.{}", t.key),
                    "a whole number from 0 to 100",
                )),
            }
        }
    }
    let text = |k: &str| field(form, k).unwrap_or_default().to_string();
    let d = asm::Draft {
        person_id: text("person_id"),
        reason,
        assessed_on,
        assessor1_id: text("assessor1_id"),
        assessor2_id: text("assessor2_id"),
        organisation_id: field(form, "organisation_id").map(str::to_string),
        answers,
        coma: field(form, "coma").is_some(),
        diagnoses,
        risk_events,
        review_of: field(form, "review_of").map(str::to_string),
    };
    (d, errs)
}

async fn render_form(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    action: &str,
    d: &asm::Draft,
    errors: &[FieldError],
) -> Response {
    let std = match std_or_error() {
        Ok(x) => x,
        Err(e) => return s.error_page(ctx, e),
    };
    let reasons: Vec<Json> = Reason::ALL
        .iter()
        .map(|r| json!({"value": r.code(), "label": reason_label(s, ctx, *r), "selected": *r == d.reason}))
        .collect();
    let diagnoses: Vec<Json> = std
        .diagnoses
        .iter()
        .map(|x| json!({"key": x.key, "icd": x.icd, "zh": x.zh, "checked": d.diagnoses.contains(&x.key)}))
        .collect();
    let risks: Vec<Json> = std
        .risk_events
        .iter()
        .map(|t| json!({"key": t.key, "zh": t.zh, "en": t.en, "value": d.risk_events.get(&t.key).copied().unwrap_or(0)}))
        .collect();
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    let page = json!({
        "action": action,
        "domains": form_domains(std, &d.answers),
        "reasons": reasons,
        "diagnoses": diagnoses,
        "risks": risks,
        "f": form_values(d),
        "error_fields": error_fields,
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason, "anchor": e.field.replace("answers.", "item-").replace('.', "-")})).collect::<Vec<_>>(),
    });
    s.render_status(ctx, status, "assessment_form.html", "assessments", page)
}

/// `GET /console/assessments`: the list (filter by state).
pub async fn list(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    let state = ctx.param("state").and_then(asm::State::parse);
    let after = ctx.param("after").map(str::to_string);
    let person = ctx.param("person_id").map(str::to_string);
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            asm::list(
                c,
                r,
                &scope,
                &asm::ListQuery {
                    state,
                    after,
                    person_id: person,
                    limit: Some(100),
                    ..Default::default()
                },
            )
        })
        .await;
    let items = match res {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let rows: Vec<Json> = items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "url": format!("/console/assessments/{}", enc(&a.id)),
                "person": a.person_name,
                "area": super::area_name(&s, &a.person_area_code),
                "reason": reason_label(&s, &ctx, a.reason),
                "date": a.assessed_on.to_string(),
                "state": state_label(&s, &ctx, a.state),
                "total": a.total,
                "level": a.final_level.map(|l| level_label(&s, &ctx, l.number())),
            })
        })
        .collect();
    let states: Vec<Json> = asm::State::ALL
        .iter()
        .map(|x| json!({"value": x.code(), "label": state_label(&s, &ctx, *x), "selected": Some(*x) == state}))
        .collect();
    let next = (items.len() == 100)
        .then(|| items.last().map(|a| a.id.clone()))
        .flatten();
    let page = json!({
        "rows": rows,
        "states": states,
        "next": next,
        "can_assess": ctx.auth.can(laoxiao_store::Perm::Assess),
    });
    s.render(&ctx, "assessments.html", "assessments", page)
}

/// `GET /console/assessments/new?person_id=…`: a blank form.
pub async fn new_form(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments/new", headers, q);
    let mut d = asm::Draft {
        person_id: ctx.param("person_id").unwrap_or_default().to_string(),
        reason: ctx
            .param("reason")
            .and_then(Reason::parse)
            .unwrap_or(Reason::First),
        assessed_on: today(),
        assessor1_id: String::new(),
        assessor2_id: String::new(),
        organisation_id: None,
        answers: BTreeMap::new(),
        coma: false,
        diagnoses: Vec::new(),
        risk_events: BTreeMap::new(),
        review_of: ctx.param("review_of").map(str::to_string),
    };
    if d.review_of.is_some() {
        d.reason = Reason::Review;
    }
    render_form(&s, &ctx, StatusCode::OK, "/console/assessments", &d, &[]).await
}

/// Save (and, with `action=finish`, finish) from the form.
async fn save(s: &ConsoleState, ctx: &Ctx, id: Option<String>, form: FormData) -> Response {
    let std = match std_or_error() {
        Ok(x) => x,
        Err(e) => return s.error_page(ctx, e),
    };
    let (d, errs) = draft_from_form(std, &form);
    let action = match &id {
        Some(i) => format!("/console/assessments/{}/edit", enc(i)),
        None => "/console/assessments".to_string(),
    };
    if !errs.is_empty() {
        return render_form(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, &action, &d, &errs).await;
    }
    let finish = field(&form, "action") == Some("finish");
    let scope = ctx.scope();
    let d2 = d.clone();
    let res = s
        .db(move |c, r| {
            let a = match &id {
                Some(i) => asm::update(c, &scope, i, &d2, today())?,
                None => asm::create(c, &scope, &d2, today())?,
            };
            if finish {
                // The draft stays saved when finishing fails (items missing).
                match asm::finish(c, r, &scope, &a.id, today()) {
                    Ok(a) => Ok((a.id, None)),
                    Err(StoreError::Invalid(e)) => Ok((a.id, Some(e))),
                    Err(e) => Err(e),
                }
            } else {
                Ok((a.id, None))
            }
        })
        .await;
    match res {
        Ok((id, None)) => {
            Redirect::to(&format!("/console/assessments/{}", enc(&id))).into_response()
        }
        Ok((id, Some(errs))) => {
            let action = format!("/console/assessments/{}/edit", enc(&id));
            render_form(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, &action, &d, &errs).await
        }
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_form(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, &action, &d, &errs).await
        }
        Err(e) => s.error_page(ctx, e),
    }
}

/// `POST /console/assessments`: a new draft (finished at once with `action=finish`).
pub async fn create(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    save(&s, &ctx, None, form).await
}

/// `GET /console/assessments/{id}/edit`: a draft's form.
pub async fn edit_form(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    let scope = ctx.scope();
    let res = s.db(move |c, _| asm::get(c, &scope, &id)).await;
    match res {
        Ok(a) if a.state == asm::State::Draft => {
            let action = format!("/console/assessments/{}/edit", enc(&a.id));
            render_form(&s, &ctx, StatusCode::OK, &action, &a.draft, &[]).await
        }
        Ok(a) => Redirect::to(&format!("/console/assessments/{}", enc(&a.id))).into_response(),
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `POST /console/assessments/{id}/edit`: save a draft (or finish it).
pub async fn edit(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    save(&s, &ctx, Some(id), form).await
}

/// The view of an assessment for the result page and the report.
fn view(s: &ConsoleState, ctx: &Ctx, a: &Assessment) -> Json {
    let std = Standard::embedded().ok();
    let items: Vec<Json> = std
        .map(|st| {
            st.items
                .iter()
                .map(|i| {
                    let score = a.draft.answers.get(&i.code).copied();
                    let desc = score
                        .and_then(|sc| i.options.iter().find(|o| o.score == sc))
                        .map(|o| o.zh.clone());
                    json!({"code": i.code, "zh": i.zh, "en": i.en, "max": i.max(), "score": score, "desc": desc, "domain": i.domain})
                })
                .collect()
        })
        .unwrap_or_default();
    let diagnoses: Vec<String> = std
        .map(|st| {
            a.draft
                .diagnoses
                .iter()
                .map(|k| {
                    st.diagnoses
                        .iter()
                        .find(|x| &x.key == k)
                        .map(|x| format!("{} ({})", x.zh, x.icd))
                        .unwrap_or_else(|| k.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    let risks: Vec<Json> = std
        .map(|st| {
            st.risk_events
                .iter()
                .map(|t| json!({"zh": t.zh, "en": t.en, "n": a.draft.risk_events.get(&t.key).copied().unwrap_or(0)}))
                .collect()
        })
        .unwrap_or_default();
    let outcome = a.outcome.as_ref().map(|o| {
        json!({
            "domains": o.domains,
            "total": o.total,
            "initial": level_label(s, ctx, o.initial_level.number()),
            "initial_n": o.initial_level.number(),
            "final": level_label(s, ctx, o.final_level.number()),
            "final_n": o.final_level.number(),
            "steps": o.steps,
            "applied": o.applied,
        })
    });
    json!({
        "id": a.id,
        "state": a.state.code(),
        "state_label": state_label(s, ctx, a.state),
        "reason": reason_label(s, ctx, a.draft.reason),
        "person": a.person_name,
        "person_id": a.draft.person_id,
        "person_url": format!("/console/people/{}", enc(&a.draft.person_id)),
        "area": super::area_name(s, &a.person_area_code),
        "date": a.draft.assessed_on.to_string(),
        "assessors": a.assessors,
        "organisation": a.organisation_id,
        "coma": a.draft.coma,
        "diagnoses": diagnoses,
        "risks": risks,
        "items": items,
        "outcome": outcome,
        "appeal_reason": a.appeal_reason,
        "review_of": a.draft.review_of.as_ref().map(|r| json!({"id": r, "url": format!("/console/assessments/{}", enc(r))})),
        "reviewed_by": a.reviewed_by.as_ref().map(|r| json!({"id": r, "url": format!("/console/assessments/{}", enc(r))})),
        "finished_by": a.finished_by,
        "finished_at": a.finished_at,
        "edit_url": format!("/console/assessments/{}/edit", enc(&a.id)),
        "report_url": format!("/console/assessments/{}/report", enc(&a.id)),
        "action": format!("/console/assessments/{}", enc(&a.id)),
        "review_url": format!("/console/assessments/new?person_id={}&review_of={}", enc(&a.draft.person_id), enc(&a.id)),
    })
}

async fn render_detail(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    template: &str,
) -> Response {
    let scope = ctx.scope();
    let res = s.db(move |c, _| asm::get(c, &scope, &id)).await;
    let a = match res {
        Ok(a) => a,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["finished", "appealed"].contains(d))
        .map(|d| s.t(ctx, &format!("assess.done_{d}")));
    let page = json!({
        "a": view(s, ctx, &a),
        "notice": notice,
        "can_assess": ctx.auth.can(laoxiao_store::Perm::Assess),
        "can_appeal": ctx.auth.can(laoxiao_store::Perm::WritePeople),
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
    });
    s.render_status(ctx, status, template, "assessments", page)
}

/// `GET /console/assessments/{id}`: the result and its explanation.
pub async fn detail(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    render_detail(&s, &ctx, id, StatusCode::OK, &[], "assessment.html").await
}

/// `GET /console/assessments/{id}/report`: the printable report.
pub async fn report(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    render_detail(&s, &ctx, id, StatusCode::OK, &[], "assessment_report.html").await
}

/// `POST /console/assessments/{id}`: `action` = finish or appeal.
pub async fn act(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments", headers, q);
    let scope = ctx.scope();
    let action = field(&form, "action").unwrap_or_default().to_string();
    let reason = field(&form, "appeal_reason")
        .unwrap_or_default()
        .to_string();
    let id2 = id.clone();
    let res = match action.as_str() {
        "finish" => {
            s.db(move |c, r| asm::finish(c, r, &scope, &id2, today()).map(|_| "finished"))
                .await
        }
        "appeal" => {
            s.db(move |c, _| asm::appeal(c, &scope, &id2, &reason).map(|_| "appealed"))
                .await
        }
        _ => Err(PageError::Store(StoreError::Invalid(vec![
            FieldError::new("action", "one of finish, appeal"),
        ]))),
    };
    match res {
        Ok(done) => {
            Redirect::to(&format!("/console/assessments/{}?done={done}", enc(&id))).into_response()
        }
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_detail(
                &s,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errs,
                "assessment.html",
            )
            .await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_detail(&s, &ctx, id, StatusCode::CONFLICT, &errs, "assessment.html").await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn render_due(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let overdue = ctx.param("overdue") == Some("true");
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            asm::due(
                c,
                r,
                &scope,
                today(),
                &asm::DueQuery {
                    overdue,
                    limit: Some(200),
                    ..Default::default()
                },
            )
        })
        .await;
    let lines = match res {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let rows: Vec<Json> = lines
        .iter()
        .map(|l| {
            let reason = match l.cause {
                asm::DueCause::Routine => "routine",
                asm::DueCause::Immediate => "immediate",
                asm::DueCause::NeverAssessed => "first",
            };
            json!({
                "person": l.person_name,
                "person_url": format!("/console/people/{}", enc(&l.person_id)),
                "area": super::area_name(s, &l.person_area_code),
                "level": l.ability_level.map(|x| level_label(s, ctx, x.number())),
                "cause": s.t(ctx, &format!("assess.cause_{}", l.cause.code())),
                "due_on": l.due_on.map(|d| d.to_string()),
                "overdue": l.overdue,
                "new_url": format!("/console/assessments/new?person_id={}&reason={reason}", enc(&l.person_id)),
            })
        })
        .collect();
    let notice = (ctx.param("done") == Some("flagged")).then(|| s.t(ctx, "assess.done_flagged"));
    let page = json!({
        "rows": rows,
        "overdue": overdue,
        "notice": notice,
        "can_assess": ctx.auth.can(laoxiao_store::Perm::Assess),
        "can_flag": ctx.auth.can(laoxiao_store::Perm::WritePeople),
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
    });
    s.render_status(ctx, status, "assessments_due.html", "assessments", page)
}

/// `GET /console/assessments/due`: people due or overdue.
pub async fn due(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments/due", headers, q);
    render_due(&s, &ctx, StatusCode::OK, &[]).await
}

/// `POST /console/assessments/due`: flag a change of condition (即时评估).
pub async fn flag(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/assessments/due", headers, q);
    let person = field(&form, "person_id").unwrap_or_default().to_string();
    let note = field(&form, "note").unwrap_or_default().to_string();
    let scope = ctx.scope();
    let res = s
        .db(move |c, _| asm::flag_change(c, &scope, &person, &note, today()))
        .await;
    match res {
        Ok(()) => Redirect::to("/console/assessments/due?done=flagged").into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_due(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::NotFound(_)) => {
            let errs = [FieldError::new(
                "person_id",
                "no elderly person with this id in your area",
            )];
            render_due(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
