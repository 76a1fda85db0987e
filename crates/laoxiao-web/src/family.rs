//! Services families order (子女网上下单): `/api/family/…` for family
//! accounts (their verified relatives, the catalogue that serves them, their
//! orders), `/api/family/links…` for staff who verify links,
//! `/api/provider/orders…` for providers, `/api/settlement` for the city and
//! counties. The store decides what each caller sees (`laoxiao_store::family`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::family::{self as fam, LinkStatus, NewOrder, OrderQuery, OrderStatus, Step};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn date(field: &str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(vec![FieldError::new(field, "a date, YYYY-MM-DD")]))
}

/// The calling family's verified relatives with this month's vouchers.
#[utoipa::path(
    get,
    path = "/api/family/relatives",
    operation_id = "list_family_relatives",
    tag = "family",
    summary = "Your verified relatives, their ability level and voucher balances",
    responses((status = 200, description = "`items`: relatives with `balances` per category (fen)", body = Object))
)]
pub async fn relatives(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(fam::relatives(c, &scope, today())?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// The active catalogue items that serve a verified relative's area.
#[utoipa::path(
    get,
    path = "/api/family/relatives/{id}/catalogue",
    operation_id = "list_family_catalogue",
    tag = "family",
    params(("id" = String, Path, description = "The relative's person id")),
    responses(
        (status = 200, description = "`items`: catalogue items with the provider's name", body = Object),
        (status = 404, description = "Not one of your verified relatives", body = ErrorBody),
    )
)]
pub async fn catalogue(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| {
        Ok(fam::catalogue_for(c, r, &scope, &id)?)
    })
    .await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// A link request: the relative's ID number and how you are related.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The elderly person's citizen ID number (GB 11643).
    #[schema(min_length = 15, max_length = 18, example = "330402194005010023")]
    pub id_number: String,
    /// `child`, `spouse` or `other`.
    #[schema(example = "child", pattern = "^(child|spouse|other)$")]
    pub relationship: String,
}

/// Ask to be linked to an elderly relative; staff of the person's area verify.
#[utoipa::path(
    post,
    path = "/api/family/links",
    operation_id = "request_family_link",
    tag = "family",
    request_body = LinkInput,
    responses(
        (status = 201, description = "The link, `requested`", body = Object),
        (status = 404, description = "No elderly person with the ID number", body = ErrorBody),
        (status = 409, description = "A link is requested or verified already", body = ErrorBody),
        (status = 422, description = "A bad ID number or relationship", body = ErrorBody),
    )
)]
pub async fn request_link(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<LinkInput>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let link = blocking(&state, move |c, r| {
        Ok(fam::request_link(
            c,
            r,
            &scope,
            &b.id_number,
            &b.relationship,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(to_json(&link)?)).into_response())
}

/// Your links, newest first.
#[utoipa::path(
    get,
    path = "/api/family/links",
    operation_id = "list_family_links",
    tag = "family",
    responses((status = 200, description = "`items`: your links with their status", body = Object))
)]
pub async fn my_links(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(fam::my_links(c, &scope)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// Links waiting for verification in your area, oldest first.
#[utoipa::path(
    get,
    path = "/api/family/links/pending",
    operation_id = "list_pending_family_links",
    tag = "family",
    responses((status = 200, description = "`items`: requested links (names masked)", body = Object))
)]
pub async fn pending_links(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(fam::links_in_scope(c, &scope, LinkStatus::Requested)?)
    })
    .await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// A staff decision on a link.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDecision {
    /// Required to refuse or revoke.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

async fn decide(
    state: AppState,
    auth: Auth,
    id: String,
    verify: bool,
    reason: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let link = blocking(&state, move |c, _| {
        Ok(fam::decide_link(
            c,
            &scope,
            &id,
            verify,
            reason.as_deref().unwrap_or(""),
        )?)
    })
    .await?;
    Ok(Json(to_json(&link)?))
}

/// Verify a requested link of a person in your area.
#[utoipa::path(
    post,
    path = "/api/family/links/{id}/verify",
    operation_id = "verify_family_link",
    tag = "family",
    params(("id" = String, Path, description = "The link's id")),
    request_body = LinkDecision,
    responses(
        (status = 200, description = "Verified", body = Object),
        (status = 404, description = "No such link in your area", body = ErrorBody),
        (status = 409, description = "Not requested (any more)", body = ErrorBody),
    )
)]
pub async fn verify_link(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LinkDecision>,
) -> Result<Json<Value>, ApiError> {
    decide(state, auth, id, true, b.reason).await
}

/// Refuse a requested link, or revoke a verified one (a reason is required).
#[utoipa::path(
    post,
    path = "/api/family/links/{id}/refuse",
    operation_id = "refuse_family_link",
    tag = "family",
    params(("id" = String, Path, description = "The link's id")),
    request_body = LinkDecision,
    responses(
        (status = 200, description = "Refused or revoked", body = Object),
        (status = 404, description = "No such link in your area", body = ErrorBody),
        (status = 409, description = "Refused or revoked already", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    )
)]
pub async fn refuse_link(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<LinkDecision>,
) -> Result<Json<Value>, ApiError> {
    decide(state, auth, id, false, b.reason).await
}

query_params! {
    /// Filters of the order lists.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct OrderParams {
        /// `placed`, `accepted`, `delivered`, `rated`, `cancelled` or `refused`.
        #[param(pattern = "^(placed|accepted|delivered|rated|cancelled|refused)$")]
        pub status: Option<String>,
        /// A month, `2026-12`.
        #[param(pattern = "^20[0-9]{2}-(0[1-9]|1[0-2])$")]
        pub month: Option<String>,
    }
}

fn order_query(p: OrderParams) -> Result<OrderQuery, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(vec![FieldError::new("status", "not an order status")])
        })?),
    };
    if let Some(m) = &p.month
        && (m.len() != 7 || NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_err())
    {
        return Err(ApiError::invalid(vec![FieldError::new(
            "month",
            "a month, YYYY-MM",
        )]));
    }
    Ok(OrderQuery {
        status,
        month: p.month,
        person_id: None,
        limit: fam::MAX_LIST,
    })
}

/// Your orders (a family account), newest first.
#[utoipa::path(
    get,
    path = "/api/family/orders",
    operation_id = "list_family_orders",
    tag = "family",
    params(OrderParams),
    responses(
        (status = 200, description = "`items`: orders with their payment split", body = Object),
        (status = 422, description = "A bad filter (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn family_orders(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<OrderParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let q = order_query(p)?;
    let items = blocking(&state, move |c, _| Ok(fam::orders(c, &scope, &q)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// An order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// Your id for this submission: sending it again answers the first order.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_-]+$",
        example = "b7c1-2026-12-12"
    )]
    pub client_request_id: String,
    /// A verified relative.
    #[schema(min_length = 1, max_length = 100)]
    pub person_id: String,
    /// A catalogue item serving the relative's area.
    #[schema(min_length = 1, max_length = 100)]
    pub item_id: String,
    #[schema(minimum = 1, maximum = 31)]
    pub quantity: i64,
    /// The service date (at most 7 days back, 90 ahead).
    #[schema(format = Date, example = "2026-12-12")]
    pub service_date: String,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Order a service for a verified relative. The voucher pays first, the
/// family the rest; the split is on the order. The same `client_request_id`
/// again answers the first order (200) and changes nothing.
#[utoipa::path(
    post,
    path = "/api/family/orders",
    operation_id = "place_family_order",
    tag = "family",
    request_body = OrderInput,
    responses(
        (status = 201, description = "The order", body = Object),
        (status = 200, description = "A repeated submission: the first order", body = Object),
        (status = 404, description = "Not one of your verified relatives", body = ErrorBody),
        (status = 422, description = "A field out of bounds, or an item that does not serve the area", body = ErrorBody),
    )
)]
pub async fn place(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<OrderInput>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let service_date = date("service_date", &b.service_date)?;
    let o = NewOrder {
        client_request_id: b.client_request_id,
        person_id: b.person_id,
        item_id: b.item_id,
        quantity: b.quantity,
        service_date,
        note: b.note.unwrap_or_default(),
    };
    let (order, created) = blocking(&state, move |c, r| {
        Ok(fam::place(c, r, &scope, &o, today())?)
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(to_json(&order)?)).into_response())
}

/// A reason (cancel, refuse).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// A rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

/// A delivery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverInput {
    /// The day the service was given (not in the future).
    #[schema(format = Date, example = "2026-12-12")]
    pub date: String,
    /// Who gave it.
    #[schema(min_length = 1, max_length = 500)]
    pub delivered_by: String,
}

async fn take(state: AppState, auth: Auth, id: String, s: Step) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let o = blocking(&state, move |c, _| {
        Ok(fam::step(c, &scope, &id, &s, today())?)
    })
    .await?;
    Ok(Json(to_json(&o)?))
}

/// Cancel your order before it is delivered; its voucher share comes back.
#[utoipa::path(
    post,
    path = "/api/family/orders/{id}/cancel",
    operation_id = "cancel_family_order",
    tag = "family",
    params(("id" = String, Path, description = "The order's id")),
    request_body = ReasonInput,
    responses(
        (status = 200, description = "Cancelled", body = Object),
        (status = 404, description = "No such order of yours", body = ErrorBody),
        (status = 409, description = "Delivered or closed already", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ReasonInput>,
) -> Result<Json<Value>, ApiError> {
    take(state, auth, id, Step::Cancel { reason: b.reason }).await
}

/// Rate a delivered order, 1–5.
#[utoipa::path(
    post,
    path = "/api/family/orders/{id}/rate",
    operation_id = "rate_family_order",
    tag = "family",
    params(("id" = String, Path, description = "The order's id")),
    request_body = RateInput,
    responses(
        (status = 200, description = "Rated", body = Object),
        (status = 404, description = "No such order of yours", body = ErrorBody),
        (status = 409, description = "Not delivered, or rated already", body = ErrorBody),
    )
)]
pub async fn rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RateInput>,
) -> Result<Json<Value>, ApiError> {
    let s = Step::Rate {
        rating: b.rating,
        comment: b.comment.unwrap_or_default(),
    };
    take(state, auth, id, s).await
}

/// A provider's order queue (its facility's orders; city administrators:
/// all in their area), newest first.
#[utoipa::path(
    get,
    path = "/api/provider/orders",
    operation_id = "list_provider_orders",
    tag = "family",
    params(OrderParams),
    responses(
        (status = 200, description = "`items`: orders (names masked)", body = Object),
        (status = 422, description = "A bad filter (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn provider_orders(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<OrderParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let q = order_query(p)?;
    let items = blocking(&state, move |c, _| Ok(fam::orders(c, &scope, &q)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// Accept a placed order of your facility.
#[utoipa::path(
    post,
    path = "/api/provider/orders/{id}/accept",
    operation_id = "accept_order",
    tag = "family",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "Accepted", body = Object),
        (status = 404, description = "No such order of your facility", body = ErrorBody),
        (status = 409, description = "Not placed (any more)", body = ErrorBody),
    )
)]
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    take(state, auth, id, Step::Accept).await
}

/// Refuse an order of your facility before delivery (a reason is required).
#[utoipa::path(
    post,
    path = "/api/provider/orders/{id}/refuse",
    operation_id = "refuse_order",
    tag = "family",
    params(("id" = String, Path, description = "The order's id")),
    request_body = ReasonInput,
    responses(
        (status = 200, description = "Refused", body = Object),
        (status = 404, description = "No such order of your facility", body = ErrorBody),
        (status = 409, description = "Delivered or closed already", body = ErrorBody),
    )
)]
pub async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ReasonInput>,
) -> Result<Json<Value>, ApiError> {
    take(state, auth, id, Step::Refuse { reason: b.reason }).await
}

/// Record the delivery of an accepted order (writes a service record).
#[utoipa::path(
    post,
    path = "/api/provider/orders/{id}/deliver",
    operation_id = "deliver_order",
    tag = "family",
    params(("id" = String, Path, description = "The order's id")),
    request_body = DeliverInput,
    responses(
        (status = 200, description = "Delivered", body = Object),
        (status = 404, description = "No such order of your facility", body = ErrorBody),
        (status = 409, description = "Not accepted", body = ErrorBody),
        (status = 422, description = "A future date, or no name", body = ErrorBody),
    )
)]
pub async fn deliver(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DeliverInput>,
) -> Result<Json<Value>, ApiError> {
    let d = date("date", &b.date)?;
    take(
        state,
        auth,
        id,
        Step::Deliver {
            date: d,
            by: b.delivered_by,
        },
    )
    .await
}

query_params! {
    /// The settlement month.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct SettlementParams {
        /// A month, `2026-12` (default: this month).
        #[param(pattern = "^20[0-9]{2}-(0[1-9]|1[0-2])$")]
        pub month: Option<String>,
    }
}

/// The month's settlement per provider in your area: delivered orders,
/// their voucher and family totals (fen).
#[utoipa::path(
    get,
    path = "/api/settlement",
    operation_id = "get_settlement",
    tag = "family",
    params(SettlementParams),
    responses(
        (status = 200, description = "`items`: one line per provider", body = Object),
        (status = 422, description = "Not a month", body = ErrorBody),
    )
)]
pub async fn settlement(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<SettlementParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let month = p.month.unwrap_or_else(|| fam::month_of(today()));
    let items = blocking(&state, move |c, _| Ok(fam::settlement(c, &scope, &month)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}
