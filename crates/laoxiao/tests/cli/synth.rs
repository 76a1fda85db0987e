//! `laoxiao synth`: the synthetic city as import files, at a small scale.

use crate::harness::{Env, KINDS, column, csv_rows, is_valid_id};

fn synth(env: &Env, dir: &str, args: &[&str]) -> std::path::PathBuf {
    let out = env.path(dir);
    let o = env
        .bare()
        .arg("synth")
        .args(args)
        .arg("--out")
        .arg(&out)
        .ok();
    let wrote = o.stdout.lines().filter(|l| l.starts_with("wrote ")).count();
    assert_eq!(wrote, KINDS.len(), "{o}");
    out
}

#[test]
fn nine_files_deterministic_by_seed_and_dated_as_of() {
    let env = Env::sqlite();
    let args = ["--seed", "7", "--scale", "0.002", "--as-of", "2026-06-30"];
    let a = synth(&env, "a", &args);
    let b = synth(&env, "b", &args);
    let c = synth(
        &env,
        "c",
        &["--seed", "8", "--scale", "0.002", "--as-of", "2026-06-30"],
    );
    let mut differs = false;
    for kind in KINDS {
        let name = format!("{kind}.csv");
        let fa = std::fs::read(a.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            fa,
            std::fs::read(b.join(&name)).expect("b"),
            "{name}: same seed"
        );
        differs |= fa != std::fs::read(c.join(&name)).expect("c");
        assert!(!csv_rows(&a.join(&name)).1.is_empty(), "{name} is empty");
    }
    assert!(differs, "another seed, another city");

    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    for (kind, youngest, oldest) in [("elderly", 60, 130), ("infants", 0, 2)] {
        let t = csv_rows(&a.join(format!("{kind}.csv")));
        let (id, born) = (column(&t, &["id_number"]), column(&t, &["birth_date"]));
        for r in &t.1 {
            assert!(is_valid_id(&r[id]), "{kind}: {}", r[id]);
            let b: chrono::NaiveDate = r[born].parse().expect("birth date");
            // The ID number carries the birth date.
            assert_eq!(r[id][6..14], b.format("%Y%m%d").to_string(), "{kind}");
            let age = as_of
                .years_since(b)
                .unwrap_or_else(|| panic!("{kind}: born {b} after {as_of}"));
            assert!(
                (youngest..=oldest).contains(&age),
                "{kind}: {age} years old on {as_of}"
            );
        }
    }

    // Scale is the share of people: twice the scale, about twice the people.
    let d = synth(
        &env,
        "d",
        &["--seed", "7", "--scale", "0.004", "--as-of", "2026-06-30"],
    );
    let people = |dir: &std::path::Path| csv_rows(&dir.join("elderly.csv")).1.len() as f64;
    let ratio = people(&d) / people(&a);
    assert!((1.6..2.4).contains(&ratio), "{ratio}");
}

#[test]
fn scale_out_of_range_is_refused() {
    let env = Env::sqlite();
    for s in ["0", "-1", "3", "NaN"] {
        let o = env
            .bare()
            .arg("synth")
            .arg(format!("--scale={s}"))
            .arg("--out")
            .arg(env.path("x"))
            .fails();
        assert!(o.stderr.contains("--scale"), "{o}");
        assert!(!env.path("x").join("elderly.csv").exists());
    }
    env.bare().args(["synth"]).usage_error();
    env.bare()
        .args(["synth", "--as-of", "yesterday", "--out", "x"])
        .usage_error();
}

clitest!(every_synth_file_imports, |env: &Env| {
    let dir = synth(env, "city", &["--seed", "3", "--scale", "0.002"]);
    for kind in KINDS {
        let file = dir.join(format!("{kind}.csv"));
        let n = csv_rows(&file).1.len();
        let r = env.import(kind, &file);
        assert_eq!((r.rows, r.inserted), (n, n), "{kind}");
    }
    let o = env.cmd().args(["audit", "verify"]).ok();
    assert!(o.stdout.contains("intact"), "{o}");
});
