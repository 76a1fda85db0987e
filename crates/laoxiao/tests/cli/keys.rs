//! `laoxiao keys generate` and `keys rotate`.

use crate::harness::{Env, example, is_valid_id};

#[test]
fn generate_out_writes_a_private_key_file_that_migrate_reads() {
    let env = Env::sqlite();
    let key = env.path("laoxiao.key");
    let o = env
        .bare()
        .args(["keys", "generate", "--out"])
        .arg(&key)
        .ok();
    assert!(o.stdout.contains("laoxiao.key"), "{o}");
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
    env.cmd().env("LAOXIAO_KEY_FILE", &key).arg("migrate").ok();
    // The keys were used: the first administrator's creation is a keyed entry.
    let o = env
        .cmd()
        .env("LAOXIAO_KEY_FILE", &key)
        .args(["audit", "verify"])
        .ok();
    assert!(o.stdout.contains("keyed (MAC) from entry 1"), "{o}");
    // Never overwritten.
    let o = env
        .bare()
        .args(["keys", "generate", "--out"])
        .arg(&key)
        .fails();
    assert!(o.stderr.contains("refusing to overwrite"), "{o}");
    assert_eq!(std::fs::read_to_string(&key).expect("read"), written);
}

#[test]
fn the_printed_lines_saved_as_the_key_file_work() {
    let env = Env::sqlite();
    let o = env.bare().args(["keys", "generate"]).ok();
    let lines: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let names: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        names,
        ["LAOXIAO_DATA_KEY", "LAOXIAO_HMAC_KEY", "LAOXIAO_AUDIT_KEY"],
        "{o}"
    );
    // Two runs never print the same keys.
    let again = env.bare().args(["keys", "generate"]).ok();
    assert_ne!(o.stdout, again.stdout);
    let key = env.write("saved.env", &o.stdout);
    env.cmd().env("LAOXIAO_KEY_FILE", &key).arg("migrate").ok();
}

#[test]
fn generate_id_names_the_data_key() {
    let env = Env::sqlite();
    let o = env.bare().args(["keys", "generate", "--id", "k2031"]).ok();
    let data = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("LAOXIAO_DATA_KEY="))
        .unwrap_or_else(|| panic!("{o}"));
    assert!(data.starts_with("k2031:"), "{data}");
}

#[test]
fn a_bad_key_file_is_named_with_the_format_it_should_have() {
    let env = Env::sqlite();
    let key = env.write("broken.key", "data_key = k1:abc\n");
    let o = env
        .cmd()
        .env("LAOXIAO_KEY_FILE", &key)
        .arg("migrate")
        .fails();
    assert!(o.stderr.contains("broken.key"), "{o}");
    assert!(
        o.stderr.contains("data_key = ") && o.stderr.contains("LAOXIAO_DATA_KEY=…"),
        "{o}"
    );
}

clitest!(
    rotate_reencrypts_every_id_number_under_the_new_key,
    |env: &Env| {
        env.import("facilities", &example("facilities"));
        let elderly = env.import("elderly", &example("elderly"));
        let infants = env.import("infants", &example("infants"));
        let before = env.export_csv("elderly", &["--full-id-numbers", "--lang", "en"]);

        // Without a data key there is nothing to rotate with.
        let o = env
            .cmd()
            .env_remove("LAOXIAO_KEY_FILE")
            .args(["keys", "rotate"])
            .fails();
        assert!(o.stderr.contains("no data key"), "{o}");

        // A new data key, the old one kept readable; HMAC and audit keys stay.
        let old = std::fs::read_to_string(env.key_file()).expect("key file");
        let value = |name: &str| -> String {
            old.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} = ")))
                .map(|v| v.trim_matches('"').to_string())
                .unwrap_or_else(|| panic!("{name} in {old}"))
        };
        let fresh = env.bare().args(["keys", "generate", "--id", "k2"]).ok();
        let new_data = fresh
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("LAOXIAO_DATA_KEY="))
            .expect("new data key")
            .to_string();
        assert_ne!(new_data, value("data_key"));
        let rotated = env.write(
        "rotated.key",
        format!(
            "data_key = \"{new_data}\"\nold_data_keys = [\"{}\"]\nhmac_key = \"{}\"\naudit_key = \"{}\"\n",
            value("data_key"),
            value("hmac_key"),
            value("audit_key")
        ),
    );
        let o = env
            .cmd()
            .env("LAOXIAO_KEY_FILE", &rotated)
            .args(["keys", "rotate"])
            .ok();
        let n = elderly.inserted + infants.inserted;
        assert!(
            o.stdout.contains(&format!("re-encrypted {n} ID numbers")),
            "{o}"
        );

        // The new key alone reads every ID number as it was.
        let new_only = env.write(
            "new-only.key",
            format!(
                "data_key = \"{new_data}\"\nhmac_key = \"{}\"\naudit_key = \"{}\"\n",
                value("hmac_key"),
                value("audit_key")
            ),
        );
        let out = env.path("after.csv");
        env.cmd()
            .env("LAOXIAO_KEY_FILE", &new_only)
            .args([
                "export",
                "elderly",
                "--full-id-numbers",
                "--lang",
                "en",
                "--out",
            ])
            .arg(&out)
            .ok();
        let after = crate::harness::csv_rows(&out);
        assert_eq!(after, before);
        let id = crate::harness::column(&after, &["id_number"]);
        assert!(after.1.iter().all(|r| is_valid_id(&r[id])), "{after:?}");
        // The rotation is in the trail, which still verifies under the kept audit key.
        let o = env
            .cmd()
            .env("LAOXIAO_KEY_FILE", &new_only)
            .args(["audit", "verify"])
            .ok();
        assert!(o.stdout.contains("intact"), "{o}");
    }
);
