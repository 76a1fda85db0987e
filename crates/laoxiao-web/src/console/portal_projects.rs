//! The public page of the key projects (重点项目, 附件1 of the plan):
//! progress by county and every project's public fields, the same rows as
//! the `key-projects` open dataset (`laoxiao_store::open_data`). Never the
//! implementing unit, the report texts or the photos (docs/key-projects.md).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use laoxiao_store::key_projects::{self as kp, PublicProject};
use laoxiao_store::open_data::{OpenFormat, amount};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::portal::render;
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

fn type_label(s: &ConsoleState, ctx: &Ctx, t: &str) -> String {
    s.t(ctx, &format!("key_projects.type_{t}"))
}

fn row(s: &ConsoleState, ctx: &Ctx, p: &PublicProject) -> Json {
    let unit = p
        .capacity_kind
        .as_deref()
        .map(|k| s.t(ctx, &format!("key_projects.unit_{k}")))
        .unwrap_or_default();
    json!({
        "number": p.number,
        "name": p.name,
        "type": type_label(s, ctx, &p.project_type),
        "county": p.county_name,
        "town": p.town,
        "description": p.description,
        "capacity": p.capacity.map(|c| format!("{c} {unit}")),
        "delivered": p.delivered_capacity.map(|c| format!("{c} {unit}")),
        "investment_planned": amount(p.investment_planned_10k_yuan),
        "investment_spent": amount(p.investment_spent_10k_yuan),
        "status": p.status.code(),
        "status_label": s.t(ctx, &format!("key_projects.status_{}", p.status.code())),
        "percent": p.percent_complete,
        "last_report_date": p.last_report_date.map(|d| d.to_string()),
    })
}

/// `GET /portal/projects?county=330402`
pub async fn projects(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/portal/projects", headers, q);
    let county = ctx.param("county").unwrap_or("").to_string();
    if !county.is_empty()
        && s.store
            .reference
            .areas
            .get(&county)
            .is_none_or(|a| a.level != laoxiao_model::AreaLevel::County)
    {
        let msg = s
            .cat
            .fill(ctx.lang, "error.unknown_area", &[("code", county)]);
        return s.error_page(&ctx, PageError::NotFound(msg));
    }
    let today = Utc::now().date_naive();
    let all = match s.db(move |c, r| kp::public(c, r, today)).await {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let counties: Vec<Json> = kp::by_county(&all)
        .iter()
        .map(|c| {
            json!({
                "code": c.county_code,
                "name": if c.county_code.is_empty() { s.t(&ctx, "key_projects.city_total") } else { c.county_name.clone() },
                "total": c.county_code.is_empty(),
                "projects": c.projects,
                "completed": c.completed,
                "behind": c.behind,
                "beds_planned": c.beds_planned,
                "beds_delivered": c.beds_delivered,
                "slots_planned": c.slots_planned,
                "slots_delivered": c.slots_delivered,
                "investment_planned": amount(c.investment_planned_10k_yuan),
                "investment_spent": amount(c.investment_spent_10k_yuan),
                "selected": c.county_code == county,
            })
        })
        .collect();
    let rows: Vec<Json> = all
        .iter()
        .filter(|p| county.is_empty() || p.county_code == county)
        .map(|p| row(&s, &ctx, p))
        .collect();
    let chosen = all
        .iter()
        .find(|p| p.county_code == county)
        .map(|p| p.county_name.clone());
    let id = "key-projects";
    let page = json!({
        "counties": counties,
        "rows": rows,
        "county": county,
        "chosen": chosen,
        "today": today.to_string(),
        "dataset": {
            "url": format!("/portal/data/{id}"),
            "files": OpenFormat::ALL.iter().map(|f| json!({
                "label": f.label(),
                "url": format!("/portal/data/{id}/{}", f.file_name()),
            })).collect::<Vec<_>>(),
        },
        "en": ctx.lang == Lang::En,
    });
    render(&s, &ctx, "portal_projects.html", "portal_projects", page)
}
