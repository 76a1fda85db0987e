//! Every write and its audit entry are one transaction (issue 10): when the
//! audit append fails, nothing of the write remains. The failure is real: the
//! same database is opened through a store whose keys lack the audit key, and
//! since the trail is keyed (the test keys wrote its first entries), every
//! append there fails closed.

use laoxiao_model::columns::{self, HeaderLang, RecordKind};
use laoxiao_model::{ChildcareClass, ClassType, Facility, FacilityKind, Person};
use laoxiao_store::crypto::DataKey;
use laoxiao_store::facilities::{self, FacilityQuery, FacilitySort};
use laoxiao_store::io::{ImportOptions, import_bytes};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::transfers::{self, Decision, TransferStatus};
use laoxiao_store::{
    Actor, Conn, DbTarget, Keys, OpenOptions, Role, Scope, Store, StoreError, audit, people,
};

use super::{elderly, facility};

fn each_db(f: impl Fn(&TestDb)) {
    for db in TestDb::all().expect("test databases") {
        f(&db);
    }
}

/// The same database through a store that holds the data and HMAC keys but
/// not the audit key.
fn without_audit_key(db: &TestDb) -> Store {
    let s = Store::open(&OpenOptions {
        target: DbTarget::parse(&db.url).expect("url"),
        pool_size: 2,
        migrate: false,
    })
    .expect("open");
    let keys = Keys::new(
        DataKey::from_bytes("test", [7u8; 32]),
        Vec::new(),
        [9u8; 32],
    )
    .expect("keys");
    s.set_keys(keys).expect("keys");
    s
}

#[track_caller]
fn refused<T: std::fmt::Debug>(r: laoxiao_store::Result<T>) {
    match r {
        Err(StoreError::Config(why)) => assert!(why.contains("audit"), "{why}"),
        other => panic!("expected the audit append to fail, got {other:?}"),
    }
}

fn entries(c: &mut Conn) -> i64 {
    c.query_i64("SELECT COUNT(*) FROM audit_log", &[])
        .expect("count")
}

fn nursery(id: &str, area: &str) -> Facility {
    Facility {
        approved_slots: Some(40),
        beds: None,
        nursing_beds: None,
        dementia_beds: None,
        rating: None,
        ..facility(id, area, FacilityKind::ChildcareInstitution, 0)
    }
}

fn class(id: &str, fac: &str, enrolled: i64) -> ChildcareClass {
    ChildcareClass {
        id: id.into(),
        facility_id: fac.into(),
        class_type: ClassType::MixedAgeClass,
        capacity: 18,
        enrolled,
        caregivers: 3,
        ..Default::default()
    }
}

fn user(role: Role, path: &str) -> Scope {
    Scope::user(
        Actor {
            user: format!("u-{}", role.code()),
            ip: None,
        },
        role,
        path,
        None,
    )
}

fn csv(kind: RecordKind, rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns::headers(kind, HeaderLang::English))
        .expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.into_inner().expect("csv")
}

#[test]
fn a_failed_audit_append_undoes_facility_writes() {
    each_db(|db| {
        let (s, sys) = (&db.store, Scope::system("test"));
        let r = &s.reference;
        let town = "330402007";
        let mut c = s.conn().expect("conn");
        facilities::create_with_classes(
            &mut c,
            r,
            &sys,
            &nursery("N1", town),
            &[class("C1", "N1", 3)],
            &[],
        )
        .expect("create");
        let broken = without_audit_key(db);
        let br = &broken.reference;
        let mut b = broken.conn().expect("conn");
        let n = entries(&mut c);

        refused(facilities::create(&mut b, br, &sys, &nursery("N2", town)));
        refused(facilities::create_with_classes(
            &mut b,
            br,
            &sys,
            &nursery("N3", town),
            &[class("C3", "N3", 1)],
            &[],
        ));
        for id in ["N2", "N3"] {
            assert!(matches!(
                facilities::get(&mut c, &sys, id),
                Err(StoreError::NotFound { .. })
            ));
        }
        let mut changed = facilities::get(&mut c, &sys, "N1").expect("n1");
        changed.name = "改名".into();
        refused(facilities::update(&mut b, br, &sys, &changed));
        refused(facilities::update_with_classes(
            &mut b,
            br,
            &sys,
            &changed,
            &[class("C1b", "N1", 5)],
            &[],
        ));
        refused(facilities::write_classes(
            &mut b,
            &sys,
            "N1",
            &[class("C1", "N1", 9)],
            &[],
            true,
        ));
        refused(facilities::soft_delete(&mut b, &sys, "N1"));
        let n1 = facilities::get(&mut c, &sys, "N1").expect("still live");
        assert_eq!(n1.name, nursery("N1", town).name);
        assert_eq!(
            facilities::classes_of(&mut c, &sys, "N1").expect("classes"),
            [class("C1", "N1", 3)]
        );
        // Inspected on purpose: no row of the refused writes, live or deleted.
        let stray = c
            .query_i64(
                "SELECT COUNT(*) FROM childcare_class WHERE id IN ('C1b', 'C3')",
                &[],
            )
            .expect("count");
        assert_eq!(stray, 0);
        assert_eq!(entries(&mut c), n);

        // The same writes with the audit key go through, each with its entry.
        changed.name = "改名".into();
        facilities::update_with_classes(&mut c, r, &sys, &changed, &[class("C1b", "N1", 5)], &[])
            .expect("update");
        assert_eq!(entries(&mut c), n + 2, "facility and classes entries");
        assert_eq!(
            facilities::classes_of(&mut c, &sys, "N1").expect("classes"),
            [class("C1b", "N1", 5)]
        );
    });
}

#[test]
fn a_failed_audit_append_undoes_people_and_transfer_writes() {
    each_db(|db| {
        let (s, sys) = (&db.store, Scope::system("test"));
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        let town_b = r.areas.children("330411")[0].code.clone();
        let village_a = r.areas.children("330402007")[0].code.clone();
        let pb = elderly("PB", &town_b, "1941-03-05", 13);
        people::create(&mut c, r, &sys, &pb).expect("pb");
        let broken = without_audit_key(db);
        let br = &broken.reference;
        let mut b = broken.conn().expect("conn");
        let n = entries(&mut c);

        refused(people::create(
            &mut b,
            br,
            &sys,
            &elderly("PC", &town_b, "1942-03-05", 15),
        ));
        assert!(matches!(
            people::get(&mut c, r, &sys, "PC"),
            Err(StoreError::NotFound { .. })
        ));
        refused(people::create_revealing(
            &mut b,
            br,
            &sys,
            &elderly("PC", &town_b, "1942-03-05", 15),
        ));
        let mut renamed = pb.clone();
        renamed.name = "李某某".into();
        refused(people::update(&mut b, br, &sys, &renamed));
        refused(people::update_revealing(&mut b, br, &sys, &renamed));
        refused(people::soft_delete(&mut b, br, &sys, "PB"));
        let still: Person = people::get(&mut c, r, &sys, "PB").expect("still live");
        assert_eq!(still.name, pb.name);

        let town = user(Role::TownStaff, "/330400/330402/330402007/");
        let holder = user(Role::CountyAdmin, "/330400/330411/");
        refused(transfers::request(
            &mut b,
            br,
            &town,
            &pb.id_number,
            &village_a,
            "随子女居住",
        ));
        let requests = |c: &mut Conn| {
            c.query_i64("SELECT COUNT(*) FROM transfer_request", &[])
                .expect("count")
        };
        assert_eq!(requests(&mut c), 0);
        assert_eq!(entries(&mut c), n);

        // Shown the full number: the read entry is written with the record's.
        let pd =
            people::create_revealing(&mut c, r, &sys, &elderly("PD", &town_b, "1943-03-05", 17))
                .expect("create");
        let last: Vec<(String, Option<String>)> = c
            .query(
                "SELECT action, entity_id FROM audit_log ORDER BY seq DESC LIMIT 2",
                &[],
            )
            .expect("trail")
            .iter()
            .map(|r| {
                (
                    r.get("action").expect("action"),
                    r.get("entity_id").expect("id"),
                )
            })
            .collect();
        assert_eq!(
            last,
            [
                ("read_full_id".to_string(), Some(pd.id.clone())),
                ("create".to_string(), Some(pd.id.clone())),
            ]
        );

        let t = transfers::request(&mut c, r, &town, &pb.id_number, &village_a, "随子女居住")
            .expect("request");
        let n = entries(&mut c);
        refused(transfers::decide(
            &mut b,
            br,
            &holder,
            &t.id,
            Decision::Approve,
            None,
        ));
        // Still open, and the person has not moved.
        let seen = transfers::get(&mut c, r, &town, &t.id).expect("get");
        assert_eq!(seen.status, TransferStatus::Open);
        assert_eq!(
            people::get(&mut c, r, &sys, "PB")
                .expect("pb")
                .residence_area_code,
            town_b
        );
        assert_eq!(entries(&mut c), n);
        transfers::decide(&mut c, r, &holder, &t.id, Decision::Approve, None).expect("approve");
        assert_eq!(
            people::get(&mut c, r, &sys, "PB")
                .expect("pb")
                .residence_area_code,
            village_a
        );
    });
}

#[test]
fn an_import_writes_its_audit_entry_in_its_transaction() {
    each_db(|db| {
        let (s, sys) = (&db.store, Scope::system("cli:ops"));
        let mut c = s.conn().expect("conn");
        let town = "330402007";
        let village = s.reference.areas.children(town)[0].code.clone();
        let fac = csv(
            RecordKind::Facilities,
            &[columns::facility_to_row(&nursery("IF1", town))],
        );
        let people_csv = csv(
            RecordKind::Elderly,
            &[columns::person_to_row(&elderly(
                "IP1",
                &village,
                "1940-01-02",
                21,
            ))],
        );
        let audited = ImportOptions {
            audit_as: Some(&sys),
            ..Default::default()
        };
        // A dry run writes nothing, not even its entry.
        let n = entries(&mut c);
        let dry = ImportOptions {
            dry_run: true,
            ..audited
        };
        import_bytes(s, RecordKind::Facilities, "f.csv", &fac, &dry).expect("dry run");
        assert_eq!(entries(&mut c), n);

        let rep = import_bytes(s, RecordKind::Facilities, "f.csv", &fac, &audited).expect("import");
        assert_eq!(rep.inserted, 1);
        import_bytes(s, RecordKind::Elderly, "p.csv", &people_csv, &audited).expect("import");
        let trail = audit::search(
            &mut c,
            &user(Role::Auditor, "/330400/"),
            &audit::AuditQuery::default(),
        )
        .expect("trail");
        let imports: Vec<(&str, &str)> = trail
            .iter()
            .filter(|e| e.action == "import")
            .map(|e| (e.entity.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(imports.len(), 2, "{imports:?}");
        assert!(imports.contains(&("facilities", "cli:ops")));
        assert!(imports.contains(&("elderly", "cli:ops")));
        let fac_entry = trail
            .iter()
            .find(|e| e.action == "import" && e.entity == "facilities")
            .expect("entry");
        let after: serde_json::Value =
            serde_json::from_str(fac_entry.after.as_deref().expect("after")).expect("json");
        assert_eq!(after["inserted"], 1);
        assert_eq!(after["rows"], 1);

        // Without the audit key the import fails as a whole.
        let broken = without_audit_key(db);
        let fac2 = csv(
            RecordKind::Facilities,
            &[columns::facility_to_row(&nursery("IF2", town))],
        );
        refused(import_bytes(
            &broken,
            RecordKind::Facilities,
            "f.csv",
            &fac2,
            &audited,
        ));
        let people2 = csv(
            RecordKind::Elderly,
            &[columns::person_to_row(&elderly(
                "IP2",
                &village,
                "1941-01-02",
                23,
            ))],
        );
        refused(import_bytes(
            &broken,
            RecordKind::Elderly,
            "p.csv",
            &people2,
            &audited,
        ));
        assert!(matches!(
            facilities::get(&mut c, &sys, "IF2"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            people::get(&mut c, &s.reference, &sys, "IP2"),
            Err(StoreError::NotFound { .. })
        ));
    });
}

#[test]
fn a_nested_transaction_is_a_savepoint() {
    each_db(|db| {
        let (s, sys) = (&db.store, Scope::system("test"));
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        let town = "330402007";
        let out = c.transaction(|c| {
            facilities::create(c, r, &sys, &nursery("S1", town))?;
            // A failing inner write is undone alone; the outer one goes on.
            let dup = facilities::create(c, r, &sys, &nursery("S1", town));
            assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
            facilities::create(c, r, &sys, &nursery("S2", town))?;
            Ok(())
        });
        out.expect("outer");
        for id in ["S1", "S2"] {
            facilities::get(&mut c, &sys, id).expect("committed");
        }
        // An outer failure undoes the inner writes it holds.
        let out: laoxiao_store::Result<()> = c.transaction(|c| {
            facilities::create(c, r, &sys, &nursery("S3", town))?;
            Err(StoreError::Conflict("stop".into()))
        });
        assert!(out.is_err());
        assert!(facilities::get(&mut c, &sys, "S3").is_err());
        // The connection is usable afterwards, outside any transaction.
        facilities::create(&mut c, r, &sys, &nursery("S4", town)).expect("s4");
        drop(c);
        let mut again = s.conn().expect("conn");
        facilities::get(&mut again, &sys, "S4").expect("committed");
    });
}

#[test]
fn the_facility_list_sorts_with_keyset_pages() {
    each_db(|db| {
        let (s, sys) = (&db.store, Scope::system("test"));
        let r = &s.reference;
        let mut c = s.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        for i in 0..60 {
            let mut f = facility(
                &format!("F{i:03}"),
                &town,
                FacilityKind::ElderlyInstitution,
                0,
            );
            f.name = format!("N{}", (i * 7) % 13);
            f.beds = (i % 3 != 0).then_some(i);
            f.nursing_beds = f.beds.map(|b| b / 2);
            f.opening_date =
                (i % 4 != 0).then(|| super::d("2018-01-01") + chrono::Days::new(i as u64 % 7));
            facilities::create(&mut c, r, &sys, &f).expect("create");
        }
        for &sort in FacilitySort::ALL {
            for descending in [false, true] {
                let mut q = FacilityQuery {
                    area: Some("330402".into()),
                    sort,
                    descending,
                    limit: Some(25),
                    ..Default::default()
                };
                let mut seen: Vec<Facility> = Vec::new();
                loop {
                    let page = facilities::list(&mut c, r, &sys, &q).expect("page");
                    seen.extend(page.items);
                    match page.next_cursor {
                        Some(n) => q.after = Some(n),
                        None => break,
                    }
                }
                let ids: Vec<&str> = seen.iter().map(|f| f.id.as_str()).collect();
                let mut unique = ids.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(ids.len(), 60, "{sort:?} descending={descending}");
                assert_eq!(unique.len(), 60, "{sort:?} descending={descending}");
                // In order: by the key, then by id.
                let key = |f: &Facility| match sort {
                    FacilitySort::Id => String::new(),
                    FacilitySort::Name => f.name.clone(),
                    FacilitySort::Kind => f.kind.code().to_string(),
                    FacilitySort::Beds => format!("{:020}", f.beds.unwrap_or(-1) + 1),
                    FacilitySort::Slots => format!("{:020}", f.approved_slots.unwrap_or(-1) + 1),
                    FacilitySort::OpeningDate => {
                        f.opening_date.map(|d| d.to_string()).unwrap_or_default()
                    }
                };
                let pairs: Vec<(String, &str)> =
                    seen.iter().map(|f| (key(f), f.id.as_str())).collect();
                let mut sorted = pairs.clone();
                sorted.sort();
                if descending {
                    sorted.reverse();
                }
                assert_eq!(pairs, sorted, "{sort:?} descending={descending}");
            }
        }
        // A cursor the list did not make is refused, not misread.
        let bad = FacilityQuery {
            sort: FacilitySort::Beds,
            after: Some("zz".into()),
            ..Default::default()
        };
        assert!(matches!(
            facilities::list(&mut c, r, &sys, &bad),
            Err(StoreError::Invalid(_))
        ));
    });
}
