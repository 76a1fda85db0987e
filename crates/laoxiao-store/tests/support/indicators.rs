//! The indicator monitor over a real database (both backends): facts read
//! from the registers, values and statuses, reported values through Excel,
//! an area's own target, publication and recomputation, and the records
//! behind a count within the caller's scope.

use chrono::NaiveDate;
use laoxiao_model::activity::{
    InsuranceEnrolment, InsuranceKind, Residence, ServiceKind, ServiceRecord,
};
use laoxiao_model::person::{PersonStatus, Sex, SpecialDifficulty};
use laoxiao_model::{Facility, FacilityKind, FacilityStatus, Person, PersonRole};
use laoxiao_rules::indicators::{Period, StatusKind};
use laoxiao_store::indicators::{self as ind, Report, excel};
use laoxiao_store::io::{ExportFormat, ImportLimits};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Role, Scope, StoreError, facilities, people, registry};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(store: &laoxiao_store::Store, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, &format!("t-{code}"), role, code, None)
}

fn elderly(id: &str, area: &str, born: &str, seq: u16, ability: u8) -> Person {
    let b = d(born);
    let mut p = Person::blank(
        id,
        PersonRole::Elderly,
        area,
        b,
        if seq % 2 == 1 { Sex::Male } else { Sex::Female },
    );
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "王某某".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
    p.ability_level = laoxiao_model::person::AbilityLevel::ALL
        .get(usize::from(ability))
        .copied();
    p
}

#[test]
fn the_monitor_computes_publishes_and_recomputes() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let today = d("2023-03-01");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        // A care home open since 2019 (100 beds, 60 nursing) and one closed
        // in May 2022 (40 / 40): 2022 counts the first only, 2021 both.
        let mut f1 = Facility::blank("F1", "一号养老院", FacilityKind::ElderlyInstitution, &town);
        (f1.beds, f1.nursing_beds, f1.dementia_beds) = (Some(100), Some(60), Some(10));
        f1.opening_date = Some(d("2019-01-01"));
        let mut f2 = Facility::blank("F2", "二号养老院", FacilityKind::ElderlyInstitution, &town);
        (f2.beds, f2.nursing_beds) = (Some(40), Some(40));
        f2.opening_date = Some(d("2015-01-01"));
        f2.status = FacilityStatus::Closed;
        f2.closed_date = Some(d("2022-05-01"));
        for f in [&f1, &f2] {
            facilities::create(&mut c, r, &sys, f).expect("facility");
        }
        // 特困 at level 3 in F1, 特困 at level 2 at home, and one who died in
        // June 2022 (not counted at the year's end).
        let mut dead = elderly("E3", &village, "1930-01-01", 13, 4);
        dead.status = PersonStatus::Deceased;
        dead.death_date = Some(d("2022-06-30"));
        for p in [
            elderly("E1", &village, "1940-01-01", 11, 3),
            elderly("E2", &village, "1945-01-01", 12, 2),
            dead,
        ] {
            people::create(&mut c, r, &sys, &p).expect("person");
        }
        let ck = store.checker();
        registry::create(
            &mut c,
            &ck,
            &sys,
            &Residence {
                id: "R1".into(),
                person_id: "E1".into(),
                facility_id: "F1".into(),
                admitted_date: d("2021-05-01"),
                discharged_date: None,
            },
            today,
        )
        .expect("residence");
        registry::create(
            &mut c,
            &ck,
            &sys,
            &ServiceRecord {
                id: "S1".into(),
                person_id: "E2".into(),
                kind: ServiceKind::Visit,
                date: d("2022-01-15"),
                facility_id: None,
                ability_level: None,
                note: None,
            },
            today,
        )
        .expect("visit");
        registry::create(
            &mut c,
            &ck,
            &sys,
            &InsuranceEnrolment {
                id: "N1".into(),
                person_id: "E1".into(),
                kind: InsuranceKind::ElderlyAccident,
                start_date: d("2022-01-01"),
                end_date: Some(d("2022-12-31")),
                note: None,
            },
            today,
        )
        .expect("insurance");

        let y2022 = Period::parse("2022").expect("period");
        let t = ind::live(&mut c, r, y2022, today).expect("table");
        let city = |t: &ind::Table, n: u32| t.get(n, "330400").cloned().expect("city value");
        // 14: F1's 60 of 100 (F2 closed in May).
        let v = city(&t, 14);
        assert_eq!(
            (v.numerator, v.denominator, v.value),
            (Some(60), Some(100), Some(60.0))
        );
        assert_eq!(v.status.status, StatusKind::Met, "60 meets 2022's 56");
        assert!(v.provisional);
        // 6: E1 of E1, E2 (E3 died).
        let v = city(&t, 6);
        assert_eq!(
            (v.numerator, v.denominator, v.value),
            (Some(1), Some(2), Some(50.0))
        );
        assert_eq!(v.status.status, StatusKind::Behind);
        assert_eq!(v.status.gap, Some(40.0), "target 90");
        // 24: E1 insured on 2022-12-31, E2 not.
        assert_eq!(city(&t, 24).value, Some(50.0));
        // 8 in January: E2 and E3 (alive until June) at home, E2 visited:
        // 50%; no visits after.
        let v = city(&t, 8);
        assert_eq!(v.months.len(), 12);
        assert_eq!((v.months[0].numerator, v.months[0].denominator), (1, 2));
        assert_eq!(v.months[5].denominator, 1, "E3 died on 30 June");
        assert_eq!(v.months[1].rate, Some(0.0));
        // The county and town hold the same counts; a village too for 6.
        assert_eq!(t.get(6, &town).and_then(|v| v.denominator), Some(2));
        assert_eq!(t.get(6, &village).and_then(|v| v.denominator), Some(2));
        // 2021: both homes were open.
        let t21 = ind::live(&mut c, r, Period::parse("2021").expect("p"), today).expect("2021");
        assert_eq!(city(&t21, 14).value, Some(71.43));

        // ---- Reported values round-trip through Excel ----
        let reports = vec![
            Report {
                indicator: 1,
                area_code: "330400".into(),
                period: "2022".into(),
                value: 83.1,
                note: Some("市统计局 2023-02".into()),
            },
            Report {
                indicator: 2,
                area_code: "330402".into(),
                period: "2022".into(),
                value: 72.5,
                note: None,
            },
        ];
        for format in [ExportFormat::Xlsx, ExportFormat::Csv] {
            let bytes = excel::write_reports(&reports, format).expect("write");
            let name = if format == ExportFormat::Xlsx {
                "r.xlsx"
            } else {
                "r.csv"
            };
            let back = excel::read_reports(name, &bytes, ImportLimits::default()).expect("read");
            assert_eq!(back, reports, "{name} round-trips");
        }
        let bytes = excel::write_reports(&reports, ExportFormat::Xlsx).expect("write");
        let back = excel::read_reports("r.xlsx", &bytes, ImportLimits::default()).expect("read");
        assert_eq!(ind::report(&mut c, &sys, r, &back).expect("report"), 2);
        assert_eq!(
            ind::reported_values(&mut c, Some(y2022)).expect("list"),
            reports
        );
        let t = ind::live(&mut c, r, y2022, today).expect("table");
        let v = city(&t, 1);
        assert_eq!(v.value, Some(83.1));
        assert_eq!(v.status.status, StatusKind::Met, "83.1 meets 2025's 83");
        assert_eq!(v.reported_by.as_deref(), Some("test"));
        // A computed indicator cannot be reported; a county account cannot
        // report for another county (the same answer as an unknown area).
        let bad = vec![Report {
            indicator: 6,
            area_code: "330400".into(),
            period: "2022".into(),
            value: 1.0,
            note: None,
        }];
        match ind::report(&mut c, &sys, r, &bad) {
            Err(StoreError::ImportRejected(e)) => {
                assert_eq!((e[0].row, e[0].column.as_str()), (2, "indicator"))
            }
            other => panic!("{other:?}"),
        }
        let county = user(store, Role::CountyAdmin, "330402");
        let elsewhere = vec![Report {
            indicator: 2,
            area_code: "330481".into(),
            period: "2022".into(),
            value: 70.0,
            note: None,
        }];
        let unknown = vec![Report {
            indicator: 2,
            area_code: "339999".into(),
            period: "2022".into(),
            value: 70.0,
            note: None,
        }];
        let msg =
            |rows: &[Report]| match ind::report(&mut store.conn().expect("conn"), &county, r, rows)
            {
                Err(StoreError::ImportRejected(e)) => {
                    e[0].reason.replace("339999", "X").replace("330481", "X")
                }
                other => panic!("{other:?}"),
            };
        assert_eq!(msg(&elsewhere), msg(&unknown));
        // A village account may not report at all.
        let village_staff = user(store, Role::VillageStaff, &village);
        assert!(matches!(
            ind::report(&mut c, &village_staff, r, &reports),
            Err(StoreError::Forbidden(_))
        ));

        // ---- An area's own target ----
        ind::set_target(
            &mut c,
            &county,
            r,
            14,
            "330402",
            2022,
            "65",
            Some("南湖区“十四五”规划"),
        )
        .expect("target");
        let t = ind::live(&mut c, r, y2022, today).expect("table");
        let v = t.get(14, "330402").cloned().expect("county");
        assert!(v.status.own_target);
        assert_eq!(
            (v.status.status, v.status.gap),
            (StatusKind::Behind, Some(5.0))
        );
        assert_eq!(
            city(&t, 14).status.status,
            StatusKind::Met,
            "the city keeps the plan's target"
        );

        // ---- The records behind a count, within the scope ----
        let e = ind::explain(&mut c, &county, r, 6, "330402", y2022, today).expect("explain");
        let recs = e.records.expect("a county admin reads people");
        assert_eq!(
            (
                recs.register,
                recs.numerator.clone(),
                recs.denominator.len()
            ),
            ("people", vec!["E1".to_string()], 2)
        );
        assert!(!e.children.is_empty(), "drill-down to the towns");
        let analyst = user(store, Role::Analyst, "330400");
        let e = ind::explain(&mut c, &analyst, r, 6, "330402", y2022, today).expect("explain");
        assert!(e.records.is_none() && e.records_withheld.is_some());
        let other = user(store, Role::CountyAdmin, "330481");
        let e = ind::explain(&mut c, &other, r, 6, "330402", y2022, today).expect("explain");
        assert!(
            e.records.is_none(),
            "another county's records are not listed"
        );
        assert_eq!(e.value.denominator, Some(2), "but its figures are");

        // ---- Publish, change a register, recompute ----
        assert!(matches!(
            ind::publish(&mut c, &county, r, y2022, today, None),
            Err(StoreError::Forbidden(_))
        ));
        let p = ind::publish(&mut c, &sys, r, y2022, today, Some("2022年度")).expect("publish");
        let shown = ind::table(&mut c, r, y2022, today, false).expect("shown");
        assert_eq!(shown.publication.as_ref().map(|x| x.id), Some(p.id));
        let v = city(&shown, 6);
        assert!(!v.provisional);
        assert_eq!((v.value, v.status.status), (Some(50.0), StatusKind::Behind));
        assert_eq!(shown.values.len(), t.values.len(), "every value is frozen");
        let none = ind::recompute(&mut c, r, y2022, today).expect("recompute");
        assert!(none.changes.is_empty(), "{:?}", none.changes);
        people::create(
            &mut c,
            r,
            &sys,
            &elderly("E4", &village, "1950-01-01", 14, 2),
        )
        .expect("person");
        let rc = ind::recompute(&mut c, r, y2022, today).expect("recompute");
        let ch = rc
            .changes
            .iter()
            .find(|x| x.indicator == 6 && x.area_code == "330400")
            .expect("6 changed");
        assert_eq!((ch.published, ch.now), (Some(50.0), Some(33.3)));
        assert_eq!(ch.reason, "denominator changed");
        assert!(
            rc.reasons.iter().any(|x| x.contains("person")),
            "{:?}",
            rc.reasons
        );
        // The published values stay what was published.
        assert_eq!(
            city(&ind::table(&mut c, r, y2022, today, false).expect("t"), 6).value,
            Some(50.0)
        );
        assert_eq!(
            city(&ind::table(&mut c, r, y2022, today, true).expect("t"), 6).value,
            Some(33.3)
        );

        // ---- The plan's table as a file ----
        let t = ind::table(&mut c, r, y2022, today, false).expect("table");
        let rows = excel::table_rows(&t, "330400").expect("rows");
        assert_eq!(rows.len(), 44, "every indicator has a city row");
        let six = rows.iter().find(|x| x[1] == "6").expect("row 6");
        assert_eq!(
            (six[4].as_str(), six[5].as_str(), six[6].as_str()),
            ("-", "90", "95")
        );
        assert_eq!(
            (six[11].as_str(), six[14].as_str(), six[19].as_str()),
            ("50", "滞后", "已发布")
        );
        let xlsx = excel::export_table(&t, "330400", ExportFormat::Xlsx).expect("xlsx");
        assert!(xlsx.starts_with(b"PK"));
    }
}
