//! What recording views costs a people list page and a person detail, for
//! `bench/record_view.sh`.
//!
//! ```text
//! cargo run --release -p laoxiao-store --example record_view_bench -- 20000 300
//! TEST_DATABASE_URL=postgres://… cargo run --release -p laoxiao-store --example record_view_bench -- 20000 300
//! ```
//!
//! Loads N elderly people into one town of a fresh database (SQLite, and
//! PostgreSQL when TEST_DATABASE_URL is set), then times, R times each and
//! interleaved: a list page of 50 as the handlers read it (`people::list` and
//! `people::count` with a town's scope), the same plus `record_view::record`
//! of its 50 ids (one INSERT), and a detail read with and without recording
//! its view. Prints medians and 99th percentiles in milliseconds.

use std::time::Instant;

use chrono::{Days, NaiveDate};
use laoxiao_model::{Person, PersonRole, idcard, person::Sex};
use laoxiao_store::people::{self, PersonQuery};
use laoxiao_store::record_view::{self, Via};
use laoxiao_store::testdb::{TestDb, postgres_url};
use laoxiao_store::{Actor, Role, Scope, Store};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn load(store: &Store, n: usize) -> Vec<String> {
    let r = &store.reference;
    let town = "330402007";
    let villages: Vec<String> = r
        .areas
        .children(town)
        .iter()
        .map(|a| a.code.clone())
        .collect();
    let base = NaiveDate::from_ymd_opt(1930, 1, 1).expect("date");
    let mut c = store.conn().expect("conn");
    let now = laoxiao_store::now_rfc3339();
    let mut ids = Vec::with_capacity(n);
    c.transaction(|c| {
        for i in 0..n {
            let birth = base + Days::new((i / 500) as u64);
            let id = format!("P{i:07}");
            let area = &villages[i % villages.len()];
            let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
            let mut p = Person::blank(&id, PersonRole::Elderly, area, birth, sex);
            p.id_number = idcard::make(
                "330402",
                birth,
                (i % 500) as u16 * 2 + u16::from(i % 2 == 0),
            );
            p.name = format!("测试{i}");
            people::upsert(c, r, &p, &now)?;
            ids.push(id);
        }
        Ok(())
    })
    .expect("load");
    ids
}

fn bench(label: &str, store: &Store, n: usize, rounds: usize) {
    let ids = load(store, n);
    let r = &store.reference;
    let scope = Scope::user(
        Actor {
            user: "bench".into(),
            ip: Some("127.0.0.1".into()),
        },
        Role::TownStaff,
        "/330400/330402/330402007/",
        None,
    );
    let q = PersonQuery {
        limit: Some(50),
        ..Default::default()
    };
    let mut c = store.conn().expect("conn");
    let (mut list, mut list_rec, mut get, mut get_rec) = (vec![], vec![], vec![], vec![]);
    for i in 0..rounds {
        let t = Instant::now();
        let page = people::list(&mut c, r, &scope, &q).expect("list");
        people::count(&mut c, r, &scope, &q).expect("count");
        list.push(t.elapsed().as_secs_f64() * 1e3);

        let t = Instant::now();
        let page2 = people::list(&mut c, r, &scope, &q).expect("list");
        people::count(&mut c, r, &scope, &q).expect("count");
        let shown: Vec<&str> = page2.items.iter().map(|p| p.id.as_str()).collect();
        record_view::record(&mut c, &scope, Via::ApiList, &shown).expect("record");
        list_rec.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(page.items.len(), 50);

        let id = &ids[(i * 7919) % ids.len()];
        let t = Instant::now();
        people::get(&mut c, r, &scope, id).expect("get");
        get.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let p = people::get(&mut c, r, &scope, id).expect("get");
        record_view::record(&mut c, &scope, Via::ApiDetail, &[p.id.as_str()]).expect("record");
        get_rec.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rows = c
        .query_i64("SELECT COUNT(*) FROM record_view", &[])
        .expect("rows");
    for (what, v) in [
        ("list page of 50", &mut list),
        ("list page of 50 + record 50 views", &mut list_rec),
        ("person detail", &mut get),
        ("person detail + record 1 view", &mut get_rec),
    ] {
        let (p50, p99) = (pct(v, 0.5), pct(v, 0.99));
        println!("{label:<10} {what:<36} median {p50:8.3} ms   p99 {p99:8.3} ms");
    }
    println!("{label:<10} ({n} people loaded, {rounds} rounds, {rows} view rows written)");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let lite = TestDb::sqlite().expect("sqlite");
    bench("sqlite", &lite.store, n, rounds);
    if let Some(url) = postgres_url() {
        let pg = TestDb::postgres(&url).expect("postgres");
        bench("postgres", &pg.store, n, rounds);
    } else {
        println!("postgres   skipped (no TEST_DATABASE_URL)");
    }
}
