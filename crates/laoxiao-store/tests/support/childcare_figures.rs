//! Supervision figures (托育机构监管指标) over a real database (both
//! backends). A small fixture whose every figure is worked out by hand below:
//! two institutions in county 330402 (N1 in its first town, N2 in its second),
//! one in county 330411 (N3); the window a week from a Monday five weeks ago
//! (so the children stay under three and every date is past), counted 17 days
//! after that Monday (the whole window) and on its Wednesday (today cuts it).

use chrono::{Datelike, Duration, Months, NaiveDate};
use laoxiao_model::activity::{SkillGrade, Staff, StaffRole};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::Sex;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::childcare_figures::{self as cf, Counts, Report};
use laoxiao_store::db::{Conn, Value};
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, activity, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn child(id: &str, area: &str, seq: u16, birth: &str) -> Person {
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Infant, area, d(birth), sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], d(birth), seq);
    p.name = "王小妹".into();
    p
}

fn class(id: &str, facility: &str, t: ClassType, capacity: i64, caregivers: i64) -> ChildcareClass {
    ChildcareClass {
        id: id.into(),
        facility_id: facility.into(),
        class_type: t,
        capacity,
        enrolled: 0,
        caregivers,
        monthly_fee_fen: None,
    }
}

/// An attendance row: `m`, `md` whether the morning and midday checks were recorded.
fn attend(c: &mut Conn, enrolment: &str, day: &str, status: &str, m: bool, md: bool) {
    let e = c
        .query_opt(
            "SELECT e.infant_id, e.facility_id, e.class_id, f.area_path FROM enrolment e \
             JOIN facility f ON f.id = e.facility_id WHERE e.id = $1",
            &[enrolment.into()],
        )
        .expect("enrolment")
        .expect("enrolment exists");
    let get = |k: &str| -> Value { e.get::<String>(k).expect(k).into() };
    c.execute(
        "INSERT INTO childcare_attendance (id, enrolment_id, infant_id, facility_id, facility_path, class_id, \
         day, status, morning_check, midday_check, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            format!("A-{enrolment}-{day}").into(),
            enrolment.into(),
            get("infant_id"),
            get("facility_id"),
            get("area_path"),
            get("class_id"),
            day.into(),
            status.into(),
            (m || status == "sent_home").then_some("normal").into(),
            md.then_some("normal").into(),
            "2025-03-20T00:00:00Z".into(),
        ],
    )
    .expect("attendance");
}

fn outdoor(c: &mut Conn, class_id: &str, day: &str, minutes: i64, n: u32) {
    c.execute(
        "INSERT INTO childcare_day_event (id, facility_id, facility_path, class_id, day, kind, at, minutes, \
         recorded_by, recorded_at) SELECT $1, c.facility_id, f.area_path, c.id, $2, 'outdoor', '10:00', $3, 't', \
         '2025-03-20T00:00:00Z' FROM childcare_class c JOIN facility f ON f.id = c.facility_id WHERE c.id = $4",
        &[
            format!("V-{class_id}-{day}-{n}").into(),
            day.into(),
            minutes.into(),
            class_id.into(),
        ],
    )
    .expect("outdoor");
}

fn on_duty(c: &mut Conn, class_id: &str, day: &str, n: i64) {
    c.execute(
        "INSERT INTO childcare_class_day (class_id, day, caregivers_on_duty, recorded_by, updated_at) \
         VALUES ($1, $2, $3, 't', '2025-03-20T00:00:00Z')",
        &[class_id.into(), day.into(), n.into()],
    )
    .expect("on duty");
}

fn refused(e: StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v[0].field.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn institution<'a>(r: &'a Report, id: &str) -> &'a Counts {
    &r.institutions
        .iter()
        .find(|x| x.id == id)
        .unwrap_or_else(|| panic!("{id} listed"))
        .counts
}

/// N1: 20 approved slots (inclusive), an infant class (乳儿班, 1:3) of 10
/// places with 1 caregiver. N2: a nursery class with 10 slots, a mixed-age
/// class (混龄班, `ratio.mixed_age_class` 1:5) of 10 places with no
/// caregiver of its own. N3 in the other county.
fn n1() -> Counts {
    Counts {
        institutions: 1,
        approved_slots: 20,
        inclusive_slots: 20,
        classes: 1,
        places: 10,
        // On Sunday: K1, K2 and K3 (hourly); K4's enrolment ended on Monday.
        enrolled: 3,
        // Weekdays Mon..Fri: K1 5, K2 (from Wed) 3, K4 (to Mon) 1, K3 hourly
        // none.
        expected_days: 9,
        // Mon K1 K4, Wed K1 K2 (K3 hourly), Thu K1 (K2 sent home), Fri K1 K2;
        // Saturday is no weekday, the Sunday before is outside the window.
        attended_days: 7,
        // Mon 2, Wed 3, Thu 1, Fri 2, Sat 1.
        child_days: 9,
        // All but K2 on Friday.
        morning_checked: 8,
        // Mon K1, Wed K1 K2, Thu K1, Sat K1.
        midday_checked: 5,
        // Mon, Wed, Thu, Fri, Sat (Tue: K1 absent, outdoor time alone is no class-day).
        class_days: 5,
        // Thu: 1 child, 0 on duty. Wed: 3 children, 1 caregiver × 3 is no breach;
        // Mon: 2 on duty recorded.
        ratio_breaches: 1,
        outdoor_days: 5,
        // Wed 90 min, Thu none, Sat none (Mon 120, Fri 150 enough).
        outdoor_short: 3,
        // S1, S2, S3 (S4 left, S5 a cook, S6 hired after).
        staff: 3,
        staff_certified: 2,
        // S2 checked 14 months before, S3 never.
        staff_health_lapsed: 2,
    }
}

fn n2() -> Counts {
    Counts {
        institutions: 1,
        approved_slots: 10,
        inclusive_slots: 0,
        classes: 1,
        places: 10,
        enrolled: 1,
        expected_days: 5,
        attended_days: 2,
        child_days: 2,
        morning_checked: 2,
        midday_checked: 2,
        class_days: 2,
        // Mon: 1 child, no caregiver (the class's own 0); Tue: 1 on duty (1:5).
        ratio_breaches: 1,
        outdoor_days: 2,
        // Mon 60 + 60 = 120 is enough; Tue none.
        outdoor_short: 1,
        staff: 1,
        staff_certified: 1,
        // S7 checked exactly 12 months before the last day: not lapsed.
        staff_health_lapsed: 0,
    }
}

fn sum(a: Counts, b: Counts) -> Counts {
    let mut s = a;
    s.add(&b);
    s
}

#[test]
fn figures_are_counted_by_hand_and_scoped() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        // The window's Monday, five weeks back; `o(n)` is n days after it.
        let now = chrono::Utc::now().date_naive();
        let base = now - Duration::days(35 + i64::from(now.weekday().num_days_from_monday()));
        let o = |n: i64| (base + Duration::days(n)).to_string();
        let months = |m: u32| {
            base.checked_sub_months(Months::new(m))
                .expect("date")
                .to_string()
        };
        // Exactly the health-check period (12 months) before the window's last day.
        let year_before_sunday = (base + Duration::days(6))
            .checked_sub_months(Months::new(12))
            .expect("date")
            .to_string();
        let towns = r.areas.children("330402");
        let (t1, t2) = (towns[0].code.clone(), towns[1].code.clone());
        let v1 = r.areas.children(&t1)[0].code.clone();
        let tb = r.areas.children("330411")[0].code.clone();

        let mut f1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &v1,
        );
        f1.approved_slots = Some(20);
        f1.inclusive = true;
        let mut f2 = Facility::blank(
            "N2",
            "月亮幼儿园托班",
            FacilityKind::KindergartenNurseryClass,
            &t2,
        );
        f2.approved_slots = Some(10);
        let mut f3 = Facility::blank("N3", "星星托育园", FacilityKind::ChildcareInstitution, &tb);
        f3.approved_slots = Some(30);
        // Not listed: a planned institution, a care home.
        let mut f4 = Facility::blank("N4", "规划托育园", FacilityKind::ChildcareInstitution, &t1);
        f4.status = laoxiao_model::FacilityStatus::Planned;
        f4.approved_slots = Some(50);
        for (f, cls) in [
            (
                &f1,
                vec![class("N1-IN", "N1", ClassType::InfantClass, 10, 1)],
            ),
            (
                &f2,
                vec![class("N2-MX", "N2", ClassType::MixedAgeClass, 10, 0)],
            ),
            (
                &f3,
                vec![class("N3-OT", "N3", ClassType::OlderToddlerClass, 10, 1)],
            ),
            (&f4, vec![]),
        ] {
            facilities::create_with_classes(&mut c, r, &sys, f, &cls, &[]).expect("facility");
        }
        // Infants (6 to 12 months in the infant class), toddlers for the others.
        let kids = [
            ("K1", v1.as_str(), &months(9)),
            ("K2", v1.as_str(), &months(9)),
            ("K3", v1.as_str(), &months(9)),
            ("K4", v1.as_str(), &months(9)),
            ("K6", t2.as_str(), &months(20)),
            ("K7", tb.as_str(), &months(26)),
        ];
        for (i, (id, area, birth)) in kids.iter().enumerate() {
            people::create(&mut c, r, &sys, &child(id, area, 1 + i as u16, birth)).expect("child");
        }
        let enr = |id: &str,
                   who: &str,
                   fac: &str,
                   cls: &str,
                   start: &str,
                   end: Option<&str>,
                   care: CareType| {
            Enrolment {
                id: id.into(),
                infant_id: who.into(),
                facility_id: fac.into(),
                class_id: Some(cls.into()),
                start_date: d(start),
                end_date: end.map(d),
                care_type: Some(care),
            }
        };
        for e in [
            enr("E1", "K1", "N1", "N1-IN", &o(-30), None, CareType::FullDay),
            enr("E2", "K2", "N1", "N1-IN", &o(2), None, CareType::HalfDay),
            enr("E3", "K3", "N1", "N1-IN", &o(-30), None, CareType::Hourly),
            enr(
                "E4",
                "K4",
                "N1",
                "N1-IN",
                &o(-60),
                Some(&o(0)),
                CareType::FullDay,
            ),
            enr("E6", "K6", "N2", "N2-MX", &o(-30), None, CareType::FullDay),
            enr("E7", "K7", "N3", "N3-OT", &o(-30), None, CareType::FullDay),
        ] {
            activity::upsert(&mut c, &e, "2025-01-01T00:00:00Z").expect("enrolment");
        }
        for (e, day, status, m, md) in [
            ("E1", &o(-1), "left", true, true), // before the window
            ("E1", &o(0), "left", true, true),
            ("E4", &o(0), "left", true, false),
            ("E1", &o(1), "absent", false, false),
            ("E1", &o(2), "left", true, true),
            ("E2", &o(2), "left", true, true),
            ("E3", &o(2), "left", true, false),
            ("E1", &o(3), "left", true, true),
            ("E2", &o(3), "sent_home", true, false),
            ("E1", &o(4), "left", true, false),
            ("E2", &o(4), "left", false, false),
            ("E1", &o(5), "left", true, true), // a Saturday
            ("E6", &o(0), "left", true, true),
            ("E6", &o(1), "left", true, true),
            ("E7", &o(0), "left", true, true),
        ] {
            attend(&mut c, e, day, status, m, md);
        }
        for (cls, day, minutes, n) in [
            ("N1-IN", &o(0), 120, 1),
            ("N1-IN", &o(1), 30, 1),
            ("N1-IN", &o(2), 90, 1),
            ("N1-IN", &o(4), 150, 1),
            ("N2-MX", &o(0), 60, 1),
            ("N2-MX", &o(0), 60, 2),
            ("N3-OT", &o(0), 120, 1),
        ] {
            outdoor(&mut c, cls, day, minutes, n);
        }
        on_duty(&mut c, "N1-IN", &o(0), 2);
        on_duty(&mut c, "N1-IN", &o(3), 0);
        on_duty(&mut c, "N2-MX", &o(1), 1);
        let staff = |id: &str,
                     at: &str,
                     role: StaffRole,
                     certified: bool,
                     hired: &str,
                     left: Option<&str>,
                     check: Option<&str>| Staff {
            id: id.into(),
            facility_id: at.into(),
            role,
            name: "张某某".into(),
            certified,
            certificate: None,
            skill_grade: SkillGrade::Ungraded,
            hired_date: d(hired),
            left_date: left.map(d),
            health_check_date: check.map(d),
        };
        for s in [
            staff(
                "S1",
                "N1",
                StaffRole::NurseryStaff,
                true,
                &o(-400),
                None,
                Some(&months(9)),
            ),
            staff(
                "S2",
                "N1",
                StaffRole::InfantCarer,
                false,
                &o(-400),
                None,
                Some(&o(-420)),
            ),
            staff(
                "S3",
                "N1",
                StaffRole::HealthStaff,
                true,
                &o(-400),
                None,
                None,
            ),
            staff(
                "S4",
                "N1",
                StaffRole::NurseryStaff,
                true,
                &o(-400),
                Some(&o(-2)),
                None,
            ),
            staff("S5", "N1", StaffRole::Other, false, &o(-400), None, None),
            staff(
                "S6",
                "N1",
                StaffRole::NurseryStaff,
                false,
                &o(12),
                None,
                None,
            ),
            staff(
                "S7",
                "N2",
                StaffRole::InfantCarer,
                true,
                &o(-400),
                None,
                Some(&year_before_sunday),
            ),
            staff(
                "S8",
                "N3",
                StaffRole::InfantCarer,
                false,
                &o(-400),
                None,
                None,
            ),
        ] {
            activity::upsert(&mut c, &s, "2025-01-01T00:00:00Z").expect("staff");
        }

        let (from, to) = (d(&o(0)), d(&o(6)));
        let later = d(&o(17));
        let county = user(store, "nanhu", Role::CountyAdmin, "330402", None);
        let got = cf::figures(&mut c, r, &county, None, from, to, later).expect("county figures");
        assert_eq!(got.counted_to, Some(to));
        assert_eq!(got.area.code, "330402");
        let ids: Vec<&str> = got.institutions.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            ["N1", "N2"],
            "the county's operating institutions only"
        );
        assert_eq!(institution(&got, "N1"), &n1());
        assert_eq!(institution(&got, "N2"), &n2());
        let both = sum(n1(), n2());
        assert_eq!(got.area.counts, both);
        // 4 children on 30 slots; 9 of 14 expected days; 10 and 7 of 11 checks; 3 of 4 certified.
        let rate = |x: Option<f64>| x.map(|v| (v * 100.0).round() / 100.0);
        assert_eq!(rate(got.area.counts.occupancy()), Some(13.33));
        assert_eq!(rate(got.area.counts.attendance_rate()), Some(64.29));
        assert_eq!(rate(got.area.counts.morning_coverage()), Some(90.91));
        assert_eq!(rate(got.area.counts.midday_coverage()), Some(63.64));
        assert_eq!(got.area.counts.certified_share(), Some(75.0));
        // Every town of the county, each institution in its own.
        assert_eq!(got.children.len(), towns.len());
        for t in &got.children {
            let want = if t.code == t1 {
                n1()
            } else if t.code == t2 {
                n2()
            } else {
                Counts::default()
            };
            assert_eq!(t.counts, want, "town {}", t.code);
        }
        assert_eq!(got.outdoor_required, 120);
        assert!(
            got.ratios
                .iter()
                .any(|x| x.class_type == ClassType::MixedAgeClass && x.children_per_caregiver == 5)
        );

        // County B sees N3 only; county A cannot ask for county B.
        let xiuzhou = user(store, "xiuzhou", Role::CountyAdmin, "330411", None);
        let b = cf::figures(&mut c, r, &xiuzhou, None, from, to, later).expect("county B");
        let ids: Vec<&str> = b.institutions.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["N3"]);
        assert_eq!(
            (b.area.counts.expected_days, b.area.counts.attended_days),
            (5, 1)
        );
        assert!(matches!(
            cf::figures(&mut c, r, &county, Some("330411"), from, to, later),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            cf::figures(&mut c, r, &county, Some(&tb), from, to, later),
            Err(StoreError::NotFound { .. })
        ));

        // The city: every county, 330402's line the county's totals.
        let city = user(store, "city", Role::CityAdmin, "330400", None);
        let all = cf::figures(&mut c, r, &city, None, from, to, later).expect("city");
        assert_eq!(all.institutions.len(), 3);
        assert_eq!(all.children.len(), r.areas.children("330400").len());
        let nanhu = all
            .children
            .iter()
            .find(|a| a.code == "330402")
            .expect("330402");
        assert_eq!(nanhu.counts, both);
        assert_eq!(all.area.counts.institutions, 3);
        // A town: its own institution, no lines below.
        let town = cf::figures(&mut c, r, &city, Some(&t1), from, to, later).expect("town");
        assert_eq!(town.area.counts, n1());
        assert!(town.children.is_empty());

        // An operator: its own institution, whatever area it asks for.
        let op = user(store, "op1", Role::FacilityOperator, &v1, Some("N1"));
        let own = cf::figures(&mut c, r, &op, None, from, to, later).expect("operator");
        assert_eq!(own.institutions.len(), 1);
        assert_eq!(own.area.counts, n1());
        assert!(matches!(
            cf::figures(&mut c, r, &op, Some("330402"), from, to, later),
            Err(StoreError::NotFound { .. })
        ));
        // Town staff and families do not read the day's figures.
        let town_staff = user(store, "t1", Role::TownStaff, &t1, None);
        assert!(matches!(
            cf::figures(&mut c, r, &town_staff, None, from, to, later),
            Err(StoreError::Forbidden(_))
        ));

        // Today cuts the window: its Wednesday.
        let wed = cf::figures(&mut c, r, &county, None, from, to, d(&o(2))).expect("wed");
        assert_eq!(wed.counted_to, Some(d(&o(2))));
        let x = institution(&wed, "N1");
        // K1 Mon–Wed 3, K2 Wed 1, K4 Mon 1; came Mon K1 K4, Wed K1 K2.
        assert_eq!((x.expected_days, x.attended_days, x.child_days), (5, 4, 5));
        // Class-days Mon and Wed; only Monday is over for outdoor time (120: enough).
        assert_eq!(
            (
                x.class_days,
                x.outdoor_days,
                x.outdoor_short,
                x.ratio_breaches
            ),
            (2, 1, 0, 0)
        );
        assert_eq!(x.enrolled, 3);
        // A window not begun counts nothing but the registers.
        let ahead =
            cf::figures(&mut c, r, &county, None, d(&o(25)), d(&o(54)), later).expect("ahead");
        assert_eq!(ahead.counted_to, None);
        assert_eq!(institution(&ahead, "N1").expected_days, 0);
        assert_eq!(institution(&ahead, "N1").approved_slots, 20);

        // Bounds, each on its field.
        let bad = |from: &str, to: &str, area: Option<&str>| {
            refused(
                cf::figures(&mut c_clone(store), r, &county, area, d(from), d(to), later)
                    .expect_err("refused"),
            )
        };
        assert_eq!(bad(&o(6), &o(0), None), "to");
        assert_eq!(bad(&o(-86), &o(6), None), "to"); // 93 days
        assert_eq!(bad("2010-01-01", "2010-01-02", None), "from");
        assert_eq!(bad(&o(0), &o(6), Some("33040x")), "area");
        // 92 days, both included, is the longest window.
        cf::figures(&mut c, r, &county, None, d(&o(-85)), d(&o(6)), later).expect("92 days");
    }
}

fn c_clone(store: &laoxiao_store::Store) -> Conn {
    store.conn().expect("conn")
}
