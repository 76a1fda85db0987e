//! The commands of the `laoxiao` binary, one module per verb group. `main.rs`
//! parses the flags (clap) and calls these with plain values; what a command
//! prints and whether it fails is decided here.

pub mod alarms;
pub mod assess;
pub mod audit;
pub mod backup;
pub mod childcare;
pub mod demo;
pub mod indicators;
pub mod keys;
pub mod plan;
pub mod registers;
pub mod serve;
pub mod subsidies;
pub mod supervise;
pub mod user;
pub mod visits;

use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use laoxiao_store::{DbTarget, OpenOptions, Store, StoreError};

use crate::config::Config;

pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints a failed command's error on stderr (the caller exits with status 1).
pub fn print_error(e: &anyhow::Error) {
    // An import's row errors are the answer the user needs, not a trace.
    if let Some(StoreError::ImportRejected(rows)) = e.downcast_ref::<StoreError>() {
        for r in rows {
            eprintln!("{r}");
        }
        eprintln!(
            "import rejected: {} error(s); nothing was written",
            rows.len()
        );
    } else {
        eprintln!("error: {e:#}");
    }
}

fn bar(len: u64, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_string());
    pb
}

fn open(config: &Config) -> Result<Store> {
    let target = DbTarget::parse(&config.database_url)?;
    let store = Store::open(&OpenOptions {
        target,
        pool_size: config.pool_size,
        migrate: true,
    })
    .with_context(|| format!("opening database {}", config.database_display()))?;
    if let Some(keys) = config.keys()? {
        let n = store.set_keys(keys)?;
        if n > 0 {
            println!("encrypted the ID numbers of {n} people (first start with a data key)");
        }
    }
    Ok(store)
}

/// The scope of CLI commands: the operator of the server.
fn cli_scope() -> laoxiao_store::Scope {
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    laoxiao_store::Scope::system(&format!("cli:{who}"))
}

fn check_scale(scale: f64) -> Result<()> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 2.0) {
        bail!("--scale must be a number above 0 and at most 2 (got {scale})");
    }
    Ok(())
}

/// Today's date on this machine: imports check ages against it.
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists: refusing to overwrite it", path.display())
        } else {
            anyhow::Error::new(e).context(format!("creating {}", path.display()))
        }
    })?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
