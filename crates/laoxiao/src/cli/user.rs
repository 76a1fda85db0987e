//! `user …`: accounts and API tokens.

use anyhow::Result;
use laoxiao_store::accounts;

use super::{cli_scope, open};
use crate::config::Config;

/// `laoxiao user add`: prints a one-time password.
pub fn add(
    config: &Config,
    username: &str,
    role: &str,
    area: &str,
    facility: Option<&str>,
) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    let role: laoxiao_store::Role = role.parse().map_err(anyhow::Error::msg)?;
    let pw = accounts::generate_password();
    accounts::create_user(
        &mut c,
        &store.reference,
        &cli_scope(),
        username,
        role,
        area,
        facility,
        &pw,
    )?;
    accounts::set_must_change(&mut c, username, true)?;
    println!("created {username} ({role}, area {area}); one-time password: {pw}");
    Ok(())
}

/// `laoxiao user list`.
pub fn list(config: &Config) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    for u in accounts::list_users(&mut c)? {
        println!(
            "{:<20} {:<18} {:<12} {:<16} {}",
            u.username,
            u.role.code(),
            u.area_code,
            u.facility_id.unwrap_or_else(|| "-".into()),
            if u.disabled { "disabled" } else { "active" }
        );
    }
    Ok(())
}

/// `laoxiao user disable` / `enable`.
pub fn set_disabled(config: &Config, username: &str, disabled: bool) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    accounts::set_disabled(&mut c, &cli_scope(), username, disabled)?;
    if disabled {
        println!("disabled {username}");
    } else {
        println!("enabled {username}");
    }
    Ok(())
}

/// `laoxiao user password`: a new one-time password, printed.
pub fn password(config: &Config, username: &str) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    let pw = accounts::generate_password();
    accounts::set_password(&mut c, &cli_scope(), username, &pw)?;
    println!("new one-time password for {username}: {pw}");
    Ok(())
}

/// `laoxiao user token`: a new API token, printed once.
pub fn token(config: &Config, username: &str, name: &str, days: i64) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    let t = accounts::create_token(&mut c, &cli_scope(), username, name, days)?;
    println!("API token {name:?} for {username}, valid {days} days (shown once):\n{t}");
    Ok(())
}

/// `laoxiao user revoke`.
pub fn revoke(config: &Config, username: &str, name: &str) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    accounts::revoke_token(&mut c, &cli_scope(), username, name)?;
    println!("revoked token {name:?} of {username}");
    Ok(())
}

/// `laoxiao user tokens`: a user's tokens, never the secrets.
pub fn tokens(config: &Config, username: &str) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    for t in accounts::list_tokens(&mut c, username)? {
        println!(
            "{:<20} created {} expires {} {}",
            t.name,
            t.created_at,
            t.expires_at,
            t.revoked_at
                .map(|r| format!("revoked {r}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
