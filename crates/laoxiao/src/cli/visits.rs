//! `laoxiao visits`: the monthly visiting rounds (探访关爱) from the command
//! line, and their benchmark (docs/visits.md, docs/benchmarks.md).

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};
use laoxiao_rules::visits::{VisitRules, parse_month};

use super::{cli_scope, open, today};
use crate::config::Config;

fn month_of(m: Option<&str>, default: NaiveDate) -> Result<NaiveDate> {
    match m {
        None => Ok(default.with_day(1).unwrap_or(default)),
        Some(s) => match parse_month(s) {
            Some(d) => Ok(d),
            None => bail!("--month {s:?}: give a month as YYYY-MM"),
        },
    }
}

/// `laoxiao visits rounds [--month M]`
pub fn rounds(config: &Config, month: Option<&str>) -> Result<()> {
    let first = month_of(month, today())?;
    let rules = VisitRules::embedded()?.for_month(first)?;
    let store = open(config)?;
    let g = laoxiao_store::visits::generate_city(&mut store.conn()?, &cli_scope(), &rules)?;
    println!(
        "rounds {}: {} tasks created ({} without a visitor), {} closed by visits on the register; {} in all; due by {}",
        g.month, g.created, g.unassigned, g.matched, g.total, rules.due_date
    );
    Ok(())
}

/// `laoxiao visits bench [--month M] [--repeat N]`
pub fn bench(config: &Config, month: Option<&str>, repeat: usize) -> Result<()> {
    let next = today()
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .context("next month")?;
    let first = month_of(month, next)?;
    let rules = VisitRules::embedded()?.for_month(first)?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let runs = laoxiao_store::visits::bench_generate(&mut c, &rules, repeat.clamp(1, 100))?;
    let mut secs: Vec<f64> = runs.iter().map(|r| r.0).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs[secs.len() / 2];
    for (i, (s, n)) in runs.iter().enumerate() {
        println!("run {}: {n} tasks in {:.3} s", i + 1, s);
    }
    println!(
        "median {:.3} s for {} tasks ({:?}, month {}-{:02})",
        median,
        runs.first().map_or(0, |r| r.1),
        store.backend(),
        first.year(),
        first.month()
    );
    Ok(())
}
