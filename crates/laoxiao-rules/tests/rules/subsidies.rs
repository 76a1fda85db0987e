//! Every subsidy test case shipped in `data/policy/tests/` passes; the
//! harness lists every failure (not just the first) and can fail.

use laoxiao_rules::subsidies::cases::{self, Report, run_file};
use laoxiao_rules::subsidies::{self, Params, Period, Rule};

#[test]
fn every_yaml_case_passes() {
    let report = cases::run_embedded().expect("the case files parse");
    let list: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(
        list.is_empty(),
        "{} failures:\n{}",
        list.len(),
        list.join("\n")
    );
    // The files hold cases for every rule (a file lost from FILES shows here).
    assert!(report.cases >= 30, "only {} cases ran", report.cases);
}

#[test]
fn every_rule_has_a_case() {
    let all: String = cases::FILES.iter().map(|(_, t)| *t).collect();
    for r in Rule::ALL {
        assert!(
            all.contains(&format!("rule: {}", r.code())),
            "no case for {}",
            r.code()
        );
    }
}

#[test]
fn the_harness_reports_a_wrong_expectation_and_an_unexpected_line() {
    let params = Params::embedded().expect("ok");
    let text = r#"
- name: wrong on purpose
  period: 2025-06
  snapshot:
    elders:
      - { id: P1, birth_date: 1920-01-01, hukou_area_code: "330481001001" }
      - { id: P2, birth_date: 1920-01-01, hukou_area_code: "330481001001" }
  expect:
    - { rule: centenarian, subject: P1, amount: 601 }
    - { rule: centenarian, subject: P9, amount: 600 }
"#;
    let mut report = Report::default();
    run_file("t.yaml", text, params, &mut report).expect("ok");
    let reasons: Vec<&str> = report.failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(report.failures.len(), 3, "{reasons:#?}");
    assert!(
        reasons[0].contains("expected 601.00, got 600.00"),
        "{reasons:#?}"
    );
    assert!(reasons[1].contains("for P9"), "{reasons:#?}");
    assert!(
        reasons[2].contains("unexpected line centenarian"),
        "{reasons:#?}"
    );
}

#[test]
fn amounts_add_up_and_the_funders_cover_every_fen() {
    // Over the shipped cases' snapshots: every line's shares sum to its
    // amount, and annual lines' month shares sum to the year's amount.
    let params = Params::embedded().expect("ok");
    for (file, text) in cases::FILES {
        let cases: Vec<serde_yaml::Value> = serde_yaml::from_str(text).expect("ok");
        for c in cases {
            let snap: subsidies::Snapshot =
                serde_yaml::from_value(c.get("snapshot").cloned().unwrap_or_default())
                    .unwrap_or_default();
            let period = match &c["period"] {
                serde_yaml::Value::Number(n) => n.to_string(),
                v => v.as_str().expect("ok").to_string(),
            };
            let period = Period::parse(&period).expect("ok");
            let out = subsidies::compute(&snap, params, period).expect("ok");
            for l in &out.lines {
                assert_eq!(l.city_fen + l.county_fen, l.amount_fen, "{file}: {l:?}");
                if !l.months.is_empty() {
                    assert_eq!(
                        l.months.iter().map(|m| m.fen).sum::<i64>(),
                        l.amount_fen,
                        "{file}: {l:?}"
                    );
                }
                assert!(!l.explanation.steps.is_empty() && !l.explanation.params.is_empty());
            }
        }
    }
}
