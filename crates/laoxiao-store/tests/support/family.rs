//! Family accounts and the services they order (子女网上下单), on both
//! databases: a link verified by staff of the person's area only; a family
//! that sees its relative and nobody else; the voucher-then-family split
//! worked by hand; a duplicate submission that changes nothing; delivery
//! writing a service record; the monthly settlement sums.

use chrono::NaiveDate;
use laoxiao_model::activity::{ServiceKind, ServiceRecord};
use laoxiao_model::family::{ServiceCategory, ServiceItem};
use laoxiao_model::person::{AbilityLevel, Sex, SpecialDifficulty};
use laoxiao_model::{Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::family::{self as fam, LinkStatus, NewOrder, OrderQuery, OrderStatus, Step};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{
    Actor, Role, Scope, StoreError, accounts, activity, facilities, people, registry,
};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn scope(
    store: &laoxiao_store::Store,
    name: &str,
    role: Role,
    code: &str,
    f: Option<&str>,
) -> Scope {
    let path = store.reference.areas.get(code).expect("area").path.clone();
    Scope::user(
        Actor {
            user: name.into(),
            ip: None,
        },
        role,
        &path,
        f.map(str::to_string),
    )
}

fn elder(id: &str, area: &str, seq: u16) -> Person {
    let b = d("1940-05-01");
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, Sex::Female);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "李秀英".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

fn order(rid: &str, person: &str, item: &str, qty: i64, date: &str) -> NewOrder {
    NewOrder {
        client_request_id: rid.into(),
        person_id: person.into(),
        item_id: item.into(),
        quantity: qty,
        service_date: d(date),
        note: String::new(),
    }
}

#[test]
fn a_family_orders_pays_with_the_voucher_rates_and_sees_nobody_else() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        let other_village = r.areas.children(&other_town)[0].code.clone();
        // The provider, a second one elsewhere, and their catalogues.
        let h = Facility::blank(
            "H1",
            "南湖居家服务中心",
            FacilityKind::TownHomeCareCenter,
            &town,
        );
        facilities::create(&mut c, r, &sys, &h).expect("provider");
        let h2 = Facility::blank(
            "H2",
            "海宁服务中心",
            FacilityKind::TownHomeCareCenter,
            &other_town,
        );
        facilities::create(&mut c, r, &sys, &h2).expect("provider 2");
        let item = |id: &str, f: &str, cat, price, areas: &str| ServiceItem {
            id: id.into(),
            facility_id: f.into(),
            category: cat,
            name: "上门助浴".into(),
            price_fen: price,
            unit: "次".into(),
            areas_served: areas.into(),
            active: true,
        };
        let ck = store.checker();
        let today = d("2026-12-10");
        for x in [
            item("B1", "H1", ServiceCategory::Bathing, 8_000, "330402"),
            item("B2", "H2", ServiceCategory::Bathing, 5_000, &other_town),
        ] {
            registry::create(&mut c, &ck, &sys, &x, today).expect("item");
        }
        // 特困 and severely impaired: the bathing voucher is the larger of
        // 100 yuan (特困) and 150 yuan (重度失能) = 15,000 fen a month.
        let mut p1 = elder("P1", &village, 2);
        p1.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
        p1.ability_level = Some(AbilityLevel::Severe);
        people::create(&mut c, r, &sys, &p1).expect("p1");
        let p2 = elder("P2", &other_village, 4);
        people::create(&mut c, r, &sys, &p2).expect("p2");

        accounts::create_user(
            &mut c,
            r,
            &sys,
            "fam1",
            Role::Family,
            "330400",
            None,
            "pw-family-1!",
        )
        .expect("family account");
        let family = scope(store, "fam1", Role::Family, "330400", None);
        let staff = scope(store, "tina", Role::TownStaff, &town, None);
        let other_staff = scope(store, "otto", Role::TownStaff, &other_town, None);
        let op = scope(store, "hop", Role::FacilityOperator, &town, Some("H1"));
        let op2 = scope(
            store,
            "hop2",
            Role::FacilityOperator,
            &other_town,
            Some("H2"),
        );
        let county = scope(store, "nanhu", Role::CountyAdmin, "330402", None);
        let haining = scope(store, "haining", Role::CountyAdmin, "330481", None);

        // Nothing of the registers for a family account.
        assert!(matches!(
            people::get(&mut c, r, &family, "P1"),
            Err(StoreError::Forbidden(_))
        ));
        // Staff cannot ask for links; a bad relationship is a field error.
        assert!(matches!(
            fam::request_link(&mut c, r, &staff, &p1.id_number, "child"),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            fam::request_link(&mut c, r, &family, &p1.id_number, "cousin"),
            Err(StoreError::Invalid(e)) if e[0].field == "relationship"
        ));
        let link = fam::request_link(&mut c, r, &family, &p1.id_number, "child").expect("link");
        assert_eq!(link.status, LinkStatus::Requested);
        assert!(matches!(
            fam::request_link(&mut c, r, &family, &p1.id_number, "child"),
            Err(StoreError::Conflict(_))
        ));
        // Before verification: no relative, no order.
        assert!(
            fam::relatives(&mut c, &family, today)
                .expect("rel")
                .is_empty()
        );
        assert!(not_found(fam::place(
            &mut c,
            r,
            &family,
            &order("a1", "P1", "B1", 1, "2026-12-12"),
            today
        )));
        // Staff see it on their worklist; staff of another town do not find it.
        let w = fam::work_items(&mut c, &staff, today).expect("work");
        assert_eq!(
            w.iter()
                .find(|i| i.key == "family_links_to_verify")
                .map(|i| i.count),
            Some(1)
        );
        assert!(
            fam::links_in_scope(&mut c, &other_staff, LinkStatus::Requested)
                .expect("l")
                .is_empty()
        );
        assert!(not_found(fam::decide_link(
            &mut c,
            &other_staff,
            &link.id,
            true,
            ""
        )));
        let v = fam::decide_link(&mut c, &staff, &link.id, true, "").expect("verify");
        assert_eq!(
            (v.status, v.decided_by.as_deref()),
            (LinkStatus::Verified, Some("tina"))
        );

        // The relative and her bathing voucher.
        let rel = fam::relatives(&mut c, &family, today).expect("relatives");
        assert_eq!(rel.len(), 1);
        assert_eq!(
            (rel[0].person_id.as_str(), rel[0].name.as_str()),
            ("P1", "李秀英")
        );
        let bath = rel[0]
            .balances
            .iter()
            .find(|b| b.category == ServiceCategory::Bathing)
            .expect("bath");
        assert_eq!((bath.monthly_fen, bath.left_fen), (15_000, 15_000));
        // The catalogue offers B1 (serves the county), not B2 (another town).
        let offers = fam::catalogue_for(&mut c, r, &family, "P1").expect("catalogue");
        assert_eq!(
            offers
                .iter()
                .map(|o| o.item.id.as_str())
                .collect::<Vec<_>>(),
            ["B1"]
        );
        // Nobody else: P2 is not found, for the catalogue and for an order.
        assert!(not_found(fam::catalogue_for(&mut c, r, &family, "P2")));
        assert!(not_found(fam::place(
            &mut c,
            r,
            &family,
            &order("x1", "P2", "B2", 1, "2026-12-12"),
            today
        )));
        // An item that does not serve her area is a field error.
        assert!(matches!(
            fam::place(&mut c, r, &family, &order("x2", "P1", "B2", 1, "2026-12-12"), today),
            Err(StoreError::Invalid(e)) if e[0].field == "item_id"
        ));
        // Bounds.
        assert!(matches!(
            fam::place(&mut c, r, &family, &order("x3", "P1", "B1", 0, "2026-12-12"), today),
            Err(StoreError::Invalid(e)) if e[0].field == "quantity"
        ));
        assert!(matches!(
            fam::place(&mut c, r, &family, &order("x4", "P1", "B1", 1, "2027-06-01"), today),
            Err(StoreError::Invalid(e)) if e[0].field == "service_date"
        ));

        // Order 1: 1 × 80 yuan against 150 left: the voucher pays 80, the family 0.
        let (o1, new) = fam::place(
            &mut c,
            r,
            &family,
            &order("a1", "P1", "B1", 1, "2026-12-12"),
            today,
        )
        .expect("o1");
        assert!(new);
        assert_eq!(
            (o1.total_fen, o1.voucher_fen, o1.family_fen),
            (8_000, 8_000, 0)
        );
        assert_eq!(o1.voucher_balance_fen, 15_000);
        // Order 2: 1 × 80 yuan against 70 left: voucher 70, family 10.
        let (o2, _) = fam::place(
            &mut c,
            r,
            &family,
            &order("a2", "P1", "B1", 1, "2026-12-13"),
            today,
        )
        .expect("o2");
        assert_eq!(
            (o2.voucher_fen, o2.family_fen, o2.voucher_balance_fen),
            (7_000, 1_000, 7_000)
        );
        assert!(
            o2.explanation.contains("抵扣 70.00 元"),
            "{}",
            o2.explanation
        );
        assert!(
            o2.explanation.contains("家属支付 10.00 元"),
            "{}",
            o2.explanation
        );
        // The same submission again: the same order, nothing new.
        let (again, new) = fam::place(
            &mut c,
            r,
            &family,
            &order("a2", "P1", "B1", 1, "2026-12-13"),
            today,
        )
        .expect("dup");
        assert!(!new);
        assert_eq!(again.id, o2.id);
        assert_eq!(
            fam::orders(&mut c, &family, &OrderQuery::default())
                .expect("list")
                .len(),
            2
        );
        // Order 3: 2 × 80 with nothing left: the family pays 160.
        let (o3, _) = fam::place(
            &mut c,
            r,
            &family,
            &order("a3", "P1", "B1", 2, "2026-12-14"),
            today,
        )
        .expect("o3");
        assert_eq!(
            (o3.total_fen, o3.voucher_fen, o3.family_fen),
            (16_000, 0, 16_000)
        );
        // Cancelling order 2 gives its 70 back: order 4 (1 × 80) gets 70.
        let o2c = fam::step(
            &mut c,
            &family,
            &o2.id,
            &Step::Cancel {
                reason: "改期".into(),
            },
            today,
        )
        .expect("cancel");
        assert_eq!(o2c.status, OrderStatus::Cancelled);
        let (o4, _) = fam::place(
            &mut c,
            r,
            &family,
            &order("a4", "P1", "B1", 1, "2026-12-15"),
            today,
        )
        .expect("o4");
        assert_eq!((o4.voucher_fen, o4.family_fen), (7_000, 1_000));

        // The provider's queue: its own orders only; another provider finds none.
        assert_eq!(
            fam::orders(
                &mut c,
                &op,
                &OrderQuery {
                    status: Some(OrderStatus::Placed),
                    ..Default::default()
                }
            )
            .expect("q")
            .len(),
            3
        );
        assert!(not_found(fam::get_order(&mut c, &op2, &o1.id)));
        assert!(matches!(
            fam::step(&mut c, &op2, &o1.id, &Step::Accept, today),
            Err(StoreError::NotFound { .. })
        ));
        let w = fam::work_items(&mut c, &op, today).expect("work");
        assert_eq!(
            w.iter()
                .find(|i| i.key == "orders_to_accept")
                .map(|i| i.count),
            Some(3)
        );
        // A family may not accept; a provider may not rate.
        assert!(matches!(
            fam::step(&mut c, &family, &o1.id, &Step::Accept, today),
            Err(StoreError::Forbidden(_))
        ));
        // Delivering before accepting is a conflict.
        let deliver = Step::Deliver {
            date: d("2026-12-12"),
            by: "护理员王".into(),
        };
        let later = d("2026-12-16");
        assert!(matches!(
            fam::step(&mut c, &op, &o1.id, &deliver, later),
            Err(StoreError::Conflict(_))
        ));
        fam::step(&mut c, &op, &o1.id, &Step::Accept, today).expect("accept");
        let o1d = fam::step(&mut c, &op, &o1.id, &deliver, later).expect("deliver");
        assert_eq!(o1d.status, OrderStatus::Delivered);
        let rec: ServiceRecord = activity::get(
            &mut c,
            &sys,
            o1d.service_record_id.as_deref().expect("record"),
        )
        .expect("service record");
        assert_eq!(
            (rec.person_id.as_str(), rec.kind, rec.date),
            ("P1", ServiceKind::HomeService, d("2026-12-12"))
        );
        assert!(matches!(
            fam::step(&mut c, &family, &o1.id, &Step::Rate { rating: 6, comment: String::new() }, later),
            Err(StoreError::Invalid(e)) if e[0].field == "rating"
        ));
        let rated = fam::step(
            &mut c,
            &family,
            &o1.id,
            &Step::Rate {
                rating: 5,
                comment: "很好".into(),
            },
            later,
        )
        .expect("rate");
        assert_eq!((rated.status, rated.rating), (OrderStatus::Rated, Some(5)));
        // Order 4 delivered; order 3 refused.
        fam::step(&mut c, &op, &o4.id, &Step::Accept, today).expect("accept 4");
        fam::step(
            &mut c,
            &op,
            &o4.id,
            &Step::Deliver {
                date: d("2026-12-15"),
                by: "护理员王".into(),
            },
            later,
        )
        .expect("deliver 4");
        fam::step(
            &mut c,
            &op,
            &o3.id,
            &Step::Refuse {
                reason: "人手不足".into(),
            },
            today,
        )
        .expect("refuse 3");

        // Settlement 2026-12: H1 delivered orders 1 and 4: total 160, voucher
        // 80 + 70 = 150, family 0 + 10 = 10 (yuan).
        let s = fam::settlement(&mut c, &county, "2026-12").expect("settlement");
        assert_eq!(s.len(), 1);
        assert_eq!(
            (
                s[0].facility_id.as_str(),
                s[0].orders,
                s[0].total_fen,
                s[0].voucher_fen,
                s[0].family_fen
            ),
            ("H1", 2, 16_000, 15_000, 1_000)
        );
        assert!(
            fam::settlement(&mut c, &haining, "2026-12")
                .expect("other county")
                .is_empty()
        );
        assert!(
            fam::settlement(&mut c, &county, "2026-11")
                .expect("november")
                .is_empty()
        );
        assert!(matches!(
            fam::settlement(&mut c, &family, "2026-12"),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            fam::settlement(&mut c, &county, "2026-13"),
            Err(StoreError::Invalid(_))
        ));
        // The balance after all that: 150 used of 150.
        let rel = fam::relatives(&mut c, &family, today).expect("relatives");
        let bath = rel[0]
            .balances
            .iter()
            .find(|b| b.category == ServiceCategory::Bathing)
            .expect("bath");
        assert_eq!((bath.used_fen, bath.left_fen), (15_000, 0));
        // Revoking the link hides her again.
        fam::decide_link(&mut c, &staff, &link.id, false, "关系不实").expect("revoke");
        assert!(
            fam::relatives(&mut c, &family, today)
                .expect("rel")
                .is_empty()
        );
        assert!(not_found(fam::catalogue_for(&mut c, r, &family, "P1")));
    }
}

/// A family applies for a care home for its verified relative (子女为父母申请
/// 入住): only homes of her county are offered to choose from, nobody else
/// can be applied for, the position is explained, the family answers the
/// home's offer and the residence is created; it cannot cancel (the home's
/// side) nor act on anyone else's application.
#[test]
fn a_family_applies_to_a_care_home_for_its_relative_and_accepts_the_offer() {
    use laoxiao_store::admission::{self as adm, AppStatus, ApplicantKind, Step as AdmStep};
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        let other_village = r.areas.children(&other_town)[0].code.clone();
        let mut home = Facility::blank("C1", "南湖敬老院", FacilityKind::ElderlyInstitution, &town);
        home.beds = Some(1);
        facilities::create(&mut c, r, &sys, &home).expect("home");
        let mut far = Facility::blank(
            "C2",
            "海宁养老院",
            FacilityKind::ElderlyInstitution,
            &other_town,
        );
        far.beds = Some(3);
        facilities::create(&mut c, r, &sys, &far).expect("far home");
        let mut p1 = elder("P1", &village, 2);
        p1.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
        p1.ability_level = Some(AbilityLevel::Severe);
        people::create(&mut c, r, &sys, &p1).expect("p1");
        let mut p2 = elder("P2", &other_village, 4);
        p2.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
        people::create(&mut c, r, &sys, &p2).expect("p2");
        accounts::create_user(
            &mut c,
            r,
            &sys,
            "fam1",
            Role::Family,
            "330400",
            None,
            "pw-family-1!",
        )
        .expect("family account");
        let family = scope(store, "fam1", Role::Family, "330400", None);
        let staff = scope(store, "tina", Role::TownStaff, &town, None);
        let other_staff = scope(store, "otto", Role::TownStaff, &other_town, None);
        let op = scope(store, "cop", Role::FacilityOperator, &town, Some("C1"));
        let today = d("2026-12-10");
        let homes = vec!["C1".to_string()];

        // Before the link is verified she is nobody's relative.
        assert!(not_found(adm::family_apply(
            &mut c, &family, "P1", &homes, None, today
        )));
        assert!(not_found(adm::family_homes(&mut c, &family, "P1", today)));
        let link = fam::request_link(&mut c, r, &family, &p1.id_number, "child").expect("link");
        fam::decide_link(&mut c, &staff, &link.id, true, "").expect("verify");

        // Homes to choose from: her county's, not Haining's.
        let choice = adm::family_homes(&mut c, &family, "P1", today).expect("homes");
        assert_eq!(
            choice.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["C1"]
        );
        assert_eq!((choice[0].beds, choice[0].waiting), (1, 0));
        // Nobody else: P2 is not found; staff-only lists stay closed.
        assert!(not_found(adm::family_homes(&mut c, &family, "P2", today)));
        assert!(not_found(adm::family_apply(
            &mut c,
            &family,
            "P2",
            &["C2".into()],
            None,
            today
        )));
        assert!(matches!(
            adm::list(&mut c, &family, &Default::default(), today),
            Err(StoreError::Forbidden(_))
        ));
        // Bad homes are field errors, nothing written.
        assert!(matches!(
            adm::family_apply(&mut c, &family, "P1", &["NOPE".into()], None, today),
            Err(StoreError::Invalid(e)) if e[0].field == "facility_ids[0]"
        ));
        assert!(matches!(
            adm::family_apply(&mut c, &family, "P1", &[], None, today),
            Err(StoreError::Invalid(e)) if e[0].field == "facility_ids"
        ));

        let apps = adm::family_apply(
            &mut c,
            &family,
            "P1",
            &homes,
            Some("母亲独居，行动不便"),
            today,
        )
        .expect("apply");
        assert_eq!(apps.len(), 1);
        let a = &apps[0];
        assert_eq!(
            (
                a.applicant_kind,
                a.status,
                a.position,
                a.applied_by.as_str()
            ),
            (ApplicantKind::Family, AppStatus::Waiting, Some(1), "fam1")
        );
        assert!(
            a.explanation_zh
                .as_deref()
                .is_some_and(|e| e.contains("特困"))
        );
        // A second application to the same home is a conflict.
        assert!(matches!(
            adm::family_apply(&mut c, &family, "P1", &homes, None, today),
            Err(StoreError::Conflict(_))
        ));
        // The village's staff see it; staff of another county do not.
        assert!(adm::get(&mut c, &staff, &a.id, today).is_ok());
        assert!(matches!(
            adm::get(&mut c, &other_staff, &a.id, today),
            Err(StoreError::NotFound { .. })
        ));
        // The family's list holds it with its position.
        let mine = adm::family_applications(&mut c, &family, today).expect("mine");
        assert_eq!(
            mine.iter()
                .map(|x| (x.id.as_str(), x.position))
                .collect::<Vec<_>>(),
            [(a.id.as_str(), Some(1))]
        );
        // The home's side only cancels; an offer is needed to accept.
        assert!(matches!(
            adm::family_step(&mut c, &family, &a.id, AdmStep::Cancel, Some("x"), today),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            adm::family_step(&mut c, &family, &a.id, AdmStep::Accept, None, today),
            Err(StoreError::Conflict(_))
        ));
        // The home offers its bed; the family accepts; she is a resident.
        let offered = adm::offer_next(&mut c, &op, "C1", today)
            .expect("offer")
            .expect("an offer");
        assert_eq!(
            (offered.id.as_str(), offered.status),
            (a.id.as_str(), AppStatus::Offered)
        );
        let done =
            adm::family_step(&mut c, &family, &a.id, AdmStep::Accept, None, today).expect("accept");
        assert_eq!(done.status, AppStatus::Admitted);
        assert!(done.residence_id.is_some());

        // Another family account finds none of it.
        accounts::create_user(
            &mut c,
            r,
            &sys,
            "fam2",
            Role::Family,
            "330400",
            None,
            "pw-family-2!",
        )
        .expect("family 2");
        let stranger = scope(store, "fam2", Role::Family, "330400", None);
        assert!(
            adm::family_applications(&mut c, &stranger, today)
                .expect("none")
                .is_empty()
        );
        assert!(not_found(adm::family_step(
            &mut c,
            &stranger,
            &a.id,
            AdmStep::Withdraw,
            None,
            today
        )));
    }
}
