//! `laoxiao supervise verify-draw FILE`: re-runs a published inspection
//! draw (双随机、一公开) from its document alone — the roster digest, the
//! commitment to the seed and the result — so anyone can check it without
//! the platform's database (docs/inspections.md).

use std::path::Path;

use anyhow::{Context, Result, bail};
use laoxiao_rules::inspections::draw::{DrawDocument, verify};

/// The largest draw document read (a city-wide roster is well below).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

pub fn verify_draw(file: &Path) -> Result<()> {
    let meta = std::fs::metadata(file).with_context(|| format!("{}", file.display()))?;
    if meta.len() > MAX_BYTES {
        bail!("{}: larger than {MAX_BYTES} bytes", file.display());
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    let doc: DrawDocument = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a draw document", file.display()))?;
    let v = verify(&doc);
    let mark = |ok: bool| if ok { "ok" } else { "MISMATCH" };
    println!(
        "draw {} of plan {} ({})",
        doc.draw_id, doc.roster.plan_id, doc.status
    );
    println!(
        "rosters: {} facilities, {} unplanned, {} inspectors, {} previous pairings",
        doc.roster.facilities.len(),
        doc.roster.unplanned.len(),
        doc.roster.inspectors.len(),
        doc.roster.previous.len()
    );
    println!(
        "roster digest  {}  {}",
        doc.roster_digest,
        mark(v.digest_matches && v.roster_valid)
    );
    println!("commit         {}  {}", doc.commit, mark(v.commit_matches));
    println!(
        "result         {} target(s)  {}",
        doc.result.len(),
        mark(v.result_matches)
    );
    for p in &v.problems {
        println!("  - {p}");
    }
    if v.ok() {
        println!("MATCH: re-running the draw from its published seed gives the published result");
        Ok(())
    } else {
        bail!(
            "the draw document does not verify ({} problem(s))",
            v.problems.len()
        )
    }
}
