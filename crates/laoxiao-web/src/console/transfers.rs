//! Transfer requests (迁入申请): request the record of a person registered in
//! another area, and decide on requests for records one holds. The rules are
//! the store's (`laoxiao_store::transfers`); ID numbers are masked here too,
//! and a typed ID number is never echoed back.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_store::StoreError;
use laoxiao_store::transfers::{self, Decision, Mailbox, Transfer};
use serde_json::{Value as Json, json};

use super::{ConsoleState, Ctx, PageError, ctx_or_error};

pub(super) type FormData = Vec<(String, String)>;

/// A form field's value (the last one given), trimmed, empty as absent.
pub(super) fn field<'a>(form: &'a FormData, name: &str) -> Option<&'a str> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Towns and villages in the caller's scope, for the target select.
fn area_choices(s: &ConsoleState, ctx: &Ctx, selected: &str) -> Vec<Json> {
    let areas = &s.store.reference.areas;
    let scope = ctx.scope();
    let mut v: Vec<Json> = areas
        .subtree(&ctx.area.code)
        .into_iter()
        .filter(|a| matches!(a.level, AreaLevel::Town | AreaLevel::Village))
        .filter(|a| scope.contains_path(&a.path))
        .map(|a| {
            let label = areas
                .ancestors(&a.code)
                .iter()
                .skip(1)
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(" / ");
            json!({"value": a.code, "label": label, "selected": a.code == selected})
        })
        .collect();
    v.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    v
}

fn row(s: &ConsoleState, ctx: &Ctx, t: &Transfer) -> Json {
    json!({
        "id": t.id,
        "status": t.status.code(),
        "status_label": s.t(ctx, &format!("transfer.status_{}", t.status.code())),
        "open": t.status == transfers::TransferStatus::Open,
        "id_number": t.id_number_masked,
        "person_url": t.person_id.as_ref().map(|p| format!("/console/people/{}", crate::encode_segment(p))),
        "person_id": t.person_id,
        "person_name": t.person_name,
        "holding_area": t.holding_area_code.as_deref().map(|c| super::area_name(s, c)),
        "to_area": super::area_name(s, &t.to_area_code),
        "reason": t.reason,
        "requested_by": t.requested_by,
        "requested_at": t.requested_at,
        "expires_at": t.expires_at,
        "decided_by": t.decided_by,
        "decision_reason": t.decision_reason,
        "action": format!("/console/transfers/{}", crate::encode_segment(&t.id)),
    })
}

async fn render(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    form: Json,
) -> Response {
    let scope = ctx.scope();
    let lists = s
        .db(move |c, r| {
            let i = transfers::list(c, r, &scope, Mailbox::Incoming, None)?;
            let o = transfers::list(c, r, &scope, Mailbox::Outgoing, None)?;
            Ok((i, o))
        })
        .await;
    let (incoming, outgoing) = match lists {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let selected = form
        .get("to_area_code")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let notice = ctx
        .param("done")
        .filter(|d| ["requested", "approve", "refuse", "withdraw"].contains(d))
        .map(|d| s.t(ctx, &format!("transfer.done_{d}")));
    let page = json!({
        "incoming": incoming.iter().map(|t| row(s, ctx, t)).collect::<Vec<_>>(),
        "outgoing": outgoing.iter().map(|t| row(s, ctx, t)).collect::<Vec<_>>(),
        "areas": area_choices(s, ctx, &selected),
        "f": form,
        "notice": notice,
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
    });
    s.render_status(ctx, status, "transfers.html", "transfers", page)
}

/// `GET /console/transfers`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/transfers", headers, q);
    render(&s, &ctx, StatusCode::OK, &[], json!({})).await
}

/// A failed action: field errors and conflicts on the page, the rest as an
/// error page.
async fn failed(s: &ConsoleState, ctx: &Ctx, e: PageError, form: Json) -> Response {
    match e {
        PageError::Store(StoreError::Invalid(errs)) => {
            render(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, form).await
        }
        PageError::Store(e @ StoreError::Conflict(_)) => {
            let errs = [FieldError::new("", e.to_string())];
            render(s, ctx, StatusCode::CONFLICT, &errs, form).await
        }
        other => s.error_page(ctx, other),
    }
}

/// `POST /console/transfers`: a new request.
pub async fn create(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/transfers", headers, q);
    let number = field(&form, "id_number").unwrap_or_default().to_string();
    let to = field(&form, "to_area_code").unwrap_or_default().to_string();
    let reason = field(&form, "reason").unwrap_or_default().to_string();
    // The ID number is not sent back (it would leave the server in full).
    let keep = json!({"to_area_code": to, "reason": reason});
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| transfers::request(c, r, &scope, &number, &to, &reason))
        .await;
    match res {
        Ok(_) => Redirect::to("/console/transfers?done=requested").into_response(),
        Err(e) => failed(&s, &ctx, e, keep).await,
    }
}

/// `POST /console/transfers/{id}`: `action` = approve, refuse or withdraw.
pub async fn decide(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/transfers", headers, q);
    let decision = match field(&form, "action") {
        Some("approve") => Decision::Approve,
        Some("refuse") => Decision::Refuse,
        Some("withdraw") => Decision::Withdraw,
        _ => {
            let errs = [FieldError::new(
                "action",
                "one of approve, refuse, withdraw",
            )];
            return render(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs, json!({})).await;
        }
    };
    let reason = field(&form, "reason").map(str::to_string);
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| transfers::decide(c, r, &scope, &id, decision, reason.as_deref()))
        .await;
    match res {
        Ok(_) => {
            Redirect::to(&format!("/console/transfers?done={}", decision.code())).into_response()
        }
        Err(e) => failed(&s, &ctx, e, json!({})).await,
    }
}
