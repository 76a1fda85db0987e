//! Accounts, console sessions and API tokens.
//!
//! Passwords are hashed with Argon2id. Session ids and API tokens are random
//! secrets handed out once; the database keeps only their SHA-256. Five failed
//! logins lock an account for fifteen minutes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::crypto::{random_token, sha256_hex};
use crate::db::{Conn, Row};
use crate::error::{Result, StoreError};
use crate::scope::{Actor, Role, Scope};
use crate::{Reference, audit};

/// Failed logins before the account locks.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// Console session lifetime.
pub const SESSION_HOURS: i64 = 12;

/// An account (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub username: String,
    pub role: Role,
    /// Home area: access is limited to its subtree.
    pub area_code: String,
    /// Facility operators: their facility.
    pub facility_id: Option<String>,
    pub disabled: bool,
    pub created_at: String,
    /// The password is a one-time password: the console asks for a new one first.
    pub must_change_password: bool,
}

/// The caller behind a session or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    /// The home area's path, `/330400/330402/`.
    pub area_path: String,
}

impl Principal {
    /// The store scope of this caller, from this address.
    pub fn scope(&self, ip: Option<String>) -> Scope {
        Scope::user(
            Actor {
                user: self.user.username.clone(),
                ip,
            },
            self.user.role,
            &self.area_path,
            self.user.facility_id.clone(),
        )
    }
}

const COLS: &str =
    "username, role, area_code, facility_id, disabled, created_at, must_change_password";

fn from_row(r: &Row) -> Result<User> {
    Ok(User {
        username: r.text(0),
        role: r.text(1).parse().map_err(StoreError::Database)?,
        area_code: r.text(2),
        facility_id: r.opt_text(3),
        disabled: r.bool(4),
        created_at: r.text(5),
        must_change_password: r.bool(6),
    })
}

fn now() -> String {
    crate::now_rfc3339()
}

/// Argon2id hash of a password (PHC string).
pub fn hash_password(pw: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Crypto(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map_err(|e| StoreError::Crypto(e.to_string()))?
        .to_string())
}

fn verify_password(pw: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A random one-time password (20 characters).
pub fn generate_password() -> String {
    random_token(15)
}

fn check_username(u: &str) -> Result<()> {
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "username",
            "1–64 letters, digits, '-', '_', '.' or '@'",
        )]))
    }
}

/// Creates an account with a password; audited.
#[allow(clippy::too_many_arguments)]
pub fn create_user(
    conn: &mut Conn,
    reference: &Reference,
    by: &Scope,
    username: &str,
    role: Role,
    area_code: &str,
    facility_id: Option<&str>,
    password: &str,
) -> Result<User> {
    check_username(username)?;
    by.require(crate::scope::Perm::ManageUsers)?;
    let area = reference.areas.get(area_code).ok_or_else(|| {
        StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "area",
            format!("unknown area code {area_code:?}"),
        )])
    })?;
    if !by.contains_path(&area.path) {
        return Err(StoreError::Forbidden(
            "the home area lies outside your own".into(),
        ));
    }
    if role == Role::FacilityOperator && facility_id.is_none() {
        return Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "facility",
            "a facility operator needs --facility",
        )]));
    }
    if conn.query_i64(
        "SELECT COUNT(*) FROM users WHERE username = $1",
        &[username.into()],
    )? > 0
    {
        return Err(StoreError::Conflict(format!(
            "user {username:?} already exists"
        )));
    }
    let hash = hash_password(password)?;
    let t = now();
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO users (username, password_hash, role, area_code, facility_id, disabled, failed_logins, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
            &[
                username.into(),
                hash.into(),
                role.code().into(),
                area_code.into(),
                facility_id.into(),
                false.into(),
                t.as_str().into(),
            ],
        )?;
        let u = get_user(c, username)?;
        audit::append(
            c,
            by,
            audit::Event {
                action: "create",
                entity: "user",
                entity_id: Some(username),
                before: None,
                after: audit::snapshot(&u),
            },
        )?;
        Ok(u)
    })
}

/// Marks (or clears) the account's password as one-time.
pub fn set_must_change(conn: &mut Conn, username: &str, must: bool) -> Result<()> {
    conn.execute(
        "UPDATE users SET must_change_password = $1 WHERE username = $2",
        &[must.into(), username.into()],
    )?;
    Ok(())
}

/// The user changes their own password (the current one must be right); other
/// sessions end, and a one-time password stops being one. Audited.
pub fn change_own_password(
    conn: &mut Conn,
    who: &Scope,
    username: &str,
    current: &str,
    new: &str,
    keep_session: &str,
) -> Result<std::result::Result<(), &'static str>> {
    let Some(r) = conn.query_opt(
        "SELECT password_hash FROM users WHERE username = $1",
        &[username.into()],
    )?
    else {
        return Ok(Err("wrong_password"));
    };
    if !verify_password(current, &r.text(0)) {
        return Ok(Err("wrong_password"));
    }
    if new.chars().count() < 12 {
        return Ok(Err("too_short"));
    }
    if new == current {
        return Ok(Err("same"));
    }
    let hash = hash_password(new)?;
    conn.transaction(|c| {
        c.execute(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE username = $4",
            &[hash.into(), false.into(), now().into(), username.into()],
        )?;
        c.execute(
            "DELETE FROM sessions WHERE username = $1 AND token_hash <> $2",
            &[username.into(), sha256_hex(keep_session.as_bytes()).into()],
        )?;
        audit::append(
            c,
            who,
            audit::Event {
                action: "change_password",
                entity: "user",
                entity_id: Some(username),
                ..Default::default()
            },
        )?;
        Ok(())
    })?;
    Ok(Ok(()))
}

/// One account.
pub fn get_user(conn: &mut Conn, username: &str) -> Result<User> {
    let r = conn
        .query_opt(
            &format!("SELECT {COLS} FROM users WHERE username = $1"),
            &[username.into()],
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            id: username.to_string(),
        })?;
    from_row(&r)
}

/// Every account, by name.
pub fn list_users(conn: &mut Conn) -> Result<Vec<User>> {
    conn.query(&format!("SELECT {COLS} FROM users ORDER BY username"), &[])?
        .iter()
        .map(from_row)
        .collect()
}

pub fn count_users(conn: &mut Conn) -> Result<i64> {
    conn.query_i64("SELECT COUNT(*) FROM users", &[])
}

/// Disables (or enables) an account; a disabled account's sessions end at once.
pub fn set_disabled(conn: &mut Conn, by: &Scope, username: &str, disabled: bool) -> Result<()> {
    by.require(crate::scope::Perm::ManageUsers)?;
    conn.transaction(|c| {
        let before = get_user(c, username)?;
        c.execute(
            "UPDATE users SET disabled = $1, updated_at = $2 WHERE username = $3",
            &[disabled.into(), now().into(), username.into()],
        )?;
        if disabled {
            c.execute(
                "DELETE FROM sessions WHERE username = $1",
                &[username.into()],
            )?;
        }
        let after = get_user(c, username)?;
        audit::append(
            c,
            by,
            audit::Event {
                action: if disabled { "disable" } else { "enable" },
                entity: "user",
                entity_id: Some(username),
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )?;
        Ok(())
    })
}

/// Sets a new password (and clears a lock).
pub fn set_password(conn: &mut Conn, by: &Scope, username: &str, password: &str) -> Result<()> {
    get_user(conn, username)?;
    let hash = hash_password(password)?;
    conn.transaction(|c| {
        c.execute(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, must_change_password = $4, updated_at = $2 WHERE username = $3",
            &[hash.into(), now().into(), username.into(), true.into()],
        )?;
        // A new password ends every session of the account.
        c.execute("DELETE FROM sessions WHERE username = $1", &[username.into()])?;
        audit::append(
            c,
            by,
            audit::Event {
                action: "set_password",
                entity: "user",
                entity_id: Some(username),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// Why a login failed. The HTTP layer answers all of them the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password or disabled account.
    Invalid,
    /// Too many failures: locked until this time.
    Locked(String),
}

/// Checks a password; counts failures and locks after [`MAX_FAILURES`]. Audited.
pub fn login(
    conn: &mut Conn,
    username: &str,
    password: &str,
    ip: Option<String>,
) -> Result<std::result::Result<User, LoginError>> {
    let row = conn.query_opt(
        "SELECT password_hash, disabled, failed_logins, locked_until FROM users WHERE username = $1",
        &[username.into()],
    )?;
    let scope = Scope::system_as(Actor {
        user: username.to_string(),
        ip,
    });
    let Some(r) = row else {
        // Same work as a real check, so timing does not reveal which names exist.
        let _ = verify_password(password, dummy_hash());
        return Ok(Err(LoginError::Invalid));
    };
    let t = now();
    if let Some(until) = r.opt_text(3)
        && until > t
    {
        return Ok(Err(LoginError::Locked(until)));
    }
    let ok = verify_password(password, &r.text(0));
    if ok && !r.bool(1) {
        conn.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = $1",
            &[username.into()],
        )?;
        audit::append(
            conn,
            &scope,
            audit::Event {
                action: "login",
                entity: "user",
                entity_id: Some(username),
                ..Default::default()
            },
        )?;
        return Ok(Ok(get_user(conn, username)?));
    }
    let failures = r.int(2) + 1;
    let locked = (failures >= MAX_FAILURES).then(|| {
        (Utc::now() + Duration::minutes(LOCK_MINUTES))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    });
    conn.execute(
        "UPDATE users SET failed_logins = $1, locked_until = $2 WHERE username = $3",
        &[
            if locked.is_some() { 0 } else { failures }.into(),
            locked.clone().into(),
            username.into(),
        ],
    )?;
    audit::append(
        conn,
        &scope,
        audit::Event {
            action: if locked.is_some() {
                "login_locked"
            } else {
                "login_failed"
            },
            entity: "user",
            entity_id: Some(username),
            ..Default::default()
        },
    )?;
    Ok(Err(match locked {
        Some(until) => LoginError::Locked(until),
        None => LoginError::Invalid,
    }))
}

/// An Argon2id hash of a random string, to spend the same time on unknown users.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_token(12)).unwrap_or_default())
}

fn principal(conn: &mut Conn, reference: &Reference, username: &str) -> Result<Option<Principal>> {
    let u = match get_user(conn, username) {
        Ok(u) => u,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if u.disabled {
        return Ok(None);
    }
    let Some(area) = reference.areas.get(&u.area_code) else {
        return Ok(None);
    };
    let area_path = area.path.clone();
    Ok(Some(Principal { user: u, area_path }))
}

/// A new console session: `(session secret, CSRF token)`.
pub fn create_session(
    conn: &mut Conn,
    username: &str,
    ip: Option<&str>,
) -> Result<(String, String)> {
    let secret = random_token(32);
    let csrf = random_token(24);
    let t = now();
    let exp = (Utc::now() + Duration::hours(SESSION_HOURS))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    conn.execute(
        "DELETE FROM sessions WHERE expires_at < $1",
        &[t.as_str().into()],
    )?;
    conn.execute(
        "INSERT INTO sessions (token_hash, username, csrf, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            sha256_hex(secret.as_bytes()).into(),
            username.into(),
            csrf.as_str().into(),
            ip.into(),
            t.into(),
            exp.into(),
        ],
    )?;
    Ok((secret, csrf))
}

/// The caller of a live session, with its CSRF token.
pub fn session_principal(
    conn: &mut Conn,
    reference: &Reference,
    secret: &str,
) -> Result<Option<(Principal, String)>> {
    let r = conn.query_opt(
        "SELECT username, csrf FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        &[sha256_hex(secret.as_bytes()).into(), now().into()],
    )?;
    let Some(r) = r else { return Ok(None) };
    Ok(principal(conn, reference, &r.text(0))?.map(|p| (p, r.text(1))))
}

/// Ends a session.
pub fn delete_session(conn: &mut Conn, secret: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[sha256_hex(secret.as_bytes()).into()],
    )?;
    Ok(())
}

/// An API token's metadata (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub username: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// Issues an API token for a user, valid for `days`; returns the secret (shown once).
/// The token carries the user's role and area; `lx_` prefixes it for secret scanners.
pub fn create_token(
    conn: &mut Conn,
    by: &Scope,
    username: &str,
    name: &str,
    days: i64,
) -> Result<String> {
    by.require(crate::scope::Perm::ManageUsers)?;
    get_user(conn, username)?;
    if !(1..=3660).contains(&days) {
        return Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "days",
            "between 1 and 3660",
        )]));
    }
    let secret = format!("lx_{}", random_token(32));
    let t = now();
    let exp = (Utc::now() + Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO api_tokens (token_hash, username, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                sha256_hex(secret.as_bytes()).into(),
                username.into(),
                name.into(),
                t.into(),
                exp.into(),
            ],
        )?;
        audit::append(
            c,
            by,
            audit::Event {
                action: "create_token",
                entity: "user",
                entity_id: Some(username),
                after: Some(format!("{{\"token\":{}}}", serde_json::Value::from(name))),
                ..Default::default()
            },
        )?;
        Ok(secret)
    })
}

/// Revokes a user's token by name.
pub fn revoke_token(conn: &mut Conn, by: &Scope, username: &str, name: &str) -> Result<()> {
    by.require(crate::scope::Perm::ManageUsers)?;
    let n = conn.execute(
        "UPDATE api_tokens SET revoked_at = $1 WHERE username = $2 AND name = $3 AND revoked_at IS NULL",
        &[now().into(), username.into(), name.into()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: "token",
            id: name.to_string(),
        });
    }
    audit::append(
        conn,
        by,
        audit::Event {
            action: "revoke_token",
            entity: "user",
            entity_id: Some(username),
            before: Some(format!("{{\"token\":{}}}", serde_json::Value::from(name))),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// A user's tokens.
pub fn list_tokens(conn: &mut Conn, username: &str) -> Result<Vec<TokenInfo>> {
    Ok(conn
        .query(
            "SELECT username, name, created_at, expires_at, revoked_at FROM api_tokens WHERE username = $1 ORDER BY name",
            &[username.into()],
        )?
        .iter()
        .map(|r| TokenInfo {
            username: r.text(0),
            name: r.text(1),
            created_at: r.text(2),
            expires_at: r.text(3),
            revoked_at: r.opt_text(4),
        })
        .collect())
}

/// The caller of a live, unrevoked API token.
pub fn token_principal(
    conn: &mut Conn,
    reference: &Reference,
    secret: &str,
) -> Result<Option<Principal>> {
    let r = conn.query_opt(
        "SELECT username FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        &[sha256_hex(secret.as_bytes()).into(), now().into()],
    )?;
    match r {
        Some(r) => principal(conn, reference, &r.text(0)),
        None => Ok(None),
    }
}

/// On an empty users table, creates `admin` (city administrator) with a random
/// password and returns the password (to print once).
pub fn bootstrap_admin(conn: &mut Conn, reference: &Reference) -> Result<Option<String>> {
    if count_users(conn)? > 0 {
        return Ok(None);
    }
    let city = reference
        .areas
        .root()
        .map(|a| a.code.clone())
        .ok_or_else(|| StoreError::Reference("no city".into()))?;
    let pw = generate_password();
    create_user(
        conn,
        reference,
        &Scope::system("bootstrap"),
        "admin",
        Role::CityAdmin,
        &city,
        None,
        &pw,
    )?;
    set_must_change(conn, "admin", true)?;
    Ok(Some(pw))
}
