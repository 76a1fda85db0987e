//! Logging in and out of the console, and the auditors' search of the trail.
//!
//! The login form is protected by a double-submit cookie (there is no session
//! yet); later forms carry the session's own CSRF token, checked by the auth
//! middleware. Failed logins are throttled per account and per client address
//! in the database (`laoxiao_store::accounts`); every failure, whatever its
//! cause, gets the same page with the same status.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use laoxiao_store::Role;
use laoxiao_store::accounts::{self, LoginError};
use laoxiao_store::audit::{self, AuditQuery};
use serde_json::json;

use super::{ConsoleState, Ctx, ctx_or_error, url_with};
use crate::auth::{LOGIN_CSRF_COOKIE, cookie, session_cookie};

/// Where a role lands after logging in: its home (`super::homes`).
pub fn landing(role: Role) -> &'static str {
    super::homes::landing(role)
}

/// Only a path on this site: never an open redirect, never a header that
/// cannot be sent. The path must start with one `/` (not `//` or `/\`) and
/// hold no control character, whitespace or backslash, both as given and after
/// percent-decoding (browsers drop tabs and newlines from a `Location`, which
/// would turn `/\t/evil.example` into `//evil.example`). Non-ASCII characters
/// are percent-encoded.
pub fn safe_next(next: &str) -> Option<String> {
    fn plain(p: &str) -> bool {
        let b = p.as_bytes();
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && !p
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    if next.len() > 2048 || next.starts_with("/console/login") {
        return None;
    }
    // Decode until nothing changes (bounded): a doubly encoded `%252F` must
    // not hide a second slash either.
    let mut level = next.to_string();
    for _ in 0..4 {
        if !plain(&level) {
            return None;
        }
        let decoded = percent_decode(&level);
        if decoded == level {
            break;
        }
        level = decoded;
    }
    if !plain(&level) || level.starts_with("/console/login") {
        return None;
    }
    let mut out = String::with_capacity(next.len());
    for c in next.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// `%XX` sequences decoded (invalid UTF-8 replaced); other text as is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn login_page(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    username: &str,
    token: Option<&str>,
) -> Response {
    // A failed login keeps the form's token (already in the client's cookie),
    // so every failure's answer is the same, byte for byte — if it has the
    // shape of one we issue (URL-safe base64), as it is echoed into a header.
    let token = token
        .filter(|t| {
            (1..=64).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        })
        .map_or_else(|| laoxiao_store::crypto::random_token(24), str::to_string);
    let demo: Vec<serde_json::Value> = s
        .web
        .demo_accounts
        .iter()
        .map(|a| {
            json!({
                "username": a.username,
                "password": a.password,
                "role_label": s.label(ctx, "account_role", &a.role),
                "area": a.area,
            })
        })
        .collect();
    let page = json!({
        "error": error,
        "login_csrf": token,
        "next": ctx.param("next").unwrap_or_default(),
        "username": username,
        "demo_accounts": demo,
    });
    let mut r = s.render_status(ctx, status, "login.html", "login", page);
    let sec = if s.web.secure_cookies { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=3600{sec}"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /console/login`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/login", headers, q);
    if let Some(p) = &ctx.auth.principal {
        return Redirect::to(landing(p.user.role)).into_response();
    }
    login_page(&s, &ctx, StatusCode::OK, None, "", None)
}

type FormData = Vec<(String, String)>;

fn field<'a>(f: &'a FormData, name: &str) -> &'a str {
    f.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// `POST /console/login`
pub async fn login(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let mut q = q;
    let next = safe_next(field(&form, "next"));
    if let Some(n) = &next {
        q.push(("next".into(), n.clone()));
    }
    let ctx = ctx_or_error!(s, "/console/login", headers, q);
    let username = field(&form, "username").trim().to_string();
    let password = field(&form, "password").to_string();
    let pre = cookie(&headers, LOGIN_CSRF_COOKIE);
    let posted = field(&form, "_csrf").to_string();
    if !pre.is_some_and(|c| !c.is_empty() && laoxiao_store::crypto::ct_eq(&c, &posted)) {
        let msg = s.t(&ctx, "login.expired");
        return login_page(&s, &ctx, StatusCode::FORBIDDEN, Some(msg), &username, None);
    }
    let ip = ctx.auth.ip.clone();
    let u2 = username.clone();
    let res = s
        .db(move |c, _| {
            let r = accounts::login(c, &u2, &password, ip.clone())?;
            match r {
                Ok(user) => {
                    let (secret, _csrf) =
                        accounts::create_session(c, &user.username, ip.as_deref())?;
                    Ok(Ok((user, secret)))
                }
                Err(e) => Ok(Err(e)),
            }
        })
        .await;
    match res {
        Ok(Ok((user, secret))) => {
            let to = next.unwrap_or_else(|| landing(user.role).to_string());
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            // `safe_next` leaves only visible ASCII, but never panic on a header.
            let loc = HeaderValue::from_str(&to)
                .unwrap_or_else(|_| HeaderValue::from_static(landing(user.role)));
            r.headers_mut().insert(header::LOCATION, loc);
            if let Ok(v) =
                HeaderValue::from_str(&session_cookie(Some(&secret), s.web.secure_cookies))
            {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        // Unknown name, disabled account, wrong password or an attempt inside
        // a wait: one answer, so none of them can be told from another.
        Ok(Err(LoginError::Invalid | LoginError::Throttled)) => {
            let msg = s.t(&ctx, "login.invalid");
            login_page(
                &s,
                &ctx,
                StatusCode::UNAUTHORIZED,
                Some(msg),
                &username,
                Some(&posted),
            )
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `POST /console/logout` (CSRF-checked by the middleware).
pub async fn logout(State(s): State<ConsoleState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, crate::auth::SESSION_COOKIE) {
        // Logging out must not fail visibly; the cookie is cleared regardless.
        let _ = s.db(move |c, _| accounts::delete_session(c, &secret)).await;
    }
    let mut r = Redirect::to("/console/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(None, s.web.secure_cookies)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /console/audit` (auditors).
pub async fn audit_page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/audit", headers, q);
    let p = |k: &str| ctx.param(k).map(str::to_string);
    let query = AuditQuery {
        actor: p("actor"),
        action: p("action"),
        entity: p("entity"),
        entity_id: p("entity_id"),
        from: p("from"),
        to: p("to"),
        before_seq: ctx.param("before_seq").and_then(|v| v.parse().ok()),
        limit: Some(100),
    };
    let scope = ctx.scope();
    let q2 = query.clone();
    // `?viewed=ID`: who viewed that person's record (within the auditor's area).
    let viewed = ctx.param("viewed").map(str::to_string);
    let v2 = viewed.clone();
    let (entries, views) = match s
        .db(move |c, _| {
            let entries = audit::search(c, &scope, &q2)?;
            let views = match &v2 {
                Some(id) => Some(laoxiao_store::record_view::of_person(c, &scope, id, 100)?),
                None => None,
            };
            Ok((entries, views))
        })
        .await
    {
        Ok(e) => e,
        Err(e) => return s.error_page(&ctx, e),
    };
    let next_url = (entries.len() == 100)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            let mut keep = ctx.keep(&["before_seq"]);
            keep.push(("before_seq".into(), seq.to_string()));
            url_with("/console/audit", &keep)
        });
    let page = json!({
        "entries": entries,
        "viewed": viewed,
        "views": views,
        "next_url": next_url,
        "f": {
            "actor": query.actor, "action": query.action, "entity": query.entity,
            "entity_id": query.entity_id, "from": query.from, "to": query.to,
        },
    });
    s.render(&ctx, "audit.html", "audit", page)
}

fn password_form(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let must = ctx
        .auth
        .principal
        .as_ref()
        .is_some_and(|p| p.user.must_change_password);
    s.render_status(
        ctx,
        status,
        "password.html",
        "password",
        json!({"error": error, "must_change": must}),
    )
}

/// `GET /console/password`: change one's own password (required after a
/// one-time password).
pub async fn password_page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/password", headers, q);
    password_form(&s, &ctx, StatusCode::OK, None)
}

/// `POST /console/password` (CSRF-checked by the middleware).
pub async fn change_password(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/password", headers, q);
    let Some(p) = ctx.auth.principal.clone() else {
        return Redirect::to("/console/login").into_response();
    };
    let (current, new, confirm) = (
        field(&form, "current").to_string(),
        field(&form, "new").to_string(),
        field(&form, "confirm").to_string(),
    );
    if new != confirm {
        let msg = s.t(&ctx, "password.mismatch");
        return password_form(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(msg));
    }
    let secret = cookie(&headers, crate::auth::SESSION_COOKIE).unwrap_or_default();
    let scope = ctx.scope();
    let user = p.user.username.clone();
    let res = s
        .db(move |c, _| accounts::change_own_password(c, &scope, &user, &current, &new, &secret))
        .await;
    match res {
        Ok(Ok(())) => Redirect::to(landing(p.user.role)).into_response(),
        Ok(Err(why)) => {
            let msg = s.t(&ctx, &format!("password.{why}"));
            password_form(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(msg))
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
