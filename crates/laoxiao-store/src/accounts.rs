//! Accounts, console sessions and API tokens.
//!
//! Passwords are hashed with Argon2id. Session ids and API tokens are random
//! secrets handed out once; the database keeps only their SHA-256.
//!
//! Failed logins never lock an account (that would let anyone lock anyone out).
//! Each account and each client address has a failure count in `login_throttle`
//! (shared by every app server); past a free allowance each further attempt
//! must wait an exponentially growing, capped interval. An attempt inside the
//! wait is refused without checking the password. Every failure — unknown
//! name, disabled account, wrong password, attempt inside a wait — does one
//! Argon2 verification and answers alike, so neither the answer nor its timing
//! tells them apart.

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

/// Failures an account may have before each further attempt waits.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failures one client address may have before each further attempt waits.
pub const ADDRESS_FREE_FAILURES: i64 = 20;
/// The wait after the first failure past the allowance; each further failure doubles it.
pub const FIRST_DELAY_SECS: i64 = 1;
/// The longest wait: the correct password works again at most this long after
/// someone else's last failure.
pub const MAX_DELAY_SECS: i64 = 15 * 60;
/// An account's count starts over when its last failure is this old.
pub const ACCOUNT_FORGET_SECS: i64 = 24 * 3600;
/// An address's count starts over when its last failure is this old.
pub const ADDRESS_FORGET_SECS: i64 = 3600;
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
        username: r.get("username")?,
        role: r.parse("role")?,
        area_code: r.get("area_code")?,
        facility_id: r.get("facility_id")?,
        disabled: r.get("disabled")?,
        created_at: r.get("created_at")?,
        must_change_password: r.get("must_change_password")?,
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
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    PASSWORD_CHECKS.with(|n| n.set(n.get() + 1));
    Argon2::default().verify_password(pw.as_bytes(), &h).is_ok()
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
    match (role == Role::FacilityOperator, facility_id) {
        (true, None) => {
            return Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
                "facility",
                "a facility operator needs --facility",
            )]));
        }
        (false, Some(_)) => {
            return Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
                "facility",
                "only a facility operator is tied to a facility",
            )]));
        }
        (true, Some(fid)) => {
            // The facility must be live and inside the account's home area (which
            // lies inside the caller's own). One answer for "no such facility"
            // and "a facility elsewhere", so the check reveals nothing outside.
            let upper = crate::path_upper(&area.path);
            let found = conn.query_i64(
                "SELECT COUNT(*) FROM facility WHERE id = $1 AND deleted_at IS NULL \
                 AND area_path >= $2 AND area_path < $3",
                &[fid.into(), area.path.as_str().into(), upper.as_str().into()],
            )?;
            if found == 0 {
                return Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
                    "facility",
                    format!("no facility {fid:?} in area {area_code}"),
                )]));
            }
        }
        (false, None) => {}
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
    if !verify_password(current, &r.get::<String>("password_hash")?) {
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

/// Sets a new password (and starts the account's failure count over).
pub fn set_password(conn: &mut Conn, by: &Scope, username: &str, password: &str) -> Result<()> {
    get_user(conn, username)?;
    let hash = hash_password(password)?;
    conn.transaction(|c| {
        c.execute(
            "UPDATE users SET password_hash = $1, must_change_password = $4, updated_at = $2 WHERE username = $3",
            &[hash.into(), now().into(), username.into(), true.into()],
        )?;
        c.execute(
            "DELETE FROM login_throttle WHERE key = $1",
            &[throttle_key(ACCOUNT.kind, username).into()],
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password or disabled account.
    Invalid,
    /// An attempt inside the wait of the account or the address: the password
    /// was not checked.
    Throttled,
}

/// A throttle key: one account name or one client address.
#[derive(Debug, Clone, Copy)]
struct Throttle {
    kind: &'static str,
    free: i64,
    forget_secs: i64,
}

const ACCOUNT: Throttle = Throttle {
    kind: "account",
    free: ACCOUNT_FREE_FAILURES,
    forget_secs: ACCOUNT_FORGET_SECS,
};
const ADDRESS: Throttle = Throttle {
    kind: "address",
    free: ADDRESS_FREE_FAILURES,
    forget_secs: ADDRESS_FORGET_SECS,
};

/// The wait after the `failures`-th failure within the count's window:
/// none within the allowance, then 1 s, 2 s, 4 s, … up to [`MAX_DELAY_SECS`].
pub fn throttle_delay_secs(failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(30);
    FIRST_DELAY_SECS
        .saturating_mul(1 << doublings)
        .min(MAX_DELAY_SECS)
}

/// The address a throttle counts: IPv6 clients by their /64 (one subscriber
/// holds a whole /64), everything else as given.
fn address_key(ip: Option<&str>) -> String {
    match ip.map(str::parse::<std::net::IpAddr>) {
        Some(Ok(std::net::IpAddr::V6(v6))) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(Ok(std::net::IpAddr::V6(v6))) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Some(Ok(ip)) => ip.to_string(),
        Some(Err(_)) | None => "unknown".into(),
    }
}

fn throttle_key(kind: &str, value: &str) -> String {
    sha256_hex(format!("{kind}\0{value}").as_bytes())
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A key's row as read: (failures, last failure, next attempt).
type ThrottleRow = Option<(i64, String, String)>;

fn read_throttle(conn: &mut Conn, key: &str) -> Result<ThrottleRow> {
    conn.query_opt(
        "SELECT failures, last_failure_at, next_attempt_at FROM login_throttle WHERE key = $1",
        &[key.into()],
    )?
    .map(|r| {
        Ok((
            r.get("failures")?,
            r.get("last_failure_at")?,
            r.get("next_attempt_at")?,
        ))
    })
    .transpose()
}

/// Counts one attempt against `key` before the password is checked, so that
/// concurrent attempts (from any app server) cannot all slip through one
/// open window: compare-and-set on the row as read. `Ok(false)` when another
/// attempt changed the row in between.
fn claim(
    conn: &mut Conn,
    t: Throttle,
    key: &str,
    seen: &ThrottleRow,
    now: chrono::DateTime<Utc>,
) -> Result<bool> {
    let forget_before = stamp(now - Duration::seconds(t.forget_secs));
    let before = match seen {
        Some((n, last, _)) if *last >= forget_before => *n,
        _ => 0,
    };
    let failures = before.saturating_add(1);
    let next = stamp(now + Duration::seconds(throttle_delay_secs(failures, t.free)));
    let n = match seen {
        None => conn.execute(
            "INSERT INTO login_throttle (key, failures, last_failure_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
            &[key.into(), failures.into(), stamp(now).into(), next.into()],
        )?,
        Some((n, last, next_at)) => conn.execute(
            "UPDATE login_throttle SET failures = $1, last_failure_at = $2, next_attempt_at = $3 \
             WHERE key = $4 AND failures = $5 AND last_failure_at = $6 AND next_attempt_at = $7",
            &[
                failures.into(),
                stamp(now).into(),
                next.into(),
                key.into(),
                (*n).into(),
                last.into(),
                next_at.into(),
            ],
        )?,
    };
    Ok(n == 1)
}

/// Takes back a claim (a successful login is not a failure), unless another
/// attempt has counted on the row since.
fn unclaim(conn: &mut Conn, key: &str, seen: &ThrottleRow) -> Result<()> {
    let Some(now_row) = read_throttle(conn, key)? else {
        return Ok(());
    };
    let (n, last, next_at) = now_row;
    match seen {
        None => conn.execute(
            "DELETE FROM login_throttle WHERE key = $1 AND failures = $2 AND last_failure_at = $3 AND next_attempt_at = $4",
            &[key.into(), n.into(), last.into(), next_at.into()],
        )?,
        Some((n0, last0, next0)) => conn.execute(
            "UPDATE login_throttle SET failures = $1, last_failure_at = $2, next_attempt_at = $3 \
             WHERE key = $4 AND failures = $5 AND last_failure_at = $6 AND next_attempt_at = $7",
            &[
                (*n0).into(),
                last0.into(),
                next0.into(),
                key.into(),
                n.into(),
                last.into(),
                next_at.into(),
            ],
        )?,
    };
    Ok(())
}

/// Whether this attempt may check a password: both keys are outside their
/// waits, and the attempt is counted against both. Returns the rows as they
/// were, to take the count back on success.
fn admit(
    conn: &mut Conn,
    account: &str,
    address: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Option<(ThrottleRow, ThrottleRow)>> {
    let t = stamp(now);
    // Rows nobody has failed on for a long time are forgotten anyway.
    conn.execute(
        "DELETE FROM login_throttle WHERE last_failure_at < $1 AND next_attempt_at < $2",
        &[
            stamp(now - Duration::seconds(ACCOUNT_FORGET_SECS.max(ADDRESS_FORGET_SECS))).into(),
            t.as_str().into(),
        ],
    )?;
    // A lost race means a concurrent attempt on the same key; a few tries,
    // then this one counts as inside the wait.
    for _ in 0..4 {
        let seen_account = read_throttle(conn, account)?;
        let seen_address = read_throttle(conn, address)?;
        let waiting = |s: &ThrottleRow| s.as_ref().is_some_and(|(_, _, next)| *next > t);
        if waiting(&seen_account) || waiting(&seen_address) {
            return Ok(None);
        }
        if !claim(conn, ACCOUNT, account, &seen_account, now)? {
            continue;
        }
        if !claim(conn, ADDRESS, address, &seen_address, now)? {
            unclaim(conn, account, &seen_account)?;
            continue;
        }
        return Ok(Some((seen_account, seen_address)));
    }
    Ok(None)
}

/// Checks a password, with the per-account and per-address throttles. Audited.
pub fn login(
    conn: &mut Conn,
    username: &str,
    password: &str,
    ip: Option<String>,
) -> Result<std::result::Result<User, LoginError>> {
    login_at(conn, username, password, ip, Utc::now())
}

/// [`login`] at a given time (tests move the clock past a wait).
pub fn login_at(
    conn: &mut Conn,
    username: &str,
    password: &str,
    ip: Option<String>,
    now: chrono::DateTime<Utc>,
) -> Result<std::result::Result<User, LoginError>> {
    let account = throttle_key(ACCOUNT.kind, username);
    let address = throttle_key(ADDRESS.kind, &address_key(ip.as_deref()));
    // The name as typed goes into the audit entry only when it could be an
    // account name (bounded, no stray text).
    let named = check_username(username).is_ok().then_some(username);
    let scope = Scope::system_as(Actor {
        user: named.unwrap_or("(invalid name)").to_string(),
        ip,
    });
    let admitted = admit(conn, &account, &address, now)?;
    let row = conn.query_opt(
        "SELECT password_hash, disabled FROM users WHERE username = $1",
        &[username.into()],
    )?;
    // Exactly one Argon2 verification on every path: against the account's
    // hash when the attempt is admitted and the account exists, else against a
    // dummy hash of the same parameters.
    let ok = match (&admitted, &row) {
        (Some(_), Some(r)) => {
            verify_password(password, &r.get::<String>("password_hash")?)
                && !r.get::<bool>("disabled")?
        }
        _ => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    };
    if let (true, Some((_, seen_address))) = (ok, &admitted) {
        // The account's count starts over; the address keeps its other failures.
        conn.execute(
            "DELETE FROM login_throttle WHERE key = $1",
            &[account.as_str().into()],
        )?;
        unclaim(conn, &address, seen_address)?;
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
    audit::append(
        conn,
        &scope,
        audit::Event {
            action: if admitted.is_some() {
                "login_failed"
            } else {
                "login_throttled"
            },
            entity: "user",
            entity_id: named,
            ..Default::default()
        },
    )?;
    Ok(Err(if admitted.is_some() {
        LoginError::Invalid
    } else {
        LoginError::Throttled
    }))
}

thread_local! {
    static PASSWORD_CHECKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Argon2 password verifications done so far on this thread (tests use it to
/// show that every login failure does the same hashing work).
pub fn password_checks_on_this_thread() -> u64 {
    PASSWORD_CHECKS.with(std::cell::Cell::get)
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
    let csrf: String = r.get("csrf")?;
    Ok(principal(conn, reference, &r.get::<String>("username")?)?.map(|p| (p, csrf)))
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
    conn.query(
        "SELECT username, name, created_at, expires_at, revoked_at FROM api_tokens WHERE username = $1 ORDER BY name",
        &[username.into()],
    )?
    .iter()
    .map(|r| {
        Ok(TokenInfo {
            username: r.get("username")?,
            name: r.get("name")?,
            created_at: r.get("created_at")?,
            expires_at: r.get("expires_at")?,
            revoked_at: r.get("revoked_at")?,
        })
    })
    .collect()
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
        Some(r) => principal(conn, reference, &r.get::<String>("username")?),
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
