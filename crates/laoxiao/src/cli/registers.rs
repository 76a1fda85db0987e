//! The registers as files: `import`, `export`, `template`, and `synth` (the
//! synthetic city in the import formats).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use laoxiao_model::columns::{HeaderLang, RecordKind};
use laoxiao_spatial::CoordSystem;
use laoxiao_store::io::{ExportFormat, ImportOptions};

use super::{bar, check_scale, cli_scope, open, today};
use crate::config::Config;

/// `laoxiao import`: every row or none.
pub fn import(
    config: &Config,
    kind: RecordKind,
    file: &Path,
    coords: CoordSystem,
    dry_run: bool,
    as_of: Option<chrono::NaiveDate>,
) -> Result<()> {
    let store = open(config)?;
    if matches!(kind, RecordKind::Elderly | RecordKind::Infants) && !store.reference.has_keys() {
        bail!(
            "people's ID numbers are encrypted at rest: set LAOXIAO_DATA_KEY and \
             LAOXIAO_HMAC_KEY (see `laoxiao keys generate`) or LAOXIAO_KEY_FILE first"
        );
    }
    let scope = cli_scope();
    let pb = bar(0, "importing");
    let progress = |done: u64, total: u64| {
        pb.set_length(total);
        pb.set_position(done);
    };
    let opts = ImportOptions {
        coords,
        dry_run,
        progress: Some(&progress),
        limits: config.import,
        // The audit entry is written in the import's transaction.
        audit_as: Some(&scope),
    };
    let started = Instant::now();
    let report =
        laoxiao_store::io::import_file_on(&store, kind, file, &opts, as_of.unwrap_or_else(today));
    pb.finish_and_clear();
    let report = report?;
    println!(
        "{}{}: {} rows — {} inserted, {} updated, {} unchanged ({:.1} s)",
        if dry_run {
            "dry run, nothing written — "
        } else {
            ""
        },
        file.display(),
        report.rows,
        report.inserted,
        report.updated,
        report.unchanged,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `laoxiao export` (ID numbers masked unless `full_id_numbers`).
pub fn export(
    config: &Config,
    kind: RecordKind,
    format: ExportFormat,
    out: &Path,
    lang: HeaderLang,
    full_id_numbers: bool,
) -> Result<()> {
    let store = open(config)?;
    let n = laoxiao_store::io::export(
        &store,
        &cli_scope(),
        kind,
        format,
        lang,
        full_id_numbers,
        out,
    )?;
    println!("wrote {n} rows to {}", out.display());
    Ok(())
}

/// `laoxiao template`: a blank XLSX import template (default file
/// `<kind>-template.xlsx`).
pub fn template(kind: RecordKind, format: ExportFormat, out: Option<PathBuf>) -> Result<()> {
    if matches!(format, ExportFormat::Csv) {
        bail!("templates are XLSX (they carry dropdowns); use --format xlsx");
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}-template.xlsx", kind.code())));
    laoxiao_store::io::write_template(kind, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// `laoxiao synth`: the synthetic city as CSV files in the import formats.
pub fn synth(seed: u64, scale: f64, as_of: Option<chrono::NaiveDate>, out: &Path) -> Result<()> {
    let as_of = as_of.unwrap_or_else(today);
    check_scale(scale)?;
    let started = Instant::now();
    let city = crate::synth::generate_as_of(seed, scale, as_of)?;
    let files = crate::synth::write_csv(&city, out)?;
    for f in files {
        println!("wrote {}", f.display());
    }
    println!(
        "synthetic city (seed {seed}, scale {scale}, as of {as_of}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
