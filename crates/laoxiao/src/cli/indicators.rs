//! `laoxiao indicators …`: compute, export, publish and recompute the plan's
//! indicators; enter reported values, area targets and resident figures.

use std::path::Path;

use anyhow::{Context, Result, bail};
use laoxiao_rules::indicators::{Period, definitions};
use laoxiao_store::indicators::{self as ind, excel};
use laoxiao_store::io::{ExportFormat, ImportLimits};

use super::{cli_scope, open, today};
use crate::config::Config;

/// CSV or XLSX, by the output file's extension.
pub(crate) fn format_of(path: &Path) -> Result<ExportFormat> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(ExportFormat::Csv),
        Some("xlsx") => Ok(ExportFormat::Xlsx),
        _ => bail!(
            "{}: the output file must end in .csv or .xlsx",
            path.display()
        ),
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `indicators compute`: every indicator for every area of a period; prints
/// the asked area's (the city's by default) or writes the plan's table.
pub fn compute(
    config: &Config,
    period: &str,
    area: Option<&str>,
    out: Option<&Path>,
    live: bool,
    all: bool,
) -> Result<()> {
    let period = Period::parse(period)?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let r = &store.reference;
    let area = match area {
        Some(code) => r
            .areas
            .get(code)
            .with_context(|| format!("no area with code {code:?}"))?,
        None => r.areas.root().context("the area tree has no city")?,
    };
    let t = ind::table(&mut c, r, period, today(), live)?;
    let state = match &t.publication {
        Some(p) => format!(
            "published {} by {} (publication {})",
            p.published_at, p.published_by, p.id
        ),
        None => "provisional (not published)".to_string(),
    };
    if let (true, Some(path)) = (all, out) {
        // Every value of every area, one row each (for comparisons and analysis).
        let headers = [
            "indicator",
            "area_code",
            "level",
            "period",
            "numerator",
            "denominator",
            "value",
            "status",
            "months",
        ];
        let rows: Vec<Vec<String>> = t
            .values
            .iter()
            .filter(|v| {
                r.areas
                    .get(&v.area_code)
                    .is_some_and(|a| a.path.starts_with(&area.path))
            })
            .map(|v| {
                vec![
                    v.indicator.to_string(),
                    v.area_code.clone(),
                    v.level.code().to_string(),
                    v.period.clone(),
                    v.numerator.map(|n| n.to_string()).unwrap_or_default(),
                    v.denominator.map(|n| n.to_string()).unwrap_or_default(),
                    v.value.map(|x| x.to_string()).unwrap_or_default(),
                    v.status.status.code().to_string(),
                    v.months
                        .iter()
                        .map(|m| format!("{}/{}", m.numerator, m.denominator))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect();
        write_new(
            path,
            &excel::write(&headers, &rows, format_of(path)?, "values")?,
        )?;
        println!(
            "wrote {} values ({} areas, {period} as of {}; {state}); facts read in {:.0} ms, computed in {:.0} ms",
            rows.len(),
            r.areas.len(),
            t.as_of,
            t.facts_ms,
            t.compute_ms
        );
        return Ok(());
    }
    if let Some(path) = out {
        let bytes = excel::export_table(&t, &area.code, format_of(path)?)?;
        write_new(path, &bytes)?;
        println!(
            "wrote {} ({} indicators of {} {}, {period}, as of {}; {state})",
            path.display(),
            excel::table_rows(&t, &area.code)?.len(),
            area.code,
            area.name,
            t.as_of
        );
        return Ok(());
    }
    let defs = definitions()?;
    println!(
        "{} {} — {period} as of {} — {state}",
        area.code, area.name, t.as_of
    );
    println!(
        "{:>3}  {:<36} {:>12}  {:<6} {:<8} {:>10}",
        "#", "指标", "value", "target", "status", "gap"
    );
    for d in &defs.all {
        let Some(v) = t.get(d.number, &area.code) else {
            continue;
        };
        let name: String = d.name_zh.chars().take(18).collect();
        let pad = 36usize.saturating_sub(name.chars().count() * 2);
        println!(
            "{:>3}  {name}{:pad$} {:>12}  {:<6} {:<8} {:>10}",
            d.number,
            "",
            v.value
                .map(|x| format!("{x}{}", d.unit.as_deref().unwrap_or("")))
                .unwrap_or_else(|| "—".into()),
            v.status.target.clone().unwrap_or_default(),
            v.status.status.code(),
            v.status.gap.map(|g| g.to_string()).unwrap_or_default(),
        );
    }
    if t.publication.is_none() {
        println!(
            "{} values for {} areas; facts read in {:.0} ms, computed in {:.0} ms",
            t.values.len(),
            r.areas.len(),
            t.facts_ms,
            t.compute_ms
        );
    }
    Ok(())
}

/// `indicators publish`.
pub fn publish(config: &Config, period: &str, note: Option<&str>) -> Result<()> {
    let period = Period::parse(period)?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let p = ind::publish(
        &mut c,
        &cli_scope(),
        &store.reference,
        period,
        today(),
        note,
    )?;
    println!(
        "published {period} as of {} (publication {}, definitions {}, registers {})",
        p.as_of, p.id, p.definitions_version, p.register_versions
    );
    Ok(())
}

/// `indicators recompute`: what recomputing a published period would change.
pub fn recompute(config: &Config, period: &str) -> Result<()> {
    let period = Period::parse(period)?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let r = ind::recompute(&mut c, &store.reference, period, today())?;
    println!(
        "publication {} of {period} ({}, as of {})",
        r.publication.id, r.publication.published_at, r.publication.as_of
    );
    for why in &r.reasons {
        println!("  since then: {why}");
    }
    if r.changes.is_empty() {
        println!("no value would change");
    } else {
        println!("{} value(s) would change:", r.changes.len());
        for ch in r.changes.iter().take(50) {
            println!(
                "  {:>2} {}: {} → {} ({})",
                ch.indicator,
                ch.area_code,
                ch.published.map_or("—".into(), |v| v.to_string()),
                ch.now.map_or("—".into(), |v| v.to_string()),
                ch.reason
            );
        }
        if r.changes.len() > 50 {
            println!("  … and {} more", r.changes.len() - 50);
        }
    }
    Ok(())
}

/// `indicators report-values FILE`: reported values from CSV or XLSX, all or none.
pub fn report_values(config: &Config, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rows = excel::read_reports(&name, &bytes, ImportLimits::default())?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let n = ind::report(&mut c, &cli_scope(), &store.reference, &rows)?;
    println!("entered {n} reported value(s) from {}", file.display());
    Ok(())
}

/// `indicators reported --out FILE`: the reported values entered (the file
/// `report-values` reads back).
pub fn reported(config: &Config, period: Option<&str>, out: &Path) -> Result<()> {
    let period = period.map(Period::parse).transpose()?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let values = ind::reported_values(&mut c, period)?;
    write_new(out, &excel::write_reports(&values, format_of(out)?)?)?;
    println!(
        "wrote {} reported value(s) to {}",
        values.len(),
        out.display()
    );
    Ok(())
}

/// `indicators residents FILE`: resident figures (CSV: area_code, year,
/// residents, source).
pub fn residents(config: &Config, file: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut rows = Vec::new();
    let mut rdr =
        csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("row {}", i + 2))?;
        let get = |j: usize| rec.get(j).unwrap_or("").trim().to_string();
        let year: i32 = get(1)
            .parse()
            .with_context(|| format!("row {}, column year: not a year", i + 2))?;
        let n: i64 = get(2)
            .parse()
            .with_context(|| format!("row {}, column residents: not a whole number", i + 2))?;
        rows.push((get(0), year, n, get(3)));
        if rows.len() > ind::MAX_REPORT_ROWS {
            bail!("more than {} rows", ind::MAX_REPORT_ROWS);
        }
    }
    let store = open(config)?;
    let n = ind::set_residents(&mut store.conn()?, &cli_scope(), &store.reference, &rows)?;
    println!("entered {n} resident figure(s)");
    Ok(())
}

/// `indicators target`: an area's own target.
pub fn target(
    config: &Config,
    indicator: u32,
    area: &str,
    year: i32,
    target: &str,
    source: Option<&str>,
) -> Result<()> {
    let store = open(config)?;
    ind::set_target(
        &mut store.conn()?,
        &cli_scope(),
        &store.reference,
        indicator,
        area,
        year,
        target,
        source,
    )?;
    println!("target of indicator {indicator} for {area} in {year}: {target}");
    Ok(())
}
