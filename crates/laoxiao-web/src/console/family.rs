//! Services families order (子女网上下单、老人体验服务) in the console.
//!
//! - The family home (家属首页, `/console/family`): verified relatives with
//!   this month's voucher balances, a relative's catalogue with the order
//!   form, the orders with their payment split (cancel before delivery, rate
//!   after), and the request to be linked to a relative with its status.
//! - Area staff verify or refuse link requests (`/console/family/links`).
//! - A provider's order queue (`/console/family/orders`): accept, refuse,
//!   deliver (which writes the service record).
//! - The month's settlement per provider (`/console/family/settlement`).
//!
//! Every rule is the store's (`laoxiao_store::family`): who sees what, the
//! voucher split, the order's states; these handlers only carry forms.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::admission as adm;
use laoxiao_store::family::{
    self as fam, Link, LinkStatus, NewOrder, Order, OrderQuery, OrderStatus, Step,
};
use laoxiao_store::{Perm, StoreError};
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::encode_segment;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

pub(super) fn errors_json(errors: &[FieldError]) -> Vec<Json> {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect()
}

/// A fresh id for one rendering of the order form: submitting the same form
/// twice (a double click, a resent request) answers the first order.
fn request_id() -> String {
    format!("c-{:016x}", rand::random::<u64>())
}

/// Field errors, conflicts and a step the role may not take go back on the
/// form (422, 409); the rest is an error page.
pub(super) fn form_errors(e: PageError) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    match e {
        PageError::Store(StoreError::Invalid(errs)) => Ok((StatusCode::UNPROCESSABLE_ENTITY, errs)),
        PageError::Store(e @ (StoreError::Conflict(_) | StoreError::Forbidden(_))) => Ok((
            StatusCode::CONFLICT,
            vec![FieldError::new("", e.to_string())],
        )),
        other => Err(other),
    }
}

fn notice(s: &ConsoleState, ctx: &Ctx, allowed: &[&str]) -> Option<String> {
    ctx.param("done")
        .filter(|d| allowed.contains(d))
        .map(|d| s.t(ctx, &format!("family.done_{d}")))
}

fn order_row(s: &ConsoleState, ctx: &Ctx, o: &Order) -> Json {
    json!({
        "id": o.id,
        "date": o.service_date.to_string(),
        "person": o.person_name_masked,
        "item": o.item_name,
        "category": s.t(ctx, &format!("family.cat_{}", o.category.code())),
        "quantity": o.quantity,
        "unit": o.unit,
        "provider": o.provider_name,
        "status_code": o.status.code(),
        "status": s.t(ctx, &format!("family.status_{}", o.status.code())),
        "total": fam::yuan(o.total_fen),
        "voucher": fam::yuan(o.voucher_fen),
        "family": fam::yuan(o.family_fen),
        "explanation": o.explanation,
        "note": o.note,
        "rating": o.rating,
        "rating_comment": o.rating_comment,
        "close_reason": o.close_reason,
        "delivered_date": o.delivered_date.map(|d| d.to_string()),
        "delivered_by": o.delivered_by,
        "can_cancel": matches!(o.status, OrderStatus::Placed | OrderStatus::Accepted),
        "can_rate": o.status == OrderStatus::Delivered,
        "can_accept": o.status == OrderStatus::Placed,
        "can_deliver": o.status == OrderStatus::Accepted,
        "can_refuse": matches!(o.status, OrderStatus::Placed | OrderStatus::Accepted),
    })
}

fn link_row(s: &ConsoleState, ctx: &Ctx, l: &Link) -> Json {
    json!({
        "id": l.id,
        "username": l.username,
        "person": l.person_name_masked,
        "relationship": s.t(ctx, &format!("family.rel_{}", l.relationship.code())),
        "status_code": l.status.code(),
        "status": s.t(ctx, &format!("family.link_{}", l.status.code())),
        "requested_at": l.requested_at,
        "decided_by": l.decided_by,
        "decided_at": l.decided_at,
        "reason": l.decision_reason,
    })
}

// ---------------------------------------------------------------- family

/// `GET /console/family`: the family home.
pub async fn home(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    render_home(&s, &ctx, StatusCode::OK, &[], json!({})).await
}

pub(super) async fn render_home(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let data = s
        .db(move |c, _| {
            let rel = fam::relatives(c, &scope, today())?;
            let orders = fam::orders(
                c,
                &scope,
                &OrderQuery {
                    limit: 100,
                    ..Default::default()
                },
            )?;
            let links = fam::my_links(c, &scope)?;
            let childcare = super::enrolment::family_data(c, &scope)?;
            Ok((rel, orders, links, childcare))
        })
        .await;
    let (relatives, orders, links, childcare) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let relatives: Vec<_> = relatives
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "order_url": format!("/console/family/relatives/{}", encode_segment(&r.person_id)),
                "relationship": s.t(ctx, &format!("family.rel_{}", r.relationship.code())),
                "ability": r.ability_level.map(|a| s.t(ctx, &format!("family.ability_{}", a.code()))),
                "balances": r.balances.iter().filter(|b| b.monthly_fen > 0).map(|b| json!({
                    "category": s.t(ctx, &format!("family.cat_{}", b.category.code())),
                    "monthly": fam::yuan(b.monthly_fen),
                    "left": fam::yuan(b.left_fen),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let pending_links = links
        .iter()
        .filter(|l| l.status != LinkStatus::Verified)
        .map(|l| link_row(s, ctx, l))
        .collect::<Vec<_>>();
    let relationships: Vec<Json> = ["child", "spouse", "other", "parent", "guardian"]
        .iter()
        .map(|r| {
            json!({"value": r, "label": s.t(ctx, &format!("family.rel_{r}")),
                   "selected": form.get("relationship").and_then(|v| v.as_str()) == Some(*r)})
        })
        .collect();
    let page = json!({
        "relatives": relatives,
        "orders": orders.iter().map(|o| order_row(s, ctx, o)).collect::<Vec<_>>(),
        "links": pending_links,
        "relationships": relationships,
        "childcare": super::enrolment::family_json(s, ctx, &childcare, &form),
        "notice": notice(s, ctx, &["placed", "cancel", "rate", "link", "cc_applied", "cc_accept", "cc_decline", "cc_withdraw"]),
        "error_list": errors_json(errors),
        "f": form,
    });
    s.render_status(ctx, status, "family.html", "family", page)
}

/// `POST /console/family`: ask to be linked to a relative (by ID number; the
/// number is never echoed back).
pub async fn request_link(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let number = field(&form, "id_number").unwrap_or_default().to_string();
    let rel = field(&form, "relationship").unwrap_or_default().to_string();
    let keep = json!({"relationship": rel});
    let scope = ctx.scope();
    let r = s
        .db(move |c, reference| fam::request_link(c, reference, &scope, &number, &rel))
        .await;
    match r {
        Ok(_) => Redirect::to("/console/family?done=link").into_response(),
        // Not found says only that no elderly person has the number.
        Err(PageError::NotFound(_)) => {
            let e = [FieldError::new(
                "id_number",
                s.t(&ctx, "family.no_such_person"),
            )];
            render_home(&s, &ctx, StatusCode::NOT_FOUND, &e, keep).await
        }
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_home(&s, &ctx, st, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `GET /console/family/relatives/{id}`: a relative's catalogue and the
/// order form.
pub async fn relative(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!("/console/family/relatives/{}", encode_segment(&id));
    let ctx = ctx_or_error!(s, &path, headers, q);
    render_relative(&s, &ctx, StatusCode::OK, id, &[], json!({})).await
}

async fn render_relative(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    id: String,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let pid = id.clone();
    let data = s
        .db(move |c, reference| {
            let rel = fam::relatives(c, &scope, today())?
                .into_iter()
                .find(|r| r.person_id == pid);
            if rel.is_none() {
                return Ok((Vec::new(), None, Vec::new(), Vec::new()));
            }
            let offers = fam::catalogue_for(c, reference, &scope, &pid)?;
            let homes = adm::family_homes(c, &scope, &pid, today())?;
            let apps: Vec<_> = adm::family_applications(c, &scope, today())?
                .into_iter()
                .filter(|a| a.person_id == pid)
                .collect();
            Ok((offers, rel, homes, apps))
        })
        .await;
    let (offers, rel, homes, apps) = match data {
        Ok((o, Some(r), h, a)) => (o, r, h, a),
        Ok((_, None, _, _)) => {
            return s.error_page(ctx, PageError::NotFound(format!("relative {id}")));
        }
        Err(e) => return s.error_page(ctx, e),
    };
    let picked: Vec<String> = form
        .get("facility_ids")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let open_homes: Vec<&str> = apps
        .iter()
        .filter(|a| a.status.is_open())
        .map(|a| a.facility_id.as_str())
        .collect();
    let homes: Vec<Json> = homes
        .iter()
        .map(|h| {
            json!({
                "id": h.id,
                "name": h.name,
                "beds": h.beds,
                "free": (h.beds - h.occupied - h.open_offers).max(0),
                "waiting": h.waiting,
                "checked": picked.contains(&h.id),
                "applied": open_homes.contains(&h.id.as_str()),
            })
        })
        .collect();
    let zh = ctx.lang == super::i18n::Lang::Zh;
    let apps: Vec<Json> = apps
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "action": format!("/console/family/admission/{}", encode_segment(&a.id)),
                "home": a.facility_name,
                "applied": a.applied_date.to_string(),
                "status_code": a.status.code(),
                "status": s.t(ctx, &format!("family.adm_{}", a.status.code())),
                "position": a.position,
                "explanation": if zh { a.explanation_zh.clone() } else { a.explanation_en.clone() },
                "deadline": a.offer_deadline.map(|d| d.to_string()),
                "can_answer": a.status == adm::AppStatus::Offered,
                "can_withdraw": a.status.is_open(),
                "close_reason": a.close_reason,
            })
        })
        .collect();
    let chosen = form.get("item_id").and_then(|v| v.as_str()).unwrap_or("");
    let items: Vec<Json> = offers
        .iter()
        .map(|o| {
            json!({
                "id": o.item.id,
                "provider": o.provider_name,
                "category": s.t(ctx, &format!("family.cat_{}", o.item.category.code())),
                "name": o.item.name,
                "price": fam::yuan(o.item.price_fen),
                "unit": o.item.unit,
                "selected": o.item.id == chosen,
            })
        })
        .collect();
    let tomorrow = today().succ_opt().unwrap_or_else(today);
    let page = json!({
        "person_id": id,
        "action": format!("/console/family/relatives/{}", encode_segment(&id)),
        "name": rel.name,
        "relationship": s.t(ctx, &format!("family.rel_{}", rel.relationship.code())),
        "balances": rel.balances.iter().filter(|b| b.monthly_fen > 0).map(|b| json!({
            "category": s.t(ctx, &format!("family.cat_{}", b.category.code())),
            "monthly": fam::yuan(b.monthly_fen),
            "left": fam::yuan(b.left_fen),
        })).collect::<Vec<_>>(),
        "items": items,
        "request_id": form.get("client_request_id").and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(request_id),
        "quantity": form.get("quantity").and_then(|v| v.as_str()).unwrap_or("1"),
        "service_date": form.get("service_date").and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(|| tomorrow.to_string()),
        "note": form.get("note").and_then(|v| v.as_str()).unwrap_or(""),
        "error_list": errors_json(errors),
        "homes": homes,
        "apps": apps,
        "adm_action": format!("/console/family/relatives/{}/admission", encode_segment(&id)),
        "adm_note": form.get("adm_note").and_then(|v| v.as_str()).unwrap_or(""),
        "notice": notice(s, ctx, &["adm_applied", "adm_accept", "adm_decline", "adm_withdraw"]),
    });
    s.render_status(ctx, status, "family_relative.html", "family", page)
}

/// `POST /console/family/relatives/{id}`: place an order for the relative.
pub async fn place(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let path = format!("/console/family/relatives/{}", encode_segment(&id));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let get = |k: &str| field(&form, k).unwrap_or_default().to_string();
    let keep = json!({
        "item_id": get("item_id"), "quantity": get("quantity"),
        "service_date": get("service_date"), "note": get("note"),
        "client_request_id": get("client_request_id"),
    });
    let mut errs = Vec::new();
    let quantity = match get("quantity").parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errs.push(FieldError::new(
                "quantity",
                s.t(&ctx, "family.quantity_bad"),
            ));
            0
        }
    };
    let date = NaiveDate::parse_from_str(&get("service_date"), "%Y-%m-%d").ok();
    if date.is_none() {
        errs.push(FieldError::new(
            "service_date",
            s.t(&ctx, "family.date_bad"),
        ));
    }
    let item_id = get("item_id");
    if item_id.is_empty() {
        errs.push(FieldError::new(
            "item_id",
            s.t(&ctx, "family.item_required"),
        ));
    }
    let (Some(service_date), true) = (date, errs.is_empty()) else {
        return render_relative(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &errs, keep).await;
    };
    let crid = get("client_request_id");
    let order = NewOrder {
        client_request_id: if crid.is_empty() { request_id() } else { crid },
        person_id: id.clone(),
        item_id,
        quantity,
        service_date,
        note: get("note"),
    };
    let scope = ctx.scope();
    let r = s
        .db(move |c, reference| fam::place(c, reference, &scope, &order, today()))
        .await;
    match r {
        Ok((o, _)) => {
            Redirect::to(&format!("/console/family?done=placed#order-{}", o.id)).into_response()
        }
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_relative(&s, &ctx, st, id, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `POST /console/family/my-orders/{id}`: a family's step on its order,
/// `action` = cancel (with a reason) or rate (1–5, a comment).
pub async fn family_step(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let step = match action.as_str() {
        "cancel" => Step::Cancel {
            reason: field(&form, "reason").unwrap_or_default().to_string(),
        },
        "rate" => match field(&form, "rating").and_then(|r| r.parse::<i64>().ok()) {
            Some(rating) => Step::Rate {
                rating,
                comment: field(&form, "comment").unwrap_or_default().to_string(),
            },
            None => {
                let e = [FieldError::new(
                    "rating",
                    s.t(&ctx, "family.rating_required"),
                )];
                return render_home(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e, json!({}))
                    .await;
            }
        },
        _ => {
            let e = [FieldError::new(
                "action",
                s.t(&ctx, "family.action_unknown"),
            )];
            return render_home(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e, json!({})).await;
        }
    };
    let scope = ctx.scope();
    let r = s
        .db(move |c, _| fam::step(c, &scope, &id, &step, today()))
        .await;
    match r {
        Ok(_) => Redirect::to(&format!("/console/family?done={action}")).into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_home(&s, &ctx, st, &errs, json!({})).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `POST /console/family/relatives/{id}/admission`: apply for the relative
/// to the care homes ticked (`facility_ids`, repeated), with a note.
pub async fn admission_apply(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let back = format!("/console/family/relatives/{}", encode_segment(&id));
    let ctx = ctx_or_error!(s, &back, headers, q);
    let homes: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "facility_ids")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .take(adm::MAX_HOMES + 1)
        .collect();
    let note = field(&form, "adm_note").unwrap_or_default().to_string();
    let keep = json!({"facility_ids": homes, "adm_note": note});
    if homes.is_empty() {
        let e = [FieldError::new(
            "facility_ids",
            s.t(&ctx, "family.adm_choose_home"),
        )];
        return render_relative(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &e, keep).await;
    }
    let scope = ctx.scope();
    let pid = id.clone();
    let r = s
        .db(move |c, _| adm::family_apply(c, &scope, &pid, &homes, Some(&note), today()))
        .await;
    match r {
        Ok(_) => Redirect::to(&format!("{back}?done=adm_applied#h-adm")).into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_relative(&s, &ctx, st, id, &errs, keep).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `POST /console/family/admission/{id}`: the family's answer to an offer
/// (`step` = accept or decline) or its withdrawal (`withdraw`).
pub async fn admission_step(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let code = field(&form, "step").unwrap_or_default().to_string();
    let step = match code.as_str() {
        "accept" => adm::Step::Accept,
        "decline" => adm::Step::Decline,
        "withdraw" => adm::Step::Withdraw,
        _ => {
            let e = [FieldError::new("step", s.t(&ctx, "family.action_unknown"))];
            return render_home(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e, json!({})).await;
        }
    };
    let scope = ctx.scope();
    let r = s
        .db(move |c, _| adm::family_step(c, &scope, &id, step, None, today()))
        .await;
    match r {
        Ok(a) => Redirect::to(&format!(
            "/console/family/relatives/{}?done=adm_{code}#h-adm",
            encode_segment(&a.person_id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_home(&s, &ctx, st, &errs, json!({})).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- staff

/// The staff pages' own links (one nav entry leads here).
fn subnav(ctx: &Ctx) -> Json {
    json!({
        "orders": ctx.auth.can(Perm::ServeOrders),
        "links": ctx.auth.can(Perm::WritePeople),
        "settlement": ctx.auth.can(Perm::ReadSettlement),
    })
}

/// Where the nav's one entry for staff leads: the first of the pages the
/// role may open (a provider's queue, the links to verify, the settlement).
pub fn staff_landing(can: impl Fn(Perm) -> bool) -> Option<&'static str> {
    if can(Perm::OrderServices) {
        None
    } else if can(Perm::ServeOrders) {
        Some("/console/family/orders")
    } else if can(Perm::WritePeople) {
        Some("/console/family/links")
    } else if can(Perm::ReadSettlement) {
        Some("/console/family/settlement")
    } else {
        None
    }
}

/// `GET /console/family/links`: link requests in the caller's area to verify,
/// and verified links (which may be revoked).
pub async fn links(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/links", headers, q);
    render_links(&s, &ctx, StatusCode::OK, &[]).await
}

async fn render_links(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let data = s
        .db(move |c, _| {
            let requested = fam::links_in_scope(c, &scope, LinkStatus::Requested)?;
            let verified = fam::links_in_scope(c, &scope, LinkStatus::Verified)?;
            Ok((requested, verified))
        })
        .await;
    let (requested, verified) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let row = |l: &Link| {
        let mut r = link_row(s, ctx, l);
        r["action"] = json!(format!("/console/family/links/{}", encode_segment(&l.id)));
        r
    };
    let page = json!({
        "requested": requested.iter().map(row).collect::<Vec<_>>(),
        "verified": verified.iter().map(row).collect::<Vec<_>>(),
        "sub": subnav(ctx),
        "notice": notice(s, ctx, &["verify", "refuse"]),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "family_links.html", "family_staff", page)
}

/// `POST /console/family/links/{id}`: `action` = verify, or refuse (a
/// requested link, or revoke a verified one) with a reason.
pub async fn decide_link(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/links", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let verify = match action.as_str() {
        "verify" => true,
        "refuse" => false,
        _ => {
            let e = [FieldError::new(
                "action",
                s.t(&ctx, "family.action_unknown"),
            )];
            return render_links(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e).await;
        }
    };
    let reason = field(&form, "reason").unwrap_or_default().to_string();
    let scope = ctx.scope();
    let r = s
        .db(move |c, _| fam::decide_link(c, &scope, &id, verify, &reason))
        .await;
    match r {
        Ok(_) => Redirect::to(&format!("/console/family/links?done={action}")).into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_links(&s, &ctx, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `GET /console/family/orders?status=…`: the provider's order queue by
/// status (city administrators: every provider in their area).
pub async fn orders(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/orders", headers, q);
    render_orders(&s, &ctx, StatusCode::OK, &[]).await
}

async fn render_orders(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let chosen = match ctx.param("status") {
        None => OrderStatus::Placed,
        Some(p) => match OrderStatus::parse(p) {
            Some(st) => st,
            None => {
                return s.error_page(
                    ctx,
                    PageError::BadRequest(
                        "status: placed, accepted, delivered, rated, cancelled or refused".into(),
                    ),
                );
            }
        },
    };
    let scope = ctx.scope();
    let data = s
        .db(move |c, _| {
            let counts = fam::counts(c, &scope)?;
            let list = fam::orders(
                c,
                &scope,
                &OrderQuery {
                    status: Some(chosen),
                    limit: fam::MAX_LIST,
                    ..Default::default()
                },
            )?;
            Ok((counts, list))
        })
        .await;
    let (counts, list) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let tabs: Vec<Json> = OrderStatus::ALL
        .iter()
        .map(|st| {
            json!({
                "url": format!("/console/family/orders?status={}", st.code()),
                "label": s.t(ctx, &format!("family.status_{}", st.code())),
                "count": counts.get(st.code()).copied().unwrap_or(0),
                "current": *st == chosen,
            })
        })
        .collect();
    let rows: Vec<Json> = list
        .iter()
        .map(|o| {
            let mut r = order_row(s, ctx, o);
            r["action"] = json!(format!("/console/family/orders/{}", encode_segment(&o.id)));
            r
        })
        .collect();
    let page = json!({
        "tabs": tabs,
        "status": s.t(ctx, &format!("family.status_{}", chosen.code())),
        "status_code": chosen.code(),
        "orders": rows,
        "today": today().to_string(),
        "sub": subnav(ctx),
        "can_serve": ctx.scope().facility().is_some(),
        "notice": notice(s, ctx, &["accept", "refuse", "deliver"]),
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "family_orders.html", "family_staff", page)
}

/// `POST /console/family/orders/{id}`: a provider's step, `action` =
/// accept, refuse (a reason) or deliver (date and who delivered).
pub async fn provider_step(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/orders", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let step = match action.as_str() {
        "accept" => Step::Accept,
        "refuse" => Step::Refuse {
            reason: field(&form, "reason").unwrap_or_default().to_string(),
        },
        "deliver" => {
            match field(&form, "date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
                Some(date) => Step::Deliver {
                    date,
                    by: field(&form, "delivered_by").unwrap_or_default().to_string(),
                },
                None => {
                    let e = [FieldError::new("date", s.t(&ctx, "family.date_bad"))];
                    return render_orders(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e).await;
                }
            }
        }
        _ => {
            let e = [FieldError::new(
                "action",
                s.t(&ctx, "family.action_unknown"),
            )];
            return render_orders(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &e).await;
        }
    };
    let back = ctx
        .param("status")
        .and_then(OrderStatus::parse)
        .map(|st| st.code())
        .unwrap_or("placed");
    let scope = ctx.scope();
    let r = s
        .db(move |c, _| fam::step(c, &scope, &id, &step, today()))
        .await;
    match r {
        Ok(_) => Redirect::to(&format!(
            "/console/family/orders?status={back}&done={action}"
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_orders(&s, &ctx, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

/// `GET /console/family/settlement?month=YYYY-MM`: one line per provider in
/// the caller's area: delivered orders, what the voucher fund owes, what
/// families paid.
pub async fn settlement(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/settlement", headers, q);
    let month = match ctx.param("month") {
        None => fam::month_of(today()),
        Some(m) => {
            let ok = m.len() == 7
                && NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                    .is_ok_and(|d| (2020..=2035).contains(&chrono::Datelike::year(&d)));
            if !ok {
                return s.error_page(
                    &ctx,
                    PageError::BadRequest("month: YYYY-MM from 2020 to 2035".into()),
                );
            }
            m.to_string()
        }
    };
    let scope = ctx.scope();
    let m2 = month.clone();
    let lines = match s.db(move |c, _| fam::settlement(c, &scope, &m2)).await {
        Ok(l) => l,
        Err(e) => return s.error_page(&ctx, e),
    };
    let mut total = (0i64, 0i64, 0i64, 0i64);
    let rows: Vec<Json> = lines
        .iter()
        .map(|l| {
            total.0 += l.orders;
            total.1 += l.total_fen;
            total.2 += l.voucher_fen;
            total.3 += l.family_fen;
            json!({
                "provider": l.provider_name,
                "url": format!("/console/facilities/{}", encode_segment(&l.facility_id)),
                "orders": l.orders,
                "total": fam::yuan(l.total_fen),
                "voucher": fam::yuan(l.voucher_fen),
                "family": fam::yuan(l.family_fen),
            })
        })
        .collect();
    let page = json!({
        "month": month,
        "lines": rows,
        "total": {"orders": total.0, "total": fam::yuan(total.1), "voucher": fam::yuan(total.2), "family": fam::yuan(total.3)},
        "sub": subnav(&ctx),
    });
    s.render(&ctx, "family_settlement.html", "family_staff", page)
}
