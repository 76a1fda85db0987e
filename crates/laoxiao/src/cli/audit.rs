//! `audit verify` and `audit head`.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::open;
use crate::config::Config;

/// `laoxiao audit verify`: the chain, and with `head` also a cut tail or a
/// rewritten chain.
pub fn verify(config: &Config, head: Option<&Path>) -> Result<()> {
    // Read the head first: a bad file should not cost a full verification.
    let head = match head {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading audit head {}", path.display()))?;
            Some(
                laoxiao_store::audit::Head::parse(&text)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("audit head {}", path.display()))?,
            )
        }
        None => None,
    };
    let store = open(config)?;
    let mut c = store.conn()?;
    let v = laoxiao_store::audit::verify(&mut c)?;
    if let Some((seq, why)) = v.first_broken {
        bail!(
            "audit trail broken at entry {seq}: {why} ({} entries before it verified)",
            v.entries
        );
    }
    if let Some(h) = &head
        && let Some(why) = laoxiao_store::audit::check_head(&mut c, h)?
    {
        bail!("audit trail does not match the head: {why}");
    }
    let keyed = match v.first_keyed {
        Some(seq) => format!("keyed (MAC) from entry {seq}"),
        None => "no keyed entries".to_string(),
    };
    match &head {
        Some(h) => println!(
            "audit trail intact: {} entries verified ({keyed}); head entry {} matches",
            v.entries, h.seq
        ),
        None => println!(
            "audit trail intact: {} entries verified ({keyed})",
            v.entries
        ),
    }
    Ok(())
}

/// `laoxiao audit head`: the newest entry's position and MAC as one line.
pub fn head(config: &Config) -> Result<()> {
    let store = open(config)?;
    match laoxiao_store::audit::head(&mut store.conn()?)? {
        Some(h) => {
            println!("{}", h.line());
            Ok(())
        }
        None => bail!("the audit trail is empty: there is no head to keep yet"),
    }
}
