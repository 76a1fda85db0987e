//! The overview's figures (`laoxiao_store::figures`), on both databases.

use chrono::NaiveDate;
use laoxiao_model::facility::{FilingStatus, Rating};
use laoxiao_model::person::{PersonStatus, Sex};
use laoxiao_model::{AreaLevel, Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::figures::{self, years_before};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Scope, facilities, people};

fn each_db(f: impl Fn(&laoxiao_store::Store)) {
    for db in TestDb::all().expect("test databases") {
        f(&db.store);
    }
}

fn facility(id: &str, kind: FacilityKind, area: &str) -> Facility {
    Facility::blank(id, format!("{id} name"), kind, area)
}

#[test]
fn figures_group_by_child_area() {
    each_db(|store| {
        let mut c = store.conn().expect("conn");
        let r = &store.reference;
        let sys = Scope::system("test");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let mut home = facility("F1", FacilityKind::ElderlyInstitution, &town);
        home.beds = Some(100);
        home.nursing_beds = Some(60);
        home.dementia_beds = Some(10);
        let mut st = facility("F2", FacilityKind::VillageCareStation, &village);
        st.rating = Some(Rating::A4);
        let mut st2 = facility("F5", FacilityKind::VillageCareStation, &village);
        st2.rating = None;
        let mut cc = facility("F3", FacilityKind::ChildcareInstitution, &town);
        cc.approved_slots = Some(80);
        cc.inclusive = true;
        cc.filing_status = FilingStatus::Filed;
        cc.filing_date = NaiveDate::from_ymd_opt(2023, 1, 1);
        let mut closed = facility("F6", FacilityKind::ElderlyInstitution, &town);
        closed.status = laoxiao_model::FacilityStatus::Closed;
        let other = facility("F4", FacilityKind::ElderlyInstitution, "330481001");
        for f in [&home, &st, &st2, &cc, &closed, &other] {
            facilities::create(&mut c, r, &sys, f).expect("create");
        }
        let today = NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
        let city = figures::by_child(&mut c, "/330400/", AreaLevel::City, today).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!(nanhu.care_homes, 1, "closed homes do not count");
        assert_eq!(nanhu.beds, 100);
        assert_eq!(nanhu.nursing_share(), Some(60.0));
        assert_eq!((nanhu.stations, nanhu.stations_3a), (2, 1));
        assert_eq!(nanhu.childcare_filed, 1);
        assert_eq!(nanhu.inclusive_share(), Some(100.0));
        assert_eq!(city.get("330481").map(|f| f.care_homes), Some(1));
        let path = r.areas.get("330402").map(|a| a.path.clone()).expect("path");
        let county = figures::by_child(&mut c, &path, AreaLevel::County, today).expect("county");
        assert_eq!(county.get(&town).map(|f| f.care_homes), Some(1));
        assert_eq!(county.len(), 1);
        assert_eq!(nanhu.slots_per_1000(Some(8000)), Some(10.0));
        let rows = figures::stored_rows(&mut c).expect("rows");
        assert_eq!((rows.facilities, rows.people), (6, 0));

        // Kept figures (issue 11) equal the computed ones, and a facility
        // write (create, update, delete) reaches them.
        let kept = |c: &mut laoxiao_store::Conn| {
            figures::by_child_kept(c, r, "/330400/", AreaLevel::City, today).expect("kept")
        };
        assert_eq!(kept(&mut c), city);
        let mut more = facility("F7", FacilityKind::ElderlyInstitution, &town);
        more.beds = Some(20);
        facilities::create(&mut c, r, &sys, &more).expect("create");
        assert_eq!(
            kept(&mut c).get("330402").map(|f| (f.care_homes, f.beds)),
            Some((2, 120))
        );
        more.beds = Some(30);
        facilities::update(&mut c, r, &sys, &more).expect("update");
        assert_eq!(kept(&mut c).get("330402").map(|f| f.beds), Some(130));
        facilities::soft_delete(&mut c, &sys, "F7").expect("delete");
        assert_eq!(kept(&mut c), city);
    });
}

#[test]
fn people_figures_count_exact_ages_on_the_day() {
    each_db(|store| {
        let mut c = store.conn().expect("conn");
        let r = &store.reference;
        let sys = Scope::system("test");
        let today = chrono::Local::now().date_naive();
        let back = |years: i32, days: u64| years_before(today, years) + chrono::Days::new(days);
        let person = |id: &str, area: &str, role: PersonRole, born: NaiveDate, seq: u16| {
            let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
            let mut p = Person::blank(id, role, area, born, sex);
            p.id_number = laoxiao_model::idcard::make(&area[..6], born, seq);
            p.name = "王某".into();
            p
        };
        let village = "330402007024";
        let mut dead = person("E4", village, PersonRole::Elderly, back(70, 0), 14);
        dead.status = PersonStatus::Deceased;
        dead.death_date = Some(today);
        for p in [
            // Eighty today, one day short of eighty, sixty today.
            person("E1", village, PersonRole::Elderly, back(80, 0), 11),
            person("E2", village, PersonRole::Elderly, back(80, 1), 12),
            person("E3", village, PersonRole::Elderly, back(60, 0), 13),
            dead,
            person("E5", "330481001003", PersonRole::Elderly, back(90, 0), 15),
            // Three tomorrow (still under three), and one year old.
            person("I1", village, PersonRole::Infant, back(3, 1), 21),
            person("I2", village, PersonRole::Infant, back(1, 0), 22),
        ] {
            people::create(&mut c, r, &sys, &p).expect("create");
        }
        let city = figures::by_child(&mut c, "/330400/", AreaLevel::City, today).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!(
            (nanhu.elderly_60, nanhu.elderly_80, nanhu.infants),
            (3, 1, 2)
        );
        let haining = city.get("330481").expect("330481 group");
        assert_eq!((haining.elderly_60, haining.elderly_80), (1, 1));
        // A day later the one-day-short person is eighty as well.
        let tomorrow = today + chrono::Days::new(1);
        let city = figures::by_child(&mut c, "/330400/", AreaLevel::City, tomorrow).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!((nanhu.elderly_80, nanhu.infants), (2, 1));

        // Kept figures (issue 11) from the people index agree with the tally
        // at every level, and a write reaches them.
        store.reference.people_index.build(&mut c).expect("index");
        let nanhu_path = r.areas.get("330402").map(|a| a.path.clone()).expect("path");
        let kept = |c: &mut laoxiao_store::Conn, path: &str, level, day| {
            figures::by_child_kept(c, r, path, level, day).expect("kept")
        };
        for day in [today, tomorrow] {
            for (path, level) in [
                ("/330400/", AreaLevel::City),
                (nanhu_path.as_str(), AreaLevel::County),
            ] {
                assert_eq!(
                    kept(&mut c, path, level, day),
                    figures::by_child(&mut c, path, level, day).expect("sql"),
                    "{path} on {day}"
                );
            }
        }
        people::create(
            &mut c,
            r,
            &sys,
            &person("E6", village, PersonRole::Elderly, back(85, 0), 16),
        )
        .expect("create");
        let city = kept(&mut c, "/330400/", AreaLevel::City, today);
        assert_eq!(
            city.get("330402").map(|f| (f.elderly_60, f.elderly_80)),
            Some((4, 2))
        );
        people::soft_delete(&mut c, r, &sys, "E1").expect("delete");
        let city = kept(&mut c, "/330400/", AreaLevel::City, today);
        assert_eq!(
            city.get("330402").map(|f| (f.elderly_60, f.elderly_80)),
            Some((3, 1))
        );
    });
}
