//! The indicator monitor in the console (指标监测): a dashboard of the plan's
//! indicators for an area and period, grouped as the plan groups them, and
//! one indicator's page (trend, map across the child areas, explanation,
//! records, reported-value entry), every chart with its data table.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::indicators::{Method, Period, definitions};
use laoxiao_rules::plan::IndicatorGroup;
use laoxiao_store::Perm;
use laoxiao_store::indicators::{self as ind, IndicatorValue, Report};
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// The period asked (`?period=2022`), else the last full year.
fn period_of(ctx: &Ctx) -> Result<Period, FieldError> {
    match ctx.param("period") {
        Some(p) => Period::parse(p).map_err(|e| FieldError::new("period", e.to_string())),
        None => Ok(Period {
            year: (today().year() - 1).clamp(2020, 2035),
            month: None,
        }),
    }
}

/// The page answering a bad `?period=`.
fn bad_period(s: &ConsoleState, ctx: &Ctx, e: FieldError) -> Response {
    s.error_page(
        ctx,
        super::PageError::BadRequest(format!("{}: {}", e.field, e.reason)),
    )
}

fn periods(current: Period) -> Vec<Json> {
    let last = today().year().clamp(2020, 2035);
    (2020..=last)
        .rev()
        .map(|y| json!({"value": y.to_string(), "selected": current.month.is_none() && current.year == y}))
        .collect()
}

fn value_json(s: &ConsoleState, ctx: &Ctx, v: &IndicatorValue, decimals: u32) -> Json {
    json!({
        "area_code": v.area_code,
        "area_name": v.area_name,
        "value": v.value.map(|x| format!("{:.*}", decimals as usize, x)),
        "raw": v.value,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "status": v.status.status.code(),
        "status_label": s.t(ctx, &format!("ind.status_{}", v.status.status.code())),
        "target": v.status.target,
        "target_year": v.status.target_year,
        "gap": v.status.gap.map(|g| format!("{:.*}", decimals as usize, g)),
        "expected": v.status.expected.map(|e| format!("{:.*}", decimals as usize, e)),
        "own_target": v.status.own_target,
        "provisional": v.provisional,
        "reported_by": v.reported_by,
        "reported_at": v.reported_at,
        "note": v.note,
    })
}

/// `GET /console/indicators/export?period=&area=&format=xlsx|csv`: the plan's
/// table with the values as a file — the API's export with the session's
/// scope (`/api/*` takes bearer tokens, not the console's cookie).
pub async fn export(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    use laoxiao_store::io::ExportFormat;
    let ctx = ctx_or_error!(s, "/console/indicators/export", headers, q);
    let period = match period_of(&ctx) {
        Ok(p) => p,
        Err(e) => return bad_period(&s, &ctx, e),
    };
    let (format, ct, ext) = match ctx.param("format") {
        None | Some("xlsx") => (
            ExportFormat::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        Some(_) => {
            return s.error_page(
                &ctx,
                super::PageError::BadRequest("format: xlsx or csv".into()),
            );
        }
    };
    let code = ctx.area.code.clone();
    let area = code.clone();
    match s
        .db(move |c, r| {
            let t = ind::table(c, r, period, today(), false)?;
            laoxiao_store::indicators::excel::export_table(&t, &area, format)
        })
        .await
    {
        Ok(bytes) => (
            [
                (axum::http::header::CONTENT_TYPE, ct.to_string()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"indicators-{code}-{period}.{ext}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `GET /console/indicators`
pub async fn dashboard(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/indicators", headers, q);
    let period = match period_of(&ctx) {
        Ok(p) => p,
        Err(e) => return bad_period(&s, &ctx, e),
    };
    let t = match s
        .db(move |c, r| ind::table(c, r, period, today(), false))
        .await
    {
        Ok(t) => t,
        Err(e) => return s.error_page(&ctx, e),
    };
    let Ok(defs) = definitions() else {
        return s.error_page(
            &ctx,
            super::PageError::Internal("indicator definitions".into()),
        );
    };
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let groups: Vec<Json> = [IndicatorGroup::Elderly, IndicatorGroup::Childcare]
        .iter()
        .map(|g| {
            let rows: Vec<Json> = defs
                .all
                .iter()
                .filter(|d| d.group == *g)
                .map(|d| {
                    let v = t.get(d.number, &ctx.area.code);
                    if let Some(v) = v {
                        *counts.entry(v.status.status.code()).or_default() += 1;
                    }
                    json!({
                        "number": d.number,
                        "name": if ctx.lang == super::i18n::Lang::Zh { d.name_zh.clone() } else { d.name_en.clone() },
                        "unit": d.unit,
                        "baseline": d.baseline_2020.raw,
                        "t2022": d.target_2022.raw,
                        "t2025": d.target_2025.raw,
                        "responsible": d.responsible_unit,
                        "method": if d.method == Method::Computed { "computed" } else { "reported" },
                        "v": v.map(|v| value_json(&s, &ctx, v, d.decimals)),
                        "url": format!("/console/indicators/{}?area={}&period={period}", d.number, ctx.area.code),
                    })
                })
                .collect();
            json!({"group": if *g == IndicatorGroup::Elderly { "elderly" } else { "childcare" }, "rows": rows})
        })
        .collect();
    let summary: Vec<Json> = ["met", "on_track", "behind", "no_data", "no_target"]
        .iter()
        .map(|k| json!({"status": k, "label": s.t(&ctx, &format!("ind.status_{k}")), "n": counts.get(k).copied().unwrap_or(0)}))
        .collect();
    let page = json!({
        "groups": groups,
        "summary": summary,
        "period": period.to_string(),
        "periods": periods(period),
        "as_of": t.as_of.to_string(),
        "publication": t.publication,
        "export_xlsx": format!("/console/indicators/export?period={period}&area={}", ctx.area.code),
        "export_csv": format!("/console/indicators/export?period={period}&area={}&format=csv", ctx.area.code),
    });
    s.render(&ctx, "indicators.html", "indicators", page)
}

/// `GET /console/indicators/{number}`
pub async fn detail(
    State(s): State<ConsoleState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/indicators", headers, q);
    render_detail(&s, &ctx, &number, StatusCode::OK, &[]).await
}

async fn render_detail(
    s: &ConsoleState,
    ctx: &Ctx,
    number: &str,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let Some(d) = number
        .parse::<u32>()
        .ok()
        .and_then(|n| definitions().ok()?.all.iter().find(|d| d.number == n))
    else {
        return s.error_page(
            ctx,
            super::PageError::NotFound(format!(
                "indicator {}",
                number.chars().take(8).collect::<String>()
            )),
        );
    };
    let period = match period_of(ctx) {
        Ok(p) => p,
        Err(e) => {
            return s.error_page(
                ctx,
                super::PageError::BadRequest(format!("{}: {}", e.field, e.reason)),
            );
        }
    };
    let scope = ctx.scope();
    let code = ctx.area.code.clone();
    let n = d.number;
    let to = today().year().clamp(2020, 2035);
    let res = s
        .db(move |c, r| {
            let e = ind::explain(c, &scope, r, n, &code, period, today())?;
            let trend = ind::trend(c, r, n, &code, to, today())?;
            Ok((e, trend))
        })
        .await;
    let (e, trend) = match res {
        Ok(x) => x,
        Err(err) => return s.error_page(ctx, err),
    };
    let dec = d.decimals;
    let children: Vec<Json> = e
        .children
        .iter()
        .map(|v| {
            let mut j = value_json(s, ctx, v, dec);
            j["url"] = json!(format!(
                "/console/indicators/{n}?area={}&period={period}",
                v.area_code
            ));
            j["centre"] = json!(
                s.store
                    .reference
                    .areas
                    .get(&v.area_code)
                    .and_then(|a| a.centre)
                    .map(|c| [c.0, c.1])
            );
            j
        })
        .collect();
    let trend_rows: Vec<Json> = trend.iter().map(|v| json!({"period": v.period, "value": v.value, "status_label": s.t(ctx, &format!("ind.status_{}", v.status.status.code())), "provisional": v.provisional})).collect();
    let county = s
        .store
        .reference
        .areas
        .ancestor_at(&ctx.area.code, AreaLevel::County)
        .map(|a| a.code.clone());
    let record_url = |id: &str| match e.records.as_ref().map(|r| r.register) {
        Some("people") => format!("/console/people/{id}"),
        Some("facilities") => format!("/console/facilities/{id}"),
        _ => format!("/console/staff/{id}"),
    };
    let records = e.records.as_ref().map(|r| {
        json!({
            "numerator": r.numerator.iter().map(|id| json!({"id": id, "url": record_url(id)})).collect::<Vec<_>>(),
            "denominator_n": r.denominator.len(),
            "truncated": r.truncated,
            "register": r.register,
        })
    });
    let chart = json!({
        "title": if ctx.lang == super::i18n::Lang::Zh { d.name_zh.clone() } else { d.name_en.clone() },
        "unit": d.unit,
        "baseline": d.baseline_2020.value.map(|v| v.value),
        "t2022": d.target_2022.value.map(|v| v.value),
        "t2025": d.target_2025.value.map(|v| v.value),
        "trend": trend.iter().map(|v| json!([v.period, v.value])).collect::<Vec<_>>(),
        "children": children.iter().map(|c| json!({"code": c["area_code"], "name": c["area_name"], "value": c["raw"], "centre": c["centre"]})).collect::<Vec<_>>(),
        "level": ctx.area.level.code(),
        "county": county,
        "geo_url": "/console/static/geo/jiaxing.json",
        "labels": {
            "value": s.t(ctx, "ind.value"),
            "baseline": s.t(ctx, "ind.baseline_2020"),
            "target": s.t(ctx, "ind.target"),
            "no_data": s.t(ctx, "map.no_data"),
        },
    });
    let can_report = d.method == Method::Reported
        && ctx.auth.can(Perm::ReportIndicators)
        && d.allows(ctx.area.level);
    let page = json!({
        "d": {
            "number": d.number,
            "name": if ctx.lang == super::i18n::Lang::Zh { d.name_zh.clone() } else { d.name_en.clone() },
            "name_zh": d.name_zh,
            "unit": d.unit,
            "responsible": d.responsible_unit,
            "clause": d.clause,
            "reading": d.reading,
            "method": if d.method == Method::Computed { "computed" } else { "reported" },
            "baseline": d.baseline_2020.raw,
            "t2022": d.target_2022.raw,
            "t2025": d.target_2025.raw,
            "factor": d.factor,
            "monthly": d.monthly_average,
            "numerator": d.numerator.as_ref().map(|x| json!({"count": format!("{:?}", x.count).to_lowercase(), "where": x.text, "sum": x.sum})),
            "denominator": d.denominator.as_ref().map(|x| json!({"count": format!("{:?}", x.count).to_lowercase(), "where": x.text, "sum": x.sum})),
        },
        "v": value_json(s, ctx, &e.value, dec),
        "months": e.value.months.iter().map(|m| json!({"month": m.month, "numerator": m.numerator, "denominator": m.denominator, "rate": m.rate.map(|r| format!("{r:.1}"))})).collect::<Vec<_>>(),
        "children": children,
        "trend": trend_rows,
        "chart": chart,
        "records": records,
        "records_withheld": e.records_withheld,
        "period": period.to_string(),
        "periods": periods(period),
        "can_report": can_report,
        "errors": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
        "back": format!("/console/indicators?area={}&period={period}", ctx.area.code),
    });
    s.render_status(ctx, status, "indicator.html", "indicators", page)
}

/// `POST /console/indicators/{number}`: enter a reported value.
pub async fn report(
    State(s): State<ConsoleState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/indicators", headers, q);
    let Ok(n) = number.parse::<u32>() else {
        return render_detail(&s, &ctx, &number, StatusCode::NOT_FOUND, &[]).await;
    };
    let value = field(&form, "value").and_then(|v| v.parse::<f64>().ok());
    let period = field(&form, "period").unwrap_or_default().to_string();
    let Some(value) = value else {
        let errs = [FieldError::new("value", s.t(&ctx, "ind.err_number"))];
        return render_detail(&s, &ctx, &number, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
    };
    let report = Report {
        indicator: n,
        area_code: ctx.area.code.clone(),
        period: period.clone(),
        value,
        note: field(&form, "note").map(str::to_string),
    };
    let scope = ctx.scope();
    match s.db(move |c, r| ind::report(c, &scope, r, &[report])).await {
        Ok(_) => Redirect::to(&format!(
            "/console/indicators/{n}?area={}&period={period}&saved=1",
            ctx.area.code
        ))
        .into_response(),
        Err(super::PageError::Store(laoxiao_store::StoreError::ImportRejected(rows))) => {
            let errs: Vec<FieldError> = rows
                .iter()
                .map(|r| FieldError::new(r.column.clone(), r.reason.clone()))
                .collect();
            render_detail(&s, &ctx, &number, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
