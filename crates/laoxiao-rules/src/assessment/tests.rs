//! Worked examples computed by hand from the standard's tables (not from the
//! engine): each answer set starts from every item at its maximum (90) and
//! lowers the items named.

use super::*;

fn std() -> &'static Standard {
    Standard::embedded().expect("standard loads")
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
}

/// All 26 items at their maxima, written out by hand (4×8, 4,4,4,3,
/// 4×6,1,1,2, 2,2,4,3,4), then the overrides.
fn answers(overrides: &[(&str, u8)]) -> BTreeMap<String, u8> {
    let maxima: [(&str, u8); 26] = [
        ("B.1.1", 4),
        ("B.1.2", 4),
        ("B.1.3", 4),
        ("B.1.4", 4),
        ("B.1.5", 4),
        ("B.1.6", 4),
        ("B.1.7", 4),
        ("B.1.8", 4),
        ("B.2.1", 4),
        ("B.2.2", 4),
        ("B.2.3", 4),
        ("B.2.4", 3),
        ("B.3.1", 4),
        ("B.3.2", 4),
        ("B.3.3", 4),
        ("B.3.4", 4),
        ("B.3.5", 4),
        ("B.3.6", 4),
        ("B.3.7", 1),
        ("B.3.8", 1),
        ("B.3.9", 2),
        ("B.4.1", 2),
        ("B.4.2", 2),
        ("B.4.3", 4),
        ("B.4.4", 3),
        ("B.4.5", 4),
    ];
    let mut a: BTreeMap<String, u8> = maxima.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    for (k, v) in overrides {
        a.insert(k.to_string(), *v);
    }
    a
}

fn zero(codes: &[&'static str]) -> Vec<(&'static str, u8)> {
    codes.iter().map(|c| (*c, 0)).collect()
}

const B1: [&str; 8] = [
    "B.1.1", "B.1.2", "B.1.3", "B.1.4", "B.1.5", "B.1.6", "B.1.7", "B.1.8",
];
const B2: [&str; 4] = ["B.2.1", "B.2.2", "B.2.3", "B.2.4"];

fn run(a: &BTreeMap<String, u8>, f: &Facts) -> Outcome {
    std().assess(a, f, day()).expect("assess")
}

fn domain_scores(o: &Outcome) -> Vec<u32> {
    o.domains.iter().map(|d| d.score).collect()
}

#[test]
fn the_file_loads_with_its_structure() {
    let s = std();
    assert_eq!(s.items.len(), 26);
    assert_eq!(s.max_total, 90);
    let maxima: Vec<u32> = s.domains.iter().map(|d| d.max).collect();
    assert_eq!(maxima, vec![32, 15, 28, 15]);
    assert_eq!(s.item("B.2.4").map(Item::max), Some(3));
    assert_eq!(s.item("B.3.9").map(Item::max), Some(2));
    assert_eq!(s.item("B.4.4").map(Item::max), Some(3));
    // The assistance scale expands to 4..0 with its descriptors.
    let groom = s.item("B.1.2").expect("B.1.2");
    assert_eq!(groom.options.len(), 5);
    assert_eq!(groom.options[0].score, 4);
    assert_eq!(groom.options[0].zh, "独立完成，不需要他人协助");
    assert_eq!(groom.options[4].score, 0);
    assert_eq!(s.risk_events.len(), 5);
    assert!(s.diagnoses.iter().any(|d| d.icd == "F00-F03"));
}

#[test]
fn a_domain_max_that_is_not_the_sum_of_its_items_is_refused() {
    let text = SOURCE.replace(
        "key = \"basic_mobility\"\nzh = \"基础运动能力\"\nen = \"Basic mobility\"\nmax = 15",
        "key = \"basic_mobility\"\nzh = \"基础运动能力\"\nen = \"Basic mobility\"\nmax = 16",
    );
    assert_ne!(text, SOURCE);
    let e = Standard::parse(&text).expect_err("refused");
    assert!(e.to_string().contains("B.2 max 16"), "{e}");
}

#[test]
fn band_90_is_intact() {
    let o = run(&answers(&[]), &Facts::default());
    assert_eq!(o.total, 90);
    assert_eq!(domain_scores(&o), vec![32, 15, 28, 15]);
    assert_eq!(o.initial_level, AbilityLevel::Intact);
    assert_eq!(o.final_level, AbilityLevel::Intact);
    assert!(o.applied.is_empty());
}

#[test]
fn band_89_one_lost_point_is_mild() {
    // B.3.7 攻击行为 occurred: 90 − 1.
    let o = run(&answers(&[("B.3.7", 0)]), &Facts::default());
    assert_eq!(o.total, 89);
    assert_eq!(domain_scores(&o), vec![32, 15, 27, 15]);
    assert_eq!(o.initial_level, AbilityLevel::Mild);
    assert_eq!(o.final_level, AbilityLevel::Mild);
}

#[test]
fn band_66_is_mild_and_65_moderate() {
    // B.1.1–B.1.6 at 0: 90 − 24 = 66.
    let mut ov = zero(&B1[..6]);
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 66);
    assert_eq!(domain_scores(&o), vec![8, 15, 28, 15]);
    assert_eq!(o.initial_level, AbilityLevel::Mild);
    // and B.3.8 抑郁症状: 65.
    ov.push(("B.3.8", 0));
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 65);
    assert_eq!(o.initial_level, AbilityLevel::Moderate);
}

#[test]
fn band_46_is_moderate_and_45_severe() {
    // B.1 all 0 (−32), B.2.1–B.2.3 at 0 (−12): 46.
    let mut ov = zero(&B1);
    ov.extend(zero(&B2[..3]));
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 46);
    assert_eq!(domain_scores(&o), vec![0, 3, 28, 15]);
    assert_eq!(o.initial_level, AbilityLevel::Moderate);
    // B.2.4 上下楼梯 3 → 2: 45.
    ov.push(("B.2.4", 2));
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 45);
    assert_eq!(o.initial_level, AbilityLevel::Severe);
}

#[test]
fn band_30_is_severe_and_29_complete() {
    // B.1 and B.2 all 0 (−47), B.3.1–B.3.3 at 0 (−12), 视力 2 → 1 (−1): 30.
    let mut ov = zero(&B1);
    ov.extend(zero(&B2));
    ov.extend(zero(&["B.3.1", "B.3.2", "B.3.3"]));
    ov.push(("B.4.1", 1));
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 30);
    assert_eq!(domain_scores(&o), vec![0, 0, 16, 14]);
    assert_eq!(o.initial_level, AbilityLevel::Severe);
    ov.push(("B.4.1", 0));
    let o = run(&answers(&ov), &Facts::default());
    assert_eq!(o.total, 29);
    assert_eq!(o.initial_level, AbilityLevel::Complete);
    assert_eq!(o.final_level, AbilityLevel::Complete);
}

#[test]
fn band_0_is_complete() {
    let all: BTreeMap<String, u8> = answers(&[]).into_keys().map(|k| (k, 0)).collect();
    let o = run(&all, &Facts::default());
    assert_eq!(o.total, 0);
    assert_eq!(domain_scores(&o), vec![0, 0, 0, 0]);
    assert_eq!(o.final_level, AbilityLevel::Complete);
}

#[test]
fn coma_sets_complete_loss_whatever_the_score() {
    let f = Facts {
        coma: true,
        ..Facts::default()
    };
    let o = run(&answers(&[]), &f);
    assert_eq!(o.initial_level, AbilityLevel::Intact);
    assert_eq!(o.final_level, AbilityLevel::Complete);
    assert_eq!(o.applied, vec![AppliedRule::Coma]);
    assert!(o.steps.iter().any(|s| s.clause == "C.4 a)"));
}

#[test]
fn dementia_raises_one_level() {
    // 66 (mild) with dementia → moderate.
    let f = Facts {
        dementia: true,
        ..Facts::default()
    };
    let o = run(&answers(&zero(&B1[..6])), &f);
    assert_eq!(o.initial_level, AbilityLevel::Mild);
    assert_eq!(o.final_level, AbilityLevel::Moderate);
    assert_eq!(o.applied, vec![AppliedRule::Diagnosis]);
    assert!(o.steps.iter().any(|s| s.clause == "C.4 b)"));
}

#[test]
fn another_mental_disorder_raises_one_level() {
    // 45 (severe) with F04–F99 → complete.
    let mut ov = zero(&B1);
    ov.extend(zero(&B2[..3]));
    ov.push(("B.2.4", 2));
    let f = Facts {
        mental_disorder: true,
        ..Facts::default()
    };
    let o = run(&answers(&ov), &f);
    assert_eq!(o.total, 45);
    assert_eq!(o.final_level, AbilityLevel::Complete);
}

#[test]
fn dementia_and_mental_disorder_together_are_one_rule() {
    let f = Facts {
        dementia: true,
        mental_disorder: true,
        ..Facts::default()
    };
    let o = run(&answers(&[("B.3.7", 0)]), &f);
    assert_eq!(o.final_level, AbilityLevel::Moderate);
}

fn events(list: &[(&str, u32)]) -> BTreeMap<String, u32> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[test]
fn two_risk_events_raise_one_level_and_one_does_not() {
    let two = Facts {
        risk_events: events(&[("fall", 1), ("choking", 1)]),
        ..Facts::default()
    };
    let o = run(&answers(&[("B.3.7", 0)]), &two);
    assert_eq!(o.initial_level, AbilityLevel::Mild);
    assert_eq!(o.final_level, AbilityLevel::Moderate);
    assert_eq!(o.applied, vec![AppliedRule::RiskEvents]);
    let one = Facts {
        risk_events: events(&[("fall", 1), ("wandering", 0)]),
        ..Facts::default()
    };
    let o = run(&answers(&[("B.3.7", 0)]), &one);
    assert_eq!(o.final_level, AbilityLevel::Mild);
    assert!(o.applied.is_empty());
}

#[test]
fn both_rules_raise_one_level_by_default() {
    // 65 (moderate) + dementia + 2 falls → severe (one step, source (a)).
    let mut ov = zero(&B1[..6]);
    ov.push(("B.3.8", 0));
    let f = Facts {
        dementia: true,
        risk_events: events(&[("fall", 2)]),
        ..Facts::default()
    };
    let o = run(&answers(&ov), &f);
    assert_eq!(o.total, 65);
    assert_eq!(o.final_level, AbilityLevel::Severe);
    assert_eq!(
        o.applied,
        vec![AppliedRule::Diagnosis, AppliedRule::RiskEvents]
    );
    assert!(o.steps.iter().any(|s| s.clause.contains("UNVERIFIED")));
}

#[test]
fn both_rules_stack_when_the_parameter_says_so_from_its_date() {
    let text = SOURCE.replace(
        "values = [{ from = \"2022-12-30\", value = 0 }]",
        "values = [{ from = \"2022-12-30\", value = 0 }, { from = \"2026-01-01\", value = 1 }]",
    );
    assert_ne!(text, SOURCE);
    let s = Standard::parse(&text).expect("parse");
    let mut ov = zero(&B1[..6]);
    ov.push(("B.3.8", 0));
    let f = Facts {
        dementia: true,
        risk_events: events(&[("fall", 2)]),
        ..Facts::default()
    };
    let a = answers(&ov);
    let before = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date");
    assert_eq!(
        s.assess(&a, &f, before).expect("assess").final_level,
        AbilityLevel::Severe
    );
    assert_eq!(
        s.assess(&a, &f, day()).expect("assess").final_level,
        AbilityLevel::Complete
    );
}

#[test]
fn the_raise_is_capped_at_complete_loss() {
    // 29 (complete) + dementia: stays complete, the cap noted.
    let mut ov = zero(&B1);
    ov.extend(zero(&B2));
    ov.extend(zero(&["B.3.1", "B.3.2", "B.3.3", "B.4.1"]));
    let f = Facts {
        dementia: true,
        ..Facts::default()
    };
    let o = run(&answers(&ov), &f);
    assert_eq!(o.total, 29);
    assert_eq!(o.final_level, AbilityLevel::Complete);
    assert!(o.applied.contains(&AppliedRule::Cap));
}

#[test]
fn an_answer_outside_the_options_is_refused_naming_the_item() {
    // 上下楼梯 has no 4.
    let e = std()
        .assess(&answers(&[("B.2.4", 4)]), &Facts::default(), day())
        .expect_err("refused");
    match e {
        RulesError::Answer { item, reason } => {
            assert_eq!(item, "B.2.4");
            assert!(reason.contains("上下楼梯"), "{reason}");
        }
        other => panic!("{other}"),
    }
    // 攻击行为 is 0 or 1.
    let e = std()
        .assess(&answers(&[("B.3.7", 2)]), &Facts::default(), day())
        .expect_err("refused");
    assert!(e.to_string().contains("B.3.7"), "{e}");
    assert_eq!(e.code(), "assessment_answer_invalid");
}

#[test]
fn a_missing_or_unknown_item_is_refused() {
    let mut a = answers(&[]);
    a.remove("B.4.5");
    let errs = std().check_answers(&a);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].item, "B.4.5");
    let mut a = answers(&[]);
    a.insert("B.5.1".into(), 1);
    let errs = std().check_answers(&a);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].item, "B.5.1");
}

#[test]
fn an_unknown_risk_event_type_is_refused() {
    let f = Facts {
        risk_events: events(&[("earthquake", 2)]),
        ..Facts::default()
    };
    let e = std().assess(&answers(&[]), &f, day()).expect_err("refused");
    assert!(e.to_string().contains("risk_events.earthquake"), "{e}");
}

#[test]
fn reassessment_falls_due_twelve_months_later() {
    let last = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
    assert_eq!(std().reassessment_months(last).expect("months"), 12);
    assert_eq!(
        std().due_after(last).expect("due"),
        NaiveDate::from_ymd_opt(2026, 3, 31).expect("date")
    );
}
