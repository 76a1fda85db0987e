//! `GET /api/me` (who the token belongs to), `GET /api/audit` (auditors: search
//! the trail of their area, newest first) and `GET /api/people/{id}/views` (who
//! viewed a person's record).

use axum::Json;
use axum::extract::State;
use laoxiao_store::audit::{self, AuditQuery, Entry};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, PageLimit, query_params};
use crate::{AppState, blocking};

/// The caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: String,
    pub area_code: String,
    pub facility_id: Option<String>,
}

/// Who the credentials belong to.
#[utoipa::path(
    get,
    path = "/api/me",
    operation_id = "me",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn me(auth: Auth) -> Result<Json<Me>, ApiError> {
    let p = auth.principal.ok_or(ApiError::Unauthenticated)?;
    Ok(Json(Me {
        username: p.user.username,
        role: p.user.role.code().to_string(),
        area_code: p.user.area_code,
        facility_id: p.user.facility_id,
    }))
}

query_params! {
    /// Filters of `GET /api/audit`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuditParams {
        pub actor: Option<String>,
        pub action: Option<String>,
        pub entity: Option<String>,
        pub entity_id: Option<String>,
        /// At or after (RFC 3339 or a date).
        pub from: Option<String>,
        /// Before.
        pub to: Option<String>,
        /// Entries older than this sequence number (paging).
        pub before_seq: Option<i64>,
        /// Page size, 1–1000 (default 100).
        #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
        pub limit: Option<PageLimit>,
    }
}

/// A page of the trail, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries: seq, at, actor, role, ip, action, entity, entity_id, before, after
    /// (personal fields as `hmac:…` digests), prev_hash, hash (SHA-256 or MAC),
    /// version (1 = SHA-256 link, 2 = MAC), area_path, actor_area_path.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Entry>,
}

/// Searches the audit trail (auditors only): entries about records in the
/// auditor's area or by accounts homed in it; a city auditor sees all.
#[utoipa::path(
    get,
    path = "/api/audit",
    operation_id = "search_audit",
    tag = "accounts",
    params(AuditParams),
    responses(
        (status = 200, description = "Entries, newest first", body = AuditPage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an auditor", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let scope = auth.scope()?;
    let q = AuditQuery {
        actor: p.actor,
        action: p.action,
        entity: p.entity,
        entity_id: p.entity_id,
        from: p.from,
        to: p.to,
        before_seq: p.before_seq,
        limit: p.limit.map(|l| l.0),
    };
    let items = blocking(&state, move |c, _| Ok(audit::search(c, &scope, &q)?)).await?;
    Ok(Json(AuditPage { items }))
}

query_params! {
    /// Options of `GET /api/people/{id}/views`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ViewParams {
        /// How many of the most recent views, 1–1000 (default 100).
        #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
        pub limit: Option<PageLimit>,
    }
}

/// One view of a person's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The account.
    pub actor: String,
    /// Its role then.
    pub role: String,
    /// `api_detail`, `api_list`, `console_detail` or `console_list`.
    pub via: String,
}

/// Views of one person's record, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewPage {
    pub items: Vec<RecordView>,
}

/// Who viewed a person's record and when, newest first (auditors and the city
/// and county administrators; a person outside the caller's area is 404).
#[utoipa::path(
    get,
    path = "/api/people/{id}/views",
    operation_id = "person_views",
    tag = "people",
    params(("id" = String, Path, description = "The person's register id"), ViewParams),
    responses(
        (status = 200, description = "Views, newest first", body = ViewPage),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not see views", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    )
)]
pub async fn person_views(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ViewParams>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ViewPage>, ApiError> {
    let scope = auth.scope()?;
    let limit = p.limit.map(|l| l.0).unwrap_or(100);
    let views = blocking(&state, move |c, _| {
        Ok(laoxiao_store::record_view::of_person(
            c, &scope, &id, limit,
        )?)
    })
    .await?;
    Ok(Json(ViewPage {
        items: views
            .into_iter()
            .map(|v| RecordView {
                at: v.at,
                actor: v.actor,
                role: v.role,
                via: v.via,
            })
            .collect(),
    }))
}
