//! `GET /api/me` (who the token belongs to) and `GET /api/audit` (auditors: search
//! the trail, newest first).

use axum::Json;
use axum::extract::State;
use laoxiao_store::audit::{self, AuditQuery, Entry};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, query_params};
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
        pub limit: Option<u32>,
    }
}

/// A page of the trail, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries: seq, at, actor, role, ip, action, entity, entity_id, before, after,
    /// prev_hash, hash (ID numbers masked in snapshots).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Entry>,
}

/// Searches the audit trail (auditors only).
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
        limit: p.limit,
    };
    let items = blocking(&state, move |c, _| Ok(audit::search(c, &scope, &q)?)).await?;
    Ok(Json(AuditPage { items }))
}
