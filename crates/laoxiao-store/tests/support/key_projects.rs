//! Key projects (重点项目, annex 1) over a real database (both backends): the
//! seed from the plan, schedule status from reports and milestones,
//! completion that registers the facility in one transaction, bounds, and
//! scoping (another county's project is not found; a facility outside the
//! scope answers as a missing one, never as "linked to project N").

use chrono::NaiveDate;
use laoxiao_model::{Facility, FacilityKind};
use laoxiao_rules::key_projects::ScheduleStatus;
use laoxiao_rules::plan::Plan;
use laoxiao_store::key_projects::{self as kp, CompleteInput, Filter, MilestoneInput, ReportInput};
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, facilities};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn fields(e: StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn report(date: &str, spent: f64, percent: i64) -> ReportInput {
    ReportInput {
        report_date: d(date),
        investment_spent_10k_yuan: spent,
        funding_granted_10k_yuan: 0.0,
        percent_complete: percent,
        body: "主体结构施工中".into(),
    }
}

#[test]
fn the_plan_is_seeded_and_statuses_follow_reports_and_milestones() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let mut c = store.conn().expect("conn");
        let sys = Scope::system("test");
        let today = d("2024-07-01");
        let all = kp::list(&mut c, r, &sys, &Filter::default(), today).expect("list");
        assert_eq!(all.len(), 72, "annex 1 has 72 projects");
        // Seeding again adds nothing.
        assert_eq!(kp::seed(&mut c, r).expect("seed"), 0);

        // 南湖区: its 13 rows, project 7 (经开区, no town) and 42, 43 (长水街道).
        let nanhu = user(store, "nh", Role::CountyAdmin, "330402", None);
        let mine = kp::list(&mut c, r, &nanhu, &Filter::default(), today).expect("list");
        assert_eq!(mine.len(), 16);
        assert!(mine.iter().any(|p| p.number == 42));
        assert!(mine.iter().all(|p| p.county_code == "330402"));
        let childcare = Filter {
            project_type: Some("childcare".into()),
            ..Filter::default()
        };
        let cc = kp::list(&mut c, r, &nanhu, &childcare, today).expect("list");
        assert!(!cc.is_empty() && cc.iter().all(|p| p.project_type == "childcare"));

        // Nothing reported for 3.5 years after the plan's start: behind.
        let p42 = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(p42.project.status, ScheduleStatus::Behind);
        assert_eq!(p42.project.capacity, Some(60));
        assert_eq!(p42.project.investment_planned_10k_yuan, 100.0);

        // 2024-07-01 is 1277 of 1825 days into 2021–2025: 69 % expected.
        kp::record_report(&mut c, &nanhu, 42, &report("2024-06-28", 60.5, 60), today)
            .expect("report");
        let p = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(
            p.project.status,
            ScheduleStatus::OnTrack,
            "{:?}",
            p.project.reasons
        );
        assert_eq!(p.project.percent_complete, 60);
        assert_eq!(p.project.investment_spent_10k_yuan, 60.5);
        assert_eq!(p.project.last_report_date, Some(d("2024-06-28")));
        assert_eq!(p.reports.len(), 1);
        let behind = Filter {
            status: Some(ScheduleStatus::Behind),
            ..Filter::default()
        };
        let late = kp::list(&mut c, r, &nanhu, &behind, today).expect("list");
        assert_eq!(
            late.len(),
            15,
            "every other project of the county is behind"
        );
        assert!(!late.iter().any(|p| p.number == 42));

        // A milestone past its date and not done makes it behind.
        let m = kp::set_milestone(
            &mut c,
            &nanhu,
            42,
            &MilestoneInput {
                id: None,
                title: "竣工验收".into(),
                planned_on: d("2024-06-30"),
                done_on: None,
            },
            today,
        )
        .expect("milestone");
        let p = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(p.project.status, ScheduleStatus::Behind);
        kp::set_milestone(
            &mut c,
            &nanhu,
            42,
            &MilestoneInput {
                id: Some(m),
                title: "竣工验收".into(),
                planned_on: d("2024-06-30"),
                done_on: Some(d("2024-06-30")),
            },
            today,
        )
        .expect("done");
        let p = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(p.project.status, ScheduleStatus::OnTrack);
        assert_eq!(p.milestones[0].done_on, Some(d("2024-06-30")));

        // The public rows and county sums come from the same records.
        let public = kp::public(&mut c, r, today).expect("public");
        let sums = kp::by_county(&public);
        let city = sums.last().expect("city");
        let plan = Plan::embedded().expect("plan");
        assert_eq!(city.projects, 72);
        let beds: i64 = plan
            .key_projects
            .iter()
            .filter(|p| {
                matches!(
                    p.capacity_kind,
                    Some(laoxiao_rules::plan::CapacityKind::Beds)
                )
            })
            .map(|p| i64::from(p.capacity.unwrap_or(0)))
            .sum();
        assert_eq!(city.beds_planned, beds);
        let invest: f64 = plan
            .key_projects
            .iter()
            .map(|p| p.total_investment_10k_yuan)
            .sum();
        assert!((city.investment_planned_10k_yuan - invest).abs() < 0.01);
        assert_eq!(city.investment_spent_10k_yuan, 60.5);
        assert_eq!(city.behind, 71);
        let nh = sums
            .iter()
            .find(|s| s.county_code == "330402")
            .expect("南湖");
        assert_eq!(nh.projects, 16);
        assert_eq!(nh.behind, 15);
    }
}

#[test]
fn completion_registers_the_facility_in_one_transaction() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let mut c = store.conn().expect("conn");
        let today = d("2025-11-30");
        let nanhu = user(store, "nh", Role::CountyAdmin, "330402", None);
        let done = |on: &str, cap: i64| CompleteInput {
            completed_on: d(on),
            delivered_capacity: cap,
            facility_id: None,
            area_code: None,
        };

        // A town of another county: refused, and nothing is written.
        let mut wrong = done("2025-11-01", 60);
        wrong.area_code = Some("330411003".into());
        assert_eq!(
            fields(kp::complete(&mut c, r, &nanhu, 42, &wrong, today).expect_err("other county")),
            ["area_code"]
        );
        let p = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(p.project.completed_on, None);
        assert_eq!(p.project.facility_id, None);

        // Project 42 (长水街道, 60 slots) becomes a childcare institution there.
        let fid = kp::complete(&mut c, r, &nanhu, 42, &done("2025-11-01", 60), today)
            .expect("complete")
            .expect("a facility");
        let f = facilities::get(&mut c, &nanhu, &fid).expect("facility");
        assert_eq!(f.kind, FacilityKind::ChildcareInstitution);
        assert_eq!(f.approved_slots, Some(60));
        assert_eq!(f.beds, None);
        assert_eq!(f.area_code, "330402014");
        assert_eq!(f.opening_date, Some(d("2025-11-01")));
        let p = kp::get(&mut c, r, &nanhu, 42, today).expect("42");
        assert_eq!(p.project.status, ScheduleStatus::Completed);
        assert_eq!(p.project.percent_complete, 100);
        assert_eq!(p.project.delivered_capacity, Some(60));
        assert_eq!(p.project.facility_id.as_deref(), Some(fid.as_str()));

        // Completed: no second completion, no more reports.
        assert!(matches!(
            kp::complete(&mut c, r, &nanhu, 42, &done("2025-11-02", 60), today),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            kp::record_report(&mut c, &nanhu, 42, &report("2025-11-20", 100.0, 100), today),
            Err(StoreError::Conflict(_))
        ));

        // Project 1 (南湖区, no town) links an existing care home instead.
        let sys = Scope::system("test");
        let town = r.areas.children("330402")[0].code.clone();
        facilities::create(
            &mut c,
            r,
            &sys,
            &Facility::blank(
                "F-XJD",
                "湘家荡颐养中心",
                FacilityKind::ElderlyInstitution,
                &town,
            ),
        )
        .expect("facility");
        let mut link = done("2025-10-01", 668);
        link.facility_id = Some("F-XJD".into());
        let got = kp::complete(&mut c, r, &nanhu, 1, &link, today).expect("link");
        assert_eq!(got.as_deref(), Some("F-XJD"));
        // The same facility cannot be another project's result.
        let mut again = done("2025-10-01", 304);
        again.facility_id = Some("F-XJD".into());
        assert!(matches!(
            kp::complete(&mut c, r, &nanhu, 7, &again, today),
            Err(StoreError::Conflict(_))
        ));
    }
}

#[test]
fn another_countys_project_or_facility_is_not_found_and_bounds_hold() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let mut c = store.conn().expect("conn");
        let today = d("2025-06-30");
        let xiuzhou = user(store, "xz", Role::CountyAdmin, "330411", None);
        let nanhu = user(store, "nh", Role::CountyAdmin, "330402", None);
        let city = user(store, "city", Role::CityAdmin, "330400", None);

        // 42 is 南湖区's: 秀洲区 finds nothing, writes nothing.
        let is_missing = |e: StoreError| {
            matches!(
                e,
                StoreError::NotFound {
                    what: "key project",
                    ..
                }
            )
        };
        assert!(is_missing(
            kp::get(&mut c, r, &xiuzhou, 42, today).expect_err("get")
        ));
        assert!(is_missing(
            kp::record_report(&mut c, &xiuzhou, 42, &report("2025-06-01", 1.0, 5), today)
                .expect_err("report")
        ));
        let ms = MilestoneInput {
            id: None,
            title: "开工".into(),
            planned_on: d("2025-01-01"),
            done_on: None,
        };
        assert!(is_missing(
            kp::set_milestone(&mut c, &xiuzhou, 42, &ms, today).expect_err("milestone")
        ));
        let complete = CompleteInput {
            completed_on: d("2025-06-01"),
            delivered_capacity: 60,
            facility_id: None,
            area_code: None,
        };
        assert!(is_missing(
            kp::complete(&mut c, r, &xiuzhou, 42, &complete, today).expect_err("complete")
        ));
        assert!(
            kp::list(&mut c, r, &xiuzhou, &Filter::default(), today)
                .expect("list")
                .iter()
                .all(|p| p.county_code == "330411")
        );
        assert!(
            kp::get(&mut c, r, &nanhu, 42, today)
                .expect("42")
                .reports
                .is_empty()
        );

        // A 南湖区 facility already linked by the city to project 1: for
        // 秀洲区 it answers exactly as a facility that does not exist.
        let sys = Scope::system("test");
        let town = r.areas.children("330402")[0].code.clone();
        facilities::create(
            &mut c,
            r,
            &sys,
            &Facility::blank("F-NH", "南湖设施", FacilityKind::ElderlyInstitution, &town),
        )
        .expect("facility");
        let mut link = complete.clone();
        link.facility_id = Some("F-NH".into());
        kp::complete(&mut c, r, &city, 1, &link, today).expect("city links");
        let mut answer = |id: &str| {
            let mut i = complete.clone();
            i.facility_id = Some(id.into());
            match kp::complete(&mut c, r, &xiuzhou, 44, &i, today) {
                Err(StoreError::NotFound { what, .. }) => what,
                other => panic!("expected not found, got {other:?}"),
            }
        };
        assert_eq!(answer("F-NH"), "facility");
        assert_eq!(answer("F-NOPE"), "facility");

        // Bounds: every number and text is checked, naming the field.
        let mut bad = |i: ReportInput| {
            fields(kp::record_report(&mut c, &nanhu, 43, &i, today).expect_err("bounds"))
        };
        assert_eq!(bad(report("2025-06-01", 1.0, 101)), ["percent_complete"]);
        assert_eq!(bad(report("2025-06-01", 1.0, -1)), ["percent_complete"]);
        assert_eq!(
            bad(report("2025-06-01", -0.5, 5)),
            ["investment_spent_10k_yuan"]
        );
        assert_eq!(
            bad(report("2025-06-01", f64::INFINITY, 5)),
            ["investment_spent_10k_yuan"]
        );
        assert_eq!(
            bad(report("2025-06-01", 2_000_000.0, 5)),
            ["investment_spent_10k_yuan"]
        );
        assert_eq!(
            bad(report("2025-07-01", 1.0, 5)),
            ["report_date"],
            "in the future"
        );
        let mut long = report("2025-06-01", 1.0, 5);
        long.body = "字".repeat(2001);
        assert_eq!(bad(long), ["body"]);
        let mut over = complete.clone();
        over.delivered_capacity = 10_001;
        assert_eq!(
            fields(kp::complete(&mut c, r, &nanhu, 43, &over, today).expect_err("capacity")),
            ["delivered_capacity"]
        );

        // Town staff and analysts have no key projects at all.
        let town_staff = user(store, "ts", Role::TownStaff, &town, None);
        assert!(matches!(
            kp::list(&mut c, r, &town_staff, &Filter::default(), today),
            Err(StoreError::Forbidden(_))
        ));
        let analyst = user(store, "an", Role::Analyst, "330400", None);
        assert!(matches!(
            kp::get(&mut c, r, &analyst, 42, today),
            Err(StoreError::Forbidden(_))
        ));
    }
}
