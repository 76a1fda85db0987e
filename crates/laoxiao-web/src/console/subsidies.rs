//! Subsidy runs in the console (补助发放): the runs with a form to prepare
//! one, a run's page (totals, lines, review and payment), a line's
//! explanation, and the what-if costing of a reform with its month-by-month
//! chart (drawn by console.js as SVG, with the table beside it).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use laoxiao_model::FieldError;
use laoxiao_rules::subsidies::{Rule, yuan};
use laoxiao_store::subsidies::{self as sub, Cost, LineQuery, Run, StoredLine, Sum};
use laoxiao_store::{Perm, StoreError};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error, url_with};
use crate::subsidies::{EXAMPLES, KINDS, export_format, file_response, parse_period, reform_text};

/// Lines on one page of a run's table.
const PAGE: u32 = 50;

fn rule_name(ctx: &Ctx, code: &str) -> String {
    match Rule::from_code(code) {
        Some(r) if ctx.lang == Lang::En => r.en().to_string(),
        Some(r) => r.zh().to_string(),
        None => code.to_string(),
    }
}

fn county_name(s: &ConsoleState, code: &str) -> String {
    s.store
        .reference
        .areas
        .get(code)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn errors_json(errors: &[FieldError]) -> Vec<Json> {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect()
}

fn run_json(s: &ConsoleState, ctx: &Ctx, r: &Run) -> Json {
    let status = r.status.code();
    json!({
        "id": r.id,
        "url": format!("/console/subsidies/runs/{}", r.id),
        "period": r.period,
        "cadence": r.cadence,
        "cadence_label": s.t(ctx, &format!("sub.cadence_{}", r.cadence)),
        "status": status,
        "status_label": s.t(ctx, &format!("sub.status_{status}")),
        "prepared_by": r.prepared_by,
        "prepared_at": r.prepared_at,
        "reviewed_by": r.reviewed_by,
        "reviewed_at": r.reviewed_at,
        "review_note": r.review_note,
        "paid_by": r.paid_by,
        "paid_at": r.paid_at,
        "parameters_version": r.parameters_version,
        "register_versions": r.register_versions,
        "snapshot_digest": r.snapshot_digest,
        "placeholder": r.placeholder,
        "lines": r.line_count,
        "notes": r.note_count,
        "total": yuan(r.total_fen),
        "adjustment": yuan(r.adjustment_fen),
        "city": yuan(r.city_fen),
        "county": yuan(r.county_fen),
    })
}

fn sum_json(label: String, x: &Sum) -> Json {
    json!({
        "key": x.key,
        "label": label,
        "lines": x.lines,
        "amount": yuan(x.amount_fen),
        "city": yuan(x.city_fen),
        "county": yuan(x.county_fen),
        "city_pct": if x.amount_fen != 0 { format!("{:.1}", x.city_fen as f64 * 100.0 / x.amount_fen as f64) } else { String::new() },
    })
}

fn this_year() -> i32 {
    chrono::Local::now().date_naive().year()
}

/// Months and years a run may be prepared for, newest first.
fn period_choices() -> (Vec<String>, Vec<String>) {
    let today = chrono::Local::now().date_naive();
    let (y, m) = (today.year().clamp(2020, 2035), today.month());
    let mut months = Vec::new();
    let (mut yy, mut mm) = (y, m);
    for _ in 0..36 {
        if yy < 2020 {
            break;
        }
        months.push(format!("{yy}-{mm:02}"));
        if mm == 1 {
            yy -= 1;
            mm = 12;
        } else {
            mm -= 1;
        }
    }
    let years = (2020..=y).rev().map(|y| y.to_string()).collect();
    (months, years)
}

async fn render_list(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let runs = match s.db(move |c, _| sub::runs(c, &scope)).await {
        Ok(r) => r,
        Err(e) => return s.error_page(ctx, e),
    };
    let (months, years) = period_choices();
    let page = json!({
        "runs": runs.iter().map(|r| run_json(s, ctx, r)).collect::<Vec<_>>(),
        "can_manage": ctx.auth.can(Perm::ManageSubsidies),
        "months": months,
        "years": years,
        "errors": errors_json(errors),
    });
    s.render_status(ctx, status, "subsidies.html", "subsidies", page)
}

/// `GET /console/subsidies`
pub async fn list(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/subsidies", headers, q);
    render_list(&s, &ctx, StatusCode::OK, &[]).await
}

/// `POST /console/subsidies`: prepare a period's draft.
pub async fn prepare(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/subsidies", headers, q);
    let raw = field(&form, "period").unwrap_or_default().to_string();
    let period = match parse_period("period", &raw) {
        Ok(p) => p,
        Err(e) => {
            let e = FieldError::new(s.t(&ctx, "sub.period"), e.reason);
            return render_list(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &[e]).await;
        }
    };
    let scope = ctx.scope();
    match s.db(move |c, _| sub::prepare(c, &scope, period)).await {
        Ok((run, _)) => Redirect::to(&format!("/console/subsidies/runs/{}?done=prepared", run.id))
            .into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_list(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_list(&s, &ctx, StatusCode::CONFLICT, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// The not-found page for a run id that is not a number.
fn no_run(s: &ConsoleState, ctx: &Ctx, raw: &str) -> Response {
    s.error_page(
        ctx,
        PageError::NotFound(format!(
            "subsidy run {}",
            raw.chars().take(20).collect::<String>()
        )),
    )
}

/// The line filters of a run's page, checked.
fn filters(ctx: &Ctx) -> (LineQuery, Vec<(String, String)>) {
    let mut q = LineQuery {
        limit: Some(PAGE),
        ..Default::default()
    };
    let mut keep = Vec::new();
    if let Some(c) = ctx
        .param("county")
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
    {
        q.county = Some(c.to_string());
        keep.push(("county".into(), c.to_string()));
    }
    if let Some(r) = ctx.param("rule").filter(|r| Rule::from_code(r).is_some()) {
        q.rule = Some(r.to_string());
        keep.push(("rule".into(), r.to_string()));
    }
    if let Some(k) = ctx.param("kind").filter(|k| KINDS.contains(k)) {
        q.kind = Some(k.to_string());
        keep.push(("kind".into(), k.to_string()));
    }
    if let Some(p) = ctx
        .param("payee")
        .filter(|p| p.chars().count() <= 100 && !p.chars().any(char::is_control))
    {
        q.payee = Some(p.to_string());
        keep.push(("payee".into(), p.to_string()));
    }
    q.after = ctx
        .param("after")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a >= 0);
    (q, keep)
}

fn line_row(s: &ConsoleState, ctx: &Ctx, l: &StoredLine) -> Json {
    let kind = serde_json::to_value(l.line.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    json!({
        "no": l.line_no,
        "url": format!("/console/subsidies/runs/{}/lines/{}", l.run_id, l.line_no),
        "rule": rule_name(ctx, &l.rule),
        "kind": kind,
        "kind_label": s.t(ctx, &format!("sub.kind_{kind}")),
        "period": l.line.period,
        "payee_id": l.line.payee_id,
        "payee_name": l.line.payee_name,
        "payee_id_shown": l.line.payee_id != l.line.payee_name,
        "county": county_name(s, &l.line.county_code),
        "amount": yuan(l.line.amount_fen),
        "city": yuan(l.line.city_fen),
        "county_fen": yuan(l.line.county_fen),
        "placeholder": l.line.placeholder,
    })
}

async fn render_run(
    s: &ConsoleState,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let (q, keep) = filters(ctx);
    let res = s
        .db(move |c, _| {
            let run = sub::run(c, &scope, id)?;
            let totals = sub::totals(c, &scope, id)?;
            let page = sub::lines(c, &scope, id, &q)?;
            Ok((run, totals, page))
        })
        .await;
    let (run, totals, page) = match res {
        Ok(x) => x,
        Err(e) => return s.error_page(ctx, e),
    };
    let me = ctx
        .auth
        .principal
        .as_ref()
        .map(|p| p.user.username.clone())
        .unwrap_or_default();
    let can_manage = ctx.auth.can(Perm::ManageSubsidies);
    let draft = run.status == sub::Status::Draft;
    let own = run.prepared_by == me;
    let base = format!("/console/subsidies/runs/{id}");
    let next = page.next_cursor.as_ref().map(|c| {
        let mut k = keep.clone();
        k.push(("after".into(), c.clone()));
        url_with(&base, &k)
    });
    let first = q_has_after(ctx).then(|| url_with(&base, &keep));
    let counties: Vec<Json> = std::iter::once("330400".to_string())
        .chain(
            s.store
                .reference
                .areas
                .children("330400")
                .iter()
                .map(|a| a.code.clone()),
        )
        .map(|c| json!({"value": c, "label": county_name(s, &c)}))
        .collect();
    let rules: Vec<Json> = Rule::ALL
        .iter()
        .map(|r| json!({"value": r.code(), "label": rule_name(ctx, r.code())}))
        .collect();
    let kinds: Vec<Json> = KINDS
        .iter()
        .map(|k| json!({"value": k, "label": s.t(ctx, &format!("sub.kind_{k}"))}))
        .collect();
    let notice = ctx
        .param("done")
        .filter(|d| ["prepared", "approve", "reject", "paid"].contains(d))
        .map(|d| s.t(ctx, &format!("sub.done_{d}")));
    let f = |k: &str| ctx.param(k).unwrap_or_default().to_string();
    let page = json!({
        "run": run_json(s, ctx, &run),
        "by_county": totals.by_county.iter().map(|x| sum_json(county_name(s, &x.key), x)).collect::<Vec<_>>(),
        "by_rule": totals.by_rule.iter().map(|x| sum_json(rule_name(ctx, &x.key), x)).collect::<Vec<_>>(),
        "total": sum_json(s.t(ctx, "sub.total"), &totals.total),
        "lines": page.items.iter().map(|l| line_row(s, ctx, l)).collect::<Vec<_>>(),
        "next": next,
        "first": first,
        "filter": {"county": f("county"), "rule": f("rule"), "kind": f("kind"), "payee": f("payee")},
        "counties": counties,
        "rules": rules,
        "kinds": kinds,
        "can_review": can_manage && draft && !own,
        "own_draft": can_manage && draft && own,
        "can_pay": can_manage && run.status == sub::Status::Approved,
        "export_csv": format!("{base}/export?format=csv"),
        "export_xlsx": format!("{base}/export?format=xlsx"),
        "notice": notice,
        "errors": errors_json(errors),
        "action": base,
    });
    s.render_status(ctx, status, "subsidy_run.html", "subsidies", page)
}

fn q_has_after(ctx: &Ctx) -> bool {
    ctx.param("after").is_some()
}

/// `GET /console/subsidies/runs/{id}`
pub async fn run(
    State(s): State<ConsoleState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!("/console/subsidies/runs/{}", crate::encode_segment(&raw));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let Ok(id) = raw.parse::<i64>() else {
        return no_run(&s, &ctx, &raw);
    };
    render_run(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/subsidies/runs/{id}`: approve, reject or mark paid.
pub async fn act(
    State(s): State<ConsoleState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let path = format!("/console/subsidies/runs/{}", crate::encode_segment(&raw));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let Ok(id) = raw.parse::<i64>() else {
        return no_run(&s, &ctx, &raw);
    };
    let action = field(&form, "action").unwrap_or_default().to_string();
    let note = field(&form, "note").map(str::to_string);
    let scope = ctx.scope();
    let res = match action.as_str() {
        "approve" | "reject" => {
            let approve = action == "approve";
            s.db(move |c, _| sub::review(c, &scope, id, approve, note.as_deref()))
                .await
        }
        "paid" => s.db(move |c, _| sub::mark_paid(c, &scope, id)).await,
        _ => {
            let e = FieldError::new("action", s.t(&ctx, "sub.err_action"));
            return render_run(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &[e]).await;
        }
    };
    match res {
        Ok(_) => {
            Redirect::to(&format!("/console/subsidies/runs/{id}?done={action}")).into_response()
        }
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_run(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_run(&s, &ctx, id, StatusCode::CONFLICT, &errs).await
        }
        Err(PageError::Forbidden(m)) => {
            let errs = [FieldError::new("", m)];
            render_run(&s, &ctx, id, StatusCode::FORBIDDEN, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `GET /console/subsidies/runs/{id}/export?format=csv|xlsx`: the payout list
/// (the API's, with the session's scope).
pub async fn export(
    State(s): State<ConsoleState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!(
        "/console/subsidies/runs/{}/export",
        crate::encode_segment(&raw)
    );
    let ctx = ctx_or_error!(s, &path, headers, q);
    let Ok(id) = raw.parse::<i64>() else {
        return no_run(&s, &ctx, &raw);
    };
    let format = match export_format(ctx.param("format")) {
        Ok(f) => f,
        Err(e) => {
            return s.error_page(
                &ctx,
                PageError::BadRequest(format!("{}: {}", e.field, e.reason)),
            );
        }
    };
    let scope = ctx.scope();
    match s
        .db(move |c, _| {
            let run = sub::run(c, &scope, id)?;
            let bytes = sub::excel::payout_list(c, &scope, id, format)?;
            Ok((run, bytes))
        })
        .await
    {
        Ok((run, bytes)) => file_response(run.id, &run.period, format, bytes),
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `GET /console/subsidies/runs/{id}/lines/{line}`: a line explained.
pub async fn line(
    State(s): State<ConsoleState>,
    Path((raw, raw_line)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!(
        "/console/subsidies/runs/{}/lines/{}",
        crate::encode_segment(&raw),
        crate::encode_segment(&raw_line)
    );
    let ctx = ctx_or_error!(s, &path, headers, q);
    let (Ok(id), Ok(no)) = (raw.parse::<i64>(), raw_line.parse::<i64>()) else {
        return s.error_page(&ctx, PageError::NotFound("subsidy line".into()));
    };
    let scope = ctx.scope();
    let res = s
        .db(move |c, _| {
            let run = sub::run(c, &scope, id)?;
            let line = sub::line(c, &scope, id, no)?;
            let params = sub::params(c)?;
            Ok((run, line, params))
        })
        .await;
    let (run, l, params) = match res {
        Ok(x) => x,
        Err(e) => return s.error_page(&ctx, e),
    };
    let row = line_row(&s, &ctx, &l);
    let e = &l.line.explanation;
    let ps: Vec<Json> = e
        .params
        .iter()
        .map(|p| {
            let zh = params
                .get(&p.name)
                .map(|x| x.zh.clone())
                .unwrap_or_default();
            json!({
                "name": p.name,
                "zh": zh,
                "value": p.value.to_string(),
                "unit": p.unit,
                "from": p.from.to_string(),
                "until": p.until.map(|u| u.to_string()),
                "clause": p.clause,
                "placeholder": p.placeholder,
                "reform": p.reform,
            })
        })
        .collect();
    let months: Vec<Json> = l
        .line
        .months
        .iter()
        .map(|m| json!({"month": format!("{}-{:02}", l.line.period, m.month), "amount": yuan(m.fen)}))
        .collect();
    let page = json!({
        "run": run_json(&s, &ctx, &run),
        "l": row,
        "rule_code": l.rule,
        "payee_kind": s.t(&ctx, &format!("sub.payee_{}", serde_json::to_value(l.line.payee_kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())),
        "account_holder": l.line.account_holder,
        "subject_id": l.line.subject_id,
        "award_key": l.line.award_key,
        "county_code": l.line.county_code,
        "version": e.version,
        "params": ps,
        "inputs": e.inputs.iter().map(|i| json!({"name": i.name, "value": i.value})).collect::<Vec<_>>(),
        "steps": e.steps,
        "months": months,
        "back": format!("/console/subsidies/runs/{id}"),
    });
    s.render(&ctx, "subsidy_line.html", "subsidies", page)
}

fn cost_json(label: String, c: &Cost) -> Json {
    json!({
        "key": c.key,
        "label": label,
        "baseline": yuan(c.baseline_fen),
        "reform": yuan(c.reform_fen),
        "difference": yuan(c.difference_fen),
        "baseline_city": yuan(c.baseline_city_fen),
        "reform_city": yuan(c.reform_city_fen),
        "city_difference": yuan(c.reform_city_fen - c.baseline_city_fen),
        "up": c.difference_fen > 0,
    })
}

async fn render_whatif(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    year: i32,
    reform: &str,
    result: Option<sub::WhatIf>,
    errors: &[FieldError],
) -> Response {
    let examples: Vec<Json> = EXAMPLES
        .iter()
        .map(|(k, _)| json!({"key": k, "label": s.t(ctx, &format!("sub.example_{k}")), "url": format!("/console/subsidies/whatif?example={k}")}))
        .collect();
    let years: Vec<Json> = (2022..=2035)
        .map(|y| json!({"value": y, "selected": y == year}))
        .collect();
    let r = result.map(|w| {
        let chart = json!({
            "months": w.by_month.iter().map(|m| m.key.clone()).collect::<Vec<_>>(),
            "baseline": w.by_month.iter().map(|m| m.baseline_fen).collect::<Vec<_>>(),
            "reform": w.by_month.iter().map(|m| m.reform_fen).collect::<Vec<_>>(),
            "labels": {"baseline": s.t(ctx, "sub.baseline"), "reform": s.t(ctx, "sub.reform"), "difference": s.t(ctx, "sub.difference")},
            "lang": ctx.lang.tag(),
        });
        json!({
            "year": w.year,
            "baseline_version": w.baseline_version,
            "reform_version": w.reform_version,
            "total": cost_json(s.t(ctx, "sub.total"), &w.total),
            "by_month": w.by_month.iter().map(|c| cost_json(c.key.clone(), c)).collect::<Vec<_>>(),
            "by_rule": w.by_rule.iter().map(|c| cost_json(rule_name(ctx, &c.key), c)).collect::<Vec<_>>(),
            "by_county": w.by_county.iter().map(|c| cost_json(county_name(s, &c.key), c)).collect::<Vec<_>>(),
            "chart": chart,
        })
    });
    let page = json!({
        "examples": examples,
        "years": years,
        "year": year,
        "reform": reform,
        "r": r,
        "errors": errors_json(errors),
    });
    s.render_status(ctx, status, "subsidy_whatif.html", "subsidies", page)
}

fn default_year() -> i32 {
    (this_year() + 1).clamp(2022, 2035)
}

/// `GET /console/subsidies/whatif` (`?example=` loads a documented reform).
pub async fn whatif_form(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/subsidies/whatif", headers, q);
    let reform = ctx
        .param("example")
        .and_then(|x| EXAMPLES.iter().find(|(k, _)| *k == x))
        .map(|(_, t)| t.to_string())
        .unwrap_or_default();
    render_whatif(&s, &ctx, StatusCode::OK, default_year(), &reform, None, &[]).await
}

/// `POST /console/subsidies/whatif`: cost the reform.
pub async fn whatif(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/subsidies/whatif", headers, q);
    let year = field(&form, "year")
        .and_then(|y| y.parse::<i32>().ok())
        .unwrap_or_else(default_year);
    let raw = form
        .iter()
        .rev()
        .find(|(k, _)| k == "reform")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let reform = match reform_text(Some(raw.clone()), None) {
        Ok(r) => r,
        Err(e) => {
            let e = FieldError::new(s.t(&ctx, "sub.reform_file"), e.reason);
            return render_whatif(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                year,
                &raw,
                None,
                &[e],
            )
            .await;
        }
    };
    let scope = ctx.scope();
    let text = reform.clone();
    match s.db(move |c, _| sub::whatif(c, &scope, year, &text)).await {
        Ok(w) => render_whatif(&s, &ctx, StatusCode::OK, year, &reform, Some(w), &[]).await,
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_whatif(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                year,
                &raw,
                None,
                &errs,
            )
            .await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
