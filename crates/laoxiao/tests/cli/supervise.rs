//! `laoxiao supervise verify-draw`: a published draw document re-runs to the
//! same result with no database, configuration or key; a tampered one (the
//! result, the roster, the seed) is refused with the mismatch named; a file
//! that is no draw document is refused without a panic.

use laoxiao_rules::inspections::draw::{
    self as dr, DrawDocument, Entry, FORMAT, Roster, commit_of, roster_digest,
};

use crate::harness::Env;

fn document() -> DrawDocument {
    let e = |id: &str, town: &str| Entry {
        id: id.into(),
        town: town.into(),
    };
    let roster = Roster {
        plan_id: "IP-cli".into(),
        facilities_to_draw: 2,
        inspectors_per_inspection: 2,
        facilities: (1..=9)
            .map(|i| e(&format!("F{i}"), &format!("33040200{}", i % 3)))
            .collect(),
        unplanned: vec![],
        inspectors: (1..=5)
            .map(|i| e(&format!("insp{i}"), &format!("33040200{}", i % 3)))
            .collect(),
        previous: vec![],
    };
    let seed = "5e".repeat(32);
    DrawDocument {
        format: FORMAT.into(),
        draw_id: "ID-cli".into(),
        title: "测试计划".into(),
        area_code: "330402".into(),
        period: "2026-Q1".into(),
        ratio_percent: 20,
        roster_digest: roster_digest(&roster),
        commit: commit_of(&seed).expect("commit"),
        committed_at: "2026-01-05T09:00:00Z".into(),
        drawn_at: Some("2026-01-06T09:00:00Z".into()),
        result: dr::draw(&seed, &roster).expect("draw"),
        seed: Some(seed),
        roster,
        status: "drawn".into(),
        superseded: None,
    }
}

#[test]
fn a_published_draw_verifies_and_a_tampered_one_does_not() {
    let env = Env::sqlite();
    let doc = document();
    let good = env.write("draw.json", serde_json::to_vec_pretty(&doc).expect("json"));
    // `bare`: no database, no key file.
    let o = env
        .bare()
        .args(["supervise", "verify-draw"])
        .arg(&good)
        .ok();
    assert!(o.stdout.contains("MATCH"), "{o}");
    assert!(o.stdout.contains("ok"), "{o}");

    let mut t = doc.clone();
    t.result[0].inspectors.reverse();
    let f = env.write("result.json", serde_json::to_vec(&t).expect("json"));
    let o = env
        .bare()
        .args(["supervise", "verify-draw"])
        .arg(&f)
        .fails();
    assert!(
        o.stdout
            .contains("re-running the draw gives a different result"),
        "{o}"
    );
    assert!(o.stderr.contains("does not verify"), "{o}");

    let mut t = doc.clone();
    t.roster.facilities.pop();
    let f = env.write("roster.json", serde_json::to_vec(&t).expect("json"));
    let o = env
        .bare()
        .args(["supervise", "verify-draw"])
        .arg(&f)
        .fails();
    assert!(o.stdout.contains("roster digest"), "{o}");

    let mut t = doc;
    t.seed = Some("00".repeat(32));
    let f = env.write("seed.json", serde_json::to_vec(&t).expect("json"));
    let o = env
        .bare()
        .args(["supervise", "verify-draw"])
        .arg(&f)
        .fails();
    assert!(o.stdout.contains("commit"), "{o}");

    let f = env.write("junk.json", "{\"not\": \"a draw\"}");
    let o = env
        .bare()
        .args(["supervise", "verify-draw"])
        .arg(&f)
        .fails();
    assert!(o.stderr.contains("not a draw document"), "{o}");
}
