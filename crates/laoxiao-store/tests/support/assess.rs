//! Ability assessments over a real database (both backends): a draft by two
//! certified assessors, finished into the person's level (audited, with the
//! assessment as source), a service record and a due day; refused drafts
//! naming the field; scope; appeal and review by other assessors; the due
//! list (routine, immediate, never assessed, overdue); the all-or-nothing
//! import of paper assessments. Scores are worked by hand from the
//! standard's tables.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use laoxiao_model::activity::{SkillGrade, Staff, StaffRole};
use laoxiao_model::person::{AbilityLevel, Sex};
use laoxiao_model::{Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::assessments::{
    self as asm, DueCause, DueQuery, ListQuery, Reason, State, import,
};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Role, Scope, StoreError, activity, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(store: &laoxiao_store::Store, name: &str, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, name, role, code, None)
}

fn elder(id: &str, area: &str, seq: u16, level: Option<AbilityLevel>) -> Person {
    let b = d("1940-05-01");
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, Sex::Male);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "李大爷".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p.ability_level = level;
    p
}

fn staff(id: &str, facility: &str, certified: bool) -> Staff {
    Staff {
        id: id.into(),
        facility_id: facility.into(),
        role: StaffRole::SocialWorker,
        name: format!("评估员{id}"),
        certified,
        certificate: certified.then(|| "老年人能力评估师".to_string()),
        skill_grade: SkillGrade::Ungraded,
        hired_date: d("2020-01-01"),
        left_date: None,
        health_check_date: None,
    }
}

/// Every item at its maximum (90), then the overrides.
fn answers(overrides: &[(&str, u8)]) -> BTreeMap<String, u8> {
    let maxima = [
        4u8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 4, 4, 4, 4, 4, 4, 1, 1, 2, 2, 2, 4, 3, 4,
    ];
    let codes = [
        "B.1.1", "B.1.2", "B.1.3", "B.1.4", "B.1.5", "B.1.6", "B.1.7", "B.1.8", "B.2.1", "B.2.2",
        "B.2.3", "B.2.4", "B.3.1", "B.3.2", "B.3.3", "B.3.4", "B.3.5", "B.3.6", "B.3.7", "B.3.8",
        "B.3.9", "B.4.1", "B.4.2", "B.4.3", "B.4.4", "B.4.5",
    ];
    let mut a: BTreeMap<String, u8> = codes
        .iter()
        .zip(maxima)
        .map(|(c, m)| (c.to_string(), m))
        .collect();
    for (k, v) in overrides {
        a.insert(k.to_string(), *v);
    }
    a
}

fn draft(person: &str, a1: &str, a2: &str, on: &str) -> asm::Draft {
    asm::Draft {
        person_id: person.into(),
        reason: Reason::First,
        assessed_on: d(on),
        assessor1_id: a1.into(),
        assessor2_id: a2.into(),
        organisation_id: None,
        answers: BTreeMap::new(),
        coma: false,
        diagnoses: Vec::new(),
        risk_events: BTreeMap::new(),
        review_of: None,
    }
}

struct World {
    town: String,
    village: String,
    other_village: String,
}

/// A care home with four certified assessors and one without a certificate;
/// P1 (level 0 on the register) and P2 (level 3, never assessed) in a
/// village of the first town; P3 in another county.
fn world(store: &laoxiao_store::Store) -> World {
    let r = &store.reference;
    let sys = Scope::system("test");
    let mut c = store.conn().expect("conn");
    let town = r.areas.children("330402")[0].code.clone();
    let village = r.areas.children(&town)[0].code.clone();
    let other_town = r.areas.children("330481")[0].code.clone();
    let other_village = r.areas.children(&other_town)[0].code.clone();
    let mut home = Facility::blank("H1", "评估中心", FacilityKind::ElderlyInstitution, &town);
    home.beds = Some(100);
    home.nursing_beds = Some(60);
    facilities::create(&mut c, r, &sys, &home).expect("home");
    for (id, cert) in [
        ("S1", true),
        ("S2", true),
        ("S3", true),
        ("S4", true),
        ("S5", false),
    ] {
        activity::upsert(&mut c, &staff(id, "H1", cert), "2026-01-01T00:00:00Z").expect("staff");
    }
    people::create(
        &mut c,
        r,
        &sys,
        &elder("P1", &village, 11, Some(AbilityLevel::Intact)),
    )
    .expect("P1");
    people::create(
        &mut c,
        r,
        &sys,
        &elder("P2", &village, 13, Some(AbilityLevel::Severe)),
    )
    .expect("P2");
    people::create(&mut c, r, &sys, &elder("P3", &other_village, 15, None)).expect("P3");
    World {
        town,
        village,
        other_village,
    }
}

fn fields(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(errs) => errs.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other}"),
    }
}

#[test]
fn assess_finish_sets_the_level_service_record_and_due_day() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let w = world(store);
        let staff_scope = user(store, "town1", Role::TownStaff, &w.town);
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-10");
        // B.1.1–B.1.6 at 0: 90 − 24 = 66 (轻度), dementia → 中度.
        let mut dr = draft("P1", "S1", "S2", "2026-03-02");
        dr.answers = answers(&[
            ("B.1.1", 0),
            ("B.1.2", 0),
            ("B.1.3", 0),
            ("B.1.4", 0),
            ("B.1.5", 0),
        ]);
        dr.answers.remove("B.1.6");
        dr.diagnoses = vec!["dementia".into(), "hypertension".into()];
        let a = asm::create(&mut c, &staff_scope, &dr, today).expect("draft");
        assert_eq!(a.state, State::Draft);
        assert_eq!(a.person_name, "李**");
        // One item still missing its answer: finish names it.
        let e = asm::finish(&mut c, r, &staff_scope, &a.id, today).expect_err("incomplete");
        assert_eq!(fields(&e), vec!["answers.B.1.6"]);
        let mut dr2 = dr.clone();
        dr2.answers.insert("B.1.6".into(), 0);
        asm::update(&mut c, &staff_scope, &a.id, &dr2, today).expect("update");
        let done = asm::finish(&mut c, r, &staff_scope, &a.id, today).expect("finish");
        assert_eq!(done.state, State::Finished);
        let o = done.outcome.expect("outcome");
        assert_eq!(o.total, 66);
        assert_eq!(
            o.domains.iter().map(|x| x.score).collect::<Vec<_>>(),
            vec![8, 15, 28, 15]
        );
        assert_eq!(o.initial_level, AbilityLevel::Mild);
        assert_eq!(o.final_level, AbilityLevel::Moderate);
        // The organisation defaults to the first assessor's employer.
        assert_eq!(done.organisation_id.as_deref(), Some("H1"));
        // The person's level, its audit entry naming the assessment.
        let p = people::get(&mut c, r, &Scope::system("t"), "P1").expect("P1");
        assert_eq!(p.ability_level, Some(AbilityLevel::Moderate));
        let audit = c
            .query(
                "SELECT after FROM audit_log WHERE action = 'ability_level_from_assessment' AND entity_id = 'P1'",
                &[],
            )
            .expect("audit");
        assert_eq!(audit.len(), 1);
        let after: String = audit[0].get("after").expect("after");
        assert!(after.contains(&a.id), "{after}");
        // The service record the indicators read.
        let sr = c
            .query(
                "SELECT kind, ability_level, date FROM service_record WHERE person_id = 'P1'",
                &[],
            )
            .expect("sr");
        assert_eq!(sr.len(), 1);
        assert_eq!(
            sr[0].get::<String>("kind").expect("k"),
            "ability_assessment"
        );
        assert_eq!(sr[0].get::<i64>("ability_level").expect("l"), 2);
        // A finished assessment does not change.
        let e = asm::update(&mut c, &staff_scope, &a.id, &dr2, today).expect_err("frozen");
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        // Due 12 months on (2027-03-02): not listed now; due within 30 days
        // on 2027-02-10; overdue on 2027-03-03.
        let q = DueQuery::default();
        let now: Vec<_> = asm::due(&mut c, r, &staff_scope, today, &q).expect("due");
        assert!(now.iter().all(|l| l.person_id != "P1"));
        let soon = asm::due(&mut c, r, &staff_scope, d("2027-02-10"), &q).expect("due");
        let l = soon.iter().find(|l| l.person_id == "P1").expect("P1 due");
        assert_eq!(l.due_on, Some(d("2027-03-02")));
        assert!(!l.overdue);
        assert_eq!(l.cause, DueCause::Routine);
        let late = asm::due(
            &mut c,
            r,
            &staff_scope,
            d("2027-03-03"),
            &DueQuery {
                overdue: true,
                ..DueQuery::default()
            },
        )
        .expect("overdue");
        assert_eq!(
            late.iter()
                .map(|l| l.person_id.as_str())
                .collect::<Vec<_>>(),
            vec!["P1"]
        );
        assert!(late[0].overdue);
        // P2 has a level and no assessment: due, never assessed.
        let never = now.iter().find(|l| l.person_id == "P2").expect("P2");
        assert_eq!(never.cause, DueCause::NeverAssessed);
        // Worklist: on 2027-03-03 P1 overdue (urgent) and P2 never assessed.
        let items = asm::work_items(&mut c, &staff_scope, d("2027-03-03")).expect("items");
        let keys: Vec<_> = items.iter().map(|i| (i.key, i.count)).collect();
        assert_eq!(
            keys,
            vec![("assessments_overdue", 1), ("assessments_never", 1)]
        );
        assert!(items[0].urgent);
    }
}

#[test]
fn assess_bad_drafts_are_refused_naming_the_field() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let w = world(store);
        let county = user(store, "county", Role::CountyAdmin, "330402");
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-10");
        // The same assessor twice.
        let e = asm::create(
            &mut c,
            &county,
            &draft("P1", "S1", "S1", "2026-03-01"),
            today,
        )
        .expect_err("same");
        assert_eq!(fields(&e), vec!["assessor2_id"]);
        // An assessor without a certificate; an unknown one.
        let e = asm::create(
            &mut c,
            &county,
            &draft("P1", "S5", "NOPE", "2026-03-01"),
            today,
        )
        .expect_err("uncertified");
        assert_eq!(fields(&e), vec!["assessor1_id", "assessor2_id"]);
        // A score that is not an option (上下楼梯 has no 4), an unknown item,
        // an unknown risk event type, a future day.
        let mut dr = draft("P1", "S1", "S2", "2026-03-11");
        dr.answers.insert("B.2.4".into(), 4);
        dr.answers.insert("B.9.9".into(), 1);
        dr.risk_events.insert("earthquake".into(), 1);
        let e = asm::create(&mut c, &county, &dr, today).expect_err("bad");
        let f = fields(&e);
        for want in [
            "assessed_on",
            "answers.B.2.4",
            "answers.B.9.9",
            "risk_events.earthquake",
        ] {
            assert!(f.contains(&want.to_string()), "{want} not in {f:?}");
        }
        // A person in another county reads as unknown.
        let e = asm::create(
            &mut c,
            &county,
            &draft("P3", "S1", "S2", "2026-03-01"),
            today,
        )
        .expect_err("out of scope");
        assert_eq!(fields(&e), vec!["person_id"]);
        // Village staff read but do not assess.
        let village = user(store, "v", Role::VillageStaff, &w.village);
        let e = asm::create(
            &mut c,
            &village,
            &draft("P1", "S1", "S2", "2026-03-01"),
            today,
        )
        .expect_err("forbidden");
        assert!(matches!(e, StoreError::Forbidden(_)), "{e}");
        // An assessment outside the scope is not found.
        let sys = Scope::system("t");
        let a = asm::create(&mut c, &sys, &draft("P3", "S1", "S2", "2026-03-01"), today)
            .expect("P3 draft");
        let e = asm::get(&mut c, &county, &a.id).expect_err("404");
        assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
        let other = user(store, "o", Role::VillageStaff, &w.other_village);
        assert_eq!(asm::get(&mut c, &other, &a.id).expect("own").id, a.id);
        let listed =
            asm::list(&mut c, &store.reference, &county, &ListQuery::default()).expect("list");
        assert!(listed.is_empty());
    }
}

#[test]
fn assess_appeal_is_reviewed_by_other_assessors_and_replaces_the_result() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let _w = world(store);
        let county = user(store, "county", Role::CountyAdmin, "330402");
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-10");
        // 89: 攻击行为 occurred → 轻度.
        let mut dr = draft("P1", "S1", "S2", "2026-03-01");
        dr.answers = answers(&[("B.3.7", 0)]);
        let a = asm::create(&mut c, &county, &dr, today).expect("draft");
        asm::finish(&mut c, r, &county, &a.id, today).expect("finish");
        let e = asm::appeal(&mut c, &county, &a.id, "  ").expect_err("no reason");
        assert_eq!(fields(&e), vec!["reason"]);
        let ap = asm::appeal(&mut c, &county, &a.id, "家属认为跌倒风险未计入").expect("appeal");
        assert_eq!(ap.state, State::Appealed);
        // A review by one of the same assessors is refused.
        let mut rv = draft("P1", "S2", "S3", "2026-03-08");
        rv.reason = Reason::Review;
        rv.review_of = Some(a.id.clone());
        // 89 again, with 2 falls in 30 days → 中度.
        rv.answers = answers(&[("B.3.7", 0)]);
        rv.risk_events.insert("fall".into(), 2);
        let e = asm::create(&mut c, &county, &rv, today).expect_err("same assessor");
        assert_eq!(fields(&e), vec!["assessor1_id"]);
        rv.assessor1_id = "S4".into();
        let review = asm::create(&mut c, &county, &rv, today).expect("review");
        let done = asm::finish(&mut c, r, &county, &review.id, today).expect("finish review");
        assert_eq!(
            done.outcome.as_ref().map(|o| o.final_level),
            Some(AbilityLevel::Moderate)
        );
        let old = asm::get(&mut c, &county, &a.id).expect("old");
        assert_eq!(old.state, State::Superseded);
        assert_eq!(old.reviewed_by.as_deref(), Some(review.id.as_str()));
        let p = people::get(&mut c, r, &Scope::system("t"), "P1").expect("P1");
        assert_eq!(p.ability_level, Some(AbilityLevel::Moderate));
        // A second review of the same appeal is refused.
        let mut again = rv.clone();
        again.assessor1_id = "S3".into();
        again.assessor2_id = "S4".into();
        let e = asm::create(&mut c, &county, &again, today).expect_err("twice");
        assert!(fields(&e).contains(&"review_of".to_string()));
        // A review without naming the appeal is refused.
        let mut bare = draft("P1", "S3", "S4", "2026-03-08");
        bare.reason = Reason::Review;
        let e = asm::create(&mut c, &county, &bare, today).expect_err("bare");
        assert_eq!(fields(&e), vec!["review_of"]);
    }
}

#[test]
fn assess_a_change_of_condition_is_due_at_once() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let w = world(store);
        let village = user(store, "v", Role::VillageStaff, &w.village);
        let mut c = store.conn().expect("conn");
        asm::flag_change(
            &mut c,
            &village,
            "P1",
            "跌倒后行动能力下降",
            d("2026-04-01"),
        )
        .expect("flag");
        let e =
            asm::flag_change(&mut c, &village, "P3", "x", d("2026-04-01")).expect_err("other area");
        assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
        let next_day = asm::due(
            &mut c,
            r,
            &village,
            d("2026-04-02"),
            &DueQuery {
                overdue: true,
                ..DueQuery::default()
            },
        )
        .expect("due");
        assert_eq!(next_day.len(), 1);
        assert_eq!(next_day[0].cause, DueCause::Immediate);
        assert_eq!(next_day[0].due_on, Some(d("2026-04-01")));
        assert!(next_day[0].overdue);
    }
}

fn csv(rows: &[Vec<(&str, String)>]) -> Vec<u8> {
    let header = import::header().expect("header");
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        let m: BTreeMap<&str, &String> = row.iter().map(|(k, v)| (*k, v)).collect();
        let cells: Vec<String> = header
            .iter()
            .map(|h| m.get(h.as_str()).map(|s| s.to_string()).unwrap_or_default())
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

fn paper_row(person: &str, on: &str, overrides: &[(&str, u8)]) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = vec![
        ("person_id", person.to_string()),
        ("assessed_on", on.to_string()),
        ("reason", "首次评估".to_string()),
        ("assessor1_id", "S1".to_string()),
        ("assessor2_id", "S2".to_string()),
        ("coma", "否".to_string()),
        ("dementia", "否".to_string()),
        ("mental_disorder", "否".to_string()),
    ];
    let codes: Vec<&'static str> = vec![
        "B.1.1", "B.1.2", "B.1.3", "B.1.4", "B.1.5", "B.1.6", "B.1.7", "B.1.8", "B.2.1", "B.2.2",
        "B.2.3", "B.2.4", "B.3.1", "B.3.2", "B.3.3", "B.3.4", "B.3.5", "B.3.6", "B.3.7", "B.3.8",
        "B.3.9", "B.4.1", "B.4.2", "B.4.3", "B.4.4", "B.4.5",
    ];
    let a = answers(overrides);
    for code in codes {
        v.push((code, a[code].to_string()));
    }
    v
}

#[test]
fn assess_import_is_all_or_nothing_naming_every_bad_row() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let _w = world(store);
        let county = user(store, "county", Role::CountyAdmin, "330402");
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-10");
        // Row 2 good; row 3 has 上下楼梯 4 and a bad date.
        let mut bad = paper_row("P2", "2026-02-30", &[("B.2.4", 0)]);
        for cell in bad.iter_mut() {
            if cell.0 == "B.2.4" {
                cell.1 = "4".into();
            }
        }
        let file = csv(&[paper_row("P1", "2026-02-01", &[]), bad]);
        let e =
            import::import(&mut c, r, &county, "a.csv", &file, today, false).expect_err("rejected");
        let StoreError::ImportRejected(errs) = e else {
            panic!("expected rejection, got {e}");
        };
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(got, vec![(3, "assessed_on"), (3, "B.2.4")]);
        assert!(
            asm::list(&mut c, r, &county, &ListQuery::default())
                .expect("list")
                .is_empty()
        );
        // Fixed: P2 all zeros (0 → 完全失能), coma given as 是.
        let mut zero = paper_row("P2", "2026-02-28", &[]);
        for cell in zero.iter_mut() {
            if cell.0.starts_with("B.") {
                cell.1 = "0".into();
            }
        }
        let file = csv(&[paper_row("P1", "2026-02-01", &[]), zero]);
        let dry = import::import(&mut c, r, &county, "a.csv", &file, today, true).expect("dry");
        assert_eq!(dry.rows, 2);
        assert!(
            asm::list(&mut c, r, &county, &ListQuery::default())
                .expect("list")
                .is_empty()
        );
        let done =
            import::import(&mut c, r, &county, "a.csv", &file, today, false).expect("import");
        assert_eq!(done.ids.len(), 2);
        let p1 = people::get(&mut c, r, &Scope::system("t"), "P1").expect("P1");
        assert_eq!(p1.ability_level, Some(AbilityLevel::Intact));
        let p2 = people::get(&mut c, r, &Scope::system("t"), "P2").expect("P2");
        assert_eq!(p2.ability_level, Some(AbilityLevel::Complete));
        // The same file again: every row is a duplicate.
        let e =
            import::import(&mut c, r, &county, "a.csv", &file, today, false).expect_err("twice");
        let StoreError::ImportRejected(errs) = e else {
            panic!("expected rejection");
        };
        assert_eq!(errs.len(), 2);
    }
}
