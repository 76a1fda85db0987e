//! `laoxiao backup` and `restore` (SQLite; PostgreSQL is pointed to pg_dump).

use std::path::Path;

use crate::harness::{Env, KINDS};

/// One text column `v` of every row of `sql`.
fn values(db: &Path, sql: &str) -> Vec<String> {
    let s = laoxiao_store::Store::open_url(&db.display().to_string()).expect("open");
    s.conn()
        .expect("conn")
        .query(sql, &[])
        .expect("query")
        .iter()
        .map(|r| r.get::<String>("v").expect("v"))
        .collect()
}

/// The keys in `env`'s key file, as the store takes them.
fn store_keys(env: &Env) -> laoxiao_store::Keys {
    let text = std::fs::read_to_string(env.key_file()).expect("key file");
    let value = |name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("{name} in the key file"))
    };
    let data = laoxiao_store::crypto::DataKey::parse(&value("data_key")).expect("data key");
    let hmac = laoxiao_store::crypto::decode_key(&value("hmac_key")).expect("hmac key");
    let audit = laoxiao_store::crypto::decode_key(&value("audit_key")).expect("audit key");
    laoxiao_store::Keys::new(data, vec![], hmac)
        .and_then(|k| k.with_audit_key(audit))
        .expect("keys")
}

#[test]
fn backup_while_a_writer_writes_then_restore_verifies_and_rows_match() {
    let env = Env::sqlite();
    let db = std::path::PathBuf::from(env.database());
    let synth = env.path("synth");
    env.bare()
        .args(["synth", "--seed", "5", "--scale", "0.003", "--out"])
        .arg(&synth)
        .ok();
    // Data with audit entries: imports and an account.
    for kind in KINDS {
        env.import(kind, &synth.join(format!("{kind}.csv")));
    }
    env.cmd()
        .args([
            "user",
            "add",
            "--username",
            "backup-check",
            "--role",
            "auditor",
        ])
        .args(["--area", "330400"])
        .ok();

    // A writer keeps registering facilities (each audited) during the backup.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, stop, keys) = (db.clone(), stop.clone(), store_keys(&env));
        std::thread::spawn(move || {
            let s = laoxiao_store::Store::open_url(&db.display().to_string()).expect("open");
            // The same keys as the CLI: the trail is keyed, so writes need the audit key.
            s.set_keys(keys).expect("set keys");
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
    let out = env.path("backup.db");
    let o = env.cmd().args(["backup", "--out"]).arg(&out).ok();
    assert!(o.stdout.contains("backup.db"), "{o}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().expect("writer");
    assert!(written > 0);

    // Never over an existing file.
    let o = env.cmd().args(["backup", "--out"]).arg(&out).fails();
    assert!(o.stderr.contains("exists"), "{o}");

    let restored = env.path("restored.db");
    let into = |c: &mut crate::harness::Cmd| {
        c.env("LAOXIAO_KEY_FILE", env.key_file())
            .arg("--database")
            .arg(&restored);
    };
    let mut c = env.bare();
    into(&mut c);
    let o = c.arg("restore").arg(&out).ok();
    assert!(o.stdout.contains("integrity ok"), "{o}");
    let mut c = env.bare();
    into(&mut c);
    let o = c.arg("restore").arg(&out).fails();
    assert!(o.stderr.contains("--force"), "{o}");
    let mut c = env.bare();
    into(&mut c);
    let o = c.args(["restore", "--force"]).arg(&out).ok();
    assert!(o.stdout.contains("integrity ok"), "{o}");
    let mut c = env.bare();
    into(&mut c);
    let o = c.args(["audit", "verify"]).ok();
    assert!(o.stdout.contains("intact"), "{o}");
    // Not a database: refused, and the restored one is kept.
    let junk = env.write("junk.db", "not a database");
    let mut c = env.bare();
    into(&mut c);
    c.args(["restore", "--force"]).arg(&junk).fails();
    assert!(!values(&restored, "SELECT id AS v FROM person").is_empty());

    // The people are all there; the facilities are the live ones up to a point
    // (a prefix of the writer's), and each restored facility write has its audit entry.
    let q_people = "SELECT id || ':' || row_hash AS v FROM person ORDER BY id";
    assert_eq!(values(&restored, q_people), values(&db, q_people));
    let q_fac = "SELECT id || ':' || name AS v FROM facility ORDER BY id";
    let (got, live) = (values(&restored, q_fac), values(&db, q_fac));
    assert!(got.iter().all(|f| live.contains(f)));
    let bk: Vec<&String> = got.iter().filter(|f| f.starts_with("BK-")).collect();
    assert!(bk.len() <= written as usize);
    for (k, f) in bk.iter().enumerate() {
        assert!(f.starts_with(&format!("BK-{k:05}:")), "{f} at {k}");
    }
    let audited = values(
        &restored,
        "SELECT entity_id AS v FROM audit_log WHERE action = 'create' AND entity_id LIKE 'BK-%'",
    )
    .len();
    assert!(
        audited == bk.len() || audited + 1 == bk.len(),
        "{audited} audit entries for {} facilities",
        bk.len()
    );
}

#[test]
fn postgres_is_pointed_to_pg_dump() {
    let env = Env::sqlite();
    for verb in [&["backup", "--out", "pg.db"][..], &["restore", "pg.db"][..]] {
        let o = env
            .bare()
            .args(["--database", "postgres://postgres@127.0.0.1:1/none"])
            .args(verb)
            .fails();
        assert!(o.stderr.contains("pg_dump"), "{o}");
    }
    env.bare().args(["backup"]).usage_error();
    env.bare().args(["restore"]).usage_error();
}
