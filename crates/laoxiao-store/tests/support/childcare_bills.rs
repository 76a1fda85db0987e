//! Monthly childcare bills (托育费账单) over a real database (both backends):
//! an inclusive, filed institution with a young-toddler class at 2,100 yuan a
//! month, three children in November 2026 (21 weekdays): a full-day child
//! absent two days, a half-day child who started on Monday the 16th, an
//! hourly child who came once for 90 minutes. Every amount below is worked
//! out by hand from those facts; every refusal names its rule and writes
//! nothing; the family reads its own child's bill only.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::childcare_bills::{BillLineKind, BillStatus, PaymentMethod, PriceItem};
use laoxiao_model::childcare_day::{AbsenceReason, HealthCheck, PickupRelation};
use laoxiao_model::facility::{CareType, ClassType, FilingStatus};
use laoxiao_model::person::Sex;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_rules::subsidies::Month;
use laoxiao_store::childcare_bills::{self as cb, PaymentInput};
use laoxiao_store::childcare_day::{self as cd, CheckInInput, CheckOutInput, PickupInput};
use laoxiao_store::family as fam;
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, facilities, people, registry};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(day: &str, h: u32, m: u32) -> NaiveDateTime {
    d(day).and_time(NaiveTime::from_hms_opt(h, m, 0).expect("time"))
}

fn child(id: &str, area: &str, seq: u16) -> Person {
    let birth = d("2024-12-01");
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Infant, area, birth, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], birth, seq);
    p.name = "王小明".into();
    p
}

fn refused(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid(v) => (v[0].field.clone(), v[0].reason.clone()),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn pay(amount_fen: i64, paid_on: &str) -> PaymentInput {
    PaymentInput {
        amount_fen,
        method: PaymentMethod::WechatPay,
        paid_on: d(paid_on),
        reference: Some("WX-0001".into()),
    }
}

#[test]
fn a_month_is_billed_from_fees_and_attendance_and_paid() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let nov = Month {
            year: 2026,
            month: 11,
        };
        let end = at("2026-11-30", 18, 0);
        let today = end.date();
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330411")[0].code.clone();

        let mut n1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        n1.inclusive = true;
        n1.filing_status = FilingStatus::Filed;
        n1.filing_date = Some(d("2025-01-10"));
        n1.approved_slots = Some(30);
        let cls = ChildcareClass {
            id: "N1-YT".into(),
            facility_id: "N1".into(),
            class_type: ClassType::YoungToddlerClass,
            capacity: 10,
            enrolled: 3,
            caregivers: 1,
            monthly_fee_fen: Some(210_000),
        };
        facilities::create_with_classes(&mut c, r, &sys, &n1, &[cls], &[]).expect("N1");
        let n2 = Facility::blank(
            "N2",
            "月亮托育园",
            FacilityKind::ChildcareInstitution,
            &other_town,
        );
        facilities::create(&mut c, r, &sys, &n2).expect("N2");
        for (i, id) in ["K1", "K2", "K3"].iter().enumerate() {
            people::create(&mut c, r, &sys, &child(id, &village, i as u16 + 1)).expect("child");
        }
        let ck = r.checker();
        for (id, who, start, care) in [
            ("EN-1", "K1", "2026-01-05", CareType::FullDay),
            ("EN-2", "K2", "2026-11-16", CareType::HalfDay),
            ("EN-3", "K3", "2026-09-01", CareType::Hourly),
        ] {
            let e = Enrolment {
                id: id.into(),
                infant_id: who.into(),
                facility_id: "N1".into(),
                class_id: Some("N1-YT".into()),
                start_date: d(start),
                end_date: None,
                care_type: Some(care),
            };
            registry::create(&mut c, &ck, &sys, &e, d(start)).expect("enrolment");
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
        let other_county = user(store, "pinghu", Role::CountyAdmin, "330482", None);
        let city = user(store, "city", Role::CityAdmin, "330400", None);
        for name in ["mama", "other"] {
            laoxiao_store::accounts::create_user(
                &mut c,
                r,
                &sys,
                name,
                Role::Family,
                "330400",
                None,
                "family-pass-2026",
            )
            .expect("family account");
        }
        let parent = user(store, "mama", Role::Family, "330400", None);
        let stranger = user(store, "other", Role::Family, "330400", None);
        let k1 = child("K1", &village, 1);
        let link = fam::request_link(&mut c, r, &parent, &k1.id_number, "parent").expect("link");
        fam::decide_link(&mut c, &vstaff, &link.id, true, "").expect("verify");

        // ---- the month: K1 absent on the 24th and 25th, K3 came on the 27th
        // from 09:00 to 10:30, and on the 30th without checking out.
        for day in ["2026-11-24", "2026-11-25"] {
            cd::absent(
                &mut c,
                &op1,
                "EN-1",
                d(day),
                Some(AbsenceReason::Ill),
                None,
                at(day, 9, 0),
            )
            .expect("absent");
        }
        let gran = cd::add_pickup(
            &mut c,
            &op1,
            "K3",
            &PickupInput {
                name: "王奶奶".into(),
                relation: Some(PickupRelation::Grandparent),
                phone: None,
            },
            d("2026-11-27"),
        )
        .expect("pickup");
        let arrive = CheckInInput {
            pickup_id: Some(gran.id.clone()),
            temperature_tenths: Some(365),
            morning_check: Some(HealthCheck::Normal),
            ..CheckInInput::default()
        };
        cd::check_in(&mut c, &op1, "EN-3", &arrive, at("2026-11-27", 9, 0)).expect("in");
        cd::check_out(
            &mut c,
            &op1,
            "EN-3",
            &CheckOutInput {
                pickup_id: Some(gran.id.clone()),
                ..CheckOutInput::default()
            },
            at("2026-11-27", 10, 30),
        )
        .expect("out");
        cd::check_in(&mut c, &op1, "EN-3", &arrive, at("2026-11-30", 9, 0)).expect("in again");

        // ---- without prices, only the full-day child can be billed.
        let g = cb::generate(&mut c, &op1, nov, Some("N1"), end).expect("first run");
        assert_eq!((g.created, g.skipped), (1, 2), "{g:?}");
        let reasons: Vec<&str> = g
            .skipped_reasons
            .iter()
            .map(|s| s.reason.as_str())
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains("half_day")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains("hourly")), "{reasons:?}");

        // ---- the price list: bounds and the inclusive cap, refused whole.
        let list = cb::prices(&mut c, &op1, "N1", today).expect("prices");
        let cap = list
            .half_day_cap_fen
            .expect("an inclusive institution has a half-day cap");
        assert_eq!(
            list.classes[0].cap_fen,
            Some(cap),
            "one class type: its cap"
        );
        let (field, why) = refused(
            cb::set_prices(
                &mut c,
                &op1,
                "N1",
                &[
                    (PriceItem::MealRefund, Some(2_000)),
                    (PriceItem::HalfDay, Some(cap + 1)),
                ],
                today,
            )
            .expect_err("above the cap"),
        );
        assert_eq!(field, "half_day");
        assert!(why.contains("托育服务政策8"), "{why}");
        assert!(
            cb::prices(&mut c, &op1, "N1", today)
                .expect("prices")
                .items
                .iter()
                .all(|i| i.amount_fen.is_none()),
            "nothing written on a refusal"
        );
        let (field, _) = refused(
            cb::set_prices(&mut c, &op1, "N1", &[(PriceItem::Hourly, Some(-1))], today)
                .expect_err("negative"),
        );
        assert_eq!(field, "hourly");
        assert!(matches!(
            cb::set_prices(
                &mut c,
                &city,
                "N1",
                &[(PriceItem::Hourly, Some(4_000))],
                today
            ),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            cb::set_prices(
                &mut c,
                &op2,
                "N1",
                &[(PriceItem::Hourly, Some(4_000))],
                today
            ),
            Err(StoreError::NotFound { .. })
        ));
        cb::set_prices(
            &mut c,
            &op1,
            "N1",
            &[
                (PriceItem::HalfDay, Some(105_000)),
                (PriceItem::Hourly, Some(4_000)),
                (PriceItem::MealRefund, Some(2_000)),
            ],
            today,
        )
        .expect("prices set");

        // ---- the second run bills the other two and reprices the first.
        let g = cb::generate(&mut c, &op1, nov, Some("N1"), end).expect("second run");
        assert_eq!((g.created, g.updated, g.skipped), (2, 1, 0), "{g:?}");
        // K1: 2,100 − 2 absent days × 20 = 2,060 yuan. K2: 1,050 × 11/21 = 550.
        // K3: 90 minutes → 2 hours × 40 = 80 (the 30th has no check-out).
        assert_eq!(g.due_fen, 206_000 + 55_000 + 8_000);
        let st = cb::statement(&mut c, &county, "N1", nov, today).expect("statement");
        let due: Vec<(String, i64)> = st
            .bills
            .iter()
            .map(|b| (b.enrolment_id.clone(), b.due_fen))
            .collect();
        let mut due = due;
        due.sort();
        assert_eq!(
            due,
            vec![
                ("EN-1".into(), 206_000),
                ("EN-2".into(), 55_000),
                ("EN-3".into(), 8_000)
            ]
        );
        assert_eq!(st.totals.outstanding_fen, 269_000);
        assert_eq!(st.unbilled, 0);
        assert!(
            st.bills.iter().all(|b| b.infant_name == "王**"),
            "masked for staff"
        );
        // The plan's 托小班 operating subsidy, 500 yuan a month per child
        // enrolled on the 15th (K2 came on the 16th), shown on the bills of
        // the inclusive, filed institution.
        let mut subsidy: Vec<(String, i64)> = st
            .bills
            .iter()
            .map(|b| (b.enrolment_id.clone(), b.subsidy_fen))
            .collect();
        subsidy.sort();
        assert_eq!(
            subsidy,
            vec![
                ("EN-1".into(), 50_000),
                ("EN-2".into(), 0),
                ("EN-3".into(), 50_000)
            ]
        );
        let k1_bill = st
            .bills
            .iter()
            .find(|b| b.enrolment_id == "EN-1")
            .expect("K1")
            .id
            .clone();
        let k3_bill = st
            .bills
            .iter()
            .find(|b| b.enrolment_id == "EN-3")
            .expect("K3")
            .id
            .clone();
        let b = cb::bill(&mut c, &op1, &k3_bill, today).expect("K3's bill");
        assert_eq!(b.lines[0].kind, BillLineKind::Hours);
        assert!(
            b.lines[0].note.contains("1 次未签离园"),
            "{}",
            b.lines[0].note
        );

        // ---- a third run changes nothing.
        let g = cb::generate(&mut c, &op1, nov, Some("N1"), end).expect("third run");
        assert_eq!((g.created, g.updated, g.unchanged), (0, 0, 3), "{g:?}");

        // ---- payments: bounded by what is owed, dated in range.
        let (field, _) = refused(
            cb::pay(&mut c, &op1, &k1_bill, &pay(206_001, "2026-11-30"), today)
                .expect_err("too much"),
        );
        assert_eq!(field, "amount");
        let (field, _) = refused(
            cb::pay(&mut c, &op1, &k1_bill, &pay(1_000, "2026-12-01"), today).expect_err("future"),
        );
        assert_eq!(field, "paid_on");
        let (field, _) = refused(
            cb::pay(&mut c, &op1, &k1_bill, &pay(1_000, "2026-10-31"), today).expect_err("before"),
        );
        assert_eq!(field, "paid_on");
        assert!(matches!(
            cb::pay(&mut c, &op2, &k1_bill, &pay(1_000, "2026-11-30"), today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cb::pay(&mut c, &city, &k1_bill, &pay(1_000, "2026-11-30"), today),
            Err(StoreError::Forbidden(_))
        ));
        let b = cb::pay(&mut c, &op1, &k1_bill, &pay(100_000, "2026-11-30"), today).expect("part");
        assert_eq!(
            (b.row.paid_fen, b.row.status),
            (100_000, BillStatus::PartlyPaid)
        );
        // A regeneration leaves a bill with a payment as it was, even when the
        // attendance behind it changed.
        cd::absent(
            &mut c,
            &op1,
            "EN-1",
            d("2026-11-26"),
            Some(AbsenceReason::Family),
            None,
            at("2026-11-26", 9, 0),
        )
        .expect("a third absence");
        let g = cb::generate(&mut c, &op1, nov, Some("N1"), end).expect("fourth run");
        assert_eq!(g.kept_paid, 1, "{g:?}");
        let b = cb::pay(&mut c, &op1, &k1_bill, &pay(106_000, "2026-11-30"), today).expect("rest");
        assert_eq!(
            (b.row.due_fen, b.row.status, b.payments.len()),
            (206_000, BillStatus::Paid, 2)
        );

        // ---- the family reads its own child's bill in full, no other.
        let mine = cb::family_bills(&mut c, &parent, "K1", today).expect("family bills");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].infant_name, "王小明");
        let full = cb::bill(&mut c, &parent, &k1_bill, today).expect("family reads the bill");
        assert!(
            full.subsidy_note
                .as_deref()
                .is_some_and(|n| n.contains("500.00")),
            "{:?}",
            full.subsidy_note
        );
        assert!(matches!(
            cb::bill(&mut c, &parent, &k3_bill, today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cb::bill(&mut c, &stranger, &k1_bill, today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cb::family_bills(&mut c, &stranger, "K1", today),
            Err(StoreError::NotFound { .. })
        ));

        // ---- the area's month: the county sees its institution, another county nothing.
        let area = cb::area_month(&mut c, &county, nov, today).expect("county");
        assert_eq!(area.len(), 1);
        assert_eq!(
            (area[0].totals.bills, area[0].totals.paid_fen),
            (3, 206_000)
        );
        assert!(
            cb::area_month(&mut c, &other_county, nov, today)
                .expect("other county")
                .is_empty()
        );
        assert!(matches!(
            cb::statement(&mut c, &other_county, "N1", nov, today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cb::bill(&mut c, &op2, &k1_bill, today),
            Err(StoreError::NotFound { .. })
        ));
        // A month not begun is refused; a run for every institution is the
        // batch job's, not a user's.
        let (field, _) = refused(
            cb::generate(
                &mut c,
                &op1,
                Month {
                    year: 2026,
                    month: 12,
                },
                Some("N1"),
                end,
            )
            .expect_err("December"),
        );
        assert_eq!(field, "month");
        assert!(matches!(
            cb::generate(&mut c, &city, nov, None, end),
            Err(StoreError::Forbidden(_))
        ));
        let all = cb::generate(&mut c, &sys, nov, None, end).expect("batch");
        assert_eq!(
            (all.institutions, all.unchanged + all.kept_paid),
            (1, 3),
            "{all:?}"
        );
    }
}

#[test]
fn two_payments_at_once_cannot_overpay() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let village = r.areas.children(&r.areas.children("330402")[0].code)[0]
            .code
            .clone();
        let n1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        let cls = ChildcareClass {
            id: "N1-YT".into(),
            facility_id: "N1".into(),
            class_type: ClassType::YoungToddlerClass,
            capacity: 10,
            enrolled: 1,
            caregivers: 1,
            monthly_fee_fen: Some(100_000),
        };
        facilities::create_with_classes(&mut c, r, &sys, &n1, &[cls], &[]).expect("N1");
        people::create(&mut c, r, &sys, &child("K1", &village, 1)).expect("child");
        let e = Enrolment {
            id: "EN-1".into(),
            infant_id: "K1".into(),
            facility_id: "N1".into(),
            class_id: Some("N1-YT".into()),
            start_date: d("2026-01-05"),
            end_date: None,
            care_type: Some(CareType::FullDay),
        };
        registry::create(&mut c, &r.checker(), &sys, &e, d("2026-01-05")).expect("enrolment");
        let op1 = user(store, "op1", Role::FacilityOperator, &village, Some("N1"));
        let nov = Month {
            year: 2026,
            month: 11,
        };
        let g =
            cb::generate(&mut c, &op1, nov, Some("N1"), at("2026-11-30", 18, 0)).expect("bills");
        assert_eq!(g.due_fen, 100_000);
        let id = "CB-202611-EN-1".to_string();
        // Each pays 60 of the 100 yuan owed: only one can succeed.
        let results: Vec<Result<_, StoreError>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let (store, op1, id) = (store, op1.clone(), id.clone());
                    s.spawn(move || {
                        let mut c = store.conn().expect("conn");
                        cb::pay(
                            &mut c,
                            &op1,
                            &id,
                            &pay(60_000, "2026-11-30"),
                            d("2026-11-30"),
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{results:?}");
        assert!(
            results.iter().any(|r| matches!(
                r,
                Err(StoreError::Conflict(_)) | Err(StoreError::Invalid(_))
            )),
            "{results:?}"
        );
        let b = cb::bill(&mut c, &op1, &id, d("2026-11-30")).expect("bill");
        assert_eq!((b.row.paid_fen, b.payments.len()), (60_000, 1));
    }
}
