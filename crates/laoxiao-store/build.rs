//! Embeds the migrations: every `migrations/sqlite/NNNN_name.sql` with its
//! `migrations/postgres/NNNN_name.sql` twin, in version order, as the list
//! `migrate.rs` applies. Adding a migration is adding its two files; a file
//! without its twin, or a gap in the numbering, fails the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn scan(dir: &Path) -> BTreeMap<i64, String> {
    let mut out = BTreeMap::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let (num, _) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("migration {name}: expected NNNN_name.sql"));
        let v: i64 = num
            .parse()
            .unwrap_or_else(|_| panic!("migration {name}: expected NNNN_name.sql"));
        assert!(
            out.insert(v, stem.to_string()).is_none(),
            "two migrations numbered {v}"
        );
    }
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo::rerun-if-changed={}", root.display());
    for b in ["sqlite", "postgres"] {
        println!("cargo::rerun-if-changed={}", root.join(b).display());
    }
    let sqlite = scan(&root.join("sqlite"));
    let pg = scan(&root.join("postgres"));
    assert_eq!(
        sqlite, pg,
        "every migration needs a SQLite and a PostgreSQL file of the same name"
    );
    let mut code = String::from("&[\n");
    for (i, (v, stem)) in sqlite.iter().enumerate() {
        assert_eq!(
            *v,
            i as i64 + 1,
            "migration numbers must run 1, 2, 3 … without gaps"
        );
        let name = stem.split_once('_').map_or("", |(_, n)| n);
        let s = root.join("sqlite").join(format!("{stem}.sql"));
        let p = root.join("postgres").join(format!("{stem}.sql"));
        let _ = writeln!(
            code,
            "    ({v}, {name:?}, include_str!({:?}), include_str!({:?})),",
            s.display().to_string(),
            p.display().to_string()
        );
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(out, code).expect("write migrations.rs");
}
