//! The person tally has one truth (issue 10, item 4): whichever path wrote
//! `person` — the bulk import into an empty table (the tally written from the
//! producer's counts) or a filled one (SQLite: the writer's deltas;
//! PostgreSQL: the row trigger), the API's create, update and soft delete, a
//! revival by upsert or import, a transfer's move — `person_tally` equals a
//! recount from `person`, and SQLite and PostgreSQL hold the same tally.
//!
//! The people index (issue 11) is checked along the same writes: a second
//! server over the same database keeps the index, the first answers from SQL,
//! and after every step both give the same pages and counts for every query
//! (area and scope, each filter, two combined, names, cursors), so a write
//! through one server reaches the other's memory.

use chrono::{Duration, NaiveDate};
use laoxiao_model::person::PersonStatus;
use laoxiao_model::person::{AbilityLevel, LivingArrangement, SpecialDifficulty};
use laoxiao_model::{Person, PersonRole};
use laoxiao_store::people::PersonQuery;
use laoxiao_store::testdb::{TestDb, postgres_url_for};
use laoxiao_store::transfers::{self, Decision};
use laoxiao_store::{Actor, Backend, DbTarget, Keys, Role, Scope, Store, people};

use super::{d, elderly};

/// (area path, register, status, birth year, people)
type Tally = Vec<(String, String, String, i64, i64)>;

/// The tally's rows that count someone (a key whose people all left keeps a 0).
fn tally(s: &Store) -> Tally {
    let mut c = s.conn().expect("conn");
    let rows = c
        .query(
            "SELECT area_path, role, status, birth_year, n FROM person_tally WHERE n <> 0 \
             ORDER BY area_path, role, status, birth_year",
            &[],
        )
        .expect("tally");
    rows.iter()
        .map(|r| {
            (
                r.get("area_path").expect("area_path"),
                r.get("role").expect("role"),
                r.get("status").expect("status"),
                r.get("birth_year").expect("birth_year"),
                r.get("n").expect("n"),
            )
        })
        .collect()
}

/// Live people counted from `person`, grouped by the tally's key.
fn recount(s: &Store) -> Tally {
    let int = match s.backend() {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BIGINT",
    };
    let mut c = s.conn().expect("conn");
    let rows = c
        .query(
            &format!(
                "SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS {int}) AS birth_year, \
                 COUNT(*) AS n FROM person WHERE deleted_at IS NULL \
                 GROUP BY area_path, role, status, CAST(substr(birth_date, 1, 4) AS {int}) \
                 ORDER BY area_path, role, status, birth_year"
            ),
            &[],
        )
        .expect("recount");
    rows.iter()
        .map(|r| {
            (
                r.get("area_path").expect("area_path"),
                r.get("role").expect("role"),
                r.get("status").expect("status"),
                r.get("birth_year").expect("birth_year"),
                r.get("n").expect("n"),
            )
        })
        .collect()
}

/// A second server over the same database, keeping the people index.
fn second_server(url: &str) -> Store {
    let b = Store::open(&laoxiao_store::OpenOptions {
        target: DbTarget::parse(url).expect("url"),
        pool_size: 2,
        migrate: false,
    })
    .expect("second server");
    b.set_keys(Keys::for_tests()).expect("keys");
    b.reference
        .people_index
        .build(&mut b.conn().expect("conn"))
        .expect("build");
    b
}

/// Every page of a query, following the cursors, and the count.
fn answers(s: &Store, scope: &Scope, q: &PersonQuery) -> (Vec<Vec<String>>, i64) {
    let mut c = s.conn().expect("conn");
    let mut pages = Vec::new();
    let mut q = q.clone();
    q.limit = Some(4);
    loop {
        let p = people::list(&mut c, &s.reference, scope, &q).expect("list");
        pages.push(p.items.iter().map(|x| x.id.clone()).collect());
        match p.next_cursor {
            Some(cur) => q.after = Some(cur),
            None => break,
        }
        assert!(pages.len() < 100, "the cursor does not advance");
    }
    q.after = None;
    (
        pages,
        people::count(&mut c, &s.reference, scope, &q).expect("count"),
    )
}

fn queries() -> Vec<PersonQuery> {
    let today = d("2026-06-30");
    let base = PersonQuery {
        as_of: Some(today),
        ..PersonQuery::default()
    };
    let mut v = vec![base.clone()];
    let mut add = |f: &dyn Fn(&mut PersonQuery)| {
        let mut q = base.clone();
        f(&mut q);
        v.push(q);
    };
    add(&|q| q.role = Some(PersonRole::Elderly));
    add(&|q| q.role = Some(PersonRole::Infant));
    add(&|q| q.area = Some("330402".into()));
    add(&|q| q.area = Some(VILLAGES[1].into()));
    add(&|q| q.status = Some(PersonStatus::Deceased));
    add(&|q| q.category = Some(SpecialDifficulty::MinimumLivingAllowance));
    add(&|q| q.category = Some(SpecialDifficulty::ExtremePoverty));
    add(&|q| q.living_arrangement = Some(LivingArrangement::LivingAlone));
    add(&|q| q.ability_level = Some(AbilityLevel::Intact));
    add(&|q| {
        q.ability_level = Some(AbilityLevel::Complete);
        q.dementia = Some(true);
    });
    add(&|q| {
        q.category = Some(SpecialDifficulty::ExtremePoverty);
        q.living_arrangement = Some(LivingArrangement::EmptyNest);
        q.area = Some("330402".into());
    });
    add(&|q| q.dementia = Some(false));
    add(&|q| {
        q.min_age = Some(80);
        q.max_age = Some(89);
    });
    add(&|q| {
        q.role = Some(PersonRole::Elderly);
        q.min_age = Some(90);
        q.area = Some("330481".into());
    });
    add(&|q| {
        q.max_age = Some(2);
        q.status = Some(PersonStatus::Active);
    });
    add(&|q| q.q = Some("王".into()));
    add(&|q| q.q = Some("某某".into()));
    add(&|q| q.q = Some("李".into()));
    v
}

/// The index (server `b`) answers as SQL does (server `s`), for every query
/// in the city's scope and in a county's.
fn assert_index_agrees(s: &Store, b: &Store, step: &str) {
    assert!(
        b.reference
            .people_index
            .ready(&mut b.conn().expect("conn"))
            .expect("ready"),
        "{:?} after {step}: the second server's index is not current",
        s.backend()
    );
    let county = Scope::user(
        Actor {
            user: "county".into(),
            ip: None,
        },
        Role::CountyAdmin,
        "/330400/330481/",
        None,
    );
    let today = chrono::Local::now().date_naive();
    for (path, level) in [
        ("/330400/", laoxiao_model::AreaLevel::City),
        ("/330400/330481/", laoxiao_model::AreaLevel::County),
    ] {
        let mut cb = b.conn().expect("conn");
        let mut cs = s.conn().expect("conn");
        assert_eq!(
            laoxiao_store::figures::by_child_kept(&mut cb, &b.reference, path, level, today)
                .expect("kept"),
            laoxiao_store::figures::by_child(&mut cs, path, level, today).expect("sql"),
            "{:?} after {step}: the overview's figures at {path} from the index (left) differ \
             from the tally's (right)",
            s.backend()
        );
    }
    for scope in [Scope::system("index-test"), county] {
        for q in queries() {
            assert_eq!(
                answers(b, &scope, &q),
                answers(s, &scope, &q),
                "{:?} after {step}, {q:?}: the index (left) differs from SQL (right)",
                s.backend()
            );
        }
    }
}

fn assert_tally_is_recount(s: &Store, step: &str) {
    let (t, r) = (tally(s), recount(s));
    assert_eq!(
        t,
        r,
        "{:?} after {step}: person_tally (left) differs from a recount of person (right)",
        s.backend()
    );
    let mut c = s.conn().expect("conn");
    assert_eq!(
        c.query_i64("SELECT COUNT(*) FROM person_tally WHERE n < 0", &[])
            .expect("negative"),
        0,
        "{:?} after {step}: negative tally rows",
        s.backend()
    );
}

const VILLAGES: [&str; 3] = ["330402007024", "330481001003", "330424001003"];

/// A person born on `birth`, with an ID number that agrees.
fn reborn(p: &Person, birth: NaiveDate, seq: u16) -> Person {
    let mut q = p.clone();
    q.birth_date = birth;
    q.id_number = laoxiao_model::idcard::make(&p.id_number[..6], birth, seq);
    q
}

fn infant(id: &str, area: &str, birth: NaiveDate, seq: u16) -> Person {
    Person {
        role: PersonRole::Infant,
        living_arrangement: None,
        special_difficulty: Vec::new(),
        birth_order: Some(1),
        ..elderly(id, area, &birth.format("%Y-%m-%d").to_string(), seq)
    }
}

fn old(i: usize) -> Person {
    let births = [
        "1931-01-01",
        "1944-12-31",
        "1950-06-15",
        "1962-02-28",
        "1944-01-01",
    ];
    let mut p = elderly(
        &format!("E{i:02}"),
        VILLAGES[i % 3],
        births[i % births.len()],
        100 + i as u16,
    );
    p.name = ["王某某", "李建国", "张小明", "单田芳", "陈静"][i % 5].into();
    p.ability_level = [
        None,
        Some(AbilityLevel::Intact),
        Some(AbilityLevel::Complete),
    ][i % 3];
    p.dementia = i % 4 == 1;
    if i % 6 == 2 {
        p.special_difficulty.push(SpecialDifficulty::ExtremePoverty);
        p.living_arrangement = Some(LivingArrangement::EmptyNest);
    }
    if i % 7 == 3 {
        p.status = PersonStatus::Deceased;
        p.death_date = Some(d("2023-05-01"));
    }
    p
}

/// Writes people through every path, checking the tally and the second
/// server's index after each; returns the tally.
fn mixed_writes(s: &Store, url: &str) -> Tally {
    let r = &s.reference;
    let sys = Scope::system("tally-test");
    let today = chrono::Local::now().date_naive();
    let baby = |i: usize| {
        infant(
            &format!("I{i:02}"),
            VILLAGES[i % 3],
            today - Duration::days(100 + 150 * i as i64),
            300 + i as u16,
        )
    };

    // 1. A bulk import into the empty table.
    let mut first: Vec<Person> = (0..30).map(old).collect();
    first.extend((0..6).map(baby));
    let b = second_server(url);
    assert_index_agrees(s, &b, "opening on an empty table");
    laoxiao_store::io::load_records(s, &[], &[], &first, None).expect("first load");
    assert_tally_is_recount(s, "a bulk import into an empty table");
    // After a bulk write the index reloads (in the background on a server;
    // here, now) and declines to answer until then.
    assert!(
        !b.reference
            .people_index
            .ready(&mut b.conn().expect("conn"))
            .expect("ready")
    );
    b.reference
        .people_index
        .build(&mut b.conn().expect("conn"))
        .expect("rebuild");
    assert_index_agrees(s, &b, "a bulk import into an empty table");

    // 2. The API: create, update (area, birth date, status), soft delete.
    let mut c = s.conn().expect("conn");
    for i in 0..3 {
        let p = elderly(
            &format!("A{i}"),
            VILLAGES[(i + 1) % 3],
            "1948-08-08",
            200 + i as u16,
        );
        people::create(&mut c, r, &sys, &p).expect("create");
    }
    let mut moved = old(1);
    moved.residence_area_code = VILLAGES[2].into();
    people::update(&mut c, r, &sys, &moved).expect("move");
    people::update(&mut c, r, &sys, &reborn(&old(2), d("1939-04-04"), 102)).expect("birth");
    let mut died = old(4);
    died.status = PersonStatus::Deceased;
    died.death_date = Some(d("2024-02-02"));
    people::update(&mut c, r, &sys, &died).expect("status");
    let mut left = baby(1);
    left.status = PersonStatus::MovedOut;
    people::update(&mut c, r, &sys, &left).expect("infant status");
    for id in ["E20", "E21", "E22", "A2", "I03"] {
        people::soft_delete(&mut c, r, &sys, id).expect("delete");
    }
    assert_tally_is_recount(s, "API creates, updates and soft deletes");
    assert_index_agrees(s, &b, "API creates, updates and soft deletes");

    // 3. A revival by upsert, and a soft delete undone the same way with a change.
    people::upsert(
        &mut c,
        r,
        &elderly("A2", VILLAGES[0], "1948-08-08", 202),
        "2025-01-01T00:00:00Z",
    )
    .expect("revive A2");
    assert_tally_is_recount(s, "a revival by upsert");
    assert_index_agrees(s, &b, "a revival by upsert");

    // 4. A bulk import into the filled table: unchanged rows, changed ones
    // (area, birth year, status), revivals (one changed), new people.
    let mut second: Vec<Person> = (0..10).map(old).collect();
    let mut e10 = old(10);
    e10.residence_area_code = VILLAGES[0].into();
    second.push(e10);
    second.push(reborn(&old(11), d("1935-11-11"), 111));
    let mut e12 = old(12);
    e12.status = PersonStatus::MovedOut;
    second.push(e12);
    second.push(old(20));
    let mut e21 = old(21);
    e21.residence_area_code = VILLAGES[1].into();
    second.push(e21);
    second.push(baby(3));
    second.extend((40..45).map(old));
    second.push(baby(6));
    drop(c);
    laoxiao_store::io::load_records(s, &[], &[], &second, None).expect("second load");
    assert_tally_is_recount(s, "a bulk import into a filled table");
    b.reference
        .people_index
        .build(&mut b.conn().expect("conn"))
        .expect("rebuild");
    assert_index_agrees(s, &b, "a bulk import into a filled table");

    // 5. A transfer: the holder approves, the record moves to another county.
    let mut c = s.conn().expect("conn");
    let to = r.areas.children("330402007")[0].code.clone();
    let requester = Scope::user(
        Actor {
            user: "town".into(),
            ip: None,
        },
        Role::TownStaff,
        "/330400/330402/330402007/",
        None,
    );
    let holder = Scope::user(
        Actor {
            user: "county".into(),
            ip: None,
        },
        Role::CountyAdmin,
        "/330400/330481/",
        None,
    );
    let person = old(13); // lives in 330481001003
    let t = c
        .transaction(|c| transfers::request(c, r, &requester, &person.id_number, &to, "随子女居住"))
        .expect("request");
    c.transaction(|c| transfers::decide(c, r, &holder, &t.id, Decision::Approve, None))
        .expect("approve");
    assert_tally_is_recount(s, "a transfer");
    assert_index_agrees(s, &b, "a transfer");
    tally(s)
}

#[test]
fn the_tally_equals_a_recount_after_mixed_writes_on_both_databases() {
    let lite = TestDb::sqlite().expect("sqlite");
    let a = mixed_writes(&lite.store, &lite.url);
    assert!(a.len() > 10, "{a:?}");
    let Some(pg) = postgres_url_for("tally parity") else {
        return;
    };
    let pgdb = TestDb::postgres(&pg).expect("postgres");
    let b = mixed_writes(&pgdb.store, &pgdb.url);
    assert_eq!(
        a, b,
        "SQLite's tally (left) differs from PostgreSQL's (right)"
    );
}
