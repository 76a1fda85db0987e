//! Who is asking and what they asked to see: the caller (from the auth middleware)
//! and whether the full ID number was requested. [`reveal_ids`] is the single place
//! that decides; a request for full numbers by a role without
//! [`Perm::RevealIds`] is refused (403), and every full read is audited by the
//! handler that serves it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use laoxiao_store::{Perm, Scope, StoreError};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::QueryPairs;

/// Per-request facts that decide what a response may show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request asked for full ID numbers (`?full_id=true`).
    pub full_id_requested: bool,
    /// The caller's scope (`None`: anonymous).
    pub scope: Option<Scope>,
}

impl RequestContext {
    /// Reads the context from the request's URI (the query's `full_id`) and the
    /// caller the auth middleware found.
    pub fn from_parts(parts: &Parts) -> Result<Self, ApiError> {
        let mut q = QueryPairs::from_uri(&parts.uri)?;
        let full_id_requested = q.peek::<bool>("full_id").unwrap_or(false);
        let auth = parts.extensions.get::<Auth>().cloned().unwrap_or_default();
        let scope = auth.scope().ok();
        if full_id_requested && !scope.as_ref().is_some_and(|s| s.can(Perm::RevealIds)) {
            return Err(ApiError::Store(StoreError::Forbidden(
                "your role may not see full ID numbers".into(),
            )));
        }
        Ok(RequestContext {
            full_id_requested,
            scope,
        })
    }

    /// The caller's scope; 401 when anonymous.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        self.scope.clone().ok_or(ApiError::Unauthenticated)
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
    ctx.full_id_requested && ctx.scope.as_ref().is_some_and(|s| s.can(Perm::RevealIds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(uri: &str, role: Option<laoxiao_store::Role>) -> Result<RequestContext, ApiError> {
        let mut req = axum::http::Request::builder()
            .uri(uri)
            .body(())
            .expect("request");
        if let Some(role) = role {
            let user = laoxiao_store::accounts::User {
                username: "u".into(),
                role,
                area_code: "330400".into(),
                facility_id: None,
                disabled: false,
                created_at: String::new(),
                must_change_password: false,
            };
            req.extensions_mut().insert(Auth {
                principal: Some(laoxiao_store::accounts::Principal {
                    user,
                    area_path: "/330400/".into(),
                }),
                ip: None,
                csrf: None,
            });
        }
        let (parts, ()) = req.into_parts();
        RequestContext::from_parts(&parts)
    }

    #[test]
    fn ids_are_masked_unless_asked_for_and_allowed() {
        use laoxiao_store::Role;
        let admin = Some(Role::CityAdmin);
        assert!(!reveal_ids(&ctx("/api/people", admin).expect("ctx")));
        assert!(!reveal_ids(
            &ctx("/api/people?full_id=false", admin).expect("ctx")
        ));
        assert!(!reveal_ids(
            &ctx("/api/people?full_id=nonsense", admin).expect("ctx")
        ));
        assert!(reveal_ids(
            &ctx("/api/people?full_id=true", admin).expect("ctx")
        ));
        assert!(ctx("/api/people?full_id=true", Some(Role::VillageStaff)).is_err());
        assert!(ctx("/api/people?full_id=true", None).is_err());
    }
}
