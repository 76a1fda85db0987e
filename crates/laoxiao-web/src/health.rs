//! `GET /api/health`.

use axum::Json;
use axum::extract::State;
use laoxiao_store::Backend;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::{AppState, blocking};

/// The service is up and its database answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok`, or `schema_outdated` when the database is behind this binary's migrations.
    #[schema(example = "ok")]
    pub status: String,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub backend: String,
    /// Highest migration applied to the database.
    pub schema_version: i64,
    /// Highest migration this binary knows.
    pub latest_schema_version: i64,
    /// Version of the laoxiao-web crate.
    pub version: String,
}

/// Liveness and database check.
#[utoipa::path(
    get,
    path = "/api/health",
    operation_id = "health",
    tag = "health",
    responses(
        (status = 200, description = "Up", body = HealthView),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    let backend = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let schema_version = blocking(&state, |c, _| {
        Ok(laoxiao_store::migrate::current_version(c)?)
    })
    .await?;
    let latest = laoxiao_store::migrate::latest_version();
    Ok(Json(HealthView {
        status: if schema_version >= latest {
            "ok"
        } else {
            "schema_outdated"
        }
        .to_string(),
        backend: backend.to_string(),
        schema_version,
        latest_schema_version: latest,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }))
}
