//! `laoxiao childcare`: the month's childcare bills for every institution
//! from the command line (a batch job for the 1st of the month), and their
//! benchmark (docs/childcare.md, docs/benchmarks.md).

use anyhow::{Result, bail};
use laoxiao_rules::subsidies::Month;
use laoxiao_store::childcare_bills as cb;

use super::{cli_scope, open, today};
use crate::config::Config;

fn month_of(m: Option<&str>) -> Result<Month> {
    let t = today();
    match m {
        None => Ok(Month::of(t).add(-1)),
        Some(s) => match cb::parse_month(s, t) {
            Ok(m) => Ok(m),
            Err(e) => bail!("--month {s:?}: {e}"),
        },
    }
}

/// `laoxiao childcare bills [--month M]`
pub fn bills(config: &Config, month: Option<&str>) -> Result<()> {
    let month = month_of(month)?;
    let store = open(config)?;
    let g = cb::generate(
        &mut store.conn()?,
        &cli_scope(),
        month,
        None,
        chrono::Local::now().naive_local(),
    )?;
    println!(
        "bills {}: {} institutions; {} created, {} updated, {} unchanged, {} left as paid; {} children not billed; {} yuan due",
        g.month,
        g.institutions,
        g.created,
        g.updated,
        g.unchanged,
        g.kept_paid,
        g.skipped,
        laoxiao_rules::subsidies::yuan(g.due_fen)
    );
    for s in &g.skipped_reasons {
        println!(
            "  not billed: enrolment {} at {}: {}",
            s.enrolment_id, s.facility_id, s.reason
        );
    }
    Ok(())
}

/// `laoxiao childcare bench-bills [--month M] [--repeat N]`
pub fn bench(config: &Config, month: Option<&str>, repeat: usize) -> Result<()> {
    let month = month_of(month)?;
    let store = open(config)?;
    let mut c = store.conn()?;
    let b = cb::bench_generate(&mut c, month, chrono::Local::now().naive_local(), repeat)?;
    let mut secs: Vec<f64> = b.runs.iter().map(|r| r.0).collect();
    secs.sort_by(f64::total_cmp);
    for (i, (s, n)) in b.runs.iter().enumerate() {
        println!("run {}: {n} bills in {s:.3} s", i + 1);
    }
    println!(
        "median {:.3} s for {} bills ({} children enrolled in {month}, {} of them half-day, {} absences; {:?})",
        secs.get(secs.len() / 2).copied().unwrap_or_default(),
        b.runs.first().map_or(0, |r| r.1),
        b.children,
        b.half_day,
        b.absences,
        store.backend()
    );
    Ok(())
}
