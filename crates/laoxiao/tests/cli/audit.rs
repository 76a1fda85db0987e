//! `laoxiao audit verify` and `audit head`.

use crate::harness::{Env, example};

/// The number of entries `audit verify` says it verified.
fn verified(env: &Env) -> usize {
    let o = env.cmd().args(["audit", "verify"]).ok();
    o.stdout
        .split("audit trail intact: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in\n{o}"))
}

clitest!(head_of_an_empty_trail_is_refused, |env: &Env| {
    let o = env.cmd().args(["audit", "head"]).fails();
    assert!(o.stderr.contains("empty"), "{o}");
    assert!(o.stdout.is_empty(), "{o}");
});

clitest!(every_write_adds_one_entry_and_dry_runs_none, |env: &Env| {
    env.cmd().arg("migrate").ok();
    let start = verified(env);
    assert!(start >= 1, "migrate creates the administrator, audited");
    env.cmd()
        .args(["import", "facilities", "--dry-run"])
        .arg(example("facilities"))
        .ok();
    assert_eq!(verified(env), start, "a dry run writes nothing");
    env.import("facilities", &example("facilities"));
    assert_eq!(verified(env), start + 1, "one entry per import");
    env.cmd()
        .args([
            "user",
            "add",
            "--username",
            "au",
            "--role",
            "auditor",
            "--area",
            "330400",
        ])
        .ok();
    assert_eq!(verified(env), start + 2, "and per account");
    // The head names the newest entry.
    let o = env.cmd().args(["audit", "head"]).ok();
    let line = o.stdout.trim_end();
    assert_eq!(o.stdout.lines().count(), 1, "{o}");
    let seq: usize = line
        .strip_prefix("laoxiao-audit-head seq=")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{o}"));
    assert_eq!(seq, start + 2, "{o}");
    let head = env.write("head.txt", &o.stdout);
    let o = env
        .cmd()
        .args(["audit", "verify", "--head"])
        .arg(&head)
        .ok();
    assert!(
        o.stdout.contains(&format!("head entry {seq} matches")),
        "{o}"
    );
});

clitest!(
    a_bad_head_file_is_named_with_the_format_it_should_have,
    |env: &Env| {
        env.cmd().arg("migrate").ok();
        let head = env.write("head.txt", "LAOXIAO_DATA_KEY=x\n");
        let o = env
            .cmd()
            .args(["audit", "verify", "--head"])
            .arg(&head)
            .fails();
        assert!(
            o.stderr.contains("head.txt") && o.stderr.contains("laoxiao-audit-head seq="),
            "{o}"
        );
        let o = env
            .cmd()
            .args(["audit", "verify", "--head"])
            .arg(env.path("missing.txt"))
            .fails();
        assert!(o.stderr.contains("missing.txt"), "{o}");
    }
);

clitest!(
    verify_under_another_audit_key_names_the_first_entry,
    |env: &Env| {
        env.cmd().arg("migrate").ok();
        let other = env.another();
        let o = env
            .cmd()
            .env("LAOXIAO_KEY_FILE", other.key_file())
            .args(["audit", "verify"])
            .fails();
        assert!(o.stderr.contains("broken at entry 1"), "{o}");
    }
);

/// A cut tail is invisible to the chain alone and seen with a kept head. The
/// cut goes around the database's own guard (SQLite: its trigger).
#[test]
fn head_and_verify_head_detect_a_cut_tail() {
    let env = Env::sqlite();
    env.cmd().arg("migrate").ok();
    env.cmd()
        .args([
            "user",
            "add",
            "--username",
            "clerk",
            "--role",
            "auditor",
            "--area",
            "330402",
        ])
        .ok();
    let o = env.cmd().args(["audit", "head"]).ok();
    let head = env.write("head.txt", &o.stdout);
    env.cmd()
        .args(["audit", "verify", "--head"])
        .arg(&head)
        .ok();
    {
        let store = laoxiao_store::Store::open_url(&env.database()).expect("open");
        let mut c = store.conn().expect("conn");
        c.batch("DROP TRIGGER audit_log_no_delete")
            .expect("drop trigger");
        c.execute(
            "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
            &[],
        )
        .expect("cut");
    }
    let o = env.cmd().args(["audit", "verify"]).ok();
    assert!(
        o.stdout.contains("intact"),
        "the chain alone cannot see a cut: {o}"
    );
    let o = env
        .cmd()
        .args(["audit", "verify", "--head"])
        .arg(&head)
        .fails();
    assert!(o.stderr.contains("missing"), "{o}");
}

clitest!(
    import_writes_one_audit_entry_with_its_counts,
    |env: &Env| {
        // The import's audit entry is written in the import's own transaction:
        // one entry with the counts for an import, none for a dry run.
        let file = example("facilities");
        let n = crate::harness::csv_rows(&file).1.len();
        let imports = || {
            let s = laoxiao_store::Store::open_url(&env.database()).expect("open");
            s.conn()
            .expect("conn")
            .query(
                "SELECT actor, entity, after FROM audit_log WHERE action = 'import' ORDER BY seq",
                &[],
            )
            .expect("query")
            .iter()
            .map(|r| {
                (
                    r.get::<String>("actor").expect("actor"),
                    r.get::<String>("entity").expect("entity"),
                    r.get::<String>("after").expect("after"),
                )
            })
            .collect::<Vec<_>>()
        };
        env.cmd()
            .args(["import", "facilities"])
            .arg(&file)
            .arg("--dry-run")
            .ok();
        assert!(imports().is_empty(), "a dry run writes no entry");
        env.import("facilities", &file);
        let got = imports();
        assert_eq!(got.len(), 1, "{got:?}");
        let (actor, entity, after) = &got[0];
        assert!(actor.starts_with("cli:"), "{actor}");
        assert_eq!(entity, "facilities");
        let after: serde_json::Value = serde_json::from_str(after).expect("json");
        assert_eq!(after["inserted"], serde_json::json!(n));
        // The same file again changes nothing, and says so.
        env.import("facilities", &file);
        let got = imports();
        assert_eq!(got.len(), 2, "{got:?}");
        let after: serde_json::Value = serde_json::from_str(&got[1].2).expect("json");
        assert_eq!(after["unchanged"], serde_json::json!(n));
    }
);
