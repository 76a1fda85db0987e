//! Transfer requests (户籍/居住迁入): `GET/POST /api/transfers`,
//! `GET /api/transfers/{id}`, `POST /api/transfers/{id}/{approve,refuse,withdraw}`.
//! The rules are the store's (`laoxiao_store::transfers`): the requester sees
//! the status, never the holding area or the person, until approval.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use laoxiao_model::FieldError;
use laoxiao_store::transfers::{self, Decision, Mailbox, Transfer, TransferStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params, text};
use crate::{AppState, blocking, encode_segment};

/// A transfer request as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferView {
    #[schema(example = "T-3F9A0C1D2E4B5A69")]
    pub id: String,
    /// `incoming`: you hold the record and decide; `outgoing`: your area asked.
    #[schema(example = "outgoing")]
    pub direction: String,
    /// `open`, `approved`, `refused`, `withdrawn` or `expired`.
    #[schema(example = "open")]
    pub status: String,
    /// Always masked.
    #[schema(example = "330402********123X")]
    pub id_number: String,
    /// The record: shown to the holder, and to the requester once approved.
    pub person_id: Option<String>,
    /// The holder only.
    pub person_name: Option<String>,
    /// The holder only: where the person is registered now.
    pub holding_area_code: Option<String>,
    /// Where the record moves on approval.
    pub to_area_code: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
}

impl From<Transfer> for TransferView {
    fn from(t: Transfer) -> Self {
        TransferView {
            id: t.id,
            direction: match t.direction {
                transfers::Direction::Incoming => "incoming",
                transfers::Direction::Outgoing => "outgoing",
            }
            .to_string(),
            status: t.status.code().to_string(),
            id_number: t.id_number_masked,
            person_id: t.person_id,
            person_name: t.person_name,
            holding_area_code: t.holding_area_code,
            to_area_code: t.to_area_code,
            reason: t.reason,
            requested_by: t.requested_by,
            requested_at: t.requested_at,
            expires_at: t.expires_at,
            decided_by: t.decided_by,
            decided_at: t.decided_at,
            decision_reason: t.decision_reason,
        }
    }
}

/// A list of requests, newest first (at most 500).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TransferList {
    pub items: Vec<TransferView>,
}

/// A request for the record of a person registered in another area.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// 公民身份号码 of the person (18 characters).
    #[schema(required = true, value_type = String)]
    pub id_number: Option<String>,
    /// The town or village in your area where the person now lives.
    #[schema(required = true, value_type = String, example = "330402007024")]
    pub to_area_code: Option<String>,
    /// Why (at most 500 characters).
    #[schema(required = true, value_type = String)]
    pub reason: Option<String>,
}

/// A decision's body: the reason (required to refuse).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub reason: Option<String>,
}

query_params! {
    /// Filters of `GET /api/transfers`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct TransferListParams {
        /// `incoming` (requests for records you hold, default) or `outgoing`
        /// (requests of your area).
        #[param(example = "incoming")]
        pub direction: Option<String>,
        /// Only this status.
        #[param(example = "open")]
        pub status: Option<String>,
    }
}

/// The `direction` and `status` parameters, checked.
pub(crate) fn parse_filters(
    which: Option<&str>,
    status: Option<&str>,
) -> Result<(Mailbox, Option<TransferStatus>), ApiError> {
    let mut errs = Vec::new();
    let which = match which.unwrap_or("incoming") {
        "incoming" => Mailbox::Incoming,
        "outgoing" => Mailbox::Outgoing,
        other => {
            errs.push(FieldError::new(
                "direction",
                format!("{other:?}: one of incoming, outgoing"),
            ));
            Mailbox::Incoming
        }
    };
    let status = match status {
        None => None,
        Some(s) => match TransferStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                errs.push(FieldError::new(
                    "status",
                    format!("{s:?}: one of open, approved, refused, withdrawn, expired"),
                ));
                None
            }
        },
    };
    if errs.is_empty() {
        Ok((which, status))
    } else {
        Err(ApiError::InvalidQuery(errs))
    }
}

/// Requests incoming (for records you hold) or outgoing (of your area).
#[utoipa::path(
    get,
    path = "/api/transfers",
    operation_id = "list_transfers",
    tag = "transfers",
    params(TransferListParams),
    responses(
        (status = 200, description = "Newest first", body = TransferList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<TransferListParams>,
) -> Result<Json<TransferList>, ApiError> {
    let (which, status) = parse_filters(p.direction.as_deref(), p.status.as_deref())?;
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| {
        Ok(transfers::list(c, r, &scope, which, status)?)
    })
    .await?;
    Ok(Json(TransferList {
        items: items.into_iter().map(TransferView::from).collect(),
    }))
}

/// Request the record of a person registered in another area (the answer to
/// a `registered_elsewhere` conflict).
#[utoipa::path(
    post,
    path = "/api/transfers",
    operation_id = "request_transfer",
    tag = "transfers",
    request_body = TransferInput,
    responses(
        (status = 201, description = "Requested", body = TransferView,
            headers(("Location" = String, description = "URL of the request"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No live record has this ID number", body = ErrorBody),
        (status = 409, description = "A request for this person is open already", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields, or the person is in your area already", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TransferInput>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, r| {
        let number = text(input.id_number).unwrap_or_default();
        let to = text(input.to_area_code).unwrap_or_default();
        let reason = input.reason.unwrap_or_default();
        Ok(transfers::request(c, r, &scope, &number, &to, &reason)?)
    })
    .await?;
    let location = format!("/api/transfers/{}", encode_segment(&t.id));
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(TransferView::from(t)),
    )
        .into_response())
}

/// One request you are a party to.
#[utoipa::path(
    get,
    path = "/api/transfers/{id}",
    operation_id = "get_transfer",
    tag = "transfers",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = TransferView),
        (status = 404, description = "No such request", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TransferView>, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, r| Ok(transfers::get(c, r, &scope, &id)?)).await?;
    Ok(Json(t.into()))
}

async fn decide(
    state: AppState,
    auth: Auth,
    id: String,
    decision: Decision,
    reason: Option<String>,
) -> Result<Json<TransferView>, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, r| {
        Ok(transfers::decide(
            c,
            r,
            &scope,
            &id,
            decision,
            reason.as_deref(),
        )?)
    })
    .await?;
    Ok(Json(t.into()))
}

/// Approve a request for a record you hold: the person's record moves to the
/// requested area.
#[utoipa::path(
    post,
    path = "/api/transfers/{id}/approve",
    operation_id = "approve_transfer",
    tag = "transfers",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Approved; the record has moved", body = TransferView),
        (status = 404, description = "No such request among those you hold", body = ErrorBody),
        (status = 409, description = "The request is no longer open", body = ErrorBody),
        (status = 422, description = "Invalid reason", body = ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<TransferView>, ApiError> {
    decide(state, auth, id, Decision::Approve, input.reason).await
}

/// Refuse a request for a record you hold (a reason is required).
#[utoipa::path(
    post,
    path = "/api/transfers/{id}/refuse",
    operation_id = "refuse_transfer",
    tag = "transfers",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Refused", body = TransferView),
        (status = 404, description = "No such request among those you hold", body = ErrorBody),
        (status = 409, description = "The request is no longer open", body = ErrorBody),
        (status = 422, description = "No reason, or an invalid one", body = ErrorBody),
    )
)]
pub async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<TransferView>, ApiError> {
    decide(state, auth, id, Decision::Refuse, input.reason).await
}

/// Withdraw a request of your area.
#[utoipa::path(
    post,
    path = "/api/transfers/{id}/withdraw",
    operation_id = "withdraw_transfer",
    tag = "transfers",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Withdrawn", body = TransferView),
        (status = 404, description = "No such request of your area", body = ErrorBody),
        (status = 409, description = "The request is no longer open", body = ErrorBody),
        (status = 422, description = "Invalid reason", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<TransferView>, ApiError> {
    decide(state, auth, id, Decision::Withdraw, input.reason).await
}
