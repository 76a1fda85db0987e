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

/// The server's environment as the kernel holds it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environ_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|b| {
            b.split(|&c| c == 0)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Starts `serve` on a fresh file, waits until it says it serves, and
/// returns its MALLOC_ARENA_MAX as the running process sees it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn served_arena_setting(dir: &Path, outer: Option<&str>) -> Option<String> {
    use std::io::{BufRead, BufReader};
    let mut c = laoxiao(dir);
    c.args(["--database", "s.db", "serve", "--addr", "127.0.0.1:0"])
        .env_remove("MALLOC_ARENA_MAX")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(v) = outer {
        c.env("MALLOC_ARENA_MAX", v);
    }
    let mut child = c.spawn().expect("spawn");
    let out = child.stdout.take().expect("stdout");
    let mut serving = false;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if line.contains("serving on") {
            serving = true;
            break;
        }
    }
    let env = environ_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(serving, "the server did not start");
    env.into_iter()
        .find_map(|v| v.strip_prefix("MALLOC_ARENA_MAX=").map(str::to_string))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn hole_rel_the_server_runs_with_two_malloc_arenas_unless_told_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        served_arena_setting(dir.path(), None).as_deref(),
        Some(laoxiao::process::ARENAS)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        served_arena_setting(dir.path(), Some("6")).as_deref(),
        Some("6")
    );
}

mod backups {
    // Backup and restore (reliability suite), run as a subprocess.

    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    fn bin() -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_laoxiao"));
        for v in [
            "LAOXIAO_DATABASE_URL",
            "DATABASE_URL",
            "LAOXIAO_KEY_FILE",
            "LAOXIAO_DATA_KEY",
            "LAOXIAO_HMAC_KEY",
            "LAOXIAO_OLD_DATA_KEYS",
            "LAOXIAO_AUDIT_KEY",
        ] {
            c.env_remove(v);
        }
        c
    }

    fn text(o: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "laoxiao-cli-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    // ---------------------------------------------------------------------------
    // Backups and restore (reliability suite)

    /// Fresh keys from `keys generate`, as (name, value) environment pairs.
    fn generated_keys() -> Vec<(String, String)> {
        let o = bin().args(["keys", "generate"]).output().expect("run");
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.starts_with("LAOXIAO_") && !k.contains(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run_ok(keys: &[(String, String)], db: &Path, args: &[&str]) -> String {
        let o = bin()
            .envs(keys.iter().map(|(k, v)| (k, v)))
            .arg("--database")
            .arg(db)
            .args(args)
            .output()
            .expect("run");
        assert!(o.status.success(), "laoxiao {args:?}: {}", text(&o));
        text(&o)
    }

    fn run_err(keys: &[(String, String)], db: &str, args: &[&str]) -> String {
        let o = bin()
            .envs(keys.iter().map(|(k, v)| (k, v)))
            .args(["--database", db])
            .args(args)
            .output()
            .expect("run");
        assert!(!o.status.success(), "laoxiao {args:?} should fail");
        text(&o)
    }

    fn ids(db: &Path, sql: &str) -> Vec<String> {
        let s = laoxiao_store::Store::open_url(&db.display().to_string()).expect("open");
        s.conn()
            .expect("conn")
            .query(sql, &[])
            .expect("query")
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    /// The import's audit entry is written in the import's own transaction:
    /// one entry with the counts for an import, none for a dry run.
    #[test]
    fn import_writes_one_audit_entry_with_its_counts() {
        let dir = temp_dir("import-audit");
        let keys = generated_keys();
        let db = dir.join("t.db");
        let kind = laoxiao_model::columns::RecordKind::Facilities;
        let mut rows = csv::Writer::from_writer(Vec::new());
        rows.write_record(laoxiao_model::columns::headers(
            kind,
            laoxiao_model::columns::HeaderLang::English,
        ))
        .expect("header");
        for i in 0..3 {
            let mut f = laoxiao_model::Facility::blank(
                format!("IMP-{i}"),
                format!("导入测试养老院{i}"),
                laoxiao_model::FacilityKind::ElderlyInstitution,
                "330402007",
            );
            f.beds = Some(30);
            rows.write_record(laoxiao_model::columns::facility_to_row(&f))
                .expect("row");
        }
        let file = dir.join("facilities.csv");
        std::fs::write(&file, rows.into_inner().expect("csv")).expect("write");
        let file = file.display().to_string();
        let imports = || {
            let s = laoxiao_store::Store::open_url(&db.display().to_string()).expect("open");
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
        run_ok(&keys, &db, &["import", "facilities", &file, "--dry-run"]);
        assert!(imports().is_empty());
        run_ok(&keys, &db, &["import", "facilities", &file]);
        let got = imports();
        assert_eq!(got.len(), 1, "{got:?}");
        let (actor, entity, after) = &got[0];
        assert!(actor.starts_with("cli:"), "{actor}");
        assert_eq!(entity, "facilities");
        let after: serde_json::Value = serde_json::from_str(after).expect("json");
        assert_eq!((&after["rows"], &after["inserted"]), (&3.into(), &3.into()));
        // The same file again changes nothing, and says so.
        run_ok(&keys, &db, &["import", "facilities", &file]);
        let got = imports();
        assert_eq!(got.len(), 2, "{got:?}");
        let after: serde_json::Value = serde_json::from_str(&got[1].2).expect("json");
        assert_eq!(after["unchanged"], 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn backup_while_a_writer_writes_then_restore_verifies_and_rows_match() {
        let dir = temp_dir("backup");
        let keys = generated_keys();
        assert!(
            keys.iter().any(|(k, _)| k == "LAOXIAO_DATA_KEY"),
            "{keys:?}"
        );
        let db = dir.join("live.db");
        let synth = dir.join("synth");
        let o = bin()
            .args(["synth", "--seed", "5", "--scale", "0.003", "--out"])
            .arg(&synth)
            .output()
            .expect("synth");
        assert!(o.status.success(), "{}", text(&o));
        // Data with audit entries: imports and an account.
        for kind in ["facilities", "elderly", "infants"] {
            let file = synth.join(format!("{kind}.csv"));
            run_ok(&keys, &db, &["import", kind, &file.display().to_string()]);
        }
        run_ok(
            &keys,
            &db,
            &[
                "user",
                "add",
                "--username",
                "backup-check",
                "--role",
                "auditor",
                "--area",
                "330400",
            ],
        );

        // A writer keeps registering facilities (each audited) during the backup.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (db, stop, keys) = (db.clone(), stop.clone(), keys.clone());
            std::thread::spawn(move || {
                let s = laoxiao_store::Store::open_url(&db.display().to_string()).expect("open");
                // The same keys as the CLI: the trail is keyed, so writes need the audit key.
                let key = |name: &str| {
                    keys.iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .expect("generated key")
                };
                let data = laoxiao_store::crypto::DataKey::parse(&key("LAOXIAO_DATA_KEY"))
                    .expect("data key");
                let hmac =
                    laoxiao_store::crypto::decode_key(&key("LAOXIAO_HMAC_KEY")).expect("hmac key");
                let audit = laoxiao_store::crypto::decode_key(&key("LAOXIAO_AUDIT_KEY"))
                    .expect("audit key");
                s.set_keys(
                    laoxiao_store::Keys::new(data, vec![], hmac)
                        .and_then(|k| k.with_audit_key(audit))
                        .expect("keys"),
                )
                .expect("set keys");
                let scope = laoxiao_store::Scope::system("cli-test-writer");
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 20_000 {
                    let mut f = laoxiao_model::Facility::blank(
                        format!("BK-{n:05}"),
                        format!("备份测试养老院{n}"),
                        laoxiao_model::FacilityKind::ElderlyInstitution,
                        "330402007",
                    );
                    f.beds = Some(30);
                    laoxiao_store::facilities::create(
                        &mut s.conn().expect("conn"),
                        &s.reference,
                        &scope,
                        &f,
                    )
                    .expect("write");
                    n += 1;
                }
                n
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = dir.join("backup.db");
        run_ok(&keys, &db, &["backup", "--out", &out.display().to_string()]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let written = writer.join().expect("writer");
        assert!(written > 0);

        // Never over an existing file.
        let again = run_err(
            &keys,
            &db.display().to_string(),
            &["backup", "--out", &out.display().to_string()],
        );
        assert!(again.contains("exists"), "{again}");

        let restored = dir.join("restored.db");
        let said = run_ok(&keys, &restored, &["restore", &out.display().to_string()]);
        assert!(said.contains("integrity ok"), "{said}");
        let refused = run_err(
            &keys,
            &restored.display().to_string(),
            &["restore", &out.display().to_string()],
        );
        assert!(refused.contains("--force"), "{refused}");
        let verified = run_ok(&keys, &restored, &["audit", "verify"]);
        assert!(verified.contains("intact"), "{verified}");

        // The people are all there; the facilities are the live ones up to a point
        // (a prefix of the writer's), and each restored facility write has its audit entry.
        let q_people = "SELECT id || ':' || row_hash FROM person ORDER BY id";
        assert_eq!(ids(&restored, q_people), ids(&db, q_people));
        let q_fac = "SELECT id || ':' || name FROM facility ORDER BY id";
        let (got, live) = (ids(&restored, q_fac), ids(&db, q_fac));
        assert!(got.iter().all(|f| live.contains(f)));
        let bk: Vec<&String> = got.iter().filter(|f| f.starts_with("BK-")).collect();
        assert!(bk.len() <= written as usize);
        for (k, f) in bk.iter().enumerate() {
            assert!(f.starts_with(&format!("BK-{k:05}:")), "{f} at {k}");
        }
        let s = laoxiao_store::Store::open_url(&restored.display().to_string()).expect("open");
        let audited = s
            .conn()
            .expect("conn")
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'create' AND entity_id LIKE 'BK-%'",
                &[],
            )
            .expect("count");
        assert!(
            audited == bk.len() as i64 || audited == bk.len() as i64 - 1,
            "{audited} audit entries for {} facilities",
            bk.len()
        );
        drop(s);

        // PostgreSQL is pointed to pg_dump.
        let pg = run_err(
            &keys,
            "postgres://postgres@127.0.0.1:1/none",
            &["backup", "--out", &dir.join("pg.db").display().to_string()],
        );
        assert!(pg.contains("pg_dump"), "{pg}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
