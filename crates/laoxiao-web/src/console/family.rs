//! The family home (家属首页): the account's verified relatives with this
//! month's voucher balances, and its orders with the payment split. What it
//! shows comes from `laoxiao_store::family`, which finds only verified
//! relatives; ordering and rating go through `/api/family/…` for now.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use laoxiao_store::family::{self as fam, OrderQuery};
use serde_json::json;

use super::{ConsoleState, ctx_or_error};

/// `GET /console/family`.
pub async fn home(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let scope = ctx.scope();
    let today = chrono::Local::now().date_naive();
    let data = s
        .db(move |c, _| {
            let rel = fam::relatives(c, &scope, today)?;
            let orders = fam::orders(
                c,
                &scope,
                &OrderQuery {
                    limit: 100,
                    ..Default::default()
                },
            )?;
            Ok((rel, orders))
        })
        .await;
    let (relatives, orders) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let relatives: Vec<_> = relatives
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "relationship": s.t(&ctx, &format!("family.rel_{}", r.relationship.code())),
                "ability": r.ability_level.map(|a| s.t(&ctx, &format!("family.ability_{}", a.code()))),
                "balances": r.balances.iter().filter(|b| b.monthly_fen > 0).map(|b| json!({
                    "category": s.t(&ctx, &format!("family.cat_{}", b.category.code())),
                    "monthly": fam::yuan(b.monthly_fen),
                    "left": fam::yuan(b.left_fen),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let orders: Vec<_> = orders
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "date": o.service_date.to_string(),
                "item": o.item_name,
                "provider": o.provider_name,
                "status": s.t(&ctx, &format!("family.status_{}", o.status.code())),
                "total": fam::yuan(o.total_fen),
                "voucher": fam::yuan(o.voucher_fen),
                "family": fam::yuan(o.family_fen),
                "explanation": o.explanation,
                "rating": o.rating,
            })
        })
        .collect();
    s.render(
        &ctx,
        "family.html",
        "family",
        json!({"relatives": relatives, "orders": orders}),
    )
}
