//! Who is asking and what they asked to see. Today: only whether the full ID number
//! was requested. The issue that adds authentication puts the caller and their role
//! here, and [`reveal_ids`] stays the single place that decides.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::extract::QueryPairs;

/// Per-request facts that decide what a response may show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request asked for full ID numbers (`?full_id=true`).
    pub full_id_requested: bool,
}

impl RequestContext {
    /// Reads the context from the request's URI (the query's `full_id`).
    pub fn from_parts(parts: &Parts) -> Result<Self, ApiError> {
        let mut q = QueryPairs::from_uri(&parts.uri)?;
        let full_id_requested = q.peek::<bool>("full_id").unwrap_or(false);
        Ok(RequestContext { full_id_requested })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        RequestContext::from_parts(parts)
    }
}

/// Whether responses to this request may show full citizen ID numbers. The one place
/// that decides; everything that renders a person asks it.
pub fn reveal_ids(ctx: &RequestContext) -> bool {
    ctx.full_id_requested
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(uri: &str) -> RequestContext {
        let req = axum::http::Request::builder()
            .uri(uri)
            .body(())
            .expect("request");
        let (parts, ()) = req.into_parts();
        RequestContext::from_parts(&parts).expect("context")
    }

    #[test]
    fn ids_are_masked_unless_asked_for() {
        assert!(!reveal_ids(&ctx("/api/people")));
        assert!(!reveal_ids(&ctx("/api/people?full_id=false")));
        assert!(!reveal_ids(&ctx("/api/people?full_id=nonsense")));
        assert!(reveal_ids(&ctx("/api/people?full_id=true")));
    }
}
