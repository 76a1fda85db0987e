//! Tests as data (`data/policy/tests/*.yaml`): each case gives a period, the
//! registers' records, what was paid before, optionally a reform, and the
//! lines (and notes) expected. One harness runs them all and lists every
//! failure; the rules crate's tests and `laoxiao subsidies test` call it.
//!
//! ```yaml
//! - name: cap binds, older toddlers cut first
//!   period: 2025-06
//!   snapshot: { facilities: [...], classes: [...], enrolments: [...] }
//!   bulk_enrolments: [{ facility_id: F1, class_id: C1, start_date: 2025-01-01, count: 12 }]
//!   ledger: { awards: [class_filing:C1], paid: [...] }
//!   only: [inclusive_childcare]
//!   expect:
//!     - { rule: inclusive_childcare, subject: F1, kind: regular, amount: 6100 }
//!   expect_notes:
//!     - { rule: inclusive_childcare, subject: F2, contains: above the inclusive price cap }
//! ```

use chrono::NaiveDate;
use laoxiao_model::Enrolment;
use serde::Deserialize;

use super::{Ledger, LineKind, Params, Period, Rule, Snapshot, parse_yuan, run, yuan};
use crate::error::RulesError;

/// The case files shipped in `data/policy/tests/`.
pub const FILES: &[(&str, &str)] = &[
    (
        "inclusive_childcare.yaml",
        include_str!("../../../../data/policy/tests/inclusive_childcare.yaml"),
    ),
    (
        "facilities.yaml",
        include_str!("../../../../data/policy/tests/facilities.yaml"),
    ),
    (
        "awards.yaml",
        include_str!("../../../../data/policy/tests/awards.yaml"),
    ),
    (
        "people.yaml",
        include_str!("../../../../data/policy/tests/people.yaml"),
    ),
    (
        "corrections.yaml",
        include_str!("../../../../data/policy/tests/corrections.yaml"),
    ),
];

/// Many enrolments at once (`count` children, ids generated).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bulk {
    facility_id: String,
    #[serde(default)]
    class_id: Option<String>,
    start_date: NaiveDate,
    #[serde(default)]
    end_date: Option<NaiveDate>,
    count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    rule: Rule,
    subject: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    kind: Option<LineKind>,
    amount: serde_yaml::Value,
    #[serde(default)]
    city: Option<serde_yaml::Value>,
    #[serde(default)]
    county: Option<serde_yaml::Value>,
    #[serde(default)]
    placeholder: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectNote {
    rule: Rule,
    subject: String,
    contains: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    period: String,
    #[serde(default)]
    reform: Option<String>,
    #[serde(default)]
    snapshot: Snapshot,
    #[serde(default)]
    bulk_enrolments: Vec<Bulk>,
    #[serde(default)]
    ledger: Ledger,
    #[serde(default)]
    only: Option<Vec<Rule>>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    expect_notes: Vec<ExpectNote>,
}

/// One failed case, or one difference within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub case: String,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}: {}", self.file, self.case, self.reason)
    }
}

/// What a harness run found.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub failures: Vec<Failure>,
}

fn amount_of(v: &serde_yaml::Value) -> Option<i64> {
    match v {
        serde_yaml::Value::Number(n) => parse_yuan(&n.to_string()),
        serde_yaml::Value::String(s) => parse_yuan(s),
        _ => None,
    }
}

/// Runs every case of one file against `params`.
pub fn run_file(
    file: &str,
    text: &str,
    params: &Params,
    report: &mut Report,
) -> Result<(), RulesError> {
    if text.len() > 5_000_000 {
        return Err(RulesError::Cases {
            file: file.into(),
            reason: "larger than 5 MB".into(),
        });
    }
    let cases: Vec<Case> = serde_yaml::from_str(text).map_err(|e| RulesError::Cases {
        file: file.into(),
        reason: e.to_string(),
    })?;
    for mut c in cases {
        report.cases += 1;
        let mut fail = |reason: String| {
            report.failures.push(Failure {
                file: file.to_string(),
                case: c.name.clone(),
                reason,
            });
        };
        for (i, b) in c.bulk_enrolments.iter().enumerate() {
            for k in 0..b.count.min(10_000) {
                c.snapshot.enrolments.push(Enrolment {
                    id: format!("bulk-{i}-{k}"),
                    infant_id: format!("bulk-infant-{i}-{k}"),
                    facility_id: b.facility_id.clone(),
                    class_id: b.class_id.clone(),
                    start_date: b.start_date,
                    end_date: b.end_date,
                    care_type: None,
                });
            }
        }
        let period = match Period::parse(&c.period) {
            Ok(p) => p,
            Err(e) => {
                fail(e.to_string());
                continue;
            }
        };
        let params = match &c.reform {
            Some(r) => match params.with_reform(r) {
                Ok(p) => p,
                Err(e) => {
                    fail(e.to_string());
                    continue;
                }
            },
            None => params.clone(),
        };
        let out = match run(&c.snapshot, &params, period, &c.ledger) {
            Ok(o) => o,
            Err(e) => {
                fail(format!("the run failed: {e}"));
                continue;
            }
        };
        let mut lines: Vec<_> = out
            .lines
            .iter()
            .filter(|l| c.only.as_ref().is_none_or(|o| o.contains(&l.rule)))
            .collect();
        for x in &c.expect {
            let Some(want) = amount_of(&x.amount) else {
                fail(format!(
                    "expected amount {:?} is not a yuan amount",
                    x.amount
                ));
                continue;
            };
            let want_period = x.period.clone().unwrap_or_else(|| c.period.clone());
            let pos = lines.iter().position(|l| {
                l.rule == x.rule
                    && l.subject_id == x.subject
                    && l.period == want_period
                    && x.kind.is_none_or(|k| k == l.kind)
            });
            let Some(pos) = pos else {
                fail(format!(
                    "expected {} for {} in {want_period} ({}), got none",
                    x.rule.code(),
                    x.subject,
                    yuan(want)
                ));
                continue;
            };
            let l = lines.remove(pos);
            if l.amount_fen != want {
                fail(format!(
                    "{} for {} in {want_period}: expected {}, got {} ({})",
                    x.rule.code(),
                    x.subject,
                    yuan(want),
                    yuan(l.amount_fen),
                    l.explanation.steps.join("; ")
                ));
            }
            for (name, exp, got) in [
                ("city", &x.city, l.city_fen),
                ("county", &x.county, l.county_fen),
            ] {
                if let Some(v) = exp {
                    match amount_of(v) {
                        Some(w) if w == got => {}
                        Some(w) => fail(format!(
                            "{} for {}: {name} share expected {}, got {}",
                            x.rule.code(),
                            x.subject,
                            yuan(w),
                            yuan(got)
                        )),
                        None => fail(format!("{name} share {v:?} is not a yuan amount")),
                    }
                }
            }
            if let Some(p) = x.placeholder
                && p != l.placeholder
            {
                fail(format!(
                    "{} for {}: placeholder expected {p}, got {}",
                    x.rule.code(),
                    x.subject,
                    l.placeholder
                ));
            }
        }
        for l in lines {
            fail(format!(
                "unexpected line {} {:?} for {} in {}: {}",
                l.rule.code(),
                l.kind,
                l.subject_id,
                l.period,
                yuan(l.amount_fen)
            ));
        }
        for n in &c.expect_notes {
            let found = out.notes.iter().any(|o| {
                o.rule == n.rule && o.subject_id == n.subject && o.reason.contains(&n.contains)
            });
            if !found {
                fail(format!(
                    "expected a note on {} for {} containing {:?}; notes: {:?}",
                    n.rule.code(),
                    n.subject,
                    n.contains,
                    out.notes
                        .iter()
                        .filter(|o| o.subject_id == n.subject)
                        .map(|o| o.reason.as_str())
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    Ok(())
}

/// Runs the shipped cases against the embedded parameters.
pub fn run_embedded() -> Result<Report, RulesError> {
    let params = Params::embedded()?;
    let mut report = Report::default();
    for (file, text) in FILES {
        run_file(file, text, params, &mut report)?;
    }
    Ok(report)
}
