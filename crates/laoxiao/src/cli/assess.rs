//! `laoxiao assess …`: ability assessments (老年人能力评估, GB/T 42195-2022).
//! `import FILE [--dry-run]` enters paper assessments from a CSV or XLSX file,
//! all or nothing; `due` counts who is due and overdue.

use std::path::Path;

use anyhow::{Context, Result};
use laoxiao_store::StoreError;
use laoxiao_store::assessments::{self as asm, import};

use super::open;
use super::subsidies::scope_as;
use crate::config::Config;

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// `laoxiao assess import FILE [--dry-run] [--as USER]`.
pub fn import_file(config: &Config, file: &Path, dry_run: bool, who: Option<&str>) -> Result<()> {
    let store = open(config)?;
    let scope = scope_as(&store, who)?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let mut c = store.conn()?;
    match import::import(
        &mut c,
        &store.reference,
        &scope,
        &name,
        &bytes,
        today(),
        dry_run,
    ) {
        Ok(r) if r.dry_run => {
            println!(
                "{} assessments checked; nothing written (--dry-run)",
                r.rows
            );
            Ok(())
        }
        Ok(r) => {
            println!("{} assessments imported and finished", r.rows);
            Ok(())
        }
        Err(StoreError::ImportRejected(errs)) => {
            for e in &errs {
                eprintln!("{e}");
            }
            anyhow::bail!(
                "import rejected: {} error(s); nothing was written",
                errs.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `laoxiao assess due [--as USER]`: counts of overdue, due within 30 days and
/// never assessed.
pub fn due(config: &Config, who: Option<&str>) -> Result<()> {
    let store = open(config)?;
    let scope = scope_as(&store, who)?;
    let mut c = store.conn()?;
    let (overdue, soon, never) = asm::due_counts(&mut c, &scope, today())?;
    println!(
        "overdue: {overdue}\ndue within {} days: {soon}\nnever assessed: {never}",
        asm::DUE_HORIZON_DAYS
    );
    Ok(())
}
