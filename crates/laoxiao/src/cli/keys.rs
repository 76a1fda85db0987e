//! `keys generate` and `keys rotate`.

use std::path::Path;

use anyhow::{Result, bail};

use super::{cli_scope, open, today, write_private};
use crate::config::Config;

/// `laoxiao keys generate`: new keys as environment lines, or as a key file
/// (mode 0600, never overwritten) with `out`.
pub fn generate(id: Option<String>, out: Option<&Path>) -> Result<()> {
    let id = id.unwrap_or_else(|| format!("k{}", today().format("%Y%m%d")));
    let k = laoxiao_store::crypto::DataKey::generate(&id);
    let hmac = laoxiao_store::crypto::generate_raw_key();
    let audit = laoxiao_store::crypto::generate_raw_key();
    if let Some(out) = out {
        write_private(
            out,
            &format!(
                "# laoxiao keys (LAOXIAO_KEY_FILE or key_file names this file); keep it\n\
                 # outside the repository and the database, with a separate backup.\n\
                 data_key = \"{}\"\nhmac_key = \"{hmac}\"\naudit_key = \"{audit}\"\n",
                k.encode()
            ),
        )?;
        println!(
            "wrote {} (mode 0600): set LAOXIAO_KEY_FILE={} or key_file in laoxiao.toml",
            out.display(),
            out.display()
        );
        return Ok(());
    }
    println!("# keep these outside the repository and the database: set them in the");
    println!("# environment, or save them as a key file (mode 0600) named by LAOXIAO_KEY_FILE");
    println!("# (`laoxiao keys generate --out FILE` writes one).");
    println!("LAOXIAO_DATA_KEY={}", k.encode());
    println!("LAOXIAO_HMAC_KEY={hmac}");
    println!("LAOXIAO_AUDIT_KEY={audit}");
    println!("# rotating: make the new key LAOXIAO_DATA_KEY, list the old one in");
    println!("# LAOXIAO_OLD_DATA_KEYS, run `laoxiao keys rotate`, then drop the old one.");
    println!("# The HMAC and audit keys stay: changing the HMAC key means re-hashing");
    println!("# every ID number; a new audit key cannot verify older entries.");
    Ok(())
}

/// `laoxiao keys rotate`: every ID number re-encrypted under the current data key.
pub fn rotate(config: &Config) -> Result<()> {
    let store = open(config)?;
    if !store.reference.has_keys() {
        bail!("no data key is configured");
    }
    let n = laoxiao_store::people::reencrypt(&mut store.conn()?, &store.reference)?;
    laoxiao_store::audit::append(
        &mut store.conn()?,
        &cli_scope(),
        laoxiao_store::audit::Event {
            action: "rotate_keys",
            entity: "person",
            entity_id: None,
            before: None,
            after: Some(format!("{{\"reencrypted\":{n}}}")),
        },
    )?;
    println!("re-encrypted {n} ID numbers under the current data key");
    Ok(())
}
