//! `laoxiao alarms …`: device platforms (设备平台). A platform's secret is
//! shown once, at creation; the database holds it encrypted with the data key.

use anyhow::Result;
use laoxiao_store::alarms;

use super::{cli_scope, open};
use crate::config::Config;

/// `laoxiao alarms add-platform ID --name NAME`: prints the secret once.
pub fn platform_add(config: &Config, id: &str, name: &str) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    let (p, secret) = alarms::add_platform(&mut c, &store.reference, &cli_scope(), id, name)?;
    println!("platform {} ({}) added", p.id, p.name);
    println!("secret (shown once; give it to the platform): {secret}");
    Ok(())
}

/// `laoxiao alarms platforms`: platforms and refused requests per reason.
pub fn platform_list(config: &Config) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    for p in alarms::platforms(&mut c, &cli_scope())? {
        let refused: Vec<String> = p.failures.iter().map(|(k, n)| format!("{k}={n}")).collect();
        println!(
            "{}\t{}\t{}\t{}",
            p.id,
            p.name,
            if p.enabled { "enabled" } else { "disabled" },
            refused.join(" ")
        );
    }
    Ok(())
}
