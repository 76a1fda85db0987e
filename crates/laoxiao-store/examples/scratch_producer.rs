use laoxiao_model::PersonRole;
use laoxiao_model::columns::{HeaderMap, RecordKind, person_from_row};
use laoxiao_model::geo::CoordSystem;
use laoxiao_store::Store;
use laoxiao_store::io::read::{CsvSource, RowSource};
use std::time::Instant;

fn main() {
    let file = std::env::args().nth(1).unwrap();
    let stage: u32 = std::env::args().nth(2).unwrap().parse().unwrap();
    let store = Store::open_url(":memory:").unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let t = Instant::now();
    let mut src = CsvSource::new(&bytes);
    let (_, h) = src.header().unwrap().unwrap();
    let map = HeaderMap::new(RecordKind::Elderly, &h).unwrap();
    let mut cells = Vec::new();
    let mut bad = Vec::new();
    let today = chrono::Local::now().date_naive();
    let ck = store.checker();
    let mut n = 0u64;
    let mut e = 0u64;
    let mut keep = Vec::new();
    while let Some(_r) = src.next_row(&mut cells, &mut bad).unwrap() {
        n += 1;
        if stage < 1 {
            continue;
        }
        let p = person_from_row(map.row(&cells, CoordSystem::Wgs84), PersonRole::Elderly).unwrap();
        if stage < 2 {
            continue;
        }
        e += p.validate(&ck, today).len() as u64;
        if stage < 3 {
            continue;
        }
        let area = store.reference.areas.get(&p.residence_area_code).unwrap();
        let v = laoxiao_store::people::params(&p, &area.path);
        if stage >= 4 {
            keep.push(v);
        }
    }
    println!(
        "stage {stage}: {n} rows, {e} errs, {:.2} s",
        t.elapsed().as_secs_f64()
    );
}
