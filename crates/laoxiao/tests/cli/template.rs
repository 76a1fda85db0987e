//! `laoxiao template`: every kind, XLSX with a 填写说明 sheet; CSV is refused.

use crate::harness::{Env, KINDS, Report, xlsx_sheets};

clitest!(every_kind_has_a_template_with_instructions, |env: &Env| {
    for kind in KINDS {
        let file = env.path(&format!("t-{kind}.xlsx"));
        let o = env.cmd().args(["template", kind, "--out"]).arg(&file).ok();
        assert!(o.stdout.contains(&format!("t-{kind}.xlsx")), "{o}");
        let sheets = xlsx_sheets(&file);
        let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
        let data = &sheets[0].1;
        assert_eq!(data.len(), 1, "{kind}: a header row and no data: {data:?}");
        let header = &data[0];
        // The headers are the Chinese ones of a full export (what imports take).
        let zh = env
            .export_csv(kind, &["--full-id-numbers", "--lang", "zh"])
            .0;
        assert_eq!(header, &zh, "{kind}");
        let help = &sheets
            .iter()
            .find(|(n, _)| n == "填写说明")
            .unwrap_or_else(|| panic!("{kind}: no 填写说明 sheet in {names:?}"))
            .1;
        // Every column is explained, in the data sheet's order.
        let explained: Vec<&String> = help
            .iter()
            .filter_map(|r| r.iter().find(|c| header.contains(c)))
            .collect();
        assert_eq!(
            explained,
            header.iter().collect::<Vec<_>>(),
            "{kind}: {help:?}"
        );
        // A blank template imports as nothing.
        let r = env.import(kind, &file);
        assert_eq!(
            r,
            Report {
                rows: 0,
                inserted: 0,
                updated: 0,
                unchanged: 0
            },
            "{kind}"
        );
    }
});

#[test]
fn the_default_file_is_named_after_the_kind() {
    let env = Env::sqlite();
    for kind in ["facilities", "student-cohorts"] {
        let o = env.bare().args(["template", kind]).ok();
        let name = format!("{}-template.xlsx", kind.replace('-', "_"));
        assert!(o.stdout.contains(&name), "{o}");
        assert!(!xlsx_sheets(&env.path(&name)).is_empty(), "{name}");
    }
}

#[test]
fn csv_templates_are_refused_and_nothing_is_written() {
    let env = Env::sqlite();
    let file = env.path("t.csv");
    let o = env
        .bare()
        .args(["template", "elderly", "--format", "csv", "--out"])
        .arg(&file)
        .fails();
    assert!(o.stderr.contains("xlsx"), "{o}");
    assert!(!file.exists());
    env.bare().args(["template", "pets"]).usage_error();
}
