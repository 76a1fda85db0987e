//! The supervision figures page (托育机构监管指标): a table per institution
//! and the area's totals (with its counties or towns), breaches and
//! shortfalls marked, each figure's definition in the notes. Counts only; the
//! figures are the store's (`laoxiao_store::childcare_figures`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use laoxiao_store::childcare_figures::{self as cf, Counts};
use serde_json::{Value as Json, json};

use super::family::form_errors;
use super::i18n::Lang;
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::childcare_figures::window;

const PATH: &str = "/console/childcare/figures";

fn rate(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{v:.1}%"))
}

/// One line's cells; `flag` marks a breach or a shortfall (a symbol as well
/// as the colour, so it is not told by colour alone).
fn counts_json(c: &Counts) -> Json {
    json!({
        "slots": c.approved_slots,
        "places": c.places,
        "enrolled": c.enrolled,
        "occupancy": rate(c.occupancy()),
        "attendance": rate(c.attendance_rate()),
        "attended": c.attended_days,
        "expected": c.expected_days,
        "breaches": c.ratio_breaches,
        "class_days": c.class_days,
        "short": c.outdoor_short,
        "outdoor_days": c.outdoor_days,
        "morning": rate(c.morning_coverage()),
        "midday": rate(c.midday_coverage()),
        "morning_low": c.morning_checked < c.child_days,
        "midday_low": c.midday_checked < c.child_days,
        "staff": c.staff,
        "certified": c.staff_certified,
        "certified_share": rate(c.certified_share()),
        "uncertified": c.staff_certified < c.staff,
        "lapsed": c.staff_health_lapsed,
    })
}

/// `GET /console/childcare/figures?area=&from=&to=`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let today = chrono::Local::now().date_naive();
    let (from_in, to_in) = (
        ctx.param("from").map(str::to_string),
        ctx.param("to").map(str::to_string),
    );
    let (from, to) = match window(from_in.as_deref(), to_in.as_deref(), today) {
        Ok(w) => w,
        Err(errs) => {
            return render(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &errs,
                from_in,
                to_in,
            );
        }
    };
    let scope = ctx.scope();
    let code = ctx.area.code.clone();
    let got = s
        .db(move |c, r| cf::figures(c, r, &scope, Some(&code), from, to, today))
        .await;
    match got {
        Ok(report) => render(
            &s,
            &ctx,
            StatusCode::OK,
            Some(report),
            &[],
            Some(from.to_string()),
            Some(to.to_string()),
        ),
        Err(e) => match form_errors(e) {
            Ok((status, errs)) => render(&s, &ctx, status, None, &errs, from_in, to_in),
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

fn render(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    report: Option<cf::Report>,
    errors: &[laoxiao_model::FieldError],
    from: Option<String>,
    to: Option<String>,
) -> Response {
    let zh = ctx.lang == Lang::Zh;
    let page = match &report {
        Some(r) => json!({
            "total": {"code": r.area.code, "name": r.area.name, "counts": counts_json(&r.area.counts)},
            "children": r.children.iter().map(|a| json!({
                "code": a.code, "name": a.name, "counts": counts_json(&a.counts),
            })).collect::<Vec<_>>(),
            "institutions": r.institutions.iter().map(|x| json!({
                "name": x.name,
                "kind": if zh { x.kind.label_zh() } else { x.kind.label_en() },
                "inclusive": x.inclusive,
                "counts": counts_json(&x.counts),
            })).collect::<Vec<_>>(),
            "counted_to": r.counted_to.map(|d| d.to_string()),
            "outdoor_required": r.outdoor_required,
            "outdoor_clause": r.outdoor_clause,
            "ratios": r.ratios.iter().map(|x| json!({
                "type": if zh { x.class_type.label_zh() } else { x.class_type.label_en() },
                "n": x.children_per_caregiver,
                "clause": x.clause,
            })).collect::<Vec<_>>(),
            "health_check_months": r.health_check_months,
        }),
        None => json!({}),
    };
    let mut page = page;
    if let Some(m) = page.as_object_mut() {
        m.insert("from".into(), json!(from));
        m.insert("to".into(), json!(to));
        m.insert("max_days".into(), json!(cf::MAX_DAYS));
        m.insert(
            "error_list".into(),
            json!(
                errors
                    .iter()
                    .map(|e| json!({"field": e.field, "reason": e.reason}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    s.render_status(
        ctx,
        status,
        "childcare_figures.html",
        "childcare_figures",
        page,
    )
}
