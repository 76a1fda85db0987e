//! The API's one error shape and the mapping of every failure onto it.

use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use laoxiao_model::FieldError;
use laoxiao_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error the API answers with. Client errors carry a stable snake_case code and,
/// where fields are at fault, one detail per field.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A store error: its own code and HTTP status (validation 422, not found 404, …).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The body is not well-formed JSON (400 `malformed_json`).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body could not be read (400 `bad_request`).
    #[error("{0}")]
    BadRequest(String),
    /// Query parameters that are unknown or do not parse (400 `invalid_query`).
    #[error("invalid query parameters")]
    InvalidQuery(Vec<FieldError>),
    /// A path parameter that cannot be what the route expects (400 `invalid_path`).
    #[error("{0}")]
    InvalidPath(FieldError),
    /// The body is larger than the configured limit (413 `payload_too_large`).
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The body is not declared as JSON (415 `unsupported_media_type`).
    #[error("expected a JSON body (Content-Type: application/json), got {0}")]
    UnsupportedMediaType(String),
    /// No route for this path (404 `route_not_found`).
    #[error("no route for {method} {path}")]
    NoRoute { method: Method, path: String },
    /// The path exists but not with this method (405 `method_not_allowed`).
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(Method),
    /// No valid session or API token (401 `unauthenticated`).
    #[error("authentication required: send an API token (Authorization: Bearer …)")]
    Unauthenticated,
    /// Anything else: 500 `internal_error` with a generic message; the detail is logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 `validation_failed` error with these field errors.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        ApiError::Store(StoreError::Invalid(errors))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Store(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::MalformedJson(_)
            | ApiError::BadRequest(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidPath(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Store(e) if self.status().is_server_error() => match e {
                StoreError::Connect(_) => "database_unavailable",
                _ => "internal_error",
            },
            ApiError::Store(e) => e.code(),
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidPath(_) => "invalid_path",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::NoRoute { .. } => "route_not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The body sent to the client. Server errors get a generic message.
    pub fn body(&self) -> ErrorBody {
        let status = self.status();
        let message = if status == StatusCode::SERVICE_UNAVAILABLE {
            "the database is unavailable; try again later".to_string()
        } else if status.is_server_error() {
            "an internal error occurred".to_string()
        } else {
            match self {
                ApiError::Store(StoreError::Invalid(_)) => "the request is invalid".to_string(),
                _ => self.to_string(),
            }
        };
        let details = match self {
            ApiError::Store(StoreError::Invalid(v)) | ApiError::InvalidQuery(v) => {
                v.iter().map(ErrorDetail::from).collect()
            }
            ApiError::Store(StoreError::ImportRejected(rows)) => rows
                .iter()
                .map(|r| ErrorDetail {
                    field: r.column.clone(),
                    reason: format!("row {}: {}", r.row, r.reason),
                })
                .collect(),
            ApiError::InvalidPath(e) => vec![ErrorDetail::from(e)],
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorInfo {
                code: self.code().to_string(),
                message,
                details,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            log_server_error(self.code(), &self, "request failed");
        }
        if status == StatusCode::UNAUTHORIZED {
            return (
                status,
                [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                Json(self.body()),
            )
                .into_response();
        }
        (status, Json(self.body())).into_response()
    }
}

/// The error and each of its causes (`source()`), outermost first, joined by `: `.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    // Bounded: a cycle in a hand-written `source` must not hang the logger.
    for _ in 0..16 {
        let Some(e) = cur else { break };
        let s = e.to_string();
        // `#[error(transparent)]` and wrappers that repeat their cause add nothing.
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// Logs a failure the client sees only as a generic 5xx, with its cause, so the
/// operator can act on it. Store and internal messages name tables,
/// constraints, SQLSTATE codes and register ids, never a person's name, ID
/// number or address (PostgreSQL's DETAIL, which can quote a row, is left out
/// by the store's error conversion).
pub fn log_server_error(code: &str, err: &(dyn std::error::Error + 'static), what: &str) {
    tracing::error!(code, cause = %cause_chain(err), "{what}");
}

/// The error envelope of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorInfo {
    /// Stable snake_case code, e.g. `validation_failed`, `not_found`, `invalid_query`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Human-readable summary.
    pub message: String,
    /// One entry per rejected field (empty when no field is at fault).
    pub details: Vec<ErrorDetail>,
}

/// One rejected field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// The field: a body path such as `nursing_beds` or `classes[0].capacity`, or a
    /// query or path parameter name.
    #[schema(example = "nursing_beds")]
    pub field: String,
    #[schema(example = "120 nursing beds exceed the 100 beds")]
    pub reason: String,
}

impl From<&FieldError> for ErrorDetail {
    fn from(e: &FieldError) -> Self {
        ErrorDetail {
            field: e.field.clone(),
            reason: e.reason.clone(),
        }
    }
}

/// Fallback for unknown paths under `/api`.
pub(crate) async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NoRoute {
        method,
        path: uri.path().to_string(),
    }
}

/// Fallback for known paths with an unsupported method.
pub(crate) async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_detail() {
        let e = ApiError::Store(StoreError::Database("no such table: facility".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let b = e.body();
        assert_eq!(b.error.code, "internal_error");
        assert!(!b.error.message.contains("facility"));
        let e = ApiError::Store(StoreError::Connect("refused".into()));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.body().error.code, "database_unavailable");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn hole_13_server_errors_are_logged_with_their_cause() {
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(cause_chain(&e), "outer: disk full");
        // A transparent wrapper does not repeat its cause.
        let e = ApiError::Store(StoreError::Database("23502: null value in column".into()));
        assert_eq!(
            cause_chain(&e),
            "database error: 23502: null value in column"
        );
    }

    #[test]
    fn validation_errors_list_fields() {
        let e = ApiError::invalid(vec![FieldError::new("beds", "must not be negative")]);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = e.body();
        assert_eq!(b.error.code, "validation_failed");
        assert_eq!(b.error.details[0].field, "beds");
    }
}
