//! `laoxiao import`: every kind, good files and bad ones, dry runs, coordinates,
//! XLSX, limits.

use crate::harness::{Env, KINDS, Report, column, csv_rows, example, write_csv};

clitest!(
    every_kind_imports_its_example_and_again_unchanged,
    |env: &Env| {
        for kind in KINDS {
            let file = example(kind);
            let n = csv_rows(&file).1.len();
            assert!(n > 0, "{kind}: an empty example proves nothing");
            let r = env.import(kind, &file);
            assert_eq!(
                r,
                Report {
                    rows: n,
                    inserted: n,
                    updated: 0,
                    unchanged: 0
                },
                "{kind}"
            );
            assert_eq!(
                env.export_csv(kind, &[]).1.len(),
                n,
                "{kind}: exported rows"
            );
        }
        // The same files again change nothing.
        for kind in KINDS {
            let n = csv_rows(&example(kind)).1.len();
            let r = env.import(kind, &example(kind));
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
    }
);

/// One bad cell per kind: `(kind, data row, column names (en, zh), bad value, column in the message)`.
const BAD: [(&str, usize, [&str; 2], &str, &str); 10] = [
    ("facilities", 2, ["beds", "床位数"], "many", "beds"),
    ("classes", 1, ["capacity", "核定托位数"], "-3", "capacity"),
    (
        "elderly",
        1,
        ["birth_date", "出生日期"],
        "1948-02-30",
        "birth_date",
    ),
    ("infants", 2, ["sex", "性别"], "robot", "sex"),
    (
        "staff",
        3,
        ["hired_date", "入职日期"],
        "someday",
        "hired_date",
    ),
    ("services", 1, ["kind", "服务类型"], "teleport", "kind"),
    (
        "enrolments",
        1,
        ["start_date", "入托日期"],
        "2026-13-01",
        "start_date",
    ),
    (
        "residences",
        1,
        ["admitted_date", "入住日期"],
        "2024-10-32",
        "admitted_date",
    ),
    (
        "student_cohorts",
        2,
        ["intake_year", "入学年份"],
        "MMXXII",
        "intake_year",
    ),
    ("insurance", 4, ["kind", "险种"], "fire_insurance", "kind"),
];

clitest!(
    a_bad_cell_is_named_by_row_column_and_reason_and_nothing_is_written,
    |env: &Env| {
        // Kind by kind in dependency order: the bad file first (all its rows new, so
        // any partial write would show), then the good one for the kinds after it.
        for (kind, row, names, bad, named) in BAD {
            let mut t = csv_rows(&example(kind));
            let col = column(&t, &names);
            assert_ne!(t.1[row - 1][col], bad);
            t.1[row - 1][col] = bad.to_string();
            let file = env.path(&format!("bad-{kind}.csv"));
            write_csv(&file, &t);
            let o = env.cmd().arg("import").arg(kind).arg(&file).fails();
            // The header is row 1 of the file.
            let errors: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("row ")).collect();
            assert_eq!(errors.len(), 1, "{kind}: one bad cell, one error\n{o}");
            let prefix = format!("row {}, column {named}: ", row + 1);
            assert!(
                errors[0].starts_with(&prefix),
                "{kind}: wanted {prefix:?}\n{o}"
            );
            assert!(
                errors[0][prefix.len()..].contains(bad),
                "{kind}: the reason quotes the bad value\n{o}"
            );
            assert!(o.stderr.contains("1 error(s); nothing was written"), "{o}");
            assert!(
                env.export_csv(kind, &[]).1.is_empty(),
                "{kind}: rows written"
            );
            env.import(kind, &example(kind));
        }
    }
);

clitest!(every_bad_row_is_listed_not_only_the_first, |env: &Env| {
    let mut t = csv_rows(&example("facilities"));
    let beds = column(&t, &["beds", "床位数"]);
    for r in [0, 2, 4] {
        t.1[r][beds] = format!("x{r}");
    }
    let file = env.path("bad.csv");
    write_csv(&file, &t);
    let o = env.cmd().args(["import", "facilities"]).arg(&file).fails();
    let rows: Vec<&str> = o
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("row ")?.split(',').next())
        .collect();
    assert_eq!(rows, ["2", "4", "6"], "{o}");
    assert!(o.stderr.contains("3 error(s)"), "{o}");
    assert!(env.export_csv("facilities", &[]).1.is_empty());
});

clitest!(a_dry_run_reports_and_writes_nothing, |env: &Env| {
    let file = example("facilities");
    let n = csv_rows(&file).1.len();
    let o = env
        .cmd()
        .args(["import", "facilities", "--dry-run"])
        .arg(&file)
        .ok();
    assert!(o.stdout.contains("nothing written"), "{o}");
    assert_eq!(Report::parse(&o.stdout).map(|r| r.inserted), Some(n), "{o}");
    assert!(env.export_csv("facilities", &[]).1.is_empty());
    // A bad file fails the dry run the same way.
    let mut t = csv_rows(&file);
    let beds = column(&t, &["beds", "床位数"]);
    t.1[0][beds] = "many".into();
    let bad = env.path("bad.csv");
    write_csv(&bad, &t);
    let o = env
        .cmd()
        .args(["import", "facilities", "--dry-run"])
        .arg(&bad)
        .fails();
    assert!(o.stderr.contains("row 2, column beds"), "{o}");
});

clitest!(people_are_refused_without_a_data_key, |env: &Env| {
    env.import("facilities", &example("facilities"));
    for kind in ["elderly", "infants"] {
        let o = env
            .cmd()
            .env_remove("LAOXIAO_KEY_FILE")
            .arg("import")
            .arg(kind)
            .arg(example(kind))
            .fails();
        assert!(o.stderr.contains("LAOXIAO_DATA_KEY"), "{o}");
    }
    assert!(env.export_csv("elderly", &[]).1.is_empty());
});

clitest!(unknown_kinds_and_missing_files_are_refused, |env: &Env| {
    let o = env
        .cmd()
        .args(["import", "pets"])
        .arg(example("facilities"))
        .usage_error();
    // clap lists the ten kinds.
    assert!(o.stderr.contains("student-cohorts"), "{o}");
    let o = env
        .cmd()
        .args(["import", "facilities"])
        .arg(env.path("nowhere.csv"))
        .fails();
    assert!(o.stderr.contains("nowhere.csv"), "{o}");
    // student_cohorts is accepted with an underscore too.
    env.cmd()
        .args(["import", "student_cohorts", "--dry-run"])
        .arg(example("student_cohorts"))
        .ok();
});

/// A facility at one place given in WGS-84, GCJ-02 and BD-09 per `--coords`.
fn stored_position(env: &Env, coords: &str) -> (f64, f64) {
    let header = "id,name,kind,area_code,lng,lat,beds,nursing_beds,filing_status,status";
    let row = "C1,坐标测试养老院,elderly_institution,330402007029,120.7555,30.7467,30,10,not_required,operating";
    let file = env.write(
        &format!("coords-{coords}.csv"),
        format!("{header}\n{row}\n"),
    );
    let db = env.another();
    db.cmd()
        .args(["import", "facilities", "--coords", coords])
        .arg(&file)
        .ok();
    let t = db.export_csv("facilities", &["--lang", "en"]);
    let (lng, lat) = (column(&t, &["lng"]), column(&t, &["lat"]));
    let num = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("{s:?}"));
    (num(&t.1[0][lng]), num(&t.1[0][lat]))
}

clitest!(coords_say_the_system_of_rows_that_do_not, |env: &Env| {
    let wgs = stored_position(env, "wgs84");
    assert!(
        (wgs.0 - 120.7555).abs() < 1e-6 && (wgs.1 - 30.7467).abs() < 1e-6,
        "{wgs:?}"
    );
    // GCJ-02 is offset from WGS-84 by a few hundred metres in Jiaxing; BD-09 more.
    let gcj = stored_position(env, "gcj02");
    let bd = stored_position(env, "bd09");
    let off = |p: (f64, f64)| ((p.0 - wgs.0).powi(2) + (p.1 - wgs.1).powi(2)).sqrt();
    assert!(off(gcj) > 0.001 && off(gcj) < 0.02, "{gcj:?}");
    assert!(off(bd) > off(gcj) && off(bd) < 0.03, "{bd:?}");
    env.cmd()
        .args(["import", "facilities", "--coords", "mercator"])
        .arg(example("facilities"))
        .usage_error();
});

clitest!(an_xlsx_export_imports_into_another_database, |env: &Env| {
    env.import_examples();
    let other = env.another();
    for kind in KINDS {
        let file = env.path(&format!("{kind}.xlsx"));
        env.cmd()
            .args([
                "export",
                kind,
                "--format",
                "xlsx",
                "--full-id-numbers",
                "--out",
            ])
            .arg(&file)
            .ok();
        let n = csv_rows(&example(kind)).1.len();
        let r = other.import(kind, &file);
        assert_eq!((r.rows, r.inserted), (n, n), "{kind}");
    }
    for kind in KINDS {
        assert_eq!(
            other.export_csv(kind, &["--full-id-numbers"]),
            env.export_csv(kind, &["--full-id-numbers"]),
            "{kind}"
        );
    }
});

clitest!(import_limits_from_flags_and_environment, |env: &Env| {
    let file = example("facilities");
    let n = csv_rows(&file).1.len();
    let o = env
        .cmd()
        .args(["import", "facilities", "--import-max-rows"])
        .arg((n - 1).to_string())
        .arg(&file)
        .fails();
    assert!(o.stderr.contains(&(n - 1).to_string()), "{o}");
    let o = env
        .cmd()
        .env("LAOXIAO_IMPORT_MAX_CELL_CHARS", "3")
        .args(["import", "facilities"])
        .arg(&file)
        .fails();
    assert!(o.stderr.contains('3'), "{o}");
    assert!(env.export_csv("facilities", &[]).1.is_empty());
    // Exactly at the limit is allowed.
    env.cmd()
        .args(["import", "facilities", "--import-max-rows"])
        .arg(n.to_string())
        .arg(&file)
        .ok();
});

clitest!(
    a_register_holding_a_child_now_over_three_imports_as_of_its_date,
    |env: &Env| {
        // The synthetic city of 2022-12-31: its infants were under three then
        // and are all over three today (超龄).
        let dir = env.path("city-2022");
        env.bare()
            .args([
                "synth",
                "--seed",
                "3",
                "--scale",
                "0.001",
                "--as-of",
                "2022-12-31",
                "--out",
            ])
            .arg(&dir)
            .ok();
        let n = |kind: &str| csv_rows(&dir.join(format!("{kind}.csv"))).1.len();
        // Checked on today, the infants are refused by their age on today.
        let o = env
            .cmd()
            .args(["import", "infants"])
            .arg(dir.join("infants.csv"))
            .fails();
        assert!(
            o.stderr
                .contains("column birth_date: infant register is for under-threes"),
            "{o}"
        );
        assert!(env.export_csv("infants", &[]).1.is_empty(), "rows written");
        // Checked on the date the files describe, every register imports and loads.
        for kind in KINDS {
            let o = env
                .cmd()
                .args(["import", kind])
                .arg(dir.join(format!("{kind}.csv")))
                .args(["--as-of", "2022-12-31"])
                .ok();
            let r = Report::parse(&o.stdout).unwrap_or_else(|| panic!("{kind}: {o}"));
            assert_eq!(r.inserted, n(kind), "{kind}: {r:?}");
            assert_eq!(env.export_csv(kind, &[]).1.len(), n(kind), "{kind}");
        }
    }
);
