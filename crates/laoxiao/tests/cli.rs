//! The command line, run as a built binary: key files (hole 12) and the audit
//! head (hole 6). SQLite only: what differs between databases is the store's,
//! tested on both in laoxiao-store.

use std::path::Path;
use std::process::{Command, Output};

/// The binary, in `dir`, with no LAOXIAO_* or DATABASE_URL from the outside.
fn laoxiao(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laoxiao"));
    c.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("LAOXIAO_") || k == "DATABASE_URL" {
            c.env_remove(k);
        }
    }
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run laoxiao")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `migrate` with this key file: what `serve` reads too (`open` loads the keys).
fn migrate_with(dir: &Path, key_file: &Path) -> Output {
    run(laoxiao(dir)
        .args(["--database", "t.db", "migrate"])
        .env("LAOXIAO_KEY_FILE", key_file))
}

#[test]
fn hole_12_keys_generate_out_writes_a_private_key_file_that_migrate_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("laoxiao.key");
    let o = run(laoxiao(dir.path())
        .args(["keys", "generate", "--out"])
        .arg(&key));
    assert!(o.status.success(), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let written = std::fs::read_to_string(&key).expect("read");
    for k in ["data_key = ", "hmac_key = ", "audit_key = "] {
        assert!(written.contains(k), "{written}");
    }
    let o = migrate_with(dir.path(), &key);
    assert!(o.status.success(), "{}", text(&o));
    // The keys were used: the first administrator's creation is a keyed entry.
    let o = run(laoxiao(dir.path())
        .args(["--database", "t.db", "audit", "verify"])
        .env("LAOXIAO_KEY_FILE", &key));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("keyed (MAC) from entry 1"),
        "{}",
        text(&o)
    );
    // Never overwritten.
    let o = run(laoxiao(dir.path())
        .args(["keys", "generate", "--out"])
        .arg(&key));
    assert!(!o.status.success());
    assert!(text(&o).contains("refusing to overwrite"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&key).expect("read"), written);
}

#[test]
fn hole_12_the_printed_lines_saved_as_the_key_file_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(laoxiao(dir.path()).args(["keys", "generate"]));
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(printed.contains("LAOXIAO_AUDIT_KEY="), "{printed}");
    let key = dir.path().join("saved.env");
    std::fs::write(&key, &printed).expect("write");
    let o = migrate_with(dir.path(), &key);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn hole_12_a_bad_key_file_is_named_with_the_format_it_should_have() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("broken.key");
    std::fs::write(&key, "data_key = k1:abc\n").expect("write");
    let o = migrate_with(dir.path(), &key);
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("broken.key"), "{out}");
    assert!(
        out.contains("data_key = ") && out.contains("LAOXIAO_DATA_KEY=…"),
        "{out}"
    );
}

#[test]
fn hole_06_audit_head_and_verify_head_detect_a_cut_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k.key");
    assert!(
        run(laoxiao(dir.path())
            .args(["keys", "generate", "--out"])
            .arg(&key))
        .status
        .success()
    );
    let with_keys =
        |args: &[&str]| run(laoxiao(dir.path()).args(args).env("LAOXIAO_KEY_FILE", &key));
    let o = with_keys(&["--database", "t.db", "migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = with_keys(&[
        "--database",
        "t.db",
        "user",
        "add",
        "--username",
        "clerk",
        "--role",
        "auditor",
        "--area",
        "330402",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = with_keys(&["--database", "t.db", "audit", "head"]);
    assert!(o.status.success(), "{}", text(&o));
    let line = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        line.starts_with("laoxiao-audit-head seq=") && line.lines().count() == 1,
        "{line}"
    );
    let head = dir.path().join("head.txt");
    std::fs::write(&head, &line).expect("write");
    let head_arg = head.to_str().expect("path");
    let o = with_keys(&["--database", "t.db", "audit", "verify", "--head", head_arg]);
    assert!(o.status.success(), "intact passes: {}", text(&o));
    // Cut the newest entry around the triggers.
    {
        let store = laoxiao_store::Store::open_url(dir.path().join("t.db").to_str().expect("path"))
            .expect("open");
        let mut c = store.conn().expect("conn");
        c.batch("DROP TRIGGER audit_log_no_delete")
            .expect("drop trigger");
        c.execute(
            "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
            &[],
        )
        .expect("cut");
    }
    let o = with_keys(&["--database", "t.db", "audit", "verify"]);
    assert!(
        o.status.success(),
        "the chain alone cannot see a cut: {}",
        text(&o)
    );
    let o = with_keys(&["--database", "t.db", "audit", "verify", "--head", head_arg]);
    assert!(!o.status.success());
    assert!(text(&o).contains("missing"), "{}", text(&o));
    // Not a head file: named, with the expected format.
    std::fs::write(&head, "LAOXIAO_DATA_KEY=x\n").expect("write");
    let o = with_keys(&["--database", "t.db", "audit", "verify", "--head", head_arg]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("head.txt") && text(&o).contains("laoxiao-audit-head seq="),
        "{}",
        text(&o)
    );
}
