//! A childcare institution's day (一日生活) over a real database (both
//! backends): an institution with a young-toddler class of one caregiver
//! (1:5), two enrolled children (one back after more than 3 months away),
//! a parent with a family account. Every refusal names its rule and writes
//! nothing but the refusal's log; the family reads its own child's day only.

use chrono::{Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::childcare_day::{
    AbsenceReason, AttendanceStatus, DayEventKind, HealthCheck, IncidentSeverity, Meal, MealAmount,
    PickupRelation, RefusalReason,
};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::Sex;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::childcare_day::{
    self as cd, CheckInInput, CheckOutInput, EventInput, MiddayInput, PickupInput,
};
use laoxiao_store::family as fam;
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, facilities, people, registry};

fn child(id: &str, area: &str, seq: u16, birth: NaiveDate) -> Person {
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Infant, area, birth, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], birth, seq);
    p.name = "李小宝".into();
    p
}

fn refused(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid(v) => (v[0].field.clone(), v[0].reason.clone()),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn at(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("time"))
}

fn arrive(pickup: &str, t: i32, check: HealthCheck) -> CheckInInput {
    CheckInInput {
        pickup_id: Some(pickup.into()),
        temperature_tenths: Some(t),
        morning_check: Some(check),
        ..CheckInInput::default()
    }
}

#[test]
fn a_day_is_recorded_within_the_rules_and_the_parent_reads_it() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let today = chrono::Utc::now().date_naive();
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330402")[1].code.clone();

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
            enrolled: 2,
            caregivers: 1,
            monthly_fee_fen: Some(200_000),
        };
        facilities::create_with_classes(&mut c, r, &sys, &n1, &[cls], &[]).expect("N1");
        let n2 = Facility::blank(
            "N2",
            "月亮托育园",
            FacilityKind::ChildcareInstitution,
            &other_town,
        );
        facilities::create(&mut c, r, &sys, &n2).expect("N2");
        let birth = today.checked_sub_months(Months::new(18)).expect("date");
        let k1 = child("K1", &village, 1, birth);
        let k2 = child("K2", &village, 2, birth);
        for p in [&k1, &k2] {
            people::create(&mut c, r, &sys, p).expect("child");
        }
        let ck = r.checker();
        for (id, who, start) in [
            ("EN-1", "K1", today - Duration::days(20)),
            (
                "EN-2",
                "K2",
                today.checked_sub_months(Months::new(4)).expect("date"),
            ),
        ] {
            let e = Enrolment {
                id: id.into(),
                infant_id: who.into(),
                facility_id: "N1".into(),
                class_id: Some("N1-YT".into()),
                start_date: start,
                end_date: None,
                care_type: Some(CareType::FullDay),
            };
            registry::create(&mut c, &ck, &sys, &e, today).expect("enrolment");
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
        let link = fam::request_link(&mut c, r, &parent, &k1.id_number, "parent").expect("link");
        fam::decide_link(&mut c, &vstaff, &link.id, true, "").expect("verify");

        // ---- who may collect: the family and the institution authorise.
        let mum = cd::add_pickup(
            &mut c,
            &parent,
            "K1",
            &PickupInput {
                name: "李妈妈".into(),
                relation: Some(PickupRelation::Parent),
                phone: Some("13812345678".into()),
            },
            today,
        )
        .expect("mum");
        assert_eq!(
            (mum.name.as_str(), mum.added_side.as_str()),
            ("李妈妈", "family")
        );
        let gran = cd::add_pickup(
            &mut c,
            &op1,
            "K1",
            &PickupInput {
                name: "王奶奶".into(),
                relation: Some(PickupRelation::Grandparent),
                phone: None,
            },
            today,
        )
        .expect("gran");
        assert_eq!(gran.name, "王**", "the institution sees names masked");
        let seen = cd::pickups(&mut c, &op1, "K1", today).expect("list");
        assert!(
            seen.iter()
                .any(|p| p.phone.as_deref() == Some("138****5678")),
            "{seen:?}"
        );
        let k2_dad = cd::add_pickup(
            &mut c,
            &op1,
            "K2",
            &PickupInput {
                name: "张爸爸".into(),
                relation: Some(PickupRelation::Parent),
                phone: None,
            },
            today,
        )
        .expect("K2's father");
        let (field, _) = refused(
            cd::add_pickup(&mut c, &parent, "K1", &PickupInput::default(), today)
                .expect_err("empty"),
        );
        assert_eq!(field, "name");
        assert!(matches!(
            cd::pickups(&mut c, &stranger, "K1", today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cd::pickups(&mut c, &op2, "K1", today),
            Err(StoreError::NotFound { .. })
        ));

        // ---- the door at 08:10.
        let now = at(today, 8, 10);
        let (field, why) = refused(
            cd::check_in(
                &mut c,
                &op1,
                "EN-1",
                &CheckInInput {
                    presented: Some("自称舅舅，无授权".into()),
                    ..arrive("", 366, HealthCheck::Normal)
                },
                now,
            )
            .expect_err("nobody on the list"),
        );
        assert_eq!(field, "pickup_id");
        assert!(why.contains("refused and logged"), "{why}");
        let (_, why) = refused(
            cd::check_in(
                &mut c,
                &op1,
                "EN-1",
                &arrive(&k2_dad.id, 366, HealthCheck::Normal),
                now,
            )
            .expect_err("another child's person"),
        );
        assert!(why.contains("not (or no longer) authorised"), "{why}");
        let (field, why) = refused(
            cd::check_in(
                &mut c,
                &op1,
                "EN-1",
                &arrive(&mum.id, 378, HealthCheck::Normal),
                now,
            )
            .expect_err("fever as normal"),
        );
        assert_eq!(field, "morning_check");
        assert!(why.contains("37.8 °C is a fever"), "{why}");
        let (field, why) = refused(
            cd::check_in(
                &mut c,
                &op1,
                "EN-1",
                &CheckInInput {
                    morning_check: None,
                    ..arrive(&mum.id, 366, HealthCheck::Normal)
                },
                now,
            )
            .expect_err("no morning check"),
        );
        assert_eq!(field, "morning_check");
        assert!(why.contains("第二十四条"), "{why}");
        assert!(matches!(
            cd::check_in(
                &mut c,
                &op2,
                "EN-1",
                &arrive(&mum.id, 366, HealthCheck::Normal),
                now
            ),
            Err(StoreError::NotFound { .. })
        ));
        for outsider in [&county, &city] {
            assert!(
                matches!(
                    cd::check_in(
                        &mut c,
                        outsider,
                        "EN-1",
                        &arrive(&mum.id, 366, HealthCheck::Normal),
                        now
                    ),
                    Err(StoreError::Forbidden(_))
                ),
                "{:?} does not record the institution's day",
                outsider.role()
            );
        }
        let report = cd::report(&mut c, &parent, "K1", today, today).expect("report");
        assert_eq!(report.status, None, "nothing but the refusals was written");
        assert_eq!(report.refusals.len(), 2);
        let mut reasons: Vec<_> = report.refusals.iter().map(|x| x.reason).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [RefusalReason::NotListed, RefusalReason::NotAuthorised]
        );
        assert!(
            report
                .refusals
                .iter()
                .any(|x| x.presented.as_deref() == Some("自称舅舅，无授权"))
        );
        assert_eq!(
            report.refusals[0].infant_name, "李小宝",
            "the family reads its child's name"
        );
        let fam_items = cd::work_items(&mut c, &parent, today).expect("family lines");
        assert_eq!(fam_items[0].count, 2);

        let day = cd::check_in(
            &mut c,
            &op1,
            "EN-1",
            &arrive(&mum.id, 366, HealthCheck::Normal),
            now,
        )
        .expect("checked in");
        assert_eq!(day.status, Some(AttendanceStatus::Present));
        assert_eq!(day.dropped_off_by.as_deref(), Some("李**（父母）"));
        assert_eq!(day.check_in_at.as_deref(), Some("08:10"));
        assert!(matches!(
            cd::check_in(
                &mut c,
                &op1,
                "EN-1",
                &arrive(&mum.id, 366, HealthCheck::Normal),
                now
            ),
            Err(StoreError::Conflict(_))
        ));

        // ---- art. 11: back after more than 3 months, a new health check first.
        let (field, why) = refused(
            cd::check_in(
                &mut c,
                &op1,
                "EN-2",
                &arrive(&k2_dad.id, 365, HealthCheck::Normal),
                now,
            )
            .expect_err("recheck"),
        );
        assert_eq!(field, "recheck_date");
        assert!(
            why.contains("第十一条") && why.contains("3 months"),
            "{why}"
        );
        let sheet = cd::sheet(&mut c, r, &op1, "N1-YT", today, today).expect("sheet");
        assert!(
            sheet
                .children
                .iter()
                .any(|k| k.infant_id == "K2" && k.needs_recheck)
        );
        let back = cd::check_in(
            &mut c,
            &op1,
            "EN-2",
            &CheckInInput {
                recheck_date: Some(today - Duration::days(2)),
                ..arrive(&k2_dad.id, 365, HealthCheck::Observe)
            },
            now,
        )
        .expect("rechecked");
        assert_eq!(back.status, Some(AttendanceStatus::Present));

        // ---- the class's day: outdoor time (art. 18), meals, naps, incidents.
        let noon = at(today, 12, 0);
        let outdoor = |m| EventInput {
            kind: Some(DayEventKind::Outdoor),
            minutes: Some(m),
            ..EventInput::default()
        };
        cd::record_event(&mut c, &op1, "N1-YT", today, &outdoor(60), noon).expect("outdoor");
        let sheet = cd::sheet(&mut c, r, &op1, "N1-YT", today, today).expect("sheet");
        assert_eq!((sheet.outdoor_minutes, sheet.outdoor_required), (60, 120));
        assert!(sheet.outdoor_short, "an hour is short of the 2 hours");
        assert!(sheet.outdoor_clause.contains("第十八条"));
        assert_eq!(
            (sheet.present, sheet.ratio, sheet.ratio_breach),
            (2, 5, false)
        );
        cd::record_event(&mut c, &op1, "N1-YT", today, &outdoor(60), noon).expect("outdoor");
        let sheet = cd::sheet(&mut c, r, &op1, "N1-YT", today, today).expect("sheet");
        assert!(!sheet.outdoor_short);
        let (field, _) = refused(
            cd::record_event(
                &mut c,
                &op1,
                "N1-YT",
                today,
                &EventInput {
                    infant_id: Some("K1".into()),
                    ..outdoor(30)
                },
                noon,
            )
            .expect_err("outdoor is the class's"),
        );
        assert_eq!(field, "infant_id");
        cd::record_event(
            &mut c,
            &op1,
            "N1-YT",
            today,
            &EventInput {
                kind: Some(DayEventKind::Meal),
                infant_id: Some("K1".into()),
                meal: Some(Meal::Lunch),
                amount: Some(MealAmount::Most),
                ..EventInput::default()
            },
            noon,
        )
        .expect("lunch");
        let (field, _) = refused(
            cd::record_event(
                &mut c,
                &op1,
                "N1-YT",
                today,
                &EventInput {
                    kind: Some(DayEventKind::Incident),
                    infant_id: Some("K1".into()),
                    severity: Some(IncidentSeverity::Treated),
                    ..EventInput::default()
                },
                noon,
            )
            .expect_err("an incident needs its description"),
        );
        assert_eq!(field, "note");
        cd::record_event(
            &mut c,
            &op1,
            "N1-YT",
            today,
            &EventInput {
                kind: Some(DayEventKind::Incident),
                infant_id: Some("K1".into()),
                severity: Some(IncidentSeverity::Treated),
                note: Some("滑梯擦伤膝盖，已消毒".into()),
                guardian_informed: true,
                ..EventInput::default()
            },
            noon,
        )
        .expect("incident");
        let (field, _) = refused(
            cd::record_event(
                &mut c,
                &op1,
                "N1-YT",
                today,
                &EventInput {
                    kind: Some(DayEventKind::Nap),
                    infant_id: Some("K1".into()),
                    minutes: Some(90),
                    at: Some(NaiveTime::from_hms_opt(13, 0, 0).expect("time")),
                    ..EventInput::default()
                },
                noon,
            )
            .expect_err("a nap that has not begun"),
        );
        assert_eq!(field, "at");

        // ---- caregivers on duty against the ratio (1:5).
        let sheet = cd::set_on_duty(&mut c, r, &op1, "N1-YT", today, 0, noon).expect("on duty");
        assert!(sheet.ratio_breach, "two children and nobody on duty");
        let sheet = cd::set_on_duty(&mut c, r, &op1, "N1-YT", today, 1, noon).expect("on duty");
        assert!(!sheet.ratio_breach);

        // ---- the midday check.
        let (field, _) = refused(
            cd::midday_check(
                &mut c,
                &op1,
                "EN-1",
                &MiddayInput {
                    result: Some(HealthCheck::Normal),
                    temperature_tenths: Some(380),
                    note: None,
                },
                noon,
            )
            .expect_err("fever"),
        );
        assert_eq!(field, "result");
        cd::midday_check(
            &mut c,
            &op1,
            "EN-1",
            &MiddayInput {
                result: Some(HealthCheck::Normal),
                temperature_tenths: Some(365),
                note: None,
            },
            noon,
        )
        .expect("midday");

        // ---- collection: a revoked person is refused; the time after arrival.
        cd::revoke_pickup(&mut c, &parent, &gran.id, today).expect("revoked by the family");
        let evening = at(today, 16, 30);
        let (_, why) = refused(
            cd::check_out(
                &mut c,
                &op1,
                "EN-1",
                &CheckOutInput {
                    pickup_id: Some(gran.id.clone()),
                    ..CheckOutInput::default()
                },
                evening,
            )
            .expect_err("revoked"),
        );
        assert!(why.contains("no longer"), "{why}");
        let (field, _) = refused(
            cd::check_out(
                &mut c,
                &op1,
                "EN-1",
                &CheckOutInput {
                    pickup_id: Some(mum.id.clone()),
                    at: Some(NaiveTime::from_hms_opt(7, 0, 0).expect("time")),
                    ..CheckOutInput::default()
                },
                evening,
            )
            .expect_err("before arrival"),
        );
        assert_eq!(field, "at");
        let out = cd::check_out(
            &mut c,
            &op1,
            "EN-1",
            &CheckOutInput {
                pickup_id: Some(mum.id.clone()),
                ..CheckOutInput::default()
            },
            evening,
        )
        .expect("collected");
        assert_eq!(out.status, Some(AttendanceStatus::Left));
        assert!(matches!(
            cd::absent(
                &mut c,
                &op1,
                "EN-1",
                today,
                Some(AbsenceReason::Ill),
                None,
                evening
            ),
            Err(StoreError::Conflict(_))
        ));

        // ---- the parent's report of the day, and nobody else's.
        let rep = cd::report(&mut c, &parent, "K1", today, today).expect("report");
        assert_eq!(rep.infant_name, "李小宝");
        assert_eq!(rep.collected_by.as_deref(), Some("李妈妈（父母）"));
        assert_eq!(
            (rep.check_in_at.as_deref(), rep.check_out_at.as_deref()),
            (Some("08:10"), Some("16:30"))
        );
        assert_eq!(
            (rep.meals.len(), rep.incidents.len(), rep.outdoor_minutes),
            (1, 1, 120)
        );
        assert_eq!(rep.temperature_tenths, Some(365));
        assert_eq!(rep.refusals.len(), 3);
        assert!(matches!(
            cd::report(&mut c, &stranger, "K1", today, today),
            Err(StoreError::NotFound { .. })
        ));
        let staff_view = cd::report(&mut c, &county, "K1", today, today).expect("county reads");
        assert_eq!(staff_view.infant_name, "李**");

        // ---- absences: the family ahead, the institution after; closed days.
        let tomorrow = today + Duration::days(1);
        let ahead = cd::family_absent(
            &mut c,
            &parent,
            "K1",
            tomorrow,
            Some(AbsenceReason::Family),
            Some("回老家"),
            evening,
        )
        .expect("absence ahead");
        assert_eq!(ahead.status, Some(AttendanceStatus::Absent));
        let (field, _) = refused(
            cd::family_absent(
                &mut c,
                &parent,
                "K1",
                today + Duration::days(40),
                Some(AbsenceReason::Ill),
                None,
                evening,
            )
            .expect_err("too far ahead"),
        );
        assert_eq!(field, "day");
        let (field, why) = refused(
            cd::absent(
                &mut c,
                &op1,
                "EN-2",
                today - Duration::days(10),
                Some(AbsenceReason::Ill),
                None,
                evening,
            )
            .expect_err("closed"),
        );
        assert_eq!(field, "day");
        assert!(why.contains("7 days"), "{why}");

        // ---- the institution's worklist and the audit trail (no health data).
        let items = cd::work_items(&mut c, &op1, today).expect("lines");
        let refusals = items
            .iter()
            .find(|i| i.key == "childcare_handover_refusals")
            .expect("line");
        assert_eq!(refusals.count, 3);
        let rows = c
            .query(
                "SELECT after FROM audit_log WHERE action IN ('childcare_check_in', 'childcare_midday_check')",
                &[],
            )
            .expect("audit");
        assert_eq!(rows.len(), 3);
        for row in rows {
            let after: String = row.get("after").expect("after");
            assert!(
                !after.contains("temperature") && !after.contains("morning"),
                "{after}"
            );
        }
        let classes = cd::classes(&mut c, &county, today).expect("county's classes");
        assert_eq!(classes.len(), 1);
        assert_eq!(
            (
                classes[0].attended,
                classes[0].present,
                classes[0].outdoor_minutes
            ),
            (2, 1, 120)
        );
    }
}
