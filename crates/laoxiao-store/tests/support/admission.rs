//! Care-home admission over a real database (both backends), with a
//! hand-made waiting list: four applicants to a home with one free bed,
//! ranked by hand (D: 特困 severe; A: 特困 moderate; B: 低保; C: nobody's
//! category), offers, a conflicting second acceptance, discharge freeing the
//! bed, a decline and a lapse passing it on, admission closing the person's
//! other applications, scopes, figures worked out by hand and the worklist.

use chrono::NaiveDate;
use laoxiao_model::person::{AbilityLevel, Sex, SpecialDifficulty};
use laoxiao_model::{Facility, FacilityKind, Person, PersonRole, Residence};
use laoxiao_store::admission::{
    self as adm, AppStatus, ApplicantKind, ApplyInput, ListQuery, Step,
};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::testdb::user;
use laoxiao_store::{Role, Scope, StoreError, activity, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn elder(
    id: &str,
    area: &str,
    seq: u16,
    birth: &str,
    ability: Option<AbilityLevel>,
    cats: &[SpecialDifficulty],
) -> Person {
    let b = d(birth);
    // The ID number's sequence gives the sex (odd: male).
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "王某某".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p.ability_level = ability;
    p.special_difficulty = cats.to_vec();
    p
}

fn apply(
    c: &mut laoxiao_store::Conn,
    s: &Scope,
    person: &str,
    homes: &[&str],
    on: &str,
) -> Vec<String> {
    adm::apply(
        c,
        s,
        &ApplyInput {
            person_id: person.into(),
            facility_ids: homes.iter().map(|h| h.to_string()).collect(),
            kind: ApplicantKind::Staff,
            note: None,
        },
        d(on),
    )
    .expect("apply")
    .into_iter()
    .map(|a| a.id)
    .collect()
}

#[test]
fn a_hand_made_waiting_list_is_ranked_offered_admitted_and_freed() {
    use AbilityLevel::*;
    use SpecialDifficulty::*;
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        let mut h1 = Facility::blank(
            "H1",
            "一号敬老院",
            FacilityKind::ElderlyInstitution,
            &village,
        );
        h1.beds = Some(2);
        facilities::create(&mut c, r, &sys, &h1).expect("h1");
        let mut h2 = Facility::blank(
            "H2",
            "二号养老院",
            FacilityKind::ElderlyInstitution,
            &village,
        );
        h2.beds = Some(1);
        facilities::create(&mut c, r, &sys, &h2).expect("h2");
        let station = Facility::blank("S1", "照料中心", FacilityKind::VillageCareStation, &village);
        facilities::create(&mut c, r, &sys, &station).expect("station");
        let people_ = [
            elder(
                "A",
                &village,
                1,
                "1940-03-01",
                Some(Moderate),
                &[ExtremePoverty],
            ),
            elder(
                "B",
                &village,
                2,
                "1935-01-01",
                Some(Complete),
                &[MinimumLivingAllowance],
            ),
            elder("C", &village, 3, "1930-01-01", Some(Complete), &[]),
            elder(
                "D",
                &village,
                4,
                "1945-01-01",
                Some(Severe),
                &[ExtremePoverty],
            ),
            elder("R", &village, 5, "1938-01-01", Some(Mild), &[]),
        ];
        for p in &people_ {
            people::create(&mut c, r, &sys, p).expect("person");
        }
        // R lives in H1 already: one of its two beds is taken.
        let r0 = Residence {
            id: "R0".into(),
            person_id: "R".into(),
            facility_id: "H1".into(),
            admitted_date: d("2025-01-01"),
            discharged_date: None,
        };
        activity::upsert(&mut c, &r0, "2025-01-01T00:00:00Z").expect("r0");

        let vstaff = user(store, "v1", Role::VillageStaff, &village, None);
        let tstaff = user(store, "t1", Role::TownStaff, &town, None);
        let stranger = user(store, "x1", Role::TownStaff, &other_town, None);
        let op2 = user(store, "op2", Role::FacilityOperator, &village, Some("H2"));

        let a = apply(&mut c, &vstaff, "A", &["H1", "H2"], "2026-01-01");
        let b = apply(&mut c, &vstaff, "B", &["H1"], "2026-02-01");
        let cc = apply(&mut c, &vstaff, "C", &["H1"], "2026-03-01");
        let dd = apply(&mut c, &vstaff, "D", &["H1"], "2026-04-01");
        assert_eq!(a.len(), 2);

        // Refusals: R lives in a care home (422 on the person), not a care home, twice, an operator, a stranger.
        let bad = |e: StoreError, field: &str| match e {
            StoreError::Invalid(v) => assert_eq!(v[0].field, field, "{v:?}"),
            e => panic!("expected invalid {field}, got {e}"),
        };
        let input = |p: &str, h: &str| ApplyInput {
            person_id: p.into(),
            facility_ids: vec![h.into()],
            kind: ApplicantKind::Family,
            note: None,
        };
        bad(
            adm::apply(&mut c, &vstaff, &input("R", "H2"), d("2026-04-01")).expect_err("refused"),
            "person_id",
        );
        bad(
            adm::apply(&mut c, &vstaff, &input("A", "S1"), d("2026-04-01")).expect_err("refused"),
            "facility_ids[0]",
        );
        assert!(matches!(
            adm::apply(&mut c, &vstaff, &input("A", "H1"), d("2026-04-01")),
            Err(StoreError::Conflict(_))
        ));
        bad(
            adm::apply(&mut c, &op2, &input("A", "H1"), d("2026-04-01")).expect_err("refused"),
            "person_id",
        );
        assert!(matches!(
            adm::apply(&mut c, &stranger, &input("A", "H1"), d("2026-04-01")),
            Err(StoreError::NotFound { .. })
        ));

        // Figures on 2026-05-01, by hand: H1 waits D 30, C 61, B 89, A 120
        // days → median (lower middle) 61, longest 120; H2: A 120. The county
        // counts people: A, B, C, D with A's longest wait 120 → median 61.
        let f = adm::figures(&mut c, &tstaff, d("2026-05-01")).expect("figures");
        assert_eq!(f.total_waiting, 5);
        let h1f = f.homes.iter().find(|h| h.key == "H1").expect("h1 figure");
        assert_eq!(
            (h1f.waiting, h1f.median_wait_days, h1f.longest_wait_days),
            (4, Some(61), Some(120))
        );
        assert_eq!(f.counties.len(), 1);
        assert_eq!(f.counties[0].key, "330402");
        assert_eq!(
            (f.counties[0].waiting, f.counties[0].median_wait_days),
            (4, Some(61))
        );

        // The list by hand: D (class 1, severe), A (class 1, moderate), B (class 2), C (class 3).
        let today = d("2026-05-01");
        let wl = adm::waiting_list(&mut c, &tstaff, "H1", today).expect("waiting list");
        assert_eq!((wl.beds, wl.occupied, wl.free_beds), (2, 1, 1));
        let order: Vec<(&str, Option<u32>, Option<u8>)> = wl
            .lines
            .iter()
            .map(|l| (l.person_id.as_str(), l.position, l.class_rank))
            .collect();
        assert_eq!(
            order,
            [
                ("D", Some(1), Some(1)),
                ("A", Some(2), Some(1)),
                ("B", Some(3), Some(2)),
                ("C", Some(4), Some(3)),
            ]
        );
        assert_eq!(wl.lines[0].person_name_masked, "王**");
        let a_h1 = adm::get(&mut c, &vstaff, &a[0], today).expect("a");
        let why = a_h1.explanation_zh.expect("explained");
        assert!(
            why.starts_with("第2位：特困且中度失能（第一优先类"),
            "{why}"
        );
        assert!(why.contains("同类1人在前"), "{why}");
        // Outside the scope the application does not exist; the operator of H2 sees only H2's.
        assert!(matches!(
            adm::get(&mut c, &stranger, &a[0], today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(
            adm::list(&mut c, &stranger, &ListQuery::default(), today)
                .expect("l")
                .is_empty()
        );
        let op_list = adm::list(&mut c, &op2, &ListQuery::default(), today).expect("l");
        assert_eq!(op_list.len(), 1);
        assert_eq!(op_list[0].facility_id, "H2");
        assert!(matches!(
            adm::waiting_list(&mut c, &op2, "H1", today),
            Err(StoreError::NotFound { .. })
        ));

        // One free bed: offered to D, deadline 7 days on; no second bed to offer.
        let o = adm::offer_next(&mut c, &tstaff, "H1", today)
            .expect("offer")
            .expect("offered");
        assert_eq!(
            (o.id.as_str(), o.status),
            (dd[0].as_str(), AppStatus::Offered)
        );
        assert_eq!(o.offer_deadline, Some(d("2026-05-08")));
        assert!(
            adm::offer_next(&mut c, &tstaff, "H1", today)
                .expect("offer")
                .is_none()
        );
        let items = adm::work_items(&mut c, &vstaff, today).expect("items");
        let waiting = items
            .iter()
            .find(|i| i.key == "admission_waiting")
            .expect("waiting line");
        assert_eq!(waiting.count, 4);
        assert!(
            items
                .iter()
                .any(|i| i.key == "admission_offers_open" && i.count == 1)
        );

        // D accepts; a second acceptance of the same offer is a conflict.
        let acc = adm::step(&mut c, &vstaff, &dd[0], Step::Accept, None, today).expect("accept");
        assert_eq!(acc.status, AppStatus::Admitted);
        let res_id = acc.residence_id.clone().expect("residence");
        assert!(matches!(
            adm::step(&mut c, &tstaff, &dd[0], Step::Accept, None, today),
            Err(StoreError::Conflict(_))
        ));
        let res: Residence =
            laoxiao_store::registry::get(&mut c, &sys, &res_id).expect("residence");
        assert_eq!((res.person_id.as_str(), res.admitted_date), ("D", today));
        let wl = adm::waiting_list(&mut c, &tstaff, "H1", today).expect("wl");
        assert_eq!((wl.occupied, wl.free_beds, wl.lines.len()), (2, 0, 3));

        // R leaves: the bed goes to A (now first).
        let next = adm::discharge(&mut c, &op2, "R0", today, true, today);
        assert!(
            matches!(next, Err(StoreError::NotFound { .. })),
            "not H2's resident"
        );
        assert!(matches!(
            adm::discharge(&mut c, &tstaff, "R0", d("2026-06-01"), true, today),
            Err(StoreError::Invalid(_))
        ));
        let next = adm::discharge(&mut c, &tstaff, "R0", today, true, today)
            .expect("discharge")
            .expect("offered on");
        assert_eq!(next.id, a[0]);
        assert!(matches!(
            adm::discharge(&mut c, &tstaff, "R0", today, true, today),
            Err(StoreError::Conflict(_))
        ));
        // Withdrawing is the applicant's side; the operator of H1 does not exist here.
        // A declines at H1: B is offered.
        adm::step(
            &mut c,
            &vstaff,
            &a[0],
            Step::Decline,
            Some("家属希望离家近"),
            today,
        )
        .expect("decline");
        let wl = adm::waiting_list(&mut c, &tstaff, "H1", today).expect("wl");
        assert_eq!(wl.lines[0].id, b[0]);
        assert_eq!(wl.lines[0].status, AppStatus::Offered);
        // B does not answer: on 2026-05-09 the offer has lapsed and C is offered.
        let later = d("2026-05-09");
        let wl = adm::waiting_list(&mut c, &tstaff, "H1", later).expect("wl");
        assert_eq!(wl.lines.len(), 1);
        assert_eq!(
            (wl.lines[0].id.as_str(), wl.lines[0].status),
            (cc[0].as_str(), AppStatus::Offered)
        );
        assert_eq!(
            adm::get(&mut c, &tstaff, &b[0], later).expect("b").status,
            AppStatus::Lapsed
        );

        // A is offered H2's bed, accepts: H2 residence; A has no open application left.
        let o2 = adm::offer_next(&mut c, &op2, "H2", later)
            .expect("offer")
            .expect("offered");
        assert_eq!(o2.id, a[1]);
        adm::step(&mut c, &op2, &a[1], Step::Accept, None, later).expect("accept");
        // Cancelling needs a reason; withdrawing is not the home's.
        assert!(matches!(
            adm::step(&mut c, &tstaff, &cc[0], Step::Cancel, None, later),
            Err(StoreError::Invalid(_))
        ));
        let open = adm::list(
            &mut c,
            &tstaff,
            &ListQuery {
                status: Some(AppStatus::Waiting),
                ..Default::default()
            },
            later,
        )
        .expect("list");
        assert!(open.is_empty(), "{open:?}");
        // Every step left its audit entry.
        let n = c
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'admission_application'",
                &[],
            )
            .expect("audit");
        // 5 applies, 5 offers, 2 accepts, 1 decline, 1 lapse.
        assert_eq!(n, 14);
    }
}
