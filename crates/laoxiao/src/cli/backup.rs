//! `backup` and `restore` of the SQLite database.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use laoxiao_store::DbTarget;

use crate::config::Config;

/// `laoxiao backup`: a consistent copy while the server runs (never replaces `out`).
pub fn backup(config: &Config, out: &Path) -> Result<()> {
    let source = laoxiao_store::backup::sqlite_path(&DbTarget::parse(&config.database_url)?)?;
    let started = Instant::now();
    let info = laoxiao_store::backup::backup_sqlite(&source, out, &Default::default())?;
    println!(
        "backed up {} to {} ({} bytes, schema {}) in {:.1} s",
        source.display(),
        out.display(),
        info.bytes,
        info.schema_version,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `laoxiao restore`: a checked backup becomes the configured database.
pub fn restore(config: &Config, file: &Path, force: bool) -> Result<()> {
    let target = laoxiao_store::backup::sqlite_path(&DbTarget::parse(&config.database_url)?)?;
    let info = laoxiao_store::backup::restore_sqlite(file, &target, force)?;
    println!(
        "restored {} as {} ({} bytes, schema {}, integrity ok); run `laoxiao audit verify` \
         with the same keys",
        file.display(),
        target.display(),
        info.bytes,
        info.schema_version
    );
    Ok(())
}
