//! `laoxiao subsidies …`: a run prepared, refused to its preparer, approved
//! by a second account, exported, paid and not paid again; explain, what-if,
//! the YAML cases, and the errors a user makes.

use std::path::Path;

use crate::harness::{Env, xlsx_sheets};

fn reform(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

clitest!(
    subsidies_run_review_export_pay_explain_whatif,
    |env: &Env| {
        env.import_examples();
        // A centenarian with a 南湖 hukou, born in March 1920.
        let born = chrono::NaiveDate::from_ymd_opt(1920, 3, 1).expect("date");
        let id = laoxiao_model::idcard::make("330402", born, 2);
        let file = env.write(
        "old.csv",
        format!(
            "编号,身份证号码,姓名,性别,出生日期,户籍区划代码,居住区划代码\nE9001,{id},寿星某,女,1920-03-01,330402,330402007024\n"
        ),
    );
        env.import("elderly", &file);
        for name in ["alice", "bob"] {
            env.cmd()
                .args([
                    "user",
                    "add",
                    "--username",
                    name,
                    "--role",
                    "city_admin",
                    "--area",
                    "330400",
                ])
                .ok();
        }
        let o = env
            .cmd()
            .args(["subsidies", "run", "--month", "2025-06", "--as", "alice"])
            .ok();
        assert!(o.stdout.contains("run 1 · monthly 2025-06 · draft"), "{o}");
        assert!(o.stdout.contains("百岁老人长寿保健金"), "{o}");
        let o = env
            .cmd()
            .args(["subsidies", "approve", "1", "--as", "alice"])
            .fails();
        assert!(o.stderr.contains("a second account must review it"), "{o}");
        env.cmd()
            .args([
                "subsidies",
                "approve",
                "1",
                "--as",
                "bob",
                "--note",
                "核对无误",
            ])
            .ok();
        let xlsx = env.path("run1.xlsx");
        env.cmd()
            .args(["subsidies", "export", "1", "--out"])
            .arg(&xlsx)
            .ok();
        let sheets = xlsx_sheets(&xlsx);
        let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["发放明细", "汇总"]);
        let detail = &sheets[0].1;
        assert!(detail[1].contains(&"金额（元）".to_string()), "{detail:?}");
        assert!(
            detail
                .iter()
                .any(|r| r.contains(&"E9001".to_string()) && r.contains(&"600".to_string())),
            "{detail:?}"
        );
        let o = env
            .cmd()
            .args(["subsidies", "paid", "1", "--as", "bob"])
            .ok();
        assert!(o.stdout.contains("· paid ·"), "{o}");
        // The month again: nothing changed, nothing is paid twice.
        let o = env
            .cmd()
            .args(["subsidies", "run", "--month", "2025-06", "--as", "alice"])
            .ok();
        assert!(
            o.stdout
                .contains("run 2 · monthly 2025-06 · draft · 0 lines"),
            "{o}"
        );
        let o = env.cmd().args(["subsidies", "list"]).ok();
        assert!(
            o.stdout.contains("paid") && o.stdout.contains("draft"),
            "{o}"
        );
        // Explain names the parameter, its clause and the arithmetic.
        let o = env
            .cmd()
            .args([
                "subsidies",
                "explain",
                "--payee",
                "E9001",
                "--month",
                "2025-07",
            ])
            .ok();
        assert!(o.stdout.contains("centenarian.monthly = 600"), "{o}");
        assert!(
            o.stdout.contains("百岁老人长寿保健金提高到每人每月600元"),
            "{o}"
        );
        assert!(
            o.stdout
                .contains("市级 city 300.00 + 县（市、区） county 300.00"),
            "{o}"
        );
        // What-if: 600 → 800 from 2026, one centenarian: 200 × 12 more.
        let o = env
            .cmd()
            .args(["subsidies", "whatif", "--year", "2026", "--reform"])
            .arg(reform("reform-centenarian-800.toml"))
            .ok();
        assert!(o.stdout.contains("difference 2,400.00 yuan"), "{o}");
        let o = env
            .cmd()
            .args([
                "subsidies",
                "explain",
                "--payee",
                "NOBODY",
                "--month",
                "2025-07",
            ])
            .fails();
        assert!(o.stderr.contains("NOBODY"), "{o}");
    }
);

#[test]
fn subsidies_test_runs_the_shipped_cases_and_reports_failures() {
    let env = Env::sqlite();
    let o = env.bare().args(["subsidies", "test"]).ok();
    assert!(o.stdout.contains(" 0 failures"), "{o}");
    let bad = env.write(
        "bad.yaml",
        "- name: wrong on purpose\n  period: 2025-06\n  snapshot:\n    elders:\n      - { id: P1, birth_date: 1920-01-01, hukou_area_code: \"330481001\" }\n  expect:\n    - { rule: centenarian, subject: P1, amount: 601 }\n",
    );
    let o = env.bare().args(["subsidies", "test"]).arg(&bad).fails();
    assert!(
        o.stdout.contains("FAIL") && o.stdout.contains("expected 601.00, got 600.00"),
        "{o}"
    );
}

#[test]
fn subsidies_errors_say_what_is_wrong() {
    let env = Env::sqlite();
    let o = env
        .cmd()
        .args(["subsidies", "run", "--month", "2025-13"])
        .fails();
    assert!(o.stderr.contains("2025-13"), "{o}");
    let o = env
        .cmd()
        .args(["subsidies", "run", "--month", "2025-06", "--year", "2025"])
        .fails();
    assert!(o.stderr.contains("exactly one of --month"), "{o}");
    let o = env
        .cmd()
        .args(["subsidies", "approve", "9", "--as", "nobody"])
        .fails();
    assert!(o.stderr.contains("no account \"nobody\""), "{o}");
    let bad = env.write(
        "inc.csv",
        "county_code,year,yuan,source\n330400,2024,80000,公报\n",
    );
    let o = env.cmd().args(["subsidies", "income"]).arg(&bad).fails();
    assert!(
        o.stderr.contains("row 1") && o.stderr.contains("330400"),
        "{o}"
    );
}
