//! `laoxiao export`: every kind, masked by default, both header languages, XLSX.

use crate::harness::{
    Env, KINDS, Report, column, csv_rows, example, is_masked_id, is_valid_id, xlsx_sheets,
};

const PEOPLE: [&str; 2] = ["elderly", "infants"];

clitest!(
    every_kind_exports_its_rows_with_id_numbers_masked,
    |env: &Env| {
        env.import_examples();
        for kind in KINDS {
            let given = csv_rows(&example(kind));
            let t = env.export_csv(kind, &[]);
            assert_eq!(t.1.len(), given.1.len(), "{kind}");
            // No full ID number anywhere in a default export.
            for row in &t.1 {
                for cell in row {
                    assert!(!is_valid_id(cell), "{kind}: a full ID number {cell}");
                }
            }
            if PEOPLE.contains(&kind) {
                let id =
                    t.0.iter()
                        .position(|h| h.contains("身份证"))
                        .unwrap_or_else(|| panic!("{kind}: no ID column in {:?}", t.0));
                for row in &t.1 {
                    assert!(
                        is_masked_id(&row[id]),
                        "{kind}: {:?} is not masked",
                        row[id]
                    );
                }
            }
        }
    }
);

clitest!(full_id_numbers_are_the_imported_ones, |env: &Env| {
    env.import_examples();
    for kind in PEOPLE {
        let given = csv_rows(&example(kind));
        let t = env.export_csv(kind, &["--full-id-numbers", "--lang", "en"]);
        let mut want: Vec<&String> = given
            .1
            .iter()
            .map(|r| &r[column(&given, &["id_number", "身份证号码"])])
            .collect();
        let mut got: Vec<&String> = t.1.iter().map(|r| &r[column(&t, &["id_number"])]).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{kind}");
        // Masked and full exports agree on everything but the hidden digits.
        let masked = env.export_csv(kind, &["--lang", "en"]);
        let m = column(&masked, &["id_number_masked"]);
        assert_eq!(m, column(&t, &["id_number"]));
        for (full, masked) in t.1.iter().zip(&masked.1) {
            let (f, m) = (&full[m], &masked[m]);
            assert_eq!((&f[..6], &f[14..]), (&m[..6], &m[14..]), "{kind}");
        }
    }
});

clitest!(
    headers_in_either_language_read_back_as_the_examples,
    |env: &Env| {
        env.import_examples();
        for kind in KINDS {
            let given = csv_rows(&example(kind)).0;
            let zh = env
                .export_csv(kind, &["--full-id-numbers", "--lang", "zh"])
                .0;
            let en = env
                .export_csv(kind, &["--full-id-numbers", "--lang", "en"])
                .0;
            assert_ne!(zh, en, "{kind}");
            // Each example is written with columns of one of the two header sets.
            let within = |set: &Vec<String>| given.iter().all(|h| set.contains(h));
            assert!(
                within(&zh) || within(&en),
                "{kind}: {given:?}\nzh {zh:?}\nen {en:?}"
            );
            assert!(en.iter().all(|h| h.is_ascii()), "{kind}: {en:?}");
            assert!(zh.iter().any(|h| !h.is_ascii()), "{kind}: {zh:?}");
        }
        let o = env
            .cmd()
            .args(["export", "facilities", "--lang", "fr", "--out"])
            .arg(env.path("x.csv"))
            .usage_error();
        assert!(o.stderr.contains("zh"), "{o}");
    }
);

clitest!(
    a_full_export_reimports_unchanged_and_a_masked_one_is_refused,
    |env: &Env| {
        env.import_examples();
        for kind in KINDS {
            let file = env.path(&format!("round-{kind}.csv"));
            env.cmd()
                .args(["export", kind, "--full-id-numbers", "--out"])
                .arg(&file)
                .ok();
            let n = csv_rows(&file).1.len();
            let r = env.import(kind, &file);
            assert_eq!(
                r,
                Report {
                    rows: n,
                    inserted: 0,
                    updated: 0,
                    unchanged: n
                },
                "{kind}"
            );
        }
        let masked = env.path("masked.csv");
        env.cmd()
            .args(["export", "elderly", "--out"])
            .arg(&masked)
            .ok();
        let o = env.cmd().args(["import", "elderly"]).arg(&masked).fails();
        assert!(
            o.stderr.contains("column id_number: ") && o.stderr.contains("masked"),
            "{o}"
        );
    }
);

clitest!(xlsx_holds_the_csv_rows, |env: &Env| {
    env.import_examples();
    for kind in KINDS {
        let csv = env.export_csv(kind, &[]);
        let file = env.path(&format!("{kind}.xlsx"));
        let o = env
            .cmd()
            .args(["export", kind, "--format", "xlsx", "--out"])
            .arg(&file)
            .ok();
        assert!(
            o.stdout.contains(&format!("wrote {} rows", csv.1.len())),
            "{o}"
        );
        let sheets = xlsx_sheets(&file);
        let rows = &sheets
            .first()
            .unwrap_or_else(|| panic!("{kind}: no sheet"))
            .1;
        assert_eq!(rows[0], csv.0, "{kind}");
        assert_eq!(rows.len() - 1, csv.1.len(), "{kind}");
        for (x, c) in rows[1..].iter().zip(&csv.1) {
            assert_eq!(x[0], c[0], "{kind}: ids in the same order");
            for (a, b) in x.iter().zip(c) {
                let same = a == b
                    || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(p), Ok(q)) if (p - q).abs() < 1e-9);
                assert!(same, "{kind}: xlsx {a:?} csv {b:?}");
            }
        }
    }
});

clitest!(an_empty_register_exports_its_header, |env: &Env| {
    for kind in KINDS {
        let t = env.export_csv(kind, &[]);
        assert!(t.1.is_empty(), "{kind}");
        assert!(t.0.len() >= 4, "{kind}: {:?}", t.0);
    }
    let o = env
        .cmd()
        .args(["export", "facilities", "--out"])
        .arg(env.path("no/such/dir/x.csv"))
        .fails();
    assert!(o.stderr.contains("no/such/dir"), "{o}");
    env.cmd().args(["export", "facilities"]).usage_error();
});
