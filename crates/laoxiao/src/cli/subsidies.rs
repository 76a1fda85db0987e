//! `laoxiao subsidies …`: prepare a month's or a year's run, review it with a
//! second account, export the payout list, mark it paid; explain an amount;
//! cost a reform; load the county incomes; run the rules' test cases.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use laoxiao_rules::subsidies::{Period, Rule, cases, yuan};
use laoxiao_store::accounts;
use laoxiao_store::subsidies::{self as sub, LineQuery, Run, Totals};
use laoxiao_store::{Actor, Scope};

use super::indicators::format_of;
use super::{cli_scope, open};
use crate::config::Config;

/// `--month 2025-06` or `--year 2025`, exactly one.
pub fn period_of(month: Option<&str>, year: Option<&str>) -> Result<Period> {
    match (month, year) {
        (Some(m), None) => {
            let p = Period::parse(m)?;
            if !matches!(p, Period::Month(_)) {
                bail!("--month takes a month like 2025-06, not {m:?}");
            }
            Ok(p)
        }
        (None, Some(y)) => {
            let p = Period::parse(y)?;
            if !matches!(p, Period::Year(_)) {
                bail!("--year takes a year like 2025, not {y:?}");
            }
            Ok(p)
        }
        _ => bail!("give exactly one of --month YYYY-MM and --year YYYY"),
    }
}

/// The scope of an account named by `--as` (its role and area), or the
/// system's when none is named.
pub(crate) fn scope_as(store: &laoxiao_store::Store, who: Option<&str>) -> Result<Scope> {
    let Some(name) = who else {
        return Ok(cli_scope());
    };
    let mut c = store.conn()?;
    let u = accounts::get_user(&mut c, name).with_context(|| format!("no account {name:?}"))?;
    if u.disabled {
        bail!("account {name:?} is disabled");
    }
    let area = store
        .reference
        .areas
        .get(&u.area_code)
        .with_context(|| format!("account {name:?} has an unknown area {}", u.area_code))?;
    Ok(Scope::user(
        Actor {
            user: u.username.clone(),
            ip: None,
        },
        u.role,
        &area.path,
        u.facility_id.clone(),
    ))
}

fn print_run(r: &Run) {
    println!(
        "run {} · {} {} · {} · {} lines · total {} yuan (city {} + counties {}) · adjustments {} · {} notes",
        r.id,
        r.cadence,
        r.period,
        r.status.code(),
        r.line_count,
        yuan(r.total_fen),
        yuan(r.city_fen),
        yuan(r.county_fen),
        yuan(r.adjustment_fen),
        r.note_count
    );
    println!(
        "  prepared by {} at {}{}{}",
        r.prepared_by,
        r.prepared_at,
        r.reviewed_by
            .as_ref()
            .map(|b| format!(
                "; reviewed by {b} at {}",
                r.reviewed_at.as_deref().unwrap_or("")
            ))
            .unwrap_or_default(),
        r.paid_by
            .as_ref()
            .map(|b| format!("; paid by {b} at {}", r.paid_at.as_deref().unwrap_or("")))
            .unwrap_or_default()
    );
    println!(
        "  parameters {} · registers {} · snapshot {}",
        r.parameters_version, r.register_versions, r.snapshot_digest
    );
    if r.placeholder {
        println!(
            "  NOTE: some amounts used placeholder county incomes (load the real ones: laoxiao subsidies income FILE)"
        );
    }
}

fn print_totals(t: &Totals) {
    println!("  by county (total / city / county):");
    for s in &t.by_county {
        println!(
            "    {:<8} {:<10} {:>6} lines {:>18} {:>16} {:>16}",
            s.key,
            s.label,
            s.lines,
            yuan(s.amount_fen),
            yuan(s.city_fen),
            yuan(s.county_fen)
        );
    }
    println!("  by rule:");
    for s in &t.by_rule {
        println!(
            "    {:<32} {:>6} lines {:>18}",
            s.label,
            s.lines,
            yuan(s.amount_fen)
        );
    }
}

/// `subsidies run`: computes a period into a draft.
pub fn run(config: &Config, period: Period, who: Option<&str>) -> Result<()> {
    let t0 = Instant::now();
    let store = open(config)?;
    let scope = scope_as(&store, who)?;
    let mut c = store.conn()?;
    let (r, t) = sub::prepare(&mut c, &scope, period)?;
    print_run(&r);
    print_totals(&sub::totals(&mut c, &scope, r.id)?);
    println!(
        "  read {:.0} ms · rules {:.1} ms · stored {:.0} ms · whole command {:.0} ms",
        t.read_ms,
        t.rules_ms,
        t.store_ms,
        t0.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "next: a second account reviews it (laoxiao subsidies approve {} --as USER)",
        r.id
    );
    Ok(())
}

/// `subsidies list`.
pub fn list(config: &Config) -> Result<()> {
    let store = open(config)?;
    let runs = sub::runs(&mut store.conn()?, &cli_scope())?;
    if runs.is_empty() {
        println!("no runs yet (laoxiao subsidies run --month YYYY-MM)");
    }
    for r in &runs {
        println!(
            "{:>5}  {:<8} {:<8} {:<9} {:>7} lines {:>18} yuan  prepared by {}{}",
            r.id,
            r.period,
            r.cadence,
            r.status.code(),
            r.line_count,
            yuan(r.total_fen),
            r.prepared_by,
            if r.placeholder {
                "  (placeholder incomes)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// `subsidies show`: a run, its totals, and its lines (filtered).
pub fn show(config: &Config, id: i64, q: LineQuery) -> Result<()> {
    let store = open(config)?;
    let scope = cli_scope();
    let mut c = store.conn()?;
    print_run(&sub::run(&mut c, &scope, id)?);
    print_totals(&sub::totals(&mut c, &scope, id)?);
    let page = sub::lines(&mut c, &scope, id, &q)?;
    println!("  lines:");
    for s in &page.items {
        let l = &s.line;
        println!(
            "    {:>6} {:<8} {:<30} {:<10} {:<22} {:<20} {:>14}",
            s.line_no,
            l.county_code,
            s.rule_zh,
            serde_json::to_value(l.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            l.payee_id,
            l.period,
            yuan(l.amount_fen)
        );
    }
    if let Some(next) = page.next_cursor {
        println!("  … more: --after {next}");
    }
    Ok(())
}

/// `subsidies approve|reject`.
pub fn review(
    config: &Config,
    id: i64,
    who: &str,
    approve: bool,
    note: Option<&str>,
) -> Result<()> {
    let store = open(config)?;
    let scope = scope_as(&store, Some(who))?;
    let r = sub::review(&mut store.conn()?, &scope, id, approve, note)?;
    print_run(&r);
    Ok(())
}

/// `subsidies paid`.
pub fn paid(config: &Config, id: i64, who: &str) -> Result<()> {
    let store = open(config)?;
    let scope = scope_as(&store, Some(who))?;
    let r = sub::mark_paid(&mut store.conn()?, &scope, id)?;
    print_run(&r);
    Ok(())
}

/// `subsidies export`: the payout list.
pub fn export(config: &Config, id: i64, out: &Path) -> Result<()> {
    let format = format_of(out)?;
    let store = open(config)?;
    let bytes = sub::excel::payout_list(&mut store.conn()?, &cli_scope(), id, format)?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

/// `subsidies explain`.
pub fn explain(config: &Config, payee: &str, period: Period, json: bool) -> Result<()> {
    let store = open(config)?;
    let e = sub::explain(&mut store.conn()?, &cli_scope(), payee, period)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(());
    }
    println!(
        "payee {} · {} · parameters {}",
        e.payee, e.period, e.parameters_version
    );
    for l in &e.now {
        println!(
            "\n{} ({}) · {:?} · {} · {} yuan (city {} + county {}){}",
            l.rule.zh(),
            l.rule.code(),
            l.kind,
            l.period,
            yuan(l.amount_fen),
            yuan(l.city_fen),
            yuan(l.county_fen),
            if l.placeholder {
                " · placeholder income"
            } else {
                ""
            }
        );
        println!("  parameters:");
        for p in &l.explanation.params {
            println!(
                "    {} = {} {} (from {}{}){}{} — {}",
                p.name,
                p.value,
                p.unit,
                p.from,
                p.until.map(|u| format!(" until {u}")).unwrap_or_default(),
                if p.placeholder { " [placeholder]" } else { "" },
                if p.reform { " [reform]" } else { "" },
                p.clause
            );
        }
        println!("  inputs:");
        for i in &l.explanation.inputs {
            println!("    {} = {}", i.name, i.value);
        }
        println!("  arithmetic:");
        for s in &l.explanation.steps {
            println!("    {s}");
        }
        if !l.months.is_empty() {
            let m: Vec<String> = l
                .months
                .iter()
                .map(|m| format!("{}:{}", m.month, yuan(m.fen)))
                .collect();
            println!("  by month: {}", m.join("  "));
        }
    }
    for n in &e.notes {
        println!(
            "\n{} ({}): nothing — {}",
            n.rule.zh(),
            n.rule.code(),
            n.reason
        );
    }
    for s in &e.stored {
        println!(
            "\nstored: run {} line {} · {} · {} · {} yuan",
            s.run_id,
            s.line_no,
            s.rule_zh,
            s.line.period,
            yuan(s.line.amount_fen)
        );
    }
    Ok(())
}

/// `subsidies whatif`: a reform's cost by month, rule and county.
pub fn whatif(config: &Config, year: i32, reform: &Path, out: Option<&Path>) -> Result<()> {
    let text =
        std::fs::read_to_string(reform).with_context(|| format!("reading {}", reform.display()))?;
    let t0 = Instant::now();
    let store = open(config)?;
    let w = sub::whatif(&mut store.conn()?, &cli_scope(), year, &text)?;
    println!(
        "what-if {year}: baseline {} yuan, reform {} yuan, difference {} yuan (city's share: {} → {})",
        yuan(w.total.baseline_fen),
        yuan(w.total.reform_fen),
        yuan(w.total.difference_fen),
        yuan(w.total.baseline_city_fen),
        yuan(w.total.reform_city_fen)
    );
    for (title, rows) in [
        ("by month", &w.by_month),
        ("by rule", &w.by_rule),
        ("by county", &w.by_county),
    ] {
        println!("  {title}:");
        for c in rows.iter() {
            println!(
                "    {:<34} {:>18} {:>18} {:>16}",
                c.label,
                yuan(c.baseline_fen),
                yuan(c.reform_fen),
                yuan(c.difference_fen)
            );
        }
    }
    if let Some(path) = out {
        let headers = [
            "month",
            "rule",
            "county_code",
            "baseline_yuan",
            "reform_yuan",
            "difference_yuan",
            "baseline_city_yuan",
            "reform_city_yuan",
        ];
        let rows: Vec<Vec<String>> = w
            .cells
            .iter()
            .map(|c| {
                vec![
                    c.month.clone(),
                    c.rule.code().to_string(),
                    c.county_code.clone(),
                    yuan(c.baseline_fen).replace(',', ""),
                    yuan(c.reform_fen).replace(',', ""),
                    yuan(c.reform_fen - c.baseline_fen).replace(',', ""),
                    yuan(c.baseline_city_fen).replace(',', ""),
                    yuan(c.reform_city_fen).replace(',', ""),
                ]
            })
            .collect();
        let bytes =
            laoxiao_store::indicators::excel::write(&headers, &rows, format_of(path)?, "what-if")?;
        std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("computed in {:.0} ms", t0.elapsed().as_secs_f64() * 1e3);
    Ok(())
}

/// `subsidies income FILE`: county incomes (CSV county_code,year,yuan,source).
pub fn income(config: &Config, file: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut rows = Vec::new();
    let mut rdr =
        csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = rec.with_context(|| format!("row {row}"))?;
        let get = |j: usize| rec.get(j).unwrap_or("").trim().to_string();
        let year: i64 = get(1)
            .parse()
            .with_context(|| format!("row {row}, column year: not a year"))?;
        let yuan: i64 = get(2)
            .parse()
            .with_context(|| format!("row {row}, column yuan: not a whole number of yuan"))?;
        rows.push((get(0), year, yuan, get(3)));
        if rows.len() > sub::MAX_INCOME_ROWS {
            bail!("more than {} rows", sub::MAX_INCOME_ROWS);
        }
    }
    let store = open(config)?;
    let n = sub::set_income(&mut store.conn()?, &cli_scope(), &rows)?;
    println!(
        "loaded {n} county income figure(s); they replace the placeholders for those counties and years"
    );
    Ok(())
}

/// `subsidies awards-paid FILE`: awards paid before the platform
/// (CSV: award_key,amount_yuan,paid_date,source), so no run pays them again.
pub fn awards_paid(config: &Config, file: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut rows = Vec::new();
    let mut rdr =
        csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.with_context(|| format!("row {row}"))?;
        let get = |j: usize| rec.get(j).unwrap_or("").trim().to_string();
        let amount_fen = laoxiao_rules::subsidies::parse_yuan(&get(1)).with_context(|| {
            format!(
                "row {row}, column amount_yuan: {:?} is not an amount in yuan",
                get(1)
            )
        })?;
        let paid_on = get(2).parse().with_context(|| {
            format!(
                "row {row}, column paid_date: {:?} is not a date (YYYY-MM-DD)",
                get(2)
            )
        })?;
        rows.push(sub::PaidAward {
            award_key: get(0),
            amount_fen,
            paid_on,
            source: get(3),
        });
        if rows.len() > sub::MAX_INCOME_ROWS {
            bail!("more than {} rows", sub::MAX_INCOME_ROWS);
        }
    }
    let store = open(config)?;
    let r = sub::import_paid_awards(&mut store.conn()?, &cli_scope(), &rows, super::today())?;
    println!(
        "recorded {} award(s) paid before the platform ({} yuan) as run {}: no run will pay them again",
        rows.len(),
        yuan(r.total_fen),
        r.id
    );
    Ok(())
}

/// `subsidies test`: runs the YAML cases (the shipped ones, or files given).
pub fn test(files: &[std::path::PathBuf]) -> Result<()> {
    let params = laoxiao_rules::subsidies::Params::embedded()?;
    let mut report = cases::Report::default();
    if files.is_empty() {
        for (file, text) in cases::FILES {
            cases::run_file(file, text, params, &mut report)?;
        }
    } else {
        for f in files {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            cases::run_file(&f.display().to_string(), &text, params, &mut report)?;
        }
    }
    for f in &report.failures {
        println!("FAIL {f}");
    }
    println!(
        "{} cases, {} failures ({} rules)",
        report.cases,
        report.failures.len(),
        Rule::ALL.len()
    );
    if !report.failures.is_empty() {
        bail!("{} failures", report.failures.len());
    }
    Ok(())
}
