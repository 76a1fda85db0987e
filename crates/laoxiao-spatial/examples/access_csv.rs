//! Two-step floating catchment accessibility over CSV files, timed; the Rust
//! side of `bench/access_pysal.py`.
//!
//! ```text
//! cargo run --release -p laoxiao-spatial --example access_csv -- \
//!     --demand cells.csv --supply facilities.csv --radius 1000 \
//!     --decay gaussian:500 [--repeat 20] \
//!     [--out-demand cells_access.csv] [--out-supply facilities_ratio.csv]
//! ```
//!
//! Inputs: `id,x,y,demand` and `id,x,y,capacity` (projected metres; plain
//! comma-separated fields, no quoting), at most 2,000,000 rows each.
//! Outputs: `id,x,y,demand,access` and `id,x,y,capacity,ratio`, the input
//! fields as they were and the result in round-trip form (`{:?}`), empty for
//! None. The median compute time of `--repeat` runs (reading and writing not
//! included) goes to stderr.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use laoxiao_spatial::Xy;
use laoxiao_spatial::access::{Decay, two_step};

const MAX_ROWS: usize = 2_000_000;
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
const MAX_REPEAT: usize = 10_000;

struct Table {
    /// The raw lines' fields, for echoing: id, x, y, value.
    rows: Vec<[String; 4]>,
    points: Vec<(Xy, f64)>,
}

fn read_table(path: &str, value: &str) -> Result<Table, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{path}: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{path}: {size} bytes; at most {MAX_FILE_BYTES} are read"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines();
    let want = format!("id,x,y,{value}");
    match lines.next() {
        Some(h) if h.trim_end_matches('\r').trim_start_matches('\u{feff}') == want => {}
        Some(h) => {
            let shown: String = h.chars().take(80).collect();
            return Err(format!(
                "{path}: header is \"{shown}\", expected \"{want}\""
            ));
        }
        None => {
            return Err(format!(
                "{path}: empty file, expected the header \"{want}\""
            ));
        }
    }
    let mut rows = Vec::new();
    let mut points = Vec::new();
    for (k, line) in lines.enumerate() {
        let line = line.trim_end_matches('\r');
        let n = k + 2;
        if line.is_empty() {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(format!("{path}: more than {MAX_ROWS} rows; split the file"));
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 4 {
            return Err(format!(
                "{path} line {n}: {} fields, expected 4 ({want})",
                fields.len()
            ));
        }
        let num = |i: usize, name: &str| -> Result<f64, String> {
            fields[i].trim().parse::<f64>().map_err(|_| {
                let shown: String = fields[i].chars().take(40).collect();
                format!("{path} line {n}: {name} \"{shown}\" is not a number")
            })
        };
        let (x, y, v) = (num(1, "x")?, num(2, "y")?, num(3, value)?);
        points.push((Xy::new(x, y), v));
        rows.push([
            fields[0].to_string(),
            fields[1].to_string(),
            fields[2].to_string(),
            fields[3].to_string(),
        ]);
    }
    Ok(Table { rows, points })
}

fn write_table(
    path: &str,
    header: &str,
    rows: &[[String; 4]],
    result: &[Option<f64>],
) -> Result<(), String> {
    let mut out = String::with_capacity(rows.len() * 64);
    out.push_str(header);
    out.push('\n');
    for (row, r) in rows.iter().zip(result) {
        out.push_str(&row.join(","));
        out.push(',');
        if let Some(v) = r {
            let _ = write!(out, "{v:?}");
        }
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))
}

struct Args {
    demand: String,
    supply: String,
    radius: f64,
    decay: Decay,
    repeat: usize,
    out_demand: Option<String>,
    out_supply: Option<String>,
}

const USAGE: &str = "usage: access_csv --demand FILE --supply FILE --radius M --decay TEXT \
[--repeat N] [--out-demand FILE] [--out-supply FILE]
  decay: uniform | gaussian:SIGMA | step:D1=W1,D2=W2,...";

fn parse_args() -> Result<Args, String> {
    let mut demand = None;
    let mut supply = None;
    let mut radius = None;
    let mut decay = None;
    let mut repeat = 1usize;
    let mut out_demand = None;
    let mut out_supply = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--demand" => demand = Some(value),
            "--supply" => supply = Some(value),
            "--radius" => {
                let r: f64 = value
                    .parse()
                    .map_err(|_| format!("--radius \"{value}\" is not a number"))?;
                if !(r.is_finite() && r >= 0.0) {
                    return Err(format!("--radius must be finite and non-negative, not {r}"));
                }
                radius = Some(r);
            }
            "--decay" => decay = Some(Decay::parse(&value)?),
            "--repeat" => {
                repeat = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_REPEAT).contains(n))
                    .ok_or_else(|| {
                        format!("--repeat must be 1 to {MAX_REPEAT}, not \"{value}\"")
                    })?;
            }
            "--out-demand" => out_demand = Some(value),
            "--out-supply" => out_supply = Some(value),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(Args {
        demand: demand.ok_or_else(|| format!("--demand is required\n{USAGE}"))?,
        supply: supply.ok_or_else(|| format!("--supply is required\n{USAGE}"))?,
        radius: radius.ok_or_else(|| format!("--radius is required\n{USAGE}"))?,
        decay: decay.ok_or_else(|| format!("--decay is required\n{USAGE}"))?,
        repeat,
        out_demand,
        out_supply,
    })
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let demand = read_table(&args.demand, "demand")?;
    let supply = read_table(&args.supply, "capacity")?;
    let mut times = Vec::with_capacity(args.repeat);
    let mut result = None;
    for _ in 0..args.repeat {
        let t = Instant::now();
        let a = two_step(&demand.points, &supply.points, args.radius, &args.decay);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        result = Some(a);
    }
    let Some(access) = result else {
        return Err("no run".into());
    };
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let served = access.value.iter().filter(|v| v.is_some()).count();
    eprintln!(
        "two_step: {} demand, {} supply, radius {} m, decay {}: median {median:.3} ms \
         over {} run(s) (min {:.3}, max {:.3}); {served} demand points with supply in reach, \
         {} supply points unserved",
        demand.points.len(),
        supply.points.len(),
        args.radius,
        args.decay,
        times.len(),
        times[0],
        times[times.len() - 1],
        access.unserved.len(),
    );
    if let Some(path) = &args.out_demand {
        write_table(path, "id,x,y,demand,access", &demand.rows, &access.value)?;
    }
    if let Some(path) = &args.out_supply {
        write_table(path, "id,x,y,capacity,ratio", &supply.rows, &access.ratio)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("access_csv: {e}");
            ExitCode::from(2)
        }
    }
}
