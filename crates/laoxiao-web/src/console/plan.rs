//! The plan (规划): the indicator table and the key projects of
//! 《嘉兴市“十四五”时期“一老一小”整体解决方案》, as embedded in `laoxiao-rules`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use laoxiao_rules::plan::IndicatorGroup;
use serde_json::json;

use super::{ConsoleState, ctx_or_error};

fn group_code(g: IndicatorGroup) -> &'static str {
    match g {
        IndicatorGroup::Elderly => "elderly",
        IndicatorGroup::Childcare => "childcare",
    }
}

/// `GET /console/plan`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/plan", headers, q);
    let groups: Vec<serde_json::Value> = [IndicatorGroup::Elderly, IndicatorGroup::Childcare]
        .iter()
        .map(|g| {
            let rows: Vec<serde_json::Value> = s
                .plan
                .indicators_in(*g)
                .map(|i| {
                    json!({
                        "number": i.number,
                        "name": i.name_zh,
                        "unit": i.unit,
                        "baseline": i.baseline_2020.raw,
                        "t2022": i.target_2022.raw,
                        "t2025": i.target_2025.raw,
                        "unit_resp": i.responsible_unit,
                    })
                })
                .collect();
            json!({"group": group_code(*g), "rows": rows})
        })
        .collect();
    let projects: Vec<serde_json::Value> = s
        .plan
        .key_projects
        .iter()
        .map(|p| {
            json!({
                "number": p.number,
                "name": p.name,
                "group": group_code(p.project_type),
                "place": match &p.town { Some(t) => format!("{} {}", p.county, t), None => p.county.clone() },
                "description": p.description,
                "capacity": p.capacity,
                "capacity_kind": p.capacity_kind.map(|k| match k {
                    laoxiao_rules::plan::CapacityKind::Beds => "beds",
                    laoxiao_rules::plan::CapacityKind::Slots => "slots",
                }),
                "investment": p.total_investment_10k_yuan,
                "central": p.central_funding_requested_10k_yuan,
                "granted": p.central_funding_granted,
                "unit": p.implementing_unit,
            })
        })
        .collect();
    let total_investment: f64 = s
        .plan
        .key_projects
        .iter()
        .map(|p| p.total_investment_10k_yuan)
        .sum();
    let page = json!({
        "groups": groups,
        "n_indicators": s.plan.indicators.len(),
        "projects": projects,
        "n_projects": s.plan.key_projects.len(),
        "total_investment": (total_investment * 100.0).round() / 100.0,
    });
    s.render(&ctx, "plan.html", "plan", page)
}
