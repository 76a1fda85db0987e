//! Times one import of a people CSV into a database, for `bench/import.sh`.
//!
//! ```text
//! cargo run --release -p laoxiao-store --example import_bench -- elderly.csv fresh.db
//! cargo run --release -p laoxiao-store --example import_bench -- elderly.csv 'postgres://…'
//! ```
//!
//! Opening the store (migrations, reference areas) is not timed; the import is:
//! reading, decoding, parsing, validating every row, hashing and encrypting each
//! ID number, and writing in one transaction. A throwaway data key is generated.
//! Prints `rows seconds rows_per_second` on one line.

use std::time::Instant;

use laoxiao_model::columns::RecordKind;
use laoxiao_store::io::{ImportOptions, import_file};
use laoxiao_store::{Keys, Store, crypto};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: import_bench FILE.csv DATABASE [elderly|infants]")?;
    let db = args
        .next()
        .ok_or("usage: import_bench FILE.csv DATABASE [elderly|infants]")?;
    let kind = match args.next().as_deref() {
        None | Some("elderly") => RecordKind::Elderly,
        Some("infants") => RecordKind::Infants,
        Some(other) => return Err(format!("unknown kind {other}").into()),
    };
    let store = Store::open_url(&db)?;
    // ID numbers are stored encrypted: a throwaway key for the benchmark's database.
    let hmac = crypto::decode_key(&crypto::generate_raw_key())?;
    store.set_keys(Keys::new(
        crypto::DataKey::generate("bench"),
        Vec::new(),
        hmac,
    )?)?;
    let started = Instant::now();
    let report = import_file(
        &store,
        kind,
        std::path::Path::new(&file),
        &ImportOptions::default(),
    );
    let secs = started.elapsed().as_secs_f64();
    let report = match report {
        Ok(r) => r,
        Err(laoxiao_store::StoreError::ImportRejected(errs)) => {
            for e in errs.iter().take(20) {
                eprintln!("{e}");
            }
            return Err(format!("import rejected: {} errors", errs.len()).into());
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "{} rows: {} inserted, {} updated, {} unchanged",
        report.rows, report.inserted, report.updated, report.unchanged
    );
    println!(
        "{} {:.3} {:.0}",
        report.rows,
        secs,
        report.rows as f64 / secs
    );
    Ok(())
}
