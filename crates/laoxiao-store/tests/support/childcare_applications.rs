//! Childcare applications and enrolment (入托申请与录取) over a real database
//! (both backends), with a hand-made institution: an infant class with three
//! places and one caregiver (1:3), a young-toddler class at its ratio (five
//! children, one caregiver, 1:5), a full older-toddler class and an empty
//! young-toddler class. Each refusal names its rule; two staff answering one
//! offer at once cannot both succeed; the enrolment goes through the
//! registers; a family sees only its own child.

use chrono::{Duration, Months, NaiveDate};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::Sex;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::childcare_applications::{
    self as ca, AppStatus, ApplyInput, EnrolInput, ListQuery, OfferInput, Step,
};
use laoxiao_store::family::{self as fam};
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, activity, audit, facilities, people};

fn months_before(day: NaiveDate, m: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(m)).expect("date")
}

fn child(id: &str, area: &str, seq: u16, birth: NaiveDate) -> Person {
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Infant, area, birth, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], birth, seq);
    p.name = "李小宝".into();
    p.guardian_name = Some("李某".into());
    p
}

fn class(
    id: &str,
    fac: &str,
    ty: ClassType,
    cap: i64,
    enrolled: i64,
    carers: i64,
) -> ChildcareClass {
    ChildcareClass {
        id: id.into(),
        facility_id: fac.into(),
        class_type: ty,
        capacity: cap,
        enrolled,
        caregivers: carers,
        monthly_fee_fen: Some(200_000),
    }
}

/// The field and reason of a refused step.
fn refused(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid(v) => (v[0].field.clone(), v[0].reason.clone()),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn input(child: &str, to: &[&str], care: &str, start: NaiveDate) -> ApplyInput {
    ApplyInput {
        infant_id: child.into(),
        facility_ids: to.iter().map(|s| s.to_string()).collect(),
        care_type: care.into(),
        wanted_start: start,
        note: None,
    }
}

#[test]
fn applications_are_offered_places_within_the_rules_and_enrolled_once() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        // The registers check infants' ages against the real day.
        let today = chrono::Utc::now().date_naive();
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330402")[1].code.clone();
        let haining_town = r.areas.children("330481")[0].code.clone();

        let n1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        let classes = [
            class("N1-INF", "N1", ClassType::InfantClass, 3, 0, 1),
            class("N1-YT", "N1", ClassType::YoungToddlerClass, 10, 5, 1),
            class("N1-OT", "N1", ClassType::OlderToddlerClass, 2, 2, 1),
            class("N1-YT2", "N1", ClassType::YoungToddlerClass, 5, 0, 1),
        ];
        facilities::create_with_classes(&mut c, r, &sys, &n1, &classes, &[]).expect("N1");
        let n2 = Facility::blank(
            "N2",
            "月亮托育园",
            FacilityKind::ChildcareInstitution,
            &other_town,
        );
        facilities::create_with_classes(
            &mut c,
            r,
            &sys,
            &n2,
            &[class("N2-INF", "N2", ClassType::InfantClass, 6, 0, 2)],
            &[],
        )
        .expect("N2");
        let home = Facility::blank("H1", "敬老院", FacilityKind::ElderlyInstitution, &village);
        facilities::create(&mut c, r, &sys, &home).expect("home");

        let k1 = child("K1", &village, 1, months_before(today, 8));
        let k2 = child("K2", &village, 2, months_before(today, 9));
        let k3 = child("K3", &village, 3, months_before(today, 16));
        let k4 = child("K4", &village, 4, months_before(today, 2));
        let k5 = child("K5", &haining_town, 5, months_before(today, 10));
        for p in [&k1, &k2, &k3, &k4, &k5] {
            people::create(&mut c, r, &sys, p).expect("child");
        }

        let vstaff = user(store, "v1", Role::VillageStaff, &village, None);
        let op1 = user(store, "op1", Role::FacilityOperator, &village, Some("N1"));
        let op2 = user(
            store,
            "op2",
            Role::FacilityOperator,
            &other_town,
            Some("N2"),
        );
        let county = user(store, "nanhu", Role::CountyAdmin, "330402", None);
        let haining = user(store, "haining", Role::CountyAdmin, "330481", None);
        laoxiao_store::accounts::create_user(
            &mut c,
            r,
            &sys,
            "mama",
            Role::Family,
            "330400",
            None,
            "family-pass-2026",
        )
        .expect("family account");
        let parent = user(store, "mama", Role::Family, "330400", None);

        // ---- applying: K1 to both institutions, K2 and K3 to N1, in that order.
        let a1 = ca::apply(
            &mut c,
            r,
            &vstaff,
            &input("K1", &["N1", "N2"], "full_day", today),
            today,
        )
        .expect("K1 applies");
        assert_eq!(a1.len(), 2);
        assert_eq!(
            (a1[0].status, a1[0].position, a1[0].waiting_total),
            (AppStatus::Waiting, Some(1), Some(1))
        );
        assert_eq!(a1[0].infant_name, "李**", "staff see the name masked");
        let k1_n1 = a1[0].id.clone();
        let k1_n2 = a1[1].id.clone();
        let k2_n1 = ca::apply(
            &mut c,
            r,
            &vstaff,
            &input("K2", &["N1"], "half_day", today),
            today,
        )
        .expect("K2")[0]
            .clone();
        assert_eq!(k2_n1.position, Some(2));
        let k3_n1 = ca::apply(
            &mut c,
            r,
            &vstaff,
            &input("K3", &["N1"], "full_day", today),
            today,
        )
        .expect("K3")[0]
            .id
            .clone();

        // Refusals, each naming its rule and writing nothing.
        let (field, why) = refused(
            ca::apply(
                &mut c,
                r,
                &vstaff,
                &input("K4", &["N1"], "full_day", today),
                today,
            )
            .expect_err("too young"),
        );
        assert_eq!(field, "wanted_start");
        assert!(
            why.contains("2 months old") && why.contains("6 to 36 months"),
            "{why}"
        );
        let (field, _) = refused(
            ca::apply(
                &mut c,
                r,
                &vstaff,
                &input("K4", &["N1"], "overnight", today),
                today,
            )
            .expect_err("care type"),
        );
        assert_eq!(field, "care_type");
        let (field, why) = refused(
            ca::apply(
                &mut c,
                r,
                &vstaff,
                &input("K3", &["H1"], "full_day", today),
                today,
            )
            .expect_err("a care home"),
        );
        assert_eq!(field, "facility_ids");
        assert!(why.contains("H1"), "{why}");
        assert!(matches!(
            ca::apply(
                &mut c,
                r,
                &vstaff,
                &input("K1", &["N1"], "full_day", today),
                today
            ),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            ca::apply(
                &mut c,
                r,
                &op1,
                &input("K3", &["N2"], "full_day", today),
                today
            ),
            Err(StoreError::Forbidden(_))
        ));
        // K5 lives in another county: Nanhu's staff do not find the child.
        assert!(matches!(
            ca::apply(
                &mut c,
                r,
                &county,
                &input("K5", &["N1"], "full_day", today),
                today
            ),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            ca::list(&mut c, &county, &ListQuery::default(), today)
                .expect("list")
                .len(),
            4,
            "the refusals wrote nothing"
        );

        // ---- scopes: each operator its own institution; another county nothing.
        assert!(matches!(
            ca::get(&mut c, &op2, &k1_n1, today),
            Err(StoreError::NotFound { .. })
        ));
        let op2_list = ca::list(&mut c, &op2, &ListQuery::default(), today).expect("op2");
        assert_eq!(
            op2_list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            vec![k1_n2.as_str()]
        );
        assert!(
            ca::list(&mut c, &haining, &ListQuery::default(), today)
                .expect("h")
                .is_empty()
        );

        // ---- offers, each refusal naming the rule.
        let offer = |class: &str, skip: Option<&str>| OfferInput {
            class_id: class.into(),
            start_date: today,
            skip_reason: skip.map(str::to_string),
        };
        // K1 is 8 months old: a young-toddler class takes 12 to 24 months.
        let (field, why) = refused(
            ca::offer(&mut c, r, &op1, &k1_n1, &offer("N1-YT2", None), today).expect_err("age"),
        );
        assert_eq!(field, "class_id");
        assert!(
            why.contains("8 months old") && why.contains("12 to 24 months"),
            "{why}"
        );
        // K3 (16 months) in the young-toddler class at its ratio: a sixth
        // child needs a second caregiver (1:5).
        let (field, why) = refused(
            ca::offer(&mut c, r, &op1, &k3_n1, &offer("N1-YT", None), today).expect_err("ratio"),
        );
        assert_eq!(field, "class_id");
        assert!(
            why.contains("1:5") && why.contains("6 children need at least 2 caregivers"),
            "{why}"
        );
        // The older-toddler class is full (and K3 is too young for it anyway:
        // the age rule speaks first).
        let (_, why) = refused(
            ca::offer(&mut c, r, &op1, &k3_n1, &offer("N1-OT", None), today).expect_err("full"),
        );
        assert!(why.contains("24 to 36 months"), "{why}");
        // Another institution's class is not this one's.
        let (_, why) = refused(
            ca::offer(&mut c, r, &op1, &k1_n1, &offer("N2-INF", None), today).expect_err("other"),
        );
        assert_eq!(why, "not a class of this institution");
        // K2 applied after K1 and both fit the infant class: passing K1 over
        // needs a reason.
        let (field, why) = refused(
            ca::offer(&mut c, r, &op1, &k2_n1.id, &offer("N1-INF", None), today).expect_err("skip"),
        );
        assert_eq!(field, "skip_reason");
        assert!(why.starts_with("1 earlier applicants"), "{why}");
        // The child's side may not offer; another operator does not find it.
        assert!(matches!(
            ca::offer(&mut c, r, &vstaff, &k1_n1, &offer("N1-INF", None), today),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            ca::offer(&mut c, r, &op2, &k1_n1, &offer("N1-INF", None), today),
            Err(StoreError::NotFound { .. })
        ));
        let o1 =
            ca::offer(&mut c, r, &op1, &k1_n1, &offer("N1-INF", None), today).expect("offer K1");
        assert_eq!(o1.status, AppStatus::Offered);
        assert_eq!(o1.class_type, Some(ClassType::InfantClass));
        // enrolment.offer_days is 7 (data/policy/childcare.toml).
        assert_eq!(o1.offer_deadline, Some(today + Duration::days(7)));

        // ---- two staff record the family's answer at once: one wins.
        let (x, y) = std::thread::scope(|t| {
            let one = t.spawn(|| {
                let mut c = store.conn().expect("conn");
                ca::step(&mut c, &op1, &k1_n1, Step::Accept, None, today)
            });
            let two = t.spawn(|| {
                let mut c = store.conn().expect("conn");
                ca::step(
                    &mut c,
                    &vstaff,
                    &k1_n1,
                    Step::Decline,
                    Some("家长放弃"),
                    today,
                )
            });
            (one.join().expect("one"), two.join().expect("two"))
        });
        let won = match (&x, &y) {
            (Ok(w), Err(StoreError::Conflict(_))) | (Err(StoreError::Conflict(_)), Ok(w)) => {
                w.clone()
            }
            _ => panic!("exactly one answer must win: {x:?} / {y:?}"),
        };
        let k1_accepted = won.status == AppStatus::Accepted;

        // ---- a family links to K2 as its parent and answers for K2 only.
        assert!(matches!(
            fam::request_link(&mut c, r, &parent, &k2.id_number, "child"),
            Err(StoreError::Invalid(e)) if e[0].field == "relationship"
        ));
        let link = fam::request_link(&mut c, r, &parent, &k2.id_number, "parent").expect("link");
        fam::decide_link(&mut c, &vstaff, &link.id, true, "").expect("verify");
        assert!(
            fam::relatives(&mut c, &parent, today)
                .expect("rel")
                .is_empty(),
            "a child is not an elderly relative"
        );
        let kids = fam::children(&mut c, &parent).expect("children");
        assert_eq!(kids.len(), 1);
        assert_eq!(
            (kids[0].person_id.as_str(), kids[0].name.as_str()),
            ("K2", "李小宝")
        );
        let mine = ca::family_applications(&mut c, &parent, today).expect("mine");
        assert_eq!(mine.len(), 1);
        assert_eq!(
            mine[0].infant_name, "李小宝",
            "the family sees its child's name"
        );
        // K1 no longer waits: K2 is first of two (K2, K3).
        assert_eq!(
            (mine[0].position, mine[0].waiting_total),
            (Some(1), Some(2))
        );
        assert!(matches!(
            ca::family_step(&mut c, &parent, &k1_n1, Step::Withdraw, None, today),
            Err(StoreError::NotFound { .. })
        ));
        // The institutions of K2's county, with places: N1 and N2 (not the
        // care home), by name (小 U+5C0F before 月 U+6708).
        let inst = ca::family_institutions(&mut c, &parent, "K2").expect("institutions");
        assert_eq!(
            inst.iter()
                .map(|i| i.facility_id.as_str())
                .collect::<Vec<_>>(),
            vec!["N1", "N2"]
        );
        assert!(matches!(
            ca::family_institutions(&mut c, &parent, "K1"),
            Err(StoreError::NotFound { .. })
        ));

        // K2 is now the first who fits: no reason needed.
        let o2 =
            ca::offer(&mut c, r, &op1, &k2_n1.id, &offer("N1-INF", None), today).expect("offer K2");
        assert_eq!(o2.status, AppStatus::Offered);
        let accepted =
            ca::family_step(&mut c, &parent, &k2_n1.id, Step::Accept, None, today).expect("accept");
        assert_eq!(accepted.status, AppStatus::Accepted);
        assert!(matches!(
            ca::family_step(&mut c, &parent, &k2_n1.id, Step::Accept, None, today),
            Err(StoreError::Conflict(_))
        ));

        // ---- enrolment: the papers of art. 11 first.
        let enrol = |hc: NaiveDate, vac: bool| EnrolInput {
            health_check_date: hc,
            vaccinations_confirmed: vac,
        };
        let (field, why) = refused(
            ca::enrol(&mut c, r, &op1, &k2_n1.id, &enrol(today, false), today)
                .expect_err("vaccinations"),
        );
        assert_eq!(field, "vaccinations_confirmed");
        assert!(why.contains("第十一条"), "{why}");
        // enrolment.health_check_valid_days is 90.
        let (field, why) = refused(
            ca::enrol(
                &mut c,
                r,
                &op1,
                &k2_n1.id,
                &enrol(today - Duration::days(91), true),
                today,
            )
            .expect_err("old check"),
        );
        assert_eq!(field, "health_check_date");
        assert!(why.contains("more than 90 days"), "{why}");
        assert!(matches!(
            ca::enrol(&mut c, r, &vstaff, &k2_n1.id, &enrol(today, true), today),
            Err(StoreError::Conflict(_))
        ));
        let done = ca::enrol(
            &mut c,
            r,
            &op1,
            &k2_n1.id,
            &enrol(today - Duration::days(90), true),
            today,
        )
        .expect("enrol K2");
        assert_eq!(done.status, AppStatus::Enrolled);
        let en_id = done.enrolment_id.clone().expect("enrolment id");
        let en = activity::get::<Enrolment>(&mut c, &sys, &en_id).expect("enrolment");
        assert_eq!(
            (
                en.infant_id.as_str(),
                en.class_id.as_deref(),
                en.start_date,
                en.care_type
            ),
            ("K2", Some("N1-INF"), today, Some(CareType::HalfDay))
        );
        let inf = activity::get::<ChildcareClass>(&mut c, &sys, "N1-INF").expect("class");
        assert_eq!(inf.enrolled, 1);
        // Enrolled children do not apply again.
        assert!(matches!(
            ca::family_apply(
                &mut c,
                r,
                &parent,
                &input("K2", &["N2"], "full_day", today),
                today
            ),
            Err(StoreError::Conflict(_))
        ));

        if k1_accepted {
            ca::enrol(&mut c, r, &op1, &k1_n1, &enrol(today, true), today).expect("enrol K1");
            let inf = activity::get::<ChildcareClass>(&mut c, &sys, "N1-INF").expect("class");
            assert_eq!(inf.enrolled, 2);
            // K1's other application is cancelled, naming where the child went.
            let other = ca::get(&mut c, &county, &k1_n2, today).expect("K1 at N2");
            assert_eq!(other.status, AppStatus::Cancelled);
            assert_eq!(
                other.close_reason.as_deref(),
                Some("enrolled at 小太阳托育园")
            );
        } else {
            let k1 = ca::get(&mut c, &county, &k1_n1, today).expect("K1");
            assert_eq!(k1.status, AppStatus::Declined);
        }

        // ---- K3: an offer in the empty young-toddler class lapses after 7 days.
        ca::offer(&mut c, r, &op1, &k3_n1, &offer("N1-YT2", None), today).expect("offer K3");
        let later = today + Duration::days(8);
        let k3 = ca::get(&mut c, &county, &k3_n1, later).expect("K3 later");
        assert_eq!(k3.status, AppStatus::Lapsed);
        let trail = audit::search(
            &mut c,
            &sys,
            &audit::AuditQuery {
                entity: Some("childcare_application".into()),
                ..Default::default()
            },
        )
        .expect("audit");
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "childcare_apply",
            "childcare_offer",
            "childcare_accept",
            "childcare_enrol",
            "childcare_lapse",
        ] {
            assert!(actions.contains(&a), "{a} audited: {actions:?}");
        }

        // ---- closing steps: a cancel needs a reason; only the family withdraws.
        let k4 = child("K6", &village, 6, months_before(today, 20));
        people::create(&mut c, r, &sys, &k4).expect("K6");
        let k6 = ca::apply(
            &mut c,
            r,
            &vstaff,
            &input("K6", &["N1"], "hourly", today),
            today,
        )
        .expect("K6")[0]
            .id
            .clone();
        let (field, _) =
            refused(ca::step(&mut c, &op1, &k6, Step::Cancel, None, today).expect_err("reason"));
        assert_eq!(field, "reason");
        assert!(matches!(
            ca::step(&mut c, &op1, &k6, Step::Withdraw, None, today),
            Err(StoreError::Conflict(_))
        ));
        let w = ca::step(
            &mut c,
            &vstaff,
            &k6,
            Step::Withdraw,
            Some("家长另有安排"),
            today,
        )
        .expect("withdraw");
        assert_eq!(w.status, AppStatus::Withdrawn);
        assert_eq!(
            w.infant_name, "李**",
            "staff taking a step see the name masked"
        );

        // ---- an inclusive institution charges within the price cap: a class
        // at 9,999.99 yuan a month is above any county's cap (a month's
        // income × 50% for a 托小班), so it takes no child.
        let mut n3 = Facility::blank(
            "N3",
            "普惠托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        n3.inclusive = true;
        let mut dear = class("N3-YT", "N3", ClassType::YoungToddlerClass, 10, 0, 2);
        dear.monthly_fee_fen = Some(999_999);
        facilities::create_with_classes(&mut c, r, &sys, &n3, &[dear], &[]).expect("N3");
        let k6_n3 = ca::apply(
            &mut c,
            r,
            &vstaff,
            &input("K6", &["N3"], "full_day", today),
            today,
        )
        .expect("K6 to N3")[0]
            .id
            .clone();
        let (field, why) = refused(
            ca::offer(&mut c, r, &county, &k6_n3, &offer("N3-YT", None), today).expect_err("cap"),
        );
        assert_eq!(field, "class_id");
        assert!(
            why.contains("above the inclusive price cap") && why.contains("× 50%"),
            "{why}"
        );
        let n3_intake = ca::intake(&mut c, r, &county, "N3", today).expect("N3 intake");
        let cap = n3_intake.classes[0]
            .price_cap_fen
            .expect("the cap is shown");
        assert!(cap > 0 && cap < 999_999, "{cap}");

        // ---- the institution's worklist, by hand: nothing waits any more.
        let items = ca::work_items(&mut c, &op1, today).expect("work");
        let count = |k: &str| items.iter().find(|i| i.key == k).map(|i| i.count);
        assert_eq!(count("childcare_applications_waiting"), Some(0));
        let intake = ca::intake(&mut c, r, &op1, "N1", today).expect("intake");
        let inf = intake
            .classes
            .iter()
            .find(|k| k.class_id == "N1-INF")
            .expect("inf");
        let want_enrolled = if k1_accepted { 2 } else { 1 };
        assert_eq!(
            (inf.enrolled, inf.held, inf.free),
            (want_enrolled, 0, 3 - want_enrolled)
        );
        assert_eq!(
            (
                inf.children_per_caregiver,
                inf.min_age_months,
                inf.max_age_months
            ),
            (Some(3), Some(6), Some(12))
        );
        assert!(matches!(
            ca::intake(&mut c, r, &op2, "N1", today),
            Err(StoreError::NotFound { .. })
        ));
    }
}
