//! Spatial planning over a real database (both backends): the inputs read
//! from the registers, coverage of people placed around a care home, the
//! kept analysis renewed by a write, a proposed site saved as a planned
//! facility that a scenario counts, and the imported resident grid.

use chrono::NaiveDate;
use laoxiao_model::facility::FacilityStatus;
use laoxiao_model::person::Sex;
use laoxiao_model::{Facility, FacilityKind, Person, PersonRole};
use laoxiao_rules::planning::{Options, Params, Standing};
use laoxiao_spatial::{Xy, project, unproject};
use laoxiao_store::planning::{self as plan, SiteToSave};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Actor, Role, Scope, StoreError, facilities, people};
use std::sync::Arc;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// A point `dx` metres east and `dy` north of `base` (WGS-84).
fn offset(base: (f64, f64), dx: f64, dy: f64) -> (f64, f64) {
    let p = project(base.0, base.1);
    unproject(Xy::new(p.x + dx, p.y + dy))
}

fn elderly(id: &str, area: &str, seq: u16, at: (f64, f64)) -> Person {
    let b = d("1940-05-01");
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, Sex::Male);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "李某某".into();
    p.lng = Some(at.0);
    p.lat = Some(at.1);
    p
}

#[test]
fn coverage_sites_and_the_resident_grid() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let base = (120.76, 30.75);
        let mut home = Facility {
            id: "F1".into(),
            name: "测试养老院".into(),
            kind: FacilityKind::ElderlyInstitution,
            area_code: town.clone(),
            lng: Some(base.0),
            lat: Some(base.1),
            beds: Some(100),
            ..Facility::default()
        };
        home.status = FacilityStatus::Operating;
        facilities::create(&mut c, r, &sys, &home).expect("care home");
        // A at 499.9 m, B at 510 m east; both in one dense window (the county
        // has no resident figure of its own, so its few registered people
        // stand for the city's remainder: high density, 500 m).
        people::create(
            &mut c,
            r,
            &sys,
            &elderly("A", &village, 1, offset(base, 499.9, 0.0)),
        )
        .expect("A");
        people::create(
            &mut c,
            r,
            &sys,
            &elderly("B", &village, 3, offset(base, 510.0, 0.0)),
        )
        .expect("B");
        // Without coordinates: counted apart.
        let mut n = elderly("N", &village, 5, base);
        n.lng = None;
        n.lat = None;
        people::create(&mut c, r, &sys, &n).expect("N");

        let params = Params::embedded().expect("rules");
        let today = d("2026-06-01");
        let run = |c: &mut laoxiao_store::Conn, with_planned: bool| {
            let options = Options {
                with_planned,
                ..Options::default()
            };
            r.planning
                .analysis(c, &r.areas, today, &params, &options)
                .expect("analysis")
        };
        let (loaded, a) = run(&mut c, false);
        assert_eq!(loaded.inputs.people.len(), 2, "A and B have points");
        assert_eq!(loaded.inputs.people_without_point, 1);
        let rule = a.rule("institution").expect("rule");
        let standing_of = |a: &laoxiao_rules::planning::Analysis, id: &str| {
            let i = loaded
                .person_ids
                .iter()
                .position(|x| &**x == id)
                .expect("id");
            a.rule("institution").expect("rule").standing[i]
        };
        assert_eq!(standing_of(&a, "A"), Standing::Covered);
        assert_eq!(standing_of(&a, "B"), Standing::NotCovered);
        let city = a.area_coverage(rule, 0).total;
        assert_eq!((city.in_scope, city.covered), (2, 1));
        // Kept: the same analysis until a register changes.
        let (_, again) = run(&mut c, false);
        assert!(Arc::ptr_eq(&a, &again));

        // A site 700 m east (190 m from B) saved as planned: counted in the
        // scenario only.
        let site = offset(base, 700.0, 0.0);
        let county_admin = Scope::user(
            Actor {
                user: "other".into(),
                ip: None,
            },
            Role::CountyAdmin,
            &r.areas.get("330481").expect("county").path,
            None,
        );
        let to_save = vec![SiteToSave {
            name: "规划养老机构".into(),
            kind: FacilityKind::ElderlyInstitution,
            lng: site.0,
            lat: site.1,
            area_code: village.clone(),
            beds: Some(60),
            approved_slots: None,
        }];
        let refused = plan::save_sites(&mut c, r, &county_admin, &to_save);
        assert!(
            refused.is_err(),
            "another county's administrator cannot save here"
        );
        let ids = plan::save_sites(&mut c, r, &sys, &to_save).expect("saved");
        assert_eq!(ids.len(), 1);
        let saved = facilities::get(&mut c, &sys, &ids[0]).expect("the planned facility");
        assert_eq!(saved.status, FacilityStatus::Planned);
        assert_eq!(saved.area_code, town, "a care home sits at its town");
        let (_, after) = run(&mut c, false);
        assert!(!Arc::ptr_eq(&a, &after), "a write renews the analysis");
        assert_eq!(standing_of(&after, "B"), Standing::NotCovered);
        let (_, scenario) = run(&mut c, true);
        assert_eq!(standing_of(&scenario, "B"), Standing::Covered);

        // The resident grid: rows with errors are all named; a good file
        // replaces the estimate; a county administrator may not load it.
        let bad = "lng,lat,residents\n120.7,30.7,100\n999,30.7,5\n120.7,30.7,-3\n";
        match plan::parse_grid_csv(bad.as_bytes()) {
            Err(StoreError::ImportRejected(errors)) => {
                let named: Vec<(usize, &str)> =
                    errors.iter().map(|e| (e.row, e.column.as_str())).collect();
                assert_eq!(named, vec![(3, "lng"), (4, "residents")]);
            }
            other => panic!("expected row errors, got {other:?}"),
        }
        let near = offset(base, 500.0, 50.0);
        let good = format!("经度,纬度,常住人口\n{},{},800\n", near.0, near.1);
        let points = plan::parse_grid_csv(good.as_bytes()).expect("a good grid");
        assert!(matches!(
            plan::import_grid(&mut c, &county_admin, &points, "grid.csv"),
            Err(StoreError::Forbidden(_))
        ));
        let info = plan::import_grid(&mut c, &sys, &points, "grid.csv").expect("imported");
        assert_eq!((info.points, info.residents), (1, 800.0));
        assert_eq!(
            plan::grid_info(&mut c).expect("info").map(|i| i.points),
            Some(1)
        );
        let (_, imported) = run(&mut c, false);
        assert_eq!(imported.residents_source, "imported");
        // 800 residents over 1.21 km² is low density: no distance applies.
        assert_eq!(standing_of(&imported, "B"), Standing::NoRule);
        assert!(plan::clear_grid(&mut c, &sys).expect("cleared"));
        assert_eq!(plan::grid_info(&mut c).expect("info"), None);
        let (_, estimated) = run(&mut c, false);
        assert_eq!(estimated.residents_source, "estimated");
    }
}
