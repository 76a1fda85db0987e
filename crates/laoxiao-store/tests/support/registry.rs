//! The generic register layer on both databases: every declared register has
//! its table and columns; create, list (filters, search, sort, pages, count),
//! update and delete are scoped and audited.

use chrono::NaiveDate;
use laoxiao_model::activity::{
    ServiceKind, ServiceRecord, SkillGrade, Staff, StaffRole, StudentCohort,
};
use laoxiao_model::columns::RecordKind;
use laoxiao_model::register::Record;
use laoxiao_model::{FacilityKind, PersonRole};
use laoxiao_store::registry::{self, Cursor, Filter, ListQuery};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Role, Scope, StoreError, audit, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn staff(id: &str, facility: &str, role: StaffRole, hired: &str) -> Staff {
    Staff {
        id: id.into(),
        facility_id: facility.into(),
        role,
        name: "李某某".into(),
        certified: false,
        certificate: None,
        skill_grade: SkillGrade::Ungraded,
        hired_date: d(hired),
        left_date: None,
        health_check_date: None,
    }
}

fn user(store: &laoxiao_store::Store, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, &format!("t-{code}"), role, code, None)
}

/// Every declared register's columns exist in both databases' migrations
/// (a column added to a declaration and forgotten in a migration fails here).
#[test]
fn every_declared_column_is_migrated() {
    for db in TestDb::all().expect("dbs") {
        let mut c = db.store.conn().expect("conn");
        for kind in RecordKind::ALL {
            let reg = kind.register();
            assert!(!reg.zh.is_empty() && !reg.en.is_empty(), "{}", reg.key);
            for f in reg.fields {
                assert!(
                    !f.zh.is_empty(),
                    "{}.{} has no Chinese header",
                    reg.key,
                    f.key
                );
            }
            // The hand-written registers map some keys to other columns.
            if matches!(reg.table, "facility" | "person" | "childcare_class") {
                continue;
            }
            let cols: Vec<&str> = reg.fields.iter().map(|f| f.column).collect();
            c.query(
                &format!("SELECT {} FROM {} WHERE 1 = 0", cols.join(", "), reg.table),
                &[],
            )
            .unwrap_or_else(|e| panic!("{}: {e}", reg.key));
        }
    }
}

#[test]
fn generic_crud_is_scoped_audited_and_paged() {
    for db in TestDb::all().expect("dbs") {
        let store = db.store.clone();
        let ck = store.checker();
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let areas = &store.reference.areas;
        let village_a = areas.children("330402007")[0].code.clone();
        let town_b = areas.children("330411")[0].code.clone();
        for (id, area) in [("FA", village_a.as_str()), ("FB", town_b.as_str())] {
            let mut f = laoxiao_model::Facility::blank(
                id,
                format!("机构{id}"),
                FacilityKind::ElderlyInstitution,
                area,
            );
            f.beds = Some(10);
            facilities::create(&mut c, &store.reference, &sys, &f).expect("facility");
        }
        let today = d("2024-06-30");
        let county = user(&store, Role::CountyAdmin, "330402");
        let village = user(&store, Role::VillageStaff, &village_a);
        // Create in scope; a reference outside the scope is refused like a missing one.
        for i in 0..7 {
            let role = if i % 2 == 0 {
                StaffRole::CareWorker
            } else {
                StaffRole::SocialWorker
            };
            registry::create(
                &mut c,
                &ck,
                &county,
                &staff(&format!("S{i}"), "FA", role, &format!("2020-0{}-01", i + 1)),
                today,
            )
            .expect("create");
        }
        let err = registry::create(
            &mut c,
            &ck,
            &county,
            &staff("SX", "FB", StaffRole::CareWorker, "2020-01-01"),
            today,
        )
        .expect_err("outside");
        let outside = match err {
            StoreError::Invalid(e) => {
                assert_eq!(e[0].field, "facility_id", "{e:?}");
                e[0].reason.clone()
            }
            other => panic!("{other:?}"),
        };
        // … in the very words used for a facility that does not exist.
        match registry::create(
            &mut c,
            &ck,
            &county,
            &staff("SX", "NOPE", StaffRole::CareWorker, "2020-01-01"),
            today,
        ) {
            Err(StoreError::Invalid(e)) => {
                assert_eq!(e[0].reason.replace("NOPE", "FB"), outside)
            }
            other => panic!("{other:?}"),
        }
        // The rules on what a reference points to, as the import applies them:
        // a nursery worker does not work at a care home.
        match registry::create(
            &mut c,
            &ck,
            &county,
            &staff("SN", "FA", StaffRole::NurseryStaff, "2020-01-01"),
            today,
        ) {
            Err(StoreError::Invalid(e)) => {
                assert_eq!(e[0].field, "role", "{e:?}");
                assert!(e[0].reason.contains("care home"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        registry::create(
            &mut c,
            &ck,
            &sys,
            &staff("SB", "FB", StaffRole::CareWorker, "2020-01-01"),
            today,
        )
        .expect("system");
        // Field rules and cross-field rules come back as field errors.
        let mut bad = staff("S9", "FA", StaffRole::CareWorker, "2020-01-01");
        bad.left_date = Some(d("2019-01-01"));
        bad.name = " ".into();
        match registry::create(&mut c, &ck, &county, &bad, today) {
            Err(StoreError::Invalid(e)) => {
                let fields: Vec<&str> = e.iter().map(|x| x.field.as_str()).collect();
                assert_eq!(fields, ["name", "left_date"]);
            }
            other => panic!("{other:?}"),
        }
        // An id taken outside the scope is "not available", never described.
        match registry::create(
            &mut c,
            &ck,
            &county,
            &staff("SB", "FA", StaffRole::CareWorker, "2020-01-01"),
            today,
        ) {
            Err(StoreError::Conflict(m)) => {
                assert!(!m.contains("SB") && m.contains("not available"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        // Lists: the scope, a filter, a sort, pages and the count.
        let role = Staff::REGISTER.field("role").expect("role");
        let q = ListQuery {
            filters: vec![Filter::Eq(role, "care_worker".into())],
            limit: 2,
            ..ListQuery::default()
        };
        let p1 = registry::list::<Staff>(&mut c, &village, &q).expect("page 1");
        assert_eq!((p1.total, p1.total_exact), (4, true));
        assert_eq!(
            p1.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["S0", "S2"]
        );
        let p2 = registry::list::<Staff>(
            &mut c,
            &village,
            &ListQuery {
                after: p1.next.as_deref().and_then(Cursor::decode),
                ..q.clone()
            },
        )
        .expect("page 2");
        assert_eq!(
            p2.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["S4", "S6"]
        );
        assert!(p2.next.is_none());
        let hired = Staff::REGISTER.field("hired_date").expect("hired");
        let newest = registry::list::<Staff>(
            &mut c,
            &sys,
            &ListQuery {
                sort: Some(hired),
                desc: true,
                limit: 3,
                ..ListQuery::default()
            },
        )
        .expect("sorted");
        assert_eq!(
            newest
                .items
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>(),
            ["S6", "S5", "S4"]
        );
        let all = registry::list::<Staff>(
            &mut c,
            &county,
            &ListQuery {
                limit: 50,
                ..ListQuery::default()
            },
        )
        .expect("all");
        assert!(
            all.items.iter().all(|s| s.facility_id == "FA"),
            "county B's staff leaked"
        );
        let found = registry::list::<Staff>(
            &mut c,
            &county,
            &ListQuery {
                search: Some("李".into()),
                limit: 50,
                ..ListQuery::default()
            },
        )
        .expect("search");
        assert_eq!(found.total, 7);
        let none = registry::list::<Staff>(
            &mut c,
            &county,
            &ListQuery {
                search: Some("%".into()),
                limit: 50,
                ..ListQuery::default()
            },
        )
        .expect("search");
        assert_eq!(none.total, 0, "a % is a character, not a wildcard");
        // Outside the scope: not found; update and delete too.
        assert!(matches!(
            registry::get::<Staff>(&mut c, &county, "SB"),
            Err(StoreError::NotFound { .. })
        ));
        let mut s0 = registry::get::<Staff>(&mut c, &county, "S0").expect("get");
        s0.certified = true;
        s0.certificate = Some("养老护理员".into());
        registry::update(&mut c, &ck, &county, &s0, today).expect("update");
        assert!(
            registry::get::<Staff>(&mut c, &sys, "S0")
                .expect("again")
                .certified
        );
        assert!(matches!(
            registry::delete::<Staff>(&mut c, &county, "SB"),
            Err(StoreError::NotFound { .. })
        ));
        registry::delete::<Staff>(&mut c, &county, "S1").expect("delete");
        assert!(matches!(
            registry::get::<Staff>(&mut c, &sys, "S1"),
            Err(StoreError::NotFound { .. })
        ));
        // Every change and every full read of personal data is in the audit trail,
        // and the trail holds no staff name.
        let entries = audit::search(
            &mut c,
            &sys,
            &audit::AuditQuery {
                entity: Some("staff".into()),
                ..Default::default()
            },
        )
        .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for a in ["create", "update", "delete", "read"] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        let text = format!("{entries:?}");
        assert!(!text.contains("李某某"), "a name in the audit trail");
        // City-wide figures: only city-level accounts write them.
        let cohort = StudentCohort {
            id: "K1".into(),
            institution: "嘉兴职业技术学院".into(),
            program: "智慧健康养老服务与管理".into(),
            intake_year: 2021,
            enrolled: 40,
            graduated: 0,
        };
        assert!(matches!(
            registry::create(&mut c, &ck, &county, &cohort, today),
            Err(StoreError::Forbidden(_))
        ));
        let city = user(&store, Role::CityAdmin, "330400");
        registry::create(&mut c, &ck, &city, &cohort, today).expect("city cohort");
        assert_eq!(
            registry::list::<StudentCohort>(
                &mut c,
                &village,
                &ListQuery {
                    limit: 5,
                    ..ListQuery::default()
                }
            )
            .expect("cohorts")
            .total,
            1
        );
        // A service record for a person outside the scope is refused.
        let p = {
            let mut p = laoxiao_model::Person::blank(
                "PB",
                PersonRole::Elderly,
                &town_b,
                d("1940-01-01"),
                laoxiao_model::person::Sex::Male,
            );
            p.id_number = laoxiao_model::idcard::make("330411", d("1940-01-01"), 7);
            p.name = "王某".into();
            p
        };
        people::create(&mut c, &store.reference, &sys, &p).expect("person");
        let visit = ServiceRecord {
            id: "V1".into(),
            person_id: "PB".into(),
            kind: ServiceKind::Visit,
            date: d("2024-01-05"),
            facility_id: None,
            ability_level: None,
            note: None,
        };
        assert!(matches!(
            registry::create(&mut c, &ck, &county, &visit, today),
            Err(StoreError::Invalid(_))
        ));
        registry::create(
            &mut c,
            &ck,
            &user(&store, Role::CountyAdmin, "330411"),
            &visit,
            today,
        )
        .expect("in B");
    }
}

/// A person-scoped register listed by area (issue 11): a town's or village's
/// lists walk its people (SQLite), a city-wide one reads no person at all;
/// every way gives the records of the people living there, in id order,
/// page after page, with the same count.
#[test]
fn service_records_by_area_are_the_records_of_the_people_there() {
    use laoxiao_model::Person;
    use laoxiao_model::person::Sex;
    for db in TestDb::all().expect("test databases") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let mut c = s.conn().expect("conn");
        let today = chrono::Local::now().date_naive();
        // Two villages of one town, and a village of another county.
        let villages = ["330402007024", "330402007029", "330481001003"];
        let mut expected: std::collections::BTreeMap<&str, Vec<(String, ServiceKind)>> =
            Default::default();
        for (i, v) in villages.iter().enumerate() {
            for k in 0..3u16 {
                let born = d("1945-03-03");
                let mut p =
                    Person::blank(format!("P{i}{k}"), PersonRole::Elderly, *v, born, Sex::Male);
                p.id_number =
                    laoxiao_model::idcard::make(&v[..6], born, 11 + 2 * (3 * i as u16 + k));
                p.name = "王某某".into();
                laoxiao_store::people::create(&mut c, r, &sys, &p).expect("person");
                for n in 0..3 {
                    let kind = if n == 1 {
                        ServiceKind::MealAssistance
                    } else {
                        ServiceKind::Visit
                    };
                    // Ids interleave the villages, so id order mixes them.
                    let rec = ServiceRecord {
                        id: format!("S{n}{k}{i}"),
                        person_id: p.id.clone(),
                        kind,
                        date: d("2026-01-05"),
                        facility_id: None,
                        ability_level: None,
                        note: None,
                    };
                    registry::create(&mut c, &r.checker(), &sys, &rec, today).expect("service");
                    expected.entry(v).or_default().push((rec.id.clone(), kind));
                }
            }
        }
        let walk = |scope: &Scope, area: Option<&str>, kind: Option<ServiceKind>| {
            let mut c = s.conn().expect("conn");
            let field = laoxiao_model::activity::SERVICES
                .fields
                .iter()
                .find(|f| f.key == "kind")
                .expect("kind field");
            let mut q = ListQuery {
                area_path: area.map(|a| r.areas.get(a).expect("area").path.clone()),
                filters: kind
                    .map(|k| vec![Filter::Eq(field, k.code().into())])
                    .unwrap_or_default(),
                limit: 2,
                ..ListQuery::default()
            };
            let (mut ids, mut total) = (Vec::new(), None);
            loop {
                let page = registry::list::<ServiceRecord>(&mut c, scope, &q).expect("list");
                total.get_or_insert(page.total);
                ids.extend(page.items.iter().map(|x| x.id.clone()));
                match page.next {
                    Some(next) => q.after = Some(Cursor::decode(&next).expect("cursor")),
                    None => break,
                }
            }
            (ids, total.unwrap_or(0))
        };
        let of = |vs: &[&str], kind: Option<ServiceKind>| {
            let mut v: Vec<String> = vs
                .iter()
                .flat_map(|x| expected[x].iter())
                .filter(|(_, k)| kind.is_none_or(|want| *k == want))
                .map(|(id, _)| id.clone())
                .collect();
            v.sort();
            let n = v.len() as i64;
            (v, n)
        };
        let city = user(s, Role::CityAdmin, "330400");
        let town = user(s, Role::TownStaff, "330402007");
        let village = user(s, Role::VillageStaff, "330402007024");
        let county = user(s, Role::CountyAdmin, "330481");
        assert_eq!(
            walk(&city, None, None),
            of(&villages, None),
            "{:?}: city",
            s.backend()
        );
        assert_eq!(
            walk(&city, Some("330402007"), None),
            of(&villages[..2], None),
            "{:?}: city, a town asked",
            s.backend()
        );
        assert_eq!(
            walk(&city, Some("330402007024"), Some(ServiceKind::Visit)),
            of(&villages[..1], Some(ServiceKind::Visit)),
            "{:?}: city, a village and a kind",
            s.backend()
        );
        assert_eq!(
            walk(&town, None, None),
            of(&villages[..2], None),
            "{:?}: a town's staff",
            s.backend()
        );
        assert_eq!(
            walk(&village, None, Some(ServiceKind::MealAssistance)),
            of(&villages[..1], Some(ServiceKind::MealAssistance)),
            "{:?}: a village's staff",
            s.backend()
        );
        assert_eq!(
            walk(&county, None, None),
            of(&villages[2..], None),
            "{:?}: another county",
            s.backend()
        );
        assert_eq!(
            walk(&town, Some("330481"), None),
            (vec![], 0),
            "{:?}: outside the scope",
            s.backend()
        );
    }
}
