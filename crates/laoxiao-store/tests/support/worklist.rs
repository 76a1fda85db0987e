//! The worklist's own sources and the role homes' summaries (both backends):
//! a town with two villages and a second town, hand-made so every count below
//! is known; each role sees its own part only.

use chrono::NaiveDate;
use laoxiao_model::activity::{Residence, SkillGrade, Staff, StaffRole};
use laoxiao_model::facility::Rating;
use laoxiao_model::person::{AbilityLevel, Sex};
use laoxiao_model::{Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::worklist::{self, WorkItem};
use laoxiao_store::{Role, Scope, StoreError, facilities, people, transfers};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(store: &laoxiao_store::Store, role: Role, code: &str, fac: Option<&str>) -> Scope {
    laoxiao_store::testdb::user(store, &format!("{}-{code}", role.code()), role, code, fac)
}

fn elder(id: &str, area: &str, seq: u16, coords: bool, level: Option<AbilityLevel>) -> Person {
    let b = d("1940-05-01");
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "王某某".into();
    p.ability_level = level;
    if coords {
        (p.lng, p.lat) = (Some(120.76), Some(30.75));
    }
    p
}

/// The counts of the lines, by key (zero lines kept).
fn counts(items: &[WorkItem]) -> Vec<(&'static str, i64)> {
    let mut v: Vec<_> = items.iter().map(|i| (i.key, i.count)).collect();
    v.sort();
    v
}

#[test]
fn each_source_is_counted_in_its_scope_only() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-01");
        let town = r.areas.children("330402")[0].code.clone();
        let v1 = r.areas.children(&town)[0].code.clone();
        let v2 = r.areas.children(&town)[1].code.clone();
        let other = r.areas.children("330481")[0].code.clone();

        // H1: a care home in v1, placed, its 3-star rating lapsed on 2025-12-31.
        let mut h1 = Facility::blank("H1", "颐养院", FacilityKind::ElderlyInstitution, &v1);
        (h1.lng, h1.lat) = (Some(120.76), Some(30.75));
        h1.beds = Some(50);
        (h1.rating, h1.rating_valid_from, h1.rating_valid_until) = (
            Some(Rating::Star3),
            Some(d("2022-01-01")),
            Some(d("2025-12-31")),
        );
        facilities::create(&mut c, r, &sys, &h1).expect("h1");
        // H2: a station in v2 without coordinates, rating valid.
        let mut h2 = Facility::blank("H2", "照料中心", FacilityKind::VillageCareStation, &v2);
        (h2.rating, h2.rating_valid_from, h2.rating_valid_until) = (
            Some(Rating::A3),
            Some(d("2024-01-01")),
            Some(d("2027-12-31")),
        );
        facilities::create(&mut c, r, &sys, &h2).expect("h2");
        // H3: the other town's, unplaced and lapsed: never in the first town's lists.
        let mut h3 = Facility::blank("H3", "别镇院", FacilityKind::ElderlyInstitution, &other);
        (h3.rating, h3.rating_valid_from, h3.rating_valid_until) = (
            Some(Rating::Star2),
            Some(d("2020-01-01")),
            Some(d("2024-06-30")),
        );
        facilities::create(&mut c, r, &sys, &h3).expect("h3");
        // P1 in v1: no coordinates, no ability level. P2 in v2: complete.
        // P3 in the other town: no coordinates.
        people::create(&mut c, r, &sys, &elder("P1", &v1, 11, false, None)).expect("p1");
        people::create(
            &mut c,
            r,
            &sys,
            &elder("P2", &v2, 13, true, Some(AbilityLevel::Mild)),
        )
        .expect("p2");
        people::create(
            &mut c,
            r,
            &sys,
            &elder("P3", &other, 15, false, Some(AbilityLevel::Intact)),
        )
        .expect("p3");
        // The other town asks for P1's record: it waits for v1 (and the town).
        let p1_id = elder("P1", &v1, 11, false, None).id_number;
        transfers::request(
            &mut c,
            r,
            &user(store, Role::TownStaff, &other, None),
            &p1_id,
            &other,
            "搬到女儿家",
        )
        .expect("transfer");

        let town_staff = user(store, Role::TownStaff, &town, None);
        assert_eq!(
            counts(&worklist::work_items(&mut c, &town_staff, today).expect("town")),
            [
                ("elderly_no_ability", 1),
                ("facilities_no_coords", 1),
                ("people_no_coords", 1),
                ("ratings_lapsed", 1),
                ("transfers_waiting", 1),
            ]
        );
        // A village sees its village only; village staff keep no facilities.
        let village1 = user(store, Role::VillageStaff, &v1, None);
        assert_eq!(
            counts(&worklist::work_items(&mut c, &village1, today).expect("v1")),
            [
                ("elderly_no_ability", 1),
                ("people_no_coords", 1),
                ("transfers_waiting", 1),
            ]
        );
        let village2 = user(store, Role::VillageStaff, &v2, None);
        assert_eq!(
            worklist::gather(&mut c, &village2, today, Vec::new()).expect("v2"),
            Vec::<WorkItem>::new(),
            "nothing waits in v2"
        );
        // The operator of H1: its own lapsed rating, nothing about people.
        let op = user(store, Role::FacilityOperator, &town, Some("H1"));
        assert_eq!(
            counts(&worklist::work_items(&mut c, &op, today).expect("op")),
            [("facilities_no_coords", 0), ("ratings_lapsed", 1)]
        );
        // The day the rating is still valid, nothing is due.
        assert_eq!(
            counts(&worklist::work_items(&mut c, &op, d("2025-12-31")).expect("op")),
            [("facilities_no_coords", 0), ("ratings_lapsed", 0)]
        );
        // Analysts and auditors act on none of these.
        for role in [Role::Analyst, Role::Auditor] {
            let s = user(store, role, "330400", None);
            assert!(
                worklist::work_items(&mut c, &s, today)
                    .expect("none")
                    .is_empty()
            );
        }
        // The city: both towns.
        let city = user(store, Role::CityAdmin, "330400", None);
        assert_eq!(
            counts(&worklist::work_items(&mut c, &city, today).expect("city")),
            [
                ("elderly_no_ability", 1),
                ("facilities_no_coords", 2),
                ("people_no_coords", 2),
                ("ratings_lapsed", 2),
                ("transfers_waiting", 1),
            ]
        );

        // gather: the other workflows' lines join, urgent first, empty ones dropped.
        let extra = vec![
            WorkItem::new(
                "visits_due",
                "本月待探访",
                "Visits due",
                7,
                "/console/visits",
            ),
            WorkItem::new(
                "alarms_open",
                "未处理告警",
                "Open alarms",
                0,
                "/console/alarms",
            )
            .urgent(),
        ];
        let keys: Vec<_> = worklist::gather(&mut c, &town_staff, today, extra)
            .expect("gather")
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(keys[0], "ratings_lapsed");
        assert_eq!(keys[1], "visits_due");
        assert!(!keys.contains(&"alarms_open"));
        assert_eq!(keys.len(), 6);

        // The records behind a line: names masked, links to act on.
        let recs = worklist::records(&mut c, &town_staff, today, "people_no_coords").expect("recs");
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].id, "P1");
        assert_eq!(recs[0].label, "王**");
        assert_eq!(recs[0].url, "/console/people/P1");
        let recs = worklist::records(&mut c, &town_staff, today, "ratings_lapsed").expect("recs");
        assert_eq!(
            recs.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            ["H1"]
        );
        assert!(
            worklist::records(&mut c, &village2, today, "people_no_coords")
                .expect("empty")
                .is_empty()
        );
        // A line the role may not act on, or no line at all: not found.
        for (s, key) in [(&village1, "ratings_lapsed"), (&town_staff, "nope")] {
            assert!(matches!(
                worklist::records(&mut c, s, today, key),
                Err(StoreError::NotFound { .. })
            ));
        }

        // The town's summary: 2 elderly, 1 care home with 50 beds, 2 facilities.
        let sum = worklist::area_summary(&mut c, &town_staff, &r.areas.get(&town).expect("t").path)
            .expect("summary");
        assert_eq!(
            (
                sum.elderly,
                sum.infants,
                sum.facilities,
                sum.care_homes,
                sum.beds
            ),
            (2, 0, 2, 1, 50)
        );
        // A village asking for the whole town still gets its village only.
        let sum = worklist::area_summary(&mut c, &village2, &r.areas.get(&town).expect("t").path)
            .expect("summary");
        assert_eq!((sum.elderly, sum.facilities), (1, 1));
        drop(c);

        // The operator's facility: 2 residents (one discharged before today),
        // 2 staff employed of 3 on the register, 1 certified.
        let staff = |id: &str, certified: bool, left: Option<&str>| Staff {
            id: id.into(),
            facility_id: "H1".into(),
            role: StaffRole::CareWorker,
            name: "李四".into(),
            certified,
            certificate: certified.then(|| "养老护理员".to_string()),
            skill_grade: if certified {
                SkillGrade::Intermediate
            } else {
                SkillGrade::Ungraded
            },
            hired_date: d("2024-01-01"),
            left_date: left.map(d),
            health_check_date: None,
        };
        let res = |id: &str, person: &str, out: Option<&str>| Residence {
            id: id.into(),
            person_id: person.into(),
            facility_id: "H1".into(),
            admitted_date: d("2025-01-01"),
            discharged_date: out.map(d),
        };
        let mut c = store.conn().expect("conn");
        people::create(
            &mut c,
            r,
            &sys,
            &elder("P4", &v1, 17, true, Some(AbilityLevel::Severe)),
        )
        .expect("p4");
        people::create(
            &mut c,
            r,
            &sys,
            &elder("P5", &v1, 19, true, Some(AbilityLevel::Mild)),
        )
        .expect("p5");
        drop(c);
        laoxiao_store::io::load_activity_on(
            store,
            &laoxiao_store::io::ActivityBatch {
                staff: &[
                    staff("S1", true, None),
                    staff("S2", false, None),
                    staff("S3", true, Some("2025-06-30")),
                ],
                services: &[],
                enrolments: &[],
                residences: &[
                    res("R1", "P4", None),
                    res("R2", "P5", None),
                    res("R3", "P1", Some("2025-02-01")),
                ],
                student_cohorts: &[],
                insurance: &[],
            },
            None,
            today,
        )
        .expect("activity");
        let mut c = store.conn().expect("conn");
        let home = worklist::facility_home(&mut c, &op, today)
            .expect("home")
            .expect("an operator has a facility");
        assert_eq!(home.facility.id, "H1");
        assert_eq!((home.residents, home.children, home.free), (2, 0, Some(48)));
        assert_eq!((home.staff_total, home.staff_certified), (2, 1));
        assert_eq!(home.staff.len(), 2);
        assert!(home.staff.iter().all(|s| s.name_masked == "李*"));
        assert!(home.rating_lapsed && !home.rating_lapsing);
        // 2025-10-15: valid for 77 more days, within the 90-day notice.
        let home = worklist::facility_home(&mut c, &op, d("2025-10-15"))
            .expect("home")
            .expect("facility");
        assert!(!home.rating_lapsed && home.rating_lapsing);
        // Every other role: no facility of its own.
        assert!(
            worklist::facility_home(&mut c, &town_staff, today)
                .expect("none")
                .is_none()
        );
    }
}
