//! Integration tests of the store, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set. The parity test runs one scenario on both and
//! requires identical answers.

use chrono::{Datelike, NaiveDate};
use laoxiao_model::facility::{FilingStatus, Ownership, Rating};
use laoxiao_model::person::{LivingArrangement, PersonStatus, Sex, SpecialDifficulty};
use laoxiao_model::{AreaLevel, Facility, FacilityKind, FacilityStatus, Person, PersonRole};
use laoxiao_store::facilities::FacilityQuery;
use laoxiao_store::people::PersonQuery;
use laoxiao_store::testdb::{TestDb, postgres_url};
use laoxiao_store::{Store, StoreError, Upserted, areas, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn facility(id: &str, area: &str, kind: FacilityKind, beds: i64) -> Facility {
    Facility {
        id: id.into(),
        name: format!("测试设施{id}"),
        kind,
        level: None,
        ownership: Some(Ownership::Public),
        operator_name: Some("嘉兴市测试运营公司".into()),
        operator_credit_code: None,
        area_code: area.into(),
        address: Some("测试路1号".into()),
        lng: Some(120.755),
        lat: Some(30.75),
        beds: Some(beds),
        nursing_beds: Some(beds / 2),
        dementia_beds: Some(0),
        approved_slots: None,
        inclusive: false,
        filing_status: FilingStatus::NotRequired,
        filing_date: None,
        rating: if kind == FacilityKind::ElderlyInstitution {
            Some(Rating::Star3)
        } else {
            None
        },
        rating_valid_from: None,
        rating_valid_until: None,
        smart: false,
        demonstration: false,
        opening_date: Some(d("2018-01-01")),
        status: FacilityStatus::Operating,
        phone: None,
    }
}

fn elderly(id: &str, area: &str, birth: &str, seq: u16) -> Person {
    let b = d(birth);
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "王某某".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p.living_arrangement = Some(LivingArrangement::LivingAlone);
    p.special_difficulty = vec![SpecialDifficulty::MinimumLivingAllowance];
    p
}

fn each_db(f: impl Fn(&Store)) {
    for db in TestDb::all().expect("test databases") {
        f(&db.store);
    }
}

#[test]
fn areas_are_loaded_once_with_subtrees() {
    each_db(|s| {
        let mut c = s.conn().expect("conn");
        assert_eq!(
            c.query_i64("SELECT COUNT(*) FROM area", &[])
                .expect("count"),
            1282
        );
        // Migrating again neither fails nor duplicates.
        s.migrate().expect("re-migrate");
        assert_eq!(
            c.query_i64("SELECT COUNT(*) FROM area", &[])
                .expect("count"),
            1282
        );
        let towns = areas::list(&mut c, Some("330402"), None, None).expect("children");
        assert!(
            towns
                .iter()
                .all(|a| a.level == AreaLevel::Town && a.code.starts_with("330402"))
        );
        let sub =
            areas::list(&mut c, None, Some(AreaLevel::Village), Some("330481")).expect("subtree");
        assert!(!sub.is_empty() && sub.iter().all(|a| a.code.starts_with("330481")));
        let total_villages = areas::list(&mut c, None, Some(AreaLevel::Village), None)
            .expect("villages")
            .len();
        assert_eq!(total_villages, 1202);
        assert!(matches!(
            areas::get(&mut c, "999999"),
            Err(StoreError::NotFound { .. })
        ));
    });
}

#[test]
fn facility_crud_and_keyset_pagination() {
    each_db(|s| {
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        for i in 0..25 {
            let area = if i % 2 == 0 { "330402007" } else { "330481001" };
            facilities::create(
                &mut c,
                r,
                &laoxiao_store::Scope::system("test"),
                &facility(
                    &format!("F{i:03}"),
                    area,
                    FacilityKind::ElderlyInstitution,
                    100,
                ),
            )
            .expect("create");
        }
        let dup = facilities::create(
            &mut c,
            r,
            &laoxiao_store::Scope::system("test"),
            &facility("F000", "330402007", FacilityKind::ElderlyInstitution, 1),
        );
        assert!(matches!(dup, Err(StoreError::Conflict(_))));
        let mut bad = facility("F999", "330402007", FacilityKind::ElderlyInstitution, 10);
        bad.nursing_beds = Some(11);
        match facilities::create(&mut c, r, &laoxiao_store::Scope::system("test"), &bad) {
            Err(StoreError::Invalid(errs)) => {
                assert!(errs.iter().any(|e| e.field == "nursing_beds"))
            }
            other => panic!("expected invalid, got {other:?}"),
        }

        // Walk every page of one county's subtree: each item once, in order.
        let mut q = FacilityQuery {
            area: Some("330402".into()),
            limit: Some(4),
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = facilities::list(&mut c, r, &laoxiao_store::Scope::system("test"), &q)
                .expect("list");
            seen.extend(page.items.iter().map(|f| f.id.clone()));
            match page.next_cursor {
                Some(cur) => q.after = Some(cur),
                None => break,
            }
        }
        let want: Vec<String> = (0..25)
            .filter(|i| i % 2 == 0)
            .map(|i| format!("F{i:03}"))
            .collect();
        assert_eq!(seen, want);
        assert_eq!(
            facilities::count(
                &mut c,
                r,
                &laoxiao_store::Scope::system("test"),
                &FacilityQuery {
                    area: Some("330481".into()),
                    ..Default::default()
                }
            )
            .expect("count"),
            12
        );

        let mut f =
            facilities::get(&mut c, &laoxiao_store::Scope::system("test"), "F004").expect("get");
        f.name = "南湖区颐养中心".into();
        facilities::update(&mut c, r, &laoxiao_store::Scope::system("test"), &f).expect("update");
        let hits = facilities::list(
            &mut c,
            r,
            &laoxiao_store::Scope::system("test"),
            &FacilityQuery {
                q: Some("颐养".into()),
                ..Default::default()
            },
        )
        .expect("q");
        assert_eq!(
            hits.items.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            vec!["F004"]
        );

        facilities::soft_delete(&mut c, &laoxiao_store::Scope::system("test"), "F004")
            .expect("delete");
        assert!(matches!(
            facilities::get(&mut c, &laoxiao_store::Scope::system("test"), "F004"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            facilities::soft_delete(&mut c, &laoxiao_store::Scope::system("test"), "F004"),
            Err(StoreError::NotFound { .. })
        ));
    });
}

#[test]
fn upsert_reports_unchanged_and_keeps_updated_at() {
    each_db(|s| {
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        let f = facility("U1", "330402007", FacilityKind::ElderlyInstitution, 50);
        assert_eq!(
            facilities::upsert(&mut c, r, &f, "2024-01-01T00:00:00Z").expect("1"),
            Upserted::Inserted
        );
        assert_eq!(
            facilities::upsert(&mut c, r, &f, "2024-02-01T00:00:00Z").expect("2"),
            Upserted::Unchanged
        );
        let at = c
            .query_opt("SELECT updated_at FROM facility WHERE id = 'U1'", &[])
            .expect("q")
            .expect("row")
            .text(0);
        assert_eq!(at, "2024-01-01T00:00:00Z");
        let mut g = f.clone();
        g.beds = Some(60);
        assert_eq!(
            facilities::upsert(&mut c, r, &g, "2024-03-01T00:00:00Z").expect("3"),
            Upserted::Updated
        );
    });
}

#[test]
fn people_filters_and_id_number_uniqueness() {
    each_db(|s| {
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        people::create(
            &mut c,
            r,
            &laoxiao_store::Scope::system("test"),
            &elderly("P1", "330402007024", "1940-03-05", 11),
        )
        .expect("p1");
        people::create(
            &mut c,
            r,
            &laoxiao_store::Scope::system("test"),
            &elderly("P2", "330402007024", "1960-03-05", 12),
        )
        .expect("p2");
        let mut p3 = elderly("P3", "330481001003", "1930-07-01", 13);
        p3.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
        people::create(&mut c, r, &laoxiao_store::Scope::system("test"), &p3).expect("p3");

        let mut same_number = elderly("P4", "330402007024", "1940-03-05", 11);
        same_number.id = "P4".into();
        assert!(matches!(
            people::create(
                &mut c,
                r,
                &laoxiao_store::Scope::system("test"),
                &same_number
            ),
            Err(StoreError::Conflict(_))
        ));

        let q = |q: PersonQuery| -> Vec<String> {
            let mut c = s.conn().expect("conn");
            people::list(&mut c, r, &laoxiao_store::Scope::system("test"), &q)
                .expect("list")
                .items
                .into_iter()
                .map(|p| p.id)
                .collect()
        };
        let as_of = Some(d("2024-01-01"));
        assert_eq!(
            q(PersonQuery {
                min_age: Some(80),
                as_of,
                ..Default::default()
            }),
            vec!["P1", "P3"]
        );
        assert_eq!(
            q(PersonQuery {
                max_age: Some(79),
                as_of,
                ..Default::default()
            }),
            vec!["P2"]
        );
        assert_eq!(
            q(PersonQuery {
                category: Some(SpecialDifficulty::ExtremePoverty),
                ..Default::default()
            }),
            vec!["P3"]
        );
        assert_eq!(
            q(PersonQuery {
                area: Some("330402".into()),
                ..Default::default()
            }),
            vec!["P1", "P2"]
        );
        let p1 = people::get(&mut c, r, &laoxiao_store::Scope::system("test"), "P1").expect("get");
        assert_eq!(
            q(PersonQuery {
                q: Some(p1.id_number.clone()),
                ..Default::default()
            }),
            vec!["P1"]
        );
        assert_eq!(p1, elderly("P1", "330402007024", "1940-03-05", 11));
    });
}

/// One scenario, run on both databases: every answer must be identical.
#[test]
fn sqlite_and_postgres_give_identical_results() {
    let Some(pg) = postgres_url() else {
        eprintln!("TEST_DATABASE_URL not set: parity test runs on SQLite only");
        return;
    };
    let scenario = |s: &Store| -> Vec<String> {
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        let mut out = Vec::new();
        let kinds = [
            FacilityKind::ElderlyInstitution,
            FacilityKind::TownHomeCareCenter,
            FacilityKind::ChildcareInstitution,
        ];
        for i in 0..40 {
            let area = ["330402007", "330411002", "330481001", "330402008"][i % 4];
            let mut f = facility(&format!("a{i:02}"), area, kinds[i % 3], 10 + i as i64);
            f.inclusive = i % 5 == 0;
            f.name = format!("{}养老{}", ["Alpha", "beta", "颐养", "GAMMA"][i % 4], i);
            if f.kind == FacilityKind::ChildcareInstitution {
                f.rating = None;
                f.beds = None;
                f.nursing_beds = None;
                f.dementia_beds = None;
            }
            out.push(format!(
                "{:?}",
                facilities::upsert(&mut c, r, &f, "2024-01-01T00:00:00Z").expect("upsert")
            ));
        }
        for q in [
            FacilityQuery::default(),
            FacilityQuery {
                area: Some("330402".into()),
                ..Default::default()
            },
            FacilityQuery {
                kind: Some(FacilityKind::TownHomeCareCenter),
                limit: Some(3),
                ..Default::default()
            },
            FacilityQuery {
                inclusive: Some(true),
                ..Default::default()
            },
            FacilityQuery {
                q: Some("ALPHA".into()),
                ..Default::default()
            },
            FacilityQuery {
                q: Some("颐养".into()),
                after: Some("a05".into()),
                ..Default::default()
            },
        ] {
            out.push(
                serde_json::to_string(
                    &facilities::list(&mut c, r, &laoxiao_store::Scope::system("test"), &q)
                        .expect("list"),
                )
                .expect("json"),
            );
            out.push(
                facilities::count(&mut c, r, &laoxiao_store::Scope::system("test"), &q)
                    .expect("count")
                    .to_string(),
            );
        }
        for (i, birth) in ["1931-01-01", "1944-12-31", "1950-06-15", "1962-02-28"]
            .iter()
            .enumerate()
        {
            let area = ["330402007024", "330481001003"][i % 2];
            people::upsert(
                &mut c,
                r,
                &elderly(&format!("p{i}"), area, birth, 20 + i as u16),
                "2024-01-01T00:00:00Z",
            )
            .expect("person");
        }
        for q in [
            PersonQuery {
                as_of: Some(d("2024-06-01")),
                min_age: Some(80),
                ..Default::default()
            },
            PersonQuery {
                area: Some("330481".into()),
                ..Default::default()
            },
            PersonQuery {
                category: Some(SpecialDifficulty::MinimumLivingAllowance),
                limit: Some(2),
                ..Default::default()
            },
        ] {
            out.push(
                serde_json::to_string(
                    &people::list(&mut c, r, &laoxiao_store::Scope::system("test"), &q)
                        .expect("list"),
                )
                .expect("json"),
            );
        }
        out.push(
            serde_json::to_string(&areas::list(&mut c, Some("330424"), None, None).expect("areas"))
                .expect("json"),
        );
        out
    };
    let lite = TestDb::sqlite().expect("sqlite");
    let pgdb = TestDb::postgres(&pg).expect("postgres");
    let a = scenario(&lite.store);
    let b = scenario(&pgdb.store);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
}

// ---------------------------------------------------------------------------
// Security: encryption at rest, scopes, the audit chain, masked exports

use laoxiao_store::{Actor, Role, Scope, audit};

fn user_scope(role: Role, path: &str, facility: Option<&str>) -> Scope {
    Scope::user(
        Actor {
            user: format!("u-{}", role.code()),
            ip: Some("127.0.0.1".into()),
        },
        role,
        path,
        facility.map(str::to_string),
    )
}

#[test]
fn id_numbers_are_encrypted_at_rest_and_found_by_hmac() {
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let mut c = s.conn().expect("conn");
        let p = elderly("E1", "330402007", "1940-03-05", 11);
        people::create(&mut c, r, &sys, &p).expect("create");
        let row = c
            .query_opt(
                "SELECT id_number_enc, id_number_hmac, row_hash FROM person WHERE id = 'E1'",
                &[],
            )
            .expect("row")
            .expect("row");
        let (enc, hmac) = (row.text(0), row.text(1));
        assert!(enc.starts_with("test:"), "{enc}");
        assert!(!enc.contains(&p.id_number) && !hmac.contains(&p.id_number[..10]));
        assert_eq!(hmac.len(), 64);
        // Exact search goes through the HMAC.
        let q = PersonQuery {
            q: Some(p.id_number.clone()),
            ..Default::default()
        };
        let got = people::list(&mut c, r, &sys, &q).expect("list");
        assert_eq!(got.items.len(), 1);
        assert_eq!(got.items[0].id_number, p.id_number);
        // The same number twice is still a conflict.
        let dup = elderly("E2", "330402007", "1940-03-05", 11);
        assert!(matches!(
            people::create(&mut c, r, &sys, &dup),
            Err(StoreError::Conflict(_))
        ));
    }
}

#[test]
fn scopes_hide_what_lies_outside() {
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let mut c = s.conn().expect("conn");
        let town_b = r.areas.children("330411")[0].code.clone();
        facilities::create(
            &mut c,
            r,
            &sys,
            &facility("FA", "330402007", FacilityKind::ElderlyInstitution, 50),
        )
        .expect("fa");
        facilities::create(
            &mut c,
            r,
            &sys,
            &facility("FB", &town_b, FacilityKind::ElderlyInstitution, 50),
        )
        .expect("fb");
        people::create(
            &mut c,
            r,
            &sys,
            &elderly("PA", "330402007", "1940-03-05", 11),
        )
        .expect("pa");
        people::create(&mut c, r, &sys, &elderly("PB", &town_b, "1941-03-05", 13)).expect("pb");
        let county = user_scope(Role::CountyAdmin, "/330400/330402/", None);
        assert!(people::get(&mut c, r, &county, "PA").is_ok());
        assert!(matches!(
            people::get(&mut c, r, &county, "PB"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            facilities::get(&mut c, &county, "FB"),
            Err(StoreError::NotFound { .. })
        ));
        let all = people::list(&mut c, r, &county, &PersonQuery::default()).expect("list");
        assert_eq!(
            all.items.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["PA"]
        );
        assert_eq!(
            people::count(&mut c, r, &county, &PersonQuery::default()).expect("n"),
            1
        );
        // Analysts: counts, never a record.
        let analyst = user_scope(Role::Analyst, "/330400/", None);
        assert_eq!(
            people::count(&mut c, r, &analyst, &PersonQuery::default()).expect("n"),
            2
        );
        assert!(matches!(
            people::get(&mut c, r, &analyst, "PA"),
            Err(StoreError::Forbidden(_))
        ));
        assert!(people::list(&mut c, r, &analyst, &PersonQuery::default()).is_err());
        // Operators: their facility only, no people.
        let op = user_scope(Role::FacilityOperator, "/330400/", Some("FA"));
        let fl = facilities::list(&mut c, r, &op, &FacilityQuery::default()).expect("list");
        assert_eq!(fl.items.len(), 1);
        assert!(facilities::get(&mut c, &op, "FB").is_err());
        assert!(people::count(&mut c, r, &op, &PersonQuery::default()).is_err());
        // Writing outside the scope is refused.
        let town = user_scope(Role::TownStaff, "/330400/330402/330402007/", None);
        let mut moved = elderly("PA", &town_b, "1940-03-05", 11);
        moved.name = "搬家".into();
        assert!(people::update(&mut c, r, &town, &moved).is_err());
        assert!(people::soft_delete(&mut c, r, &town, "PB").is_err());
        assert!(people::get(&mut c, r, &sys, "PB").is_ok());
    }
}

#[test]
fn audit_chain_verifies_and_tampering_is_found() {
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let county = user_scope(Role::CountyAdmin, "/330400/330402/", None);
        let mut c = s.conn().expect("conn");
        let p = elderly("PA", "330402007", "1940-03-05", 11);
        people::create(&mut c, r, &county, &p).expect("create");
        let mut p2 = p.clone();
        p2.name = "改名".into();
        people::update(&mut c, r, &county, &p2).expect("update");
        people::soft_delete(&mut c, r, &county, "PA").expect("delete");
        let v = audit::verify(&mut c).expect("verify");
        assert_eq!(v.first_broken, None);
        assert!(v.entries >= 3);
        let q = audit::AuditQuery {
            entity_id: Some("PA".into()),
            ..Default::default()
        };
        let auditor = user_scope(Role::Auditor, "/330400/", None);
        let entries = audit::search(&mut c, &auditor, &q).expect("search");
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["delete", "update", "create"]);
        assert_eq!(entries[1].actor, "u-county_admin");
        assert_eq!(entries[1].ip.as_deref(), Some("127.0.0.1"));
        let before = entries[1].before.clone().unwrap_or_default();
        assert!(before.contains("王某某") && before.contains("********"));
        assert!(!before.contains(&p.id_number), "snapshots mask ID numbers");
        // Only auditors search the trail.
        assert!(audit::search(&mut c, &county, &q).is_err());
        // The database refuses changes to the trail.
        assert!(
            c.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 2", &[])
                .is_err()
        );
        assert!(
            c.execute("DELETE FROM audit_log WHERE seq = 2", &[])
                .is_err()
        );
        // Someone with the database's owner rights goes around the triggers…
        match s.backend() {
            laoxiao_store::Backend::Sqlite => c
                .batch("DROP TRIGGER audit_log_no_update")
                .expect("drop trigger"),
            laoxiao_store::Backend::Postgres => c
                .batch("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
                .expect("disable trigger"),
        }
        c.execute(
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2",
            &[],
        )
        .expect("tamper");
        // …and the chain names the entry.
        let v = audit::verify(&mut c).expect("verify");
        let (seq, why) = v.first_broken.expect("broken");
        assert_eq!(seq, 2, "{why}");
        assert_eq!(v.entries, 1);
    }
}

#[test]
fn exports_mask_id_numbers_unless_allowed_and_are_audited() {
    use laoxiao_model::columns::{HeaderLang, RecordKind};
    use laoxiao_store::io::{ExportFormat, export_to_writer};
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let p = elderly("PA", "330402007", "1940-03-05", 11);
        people::create(&mut s.conn().expect("conn"), r, &sys, &p).expect("create");
        let town = user_scope(Role::TownStaff, "/330400/330402/330402007/", None);
        let county = user_scope(Role::CountyAdmin, "/330400/330402/", None);
        // Town staff may not export people at all.
        let mut out = Vec::new();
        assert!(matches!(
            export_to_writer(
                s,
                &town,
                RecordKind::Elderly,
                ExportFormat::Csv,
                HeaderLang::English,
                false,
                &mut out
            ),
            Err(StoreError::Forbidden(_))
        ));
        for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
            let mut out = Vec::new();
            let n = export_to_writer(
                s,
                &county,
                RecordKind::Elderly,
                format,
                HeaderLang::English,
                false,
                &mut out,
            )
            .expect("export");
            assert_eq!(n, 1);
            let text = match format {
                ExportFormat::Csv => String::from_utf8_lossy(&out).into_owned(),
                ExportFormat::Xlsx => {
                    use calamine::Reader;
                    let mut wb: calamine::Xlsx<_> =
                        calamine::open_workbook_from_rs(std::io::Cursor::new(out)).expect("xlsx");
                    let name = wb.sheet_names()[0].clone();
                    let range = wb.worksheet_range(&name).expect("sheet");
                    range
                        .rows()
                        .flat_map(|r| r.iter().map(|c| c.to_string()))
                        .collect::<Vec<_>>()
                        .join(",")
                }
            };
            assert!(
                !text.contains(&p.id_number),
                "{format:?} leaks the ID number"
            );
            assert!(
                text.contains("330402********"),
                "{format:?} shows the masked number"
            );
        }
        // Full numbers for a role allowed to see them, audited.
        let mut out = Vec::new();
        export_to_writer(
            s,
            &county,
            RecordKind::Elderly,
            ExportFormat::Csv,
            HeaderLang::English,
            true,
            &mut out,
        )
        .expect("full export");
        assert!(String::from_utf8_lossy(&out).contains(&p.id_number));
        let n = s
            .conn()
            .expect("conn")
            .query_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'export_full_ids' AND actor = 'u-county_admin'", &[])
            .expect("n");
        assert_eq!(n, 1);
    }
}

#[test]
fn key_rotation_reencrypts_every_number() {
    use laoxiao_store::Keys;
    use laoxiao_store::crypto::DataKey;
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let p = elderly("PA", "330402007", "1940-03-05", 11);
        people::create(&mut s.conn().expect("conn"), r, &sys, &p).expect("create");
        // The new key is current; the test key stays readable until rotation is done.
        let rotated = Keys::new(
            DataKey::generate("k2"),
            vec![DataKey::from_bytes("test", [7u8; 32])],
            [9u8; 32],
        )
        .expect("keys");
        s.set_keys(rotated).expect("set");
        let mut c = s.conn().expect("conn");
        assert_eq!(people::reencrypt(&mut c, r).expect("rotate"), 1);
        assert_eq!(people::reencrypt(&mut c, r).expect("again"), 0);
        let enc = c
            .query_opt("SELECT id_number_enc FROM person WHERE id = 'PA'", &[])
            .expect("row")
            .expect("row")
            .text(0);
        assert!(enc.starts_with("k2:"), "{enc}");
        assert_eq!(
            people::get(&mut c, r, &sys, "PA").expect("get").id_number,
            p.id_number
        );
    }
}

#[test]
fn rows_from_before_encryption_are_encrypted_when_keys_are_set() {
    for db in TestDb::all().expect("dbs") {
        let s = &db.store;
        let r = &s.reference;
        let sys = Scope::system("test");
        let p = elderly("PA", "330402007", "1940-03-05", 11);
        people::create(&mut s.conn().expect("conn"), r, &sys, &p).expect("create");
        // What migration 3 leaves behind for an old row: the plaintext in the
        // renamed column, no ciphertext.
        s.conn()
            .expect("conn")
            .execute(
                "UPDATE person SET id_number_hmac = $1, id_number_enc = NULL WHERE id = 'PA'",
                &[p.id_number.as_str().into()],
            )
            .expect("legacy");
        assert_eq!(s.pending_plaintext().expect("n"), 1);
        assert!(people::get(&mut s.conn().expect("conn"), r, &sys, "PA").is_err());
        assert_eq!(
            s.set_keys(laoxiao_store::Keys::for_tests()).expect("keys"),
            1
        );
        assert_eq!(s.pending_plaintext().expect("n"), 0);
        let got = people::get(&mut s.conn().expect("conn"), r, &sys, "PA").expect("get");
        assert_eq!(got.id_number, p.id_number);
        let q = PersonQuery {
            q: Some(p.id_number.clone()),
            ..Default::default()
        };
        assert_eq!(
            people::list(&mut s.conn().expect("conn"), r, &sys, &q)
                .expect("list")
                .items
                .len(),
            1
        );
    }
}

// ---- Activity registers (staff, service records, enrolments, residences, students) ----

mod activity_registers {
    use super::*;
    use laoxiao_model::activity::{
        Enrolment, Residence, ServiceKind, ServiceRecord, SkillGrade, Staff, StaffRole,
        StudentCohort,
    };
    use laoxiao_model::person::AbilityLevel;
    use laoxiao_model::{ChildcareClass, ClassType};
    use laoxiao_store::activity;
    use laoxiao_store::io::{ActivityBatch, load_activity_on};

    const VILLAGE: &str = "330402007024";

    fn infant(id: &str, birth: &str, seq: u16) -> Person {
        Person {
            role: PersonRole::Infant,
            living_arrangement: None,
            special_difficulty: Vec::new(),
            birth_order: Some(1),
            ..elderly(id, VILLAGE, birth, seq)
        }
    }

    fn nursery() -> Facility {
        Facility {
            kind: FacilityKind::ChildcareInstitution,
            beds: None,
            nursing_beds: None,
            dementia_beds: None,
            approved_slots: Some(40),
            rating: None,
            ..facility("N1", VILLAGE, FacilityKind::ChildcareInstitution, 0)
        }
    }

    /// Loads a care home, a nursery with one class, three elderly people and
    /// two infants.
    fn registers(s: &Store) {
        let class = ChildcareClass {
            id: "C1".into(),
            facility_id: "N1".into(),
            class_type: ClassType::MixedAgeClass,
            capacity: 18,
            enrolled: 1,
            caregivers: 3,
            monthly_fee_fen: None,
        };
        let people = vec![
            elderly("E1", VILLAGE, "1940-02-03", 1),
            elderly("E2", VILLAGE, "1941-02-03", 3),
            elderly("E3", VILLAGE, "1942-02-03", 5),
            infant("I1", "2022-03-04", 7),
            infant("I2", "2022-11-04", 9),
        ];
        // Written directly (these upserts do not check ages against today).
        let mut c = s.conn().expect("conn");
        let now = "2022-12-31T00:00:00Z";
        for f in [
            facility("H1", VILLAGE, FacilityKind::ElderlyInstitution, 80),
            nursery(),
        ] {
            facilities::upsert(&mut c, &s.reference, &f, now).expect("facility");
        }
        facilities::upsert_class(&mut c, &class, now).expect("class");
        for p in &people {
            people::upsert(&mut c, &s.reference, p, now).expect("person");
        }
    }

    fn staff(id: &str, facility: &str, role: StaffRole, grade: SkillGrade) -> Staff {
        Staff {
            id: id.into(),
            facility_id: facility.into(),
            role,
            name: "测试员工".into(),
            certified: grade != SkillGrade::Ungraded,
            certificate: (grade != SkillGrade::Ungraded).then(|| "证书".to_string()),
            skill_grade: grade,
            hired_date: d("2020-03-01"),
            left_date: None,
        }
    }

    fn service(id: &str, person: &str, kind: ServiceKind, date: &str) -> ServiceRecord {
        ServiceRecord {
            id: id.into(),
            person_id: person.into(),
            kind,
            date: d(date),
            facility_id: Some("H1".into()),
            ability_level: (kind == ServiceKind::AbilityAssessment)
                .then_some(AbilityLevel::Moderate),
            note: None,
        }
    }

    type Parts = (
        Vec<Staff>,
        Vec<ServiceRecord>,
        Vec<Enrolment>,
        Vec<Residence>,
        Vec<StudentCohort>,
    );

    fn batch_parts() -> Parts {
        let mut left = staff("S3", "H1", StaffRole::CareWorker, SkillGrade::Junior);
        left.left_date = Some(d("2021-06-30"));
        let staff = vec![
            staff("S1", "H1", StaffRole::CareWorker, SkillGrade::Senior),
            staff("S2", "H1", StaffRole::SocialWorker, SkillGrade::Ungraded),
            left,
            staff(
                "S4",
                "N1",
                StaffRole::NurseryStaff,
                SkillGrade::Intermediate,
            ),
        ];
        let mut services = Vec::new();
        for m in 1..=12 {
            services.push(service(
                &format!("V{m:02}"),
                "E1",
                ServiceKind::Visit,
                &format!("2022-{m:02}-15"),
            ));
        }
        services.push(service(
            "A1",
            "E2",
            ServiceKind::AbilityAssessment,
            "2022-05-01",
        ));
        let mut nv = service("NV1", "I2", ServiceKind::NewbornVisit, "2022-11-10");
        nv.facility_id = None;
        services.push(nv);
        let enrolments = vec![Enrolment {
            id: "EN1".into(),
            infant_id: "I1".into(),
            facility_id: "N1".into(),
            class_id: Some("C1".into()),
            start_date: d("2022-09-01"),
            end_date: None,
        }];
        let residences = vec![Residence {
            id: "R1".into(),
            person_id: "E3".into(),
            facility_id: "H1".into(),
            admitted_date: d("2021-01-10"),
            discharged_date: None,
        }];
        let cohorts = vec![StudentCohort {
            id: "K1".into(),
            institution: "学院".into(),
            program: "智慧健康养老服务与管理".into(),
            intake_year: 2019,
            enrolled: 40,
            graduated: 38,
        }];
        (staff, services, enrolments, residences, cohorts)
    }

    fn today() -> NaiveDate {
        d("2022-12-31")
    }

    #[test]
    fn activity_loads_and_answers_the_indicator_queries() {
        each_db(|s| {
            registers(s);
            let (st, sv, en, re, co) = batch_parts();
            let batch = ActivityBatch {
                staff: &st,
                services: &sv,
                enrolments: &en,
                residences: &re,
                student_cohorts: &co,
            };
            let r = load_activity_on(s, &batch, None, today()).expect("load");
            assert_eq!(r.services.inserted, 14);
            assert_eq!(r.staff.inserted, 4);
            // Loading again changes nothing.
            let r = load_activity_on(s, &batch, None, today()).expect("again");
            assert_eq!((r.services.unchanged, r.services.inserted), (14, 0));
            let mut c = s.conn().expect("conn");
            let (end20, end22) = (d("2020-12-31"), d("2022-12-31"));
            assert_eq!(
                activity::count_staff(&mut c, StaffRole::CareWorker, end20, true).expect("n"),
                2
            );
            assert_eq!(
                activity::count_staff(&mut c, StaffRole::CareWorker, end22, true).expect("n"),
                1
            );
            assert_eq!(
                activity::count_staff(&mut c, StaffRole::SocialWorker, end22, false).expect("n"),
                1
            );
            assert_eq!(
                activity::count_staff(&mut c, StaffRole::SocialWorker, end22, true).expect("n"),
                0
            );
            let (jan, dec) = (d("2022-01-01"), d("2022-12-31"));
            assert_eq!(
                activity::count_services(&mut c, ServiceKind::Visit, jan, dec).expect("n"),
                12
            );
            assert_eq!(
                activity::count_people_served(&mut c, ServiceKind::Visit, jan, dec).expect("n"),
                1
            );
            assert_eq!(
                activity::count_services(
                    &mut c,
                    ServiceKind::Visit,
                    d("2022-06-01"),
                    d("2022-06-30")
                )
                .expect("n"),
                1
            );
            let of_e1 = activity::services_of_person(&mut c, "E1").expect("list");
            assert_eq!(of_e1.len(), 12);
            assert_eq!(of_e1[0].date, d("2022-01-15"));
            let a: ServiceRecord = activity::get(&mut c, "A1").expect("A1");
            assert_eq!(a, sv[12]);
            assert_eq!(
                activity::services_of_facility(&mut c, "H1", jan, d("2022-03-31"))
                    .expect("list")
                    .len(),
                3
            );
            assert_eq!(
                activity::staff_of_facility(&mut c, "H1").expect("s").len(),
                3
            );
            assert_eq!(
                activity::enrolments_of_facility(&mut c, "N1").expect("e"),
                en
            );
            assert_eq!(activity::enrolments_of_infant(&mut c, "I1").expect("e"), en);
            assert_eq!(
                activity::residences_of_facility(&mut c, "H1").expect("r"),
                re
            );
            assert_eq!(activity::residences_of_person(&mut c, "E3").expect("r"), re);
            assert_eq!(activity::count::<StudentCohort>(&mut c).expect("n"), 1);

            // An update is seen, and an unchanged row keeps its timestamp.
            let before = c
                .query_opt("SELECT updated_at FROM staff WHERE id = 'S2'", &[])
                .expect("row")
                .expect("S2")
                .text(0);
            let mut s1 = st[0].clone();
            s1.left_date = Some(d("2022-10-31"));
            assert_eq!(
                activity::upsert(&mut c, &s1, "2030-01-01T00:00:00Z").expect("upsert"),
                Upserted::Updated
            );
            assert_eq!(
                activity::upsert(&mut c, &st[1], "2030-01-01T00:00:00Z").expect("upsert"),
                Upserted::Unchanged
            );
            let after = c
                .query_opt("SELECT updated_at FROM staff WHERE id = 'S2'", &[])
                .expect("row")
                .expect("S2")
                .text(0);
            assert_eq!(before, after);
            assert_eq!(
                activity::count_staff(&mut c, StaffRole::CareWorker, end22, true).expect("n"),
                0
            );
            activity::soft_delete::<Staff>(&mut c, "S1").expect("delete");
            assert!(matches!(
                activity::get::<Staff>(&mut c, "S1"),
                Err(StoreError::NotFound { .. })
            ));
        });
    }

    #[test]
    fn activity_load_is_all_or_nothing_and_checks_references() {
        each_db(|s| {
            registers(s);
            let (st, mut sv, mut en, mut re, co) = batch_parts();
            sv.push(service("X1", "NOBODY", ServiceKind::Visit, "2022-01-01"));
            sv.push(service(
                "X2",
                "I1",
                ServiceKind::MealAssistance,
                "2022-01-01",
            ));
            en[0].class_id = Some("C9".into());
            re[0].facility_id = "N1".into();
            let batch = ActivityBatch {
                staff: &st,
                services: &sv,
                enrolments: &en,
                residences: &re,
                student_cohorts: &co,
            };
            let Err(StoreError::ImportRejected(errs)) = load_activity_on(s, &batch, None, today())
            else {
                panic!("rejected")
            };
            let cols: Vec<(usize, &str)> =
                errs.iter().map(|e| (e.row, e.column.as_str())).collect();
            assert_eq!(
                cols,
                vec![
                    (1, "enrolments.class_id"),
                    (1, "residences.facility_id"),
                    (15, "services.person_id"),
                    (16, "services.person_id"),
                ],
                "{errs:?}"
            );
            let mut c = s.conn().expect("conn");
            for t in [
                "staff",
                "service_record",
                "enrolment",
                "residence",
                "student_cohort",
            ] {
                assert_eq!(
                    c.query_i64(&format!("SELECT COUNT(*) FROM {t}"), &[])
                        .expect("count"),
                    0,
                    "{t}"
                );
            }
            // The database refuses a dangling reference on its own too.
            let bad = service("Y1", "NOBODY", ServiceKind::Visit, "2022-01-01");
            assert!(activity::upsert(&mut c, &bad, "2030-01-01T00:00:00Z").is_err());
        });
    }

    #[test]
    fn activity_queries_agree_on_sqlite_and_postgres() {
        if postgres_url().is_none() {
            return;
        }
        let answers: Vec<Vec<i64>> = TestDb::all()
            .expect("dbs")
            .iter()
            .map(|db| {
                let s = &db.store;
                registers(s);
                let (st, sv, en, re, co) = batch_parts();
                let batch = ActivityBatch {
                    staff: &st,
                    services: &sv,
                    enrolments: &en,
                    residences: &re,
                    student_cohorts: &co,
                };
                load_activity_on(s, &batch, None, today()).expect("load");
                let mut c = s.conn().expect("conn");
                let mut v = Vec::new();
                for role in StaffRole::ALL {
                    for cert in [false, true] {
                        v.push(
                            activity::count_staff(&mut c, *role, d("2022-12-31"), cert).expect("n"),
                        );
                    }
                }
                for kind in ServiceKind::ALL {
                    v.push(
                        activity::count_services(&mut c, *kind, d("2022-01-01"), d("2022-12-31"))
                            .expect("n"),
                    );
                }
                v.push(
                    c.query_i64(
                        "SELECT COUNT(*) FROM service_record WHERE ability_level >= 2",
                        &[],
                    )
                    .expect("n"),
                );
                v
            })
            .collect();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0], answers[1]);
    }
}

/// A large load into an empty table drops the secondary indexes and builds
/// them again; the rows and the indexes are all there after.
#[test]
fn bulk_activity_loads_rebuild_their_indexes() {
    use laoxiao_model::activity::StudentCohort;
    use laoxiao_store::activity;
    each_db(|s| {
        let items: Vec<StudentCohort> = (0..60_000)
            .map(|i| StudentCohort {
                id: format!("K{i:06}"),
                institution: "学院".into(),
                program: "老年保健与管理".into(),
                intake_year: 2000 + i % 20,
                enrolled: 30,
                graduated: 0,
            })
            .collect();
        let mut c = s.conn().expect("conn");
        let w = c
            .transaction(|c| activity::write_many(c, &items, "2022-12-31T00:00:00Z", |_| {}))
            .expect("write");
        assert_eq!(w.inserted, 60_000);
        let idx = match s.backend() {
            laoxiao_store::Backend::Sqlite => c.query_i64(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'student_cohort_year_idx'",
                &[],
            ),
            laoxiao_store::Backend::Postgres => c.query_i64(
                "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'student_cohort_year_idx' \
                 AND schemaname = current_schema()",
                &[],
            ),
        }
        .expect("index");
        assert_eq!(idx, 1);
        assert_eq!(activity::count::<StudentCohort>(&mut c).expect("n"), 60_000);
        let again = c
            .transaction(|c| activity::write_many(c, &items[..10], "2023-01-01T00:00:00Z", |_| {}))
            .expect("again");
        assert_eq!(again.unchanged, 10);
    });
}

/// The tally rows that are not zero, and the same counted from `person`.
fn tally_and_truth(c: &mut laoxiao_store::Conn) -> (Vec<String>, Vec<String>) {
    let mut rows = |sql: &str| -> Vec<String> {
        c.query(sql, &[])
            .expect("query")
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r.text(0),
                    r.text(1),
                    r.text(2),
                    r.int(3),
                    r.int(4)
                )
            })
            .collect()
    };
    let tally = rows(
        "SELECT area_path, role, status, birth_year, n FROM person_tally WHERE n <> 0 \
         ORDER BY area_path, role, status, birth_year",
    );
    let truth = rows(
        "SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS BIGINT), COUNT(*) \
         FROM person WHERE deleted_at IS NULL GROUP BY area_path, role, status, \
         CAST(substr(birth_date, 1, 4) AS BIGINT) ORDER BY area_path, role, status, 4",
    );
    (tally, truth)
}

#[test]
fn the_tally_follows_every_write_and_counts_match_the_rows() {
    each_db(|s| {
        let r = &s.reference;
        let sys = laoxiao_store::Scope::system("test");
        // Births spread over the years around the age limits, in three villages,
        // relative to today: the load checks ages on today's date.
        let today = chrono::Local::now().date_naive();
        let sixty = today - chrono::Months::new(12 * 60);
        let villages = ["330402007024", "330481001003", "330424001003"];
        let mut people: Vec<Person> = (0..240u16)
            .map(|i| {
                let birth = sixty - chrono::Days::new(u64::from(i) * 43);
                let mut p = elderly(
                    &format!("T{i:03}"),
                    villages[usize::from(i) % 3],
                    &birth.to_string(),
                    100 + i,
                );
                if i % 17 == 0 {
                    p.status = PersonStatus::Deceased;
                    p.death_date = Some(today);
                }
                p
            })
            .collect();
        for i in 0..60u16 {
            let birth = today - chrono::Days::new(u64::from(i) * 17);
            let mut p = elderly(
                &format!("I{i:03}"),
                villages[usize::from(i) % 3],
                &birth.to_string(),
                400 + i,
            );
            p.role = PersonRole::Infant;
            p.living_arrangement = None;
            p.special_difficulty = Vec::new();
            p.guardian_name = Some("王某".into());
            people.push(p);
        }
        // A bulk load into the empty table writes the tally from its own counts.
        laoxiao_store::io::load_records(s, &[], &[], &people, None).expect("load");
        let mut c = s.conn().expect("conn");
        let (tally, truth) = tally_and_truth(&mut c);
        assert!(!truth.is_empty());
        assert_eq!(tally, truth, "after the bulk load");

        // Single writes go through the triggers.
        let born = (sixty - chrono::Days::new(5)).to_string();
        people::create(&mut c, r, &sys, &elderly("N1", "330402007024", &born, 901))
            .expect("create");
        let mut moved = people[3].clone();
        moved.residence_area_code = "330481001003".into();
        moved.birth_date = sixty - chrono::Days::new(4000);
        moved.id_number = laoxiao_model::idcard::make("330402", moved.birth_date, 103);
        people::update(&mut c, r, &sys, &moved).expect("move");
        let mut died = people[4].clone();
        died.status = PersonStatus::Deceased;
        died.death_date = Some(today);
        people::update(&mut c, r, &sys, &died).expect("died");
        people::soft_delete(&mut c, r, &sys, &people[5].id).expect("delete");
        let (tally, truth) = tally_and_truth(&mut c);
        assert_eq!(tally, truth, "after single writes");

        // A bulk load into a filled table updates rows one by one.
        let mut again = people.clone();
        for p in again.iter_mut().step_by(7) {
            p.residence_area_code = "330424001003".into();
        }
        drop(c);
        laoxiao_store::io::load_records(s, &[], &[], &again[10..], None).expect("reload");
        let mut c = s.conn().expect("conn");
        let (tally, truth) = tally_and_truth(&mut c);
        assert_eq!(tally, truth, "after a second load");

        // Counts through the tally agree with counting the live rows by hand.
        let live: Vec<(PersonRole, String, PersonStatus, NaiveDate)> = c
            .query(
                "SELECT role, residence_area_code, status, birth_date FROM person \
                 WHERE deleted_at IS NULL",
                &[],
            )
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    PersonRole::parse(&row.text(0)).expect("role"),
                    row.text(1),
                    row.text(2).parse().expect("status"),
                    d(&row.text(3)),
                )
            })
            .collect();
        // The store's rule: 29 February becomes the 28th in a year without it.
        let minus = |day: NaiveDate, years: i32| {
            NaiveDate::from_ymd_opt(day.year() - years, day.month(), day.day())
                .or_else(|| NaiveDate::from_ymd_opt(day.year() - years, day.month(), 28))
                .expect("date")
        };
        for as_of in [
            today,
            today - chrono::Days::new(200),
            today + chrono::Days::new(150),
        ] {
            for (role, min, max, area, status) in [
                (Some(PersonRole::Elderly), Some(60), None, None, None),
                (
                    Some(PersonRole::Elderly),
                    Some(80),
                    None,
                    Some("330402"),
                    Some(PersonStatus::Active),
                ),
                (Some(PersonRole::Elderly), Some(65), Some(79), None, None),
                (
                    Some(PersonRole::Infant),
                    None,
                    Some(2),
                    Some("330481001"),
                    None,
                ),
                (None, None, None, None, Some(PersonStatus::Active)),
                (None, Some(70), Some(70), Some("330424"), None),
            ] {
                let q = PersonQuery {
                    role,
                    min_age: min,
                    max_age: max,
                    area: area.map(str::to_string),
                    status,
                    as_of: Some(as_of),
                    ..Default::default()
                };
                let want = live
                    .iter()
                    .filter(|(r, code, st, born)| {
                        role.is_none_or(|x| x == *r)
                            && area.is_none_or(|a| code.starts_with(a))
                            && status.is_none_or(|x| x == *st)
                            && min.is_none_or(|m| *born <= minus(as_of, m as i32))
                            && max.is_none_or(|m| *born > minus(as_of, m as i32 + 1))
                    })
                    .count() as i64;
                let got = people::count(&mut c, r, &sys, &q).expect("count");
                assert_eq!(got, want, "{q:?}");
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Backups (reliability suite): an online backup taken while a writer keeps
// writing restores to a consistent copy whose audit chain verifies.

mod backups {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use laoxiao_store::backup::{self, BackupOptions};
    use laoxiao_store::testdb::TestDb;
    use laoxiao_store::{Keys, Role, Row, Store, audit, people};

    use super::{elderly, facility, user_scope};

    fn rows(s: &Store, sql: &str) -> Vec<Row> {
        s.conn().expect("conn").query(sql, &[]).expect("query")
    }

    /// The tally as stored, and as recounted from the person table.
    fn tally_and_recount(s: &Store) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
        let key = |r: &Row| format!("{}|{}|{}|{}", r.text(0), r.text(1), r.text(2), r.int(3));
        let stored = rows(
            s,
            "SELECT area_path, role, status, birth_year, n FROM person_tally WHERE n <> 0",
        )
        .iter()
        .map(|r| (key(r), r.int(4)))
        .collect();
        let recount = rows(
            s,
            "SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS INTEGER), COUNT(*) \
             FROM person WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4",
        )
        .iter()
        .map(|r| (key(r), r.int(4)))
        .collect();
        (stored, recount)
    }

    #[test]
    fn backup_while_writing_restores_a_consistent_copy_whose_audit_chain_verifies() {
        let db = TestDb::sqlite().expect("db");
        let s = db.store.clone();
        let r = &s.reference;
        let county = user_scope(Role::CountyAdmin, "/330400/330402/", None);
        {
            let mut c = s.conn().expect("conn");
            for i in 0..20u16 {
                let f = facility(
                    &format!("F{i:03}"),
                    "330402007",
                    laoxiao_model::FacilityKind::ElderlyInstitution,
                    40,
                );
                laoxiao_store::facilities::create(&mut c, r, &county, &f).expect("facility");
                let p = elderly(&format!("P{i:04}"), "330402007024", "1941-02-03", i + 1);
                people::create(&mut c, r, &county, &p).expect("person");
            }
            let mut p = elderly("P0000", "330402007024", "1941-02-03", 1);
            p.name = "改名".into();
            people::update(&mut c, r, &county, &p).expect("update");
        }
        let before: Vec<Row> = rows(&s, "SELECT * FROM person ORDER BY id");

        // A writer registers people, each with its audit entry in one transaction,
        // until told to stop.
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (s, stop, written, county) =
                (s.clone(), stop.clone(), written.clone(), county.clone());
            std::thread::spawn(move || {
                let mut c = s.conn().expect("conn");
                let mut i = 100u16;
                // The ID number's sequence code has three digits.
                while !stop.load(Ordering::Relaxed) && i < 999 {
                    let p = elderly(&format!("W{i:04}"), "330402007024", "1950-06-07", i);
                    c.transaction(|c| people::create(c, &s.reference, &county, &p))
                        .expect("write");
                    written.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        };
        while written.load(Ordering::Relaxed) < 5 {
            std::thread::sleep(Duration::from_millis(2));
        }
        let dir = std::env::temp_dir().join(format!("laoxiao-backup-it-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let out = dir.join("backup.db");
        let _ = std::fs::remove_file(&out);
        let at_start = written.load(Ordering::Relaxed);
        // One page per step with pauses, so the copy overlaps many writes.
        let opts = BackupOptions {
            pages_per_step: 1,
            pause: Duration::from_millis(3),
        };
        backup::backup_sqlite(Path::new(&db.url), &out, &opts).expect("backup");
        let at_end = written.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer");
        assert!(
            at_end > at_start,
            "the writer kept writing during the backup ({at_start} → {at_end})"
        );

        let restored_path = dir.join("restored.db");
        let _ = std::fs::remove_file(&restored_path);
        backup::restore_sqlite(&out, &restored_path, false).expect("restore");
        // Restoring over it again needs --force.
        assert!(backup::restore_sqlite(&out, &restored_path, false).is_err());
        let restored = Store::open_url(&restored_path.display().to_string()).expect("open");
        restored.set_keys(Keys::for_tests()).expect("keys");

        let v = audit::verify(&mut restored.conn().expect("conn")).expect("verify");
        assert_eq!(v.first_broken, None);

        // Every person present before the backup is there, unchanged; the rest is
        // a prefix of what the writer wrote (one snapshot), each row identical to
        // the source's.
        let got = rows(&restored, "SELECT * FROM person ORDER BY id");
        let source = rows(&s, "SELECT * FROM person ORDER BY id");
        let by_id: BTreeMap<String, &Row> = source.iter().map(|r| (r.text(0), r)).collect();
        for row in &before {
            assert!(got.contains(row), "{} is missing or changed", row.text(0));
        }
        for row in &got {
            assert_eq!(Some(&row), by_id.get(&row.text(0)), "{}", row.text(0));
        }
        let w: Vec<String> = got
            .iter()
            .map(|r| r.text(0))
            .filter(|id| id.starts_with('W'))
            .collect();
        let want: Vec<String> = (0..w.len()).map(|k| format!("W{:04}", 100 + k)).collect();
        assert_eq!(
            w, want,
            "the writes in the copy are a prefix of the writer's"
        );
        assert!(
            w.len() >= at_start && w.len() <= at_end,
            "{} ∉ [{at_start}, {at_end}]",
            w.len()
        );
        // Each write's audit entry came with it, and the trail is the source's prefix.
        let trail = rows(&restored, "SELECT seq, hash FROM audit_log ORDER BY seq");
        let src_trail = rows(&s, "SELECT seq, hash FROM audit_log ORDER BY seq");
        assert_eq!(trail[..], src_trail[..trail.len()]);
        let creates = restored
            .conn()
            .expect("conn")
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'create' AND entity_id LIKE 'W%'",
                &[],
            )
            .expect("count");
        assert_eq!(creates, w.len() as i64);
        let (stored, recount) = tally_and_recount(&restored);
        assert_eq!(stored, recount);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// Concurrent writers (found by bench/crash.sh: concurrent API writes answered 500
// "database is locked" on SQLite). A transaction that reads before it writes
// started as a reader; when another writer committed first, SQLite refused the
// upgrade at once, without waiting.
#[test]
fn hole_rel_concurrent_write_transactions_wait_instead_of_failing_as_locked() {
    let db = TestDb::sqlite().expect("db");
    let county = user_scope(Role::CountyAdmin, "/330400/330402/", None);
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (s, county) = (db.store.clone(), county.clone());
            std::thread::spawn(move || {
                let mut c = s.conn().expect("conn");
                let mut failures = Vec::new();
                for i in 0..25 {
                    let f = facility(
                        &format!("CW{t}-{i}"),
                        "330402007",
                        FacilityKind::ElderlyInstitution,
                        30,
                    );
                    if let Err(e) =
                        c.transaction(|c| facilities::create(c, &s.reference, &county, &f))
                    {
                        failures.push(e.to_string());
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let n = db
        .store
        .conn()
        .expect("conn")
        .query_i64("SELECT COUNT(*) FROM facility WHERE id LIKE 'CW%'", &[])
        .expect("count");
    assert_eq!(n, 150);
}
