//! Maximal covering location from two CSV files, for benchmarks and checks
//! against other solvers (bench/siting_spopt.py).
//!
//! ```text
//! cargo run --release -p laoxiao-spatial --example siting_csv -- \
//!     --demand demand.csv --candidates candidates.csv --k 10 [--repeat 5] \
//!     [--max-gap 0] [--time-limit-ms 2000] [--node-limit 2000000]
//! ```
//!
//! `demand.csv` has the header `id,x,y,weight,radius` and `candidates.csv`
//! `id,x,y` (projected metres; columns in any order, no quoted fields). The
//! answer is JSON on stdout: the chosen candidate ids with their gains, the
//! weight covered, the upper bound, the gap, whether it is proven optimal,
//! the search nodes and the median time of `max_cover` over the repeats.

use std::process::ExitCode;
use std::time::Duration;

use laoxiao_spatial::Xy;
use laoxiao_spatial::siting::{Demand, Options, max_cover};
use serde_json::json;

const MAX_ROWS: usize = 2_000_000;

struct Table {
    ids: Vec<String>,
    cols: Vec<Vec<f64>>,
}

/// Reads the named numeric columns (and `id`) of a CSV file.
fn read_csv(path: &str, want: &[&str]) -> Result<Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, h)| h.trim_start_matches('\u{feff}'))
        .ok_or_else(|| format!("{path}: empty file"))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |n: &str| {
        names
            .iter()
            .position(|h| h.eq_ignore_ascii_case(n))
            .ok_or_else(|| format!("{path}: no column {n:?} in header {header:?}"))
    };
    let id_col = find("id")?;
    let cols_at: Vec<usize> = want.iter().map(|n| find(n)).collect::<Result<_, _>>()?;
    let mut t = Table {
        ids: Vec::new(),
        cols: vec![Vec::new(); want.len()],
    };
    for (no, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        if t.ids.len() >= MAX_ROWS {
            return Err(format!("{path}: more than {MAX_ROWS} rows; refused"));
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |c: usize| {
            fields
                .get(c)
                .copied()
                .ok_or_else(|| format!("{path}:{}: missing field {}", no + 1, c + 1))
        };
        t.ids.push(get(id_col)?.to_string());
        for (v, &c) in t.cols.iter_mut().zip(&cols_at) {
            let s = get(c)?;
            let x = s
                .parse::<f64>()
                .map_err(|_| format!("{path}:{}: not a number: {s:?}", no + 1))?;
            v.push(x);
        }
    }
    Ok(t)
}

struct Args {
    demand: String,
    candidates: String,
    opts: Options,
    repeat: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        demand: String::new(),
        candidates: String::new(),
        opts: Options::default(),
        repeat: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |s: String| {
            s.parse::<f64>()
                .map_err(|_| format!("{flag}: not a number: {s}"))
        };
        match flag.as_str() {
            "--demand" => a.demand = val()?,
            "--candidates" => a.candidates = val()?,
            "--k" => a.opts.k = num(val()?)? as usize,
            "--repeat" => a.repeat = (num(val()?)? as usize).clamp(1, 1000),
            "--max-gap" => a.opts.max_gap = num(val()?)?,
            "--node-limit" => a.opts.node_limit = num(val()?)? as u64,
            "--time-limit-ms" => {
                a.opts.time_limit = Duration::from_secs_f64(num(val()?)?.clamp(0.0, 1e9) / 1e3)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.demand.is_empty() || a.candidates.is_empty() {
        return Err(
            "usage: siting_csv --demand FILE --candidates FILE --k N [--repeat N] \
                    [--max-gap G] [--node-limit N] [--time-limit-ms MS]"
                .into(),
        );
    }
    Ok(a)
}

fn run() -> Result<(), String> {
    let a = parse_args()?;
    let dt = read_csv(&a.demand, &["x", "y", "weight", "radius"])?;
    let ct = read_csv(&a.candidates, &["x", "y"])?;
    let demand: Vec<Demand> = (0..dt.ids.len())
        .map(|i| Demand {
            at: Xy::new(dt.cols[0][i], dt.cols[1][i]),
            weight: dt.cols[2][i],
            radius: dt.cols[3][i],
        })
        .collect();
    let candidates: Vec<Xy> = (0..ct.ids.len())
        .map(|j| Xy::new(ct.cols[0][j], ct.cols[1][j]))
        .collect();
    let mut times = Vec::new();
    let mut sol = None;
    for _ in 0..a.repeat {
        let s = max_cover(&demand, &candidates, &a.opts);
        times.push(s.elapsed_ms);
        sol = Some(s);
    }
    let sol = sol.ok_or("no run")?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let sites: Vec<_> = sol
        .sites
        .iter()
        .map(|s| json!({"id": ct.ids[s.candidate], "index": s.candidate, "gain": s.gain}))
        .collect();
    let out = json!({
        "demand": demand.len(),
        "candidates": candidates.len(),
        "k": a.opts.k,
        "sites": sites,
        "covered": sol.covered,
        "upper_bound": sol.upper_bound,
        "gap": sol.gap,
        "optimal": sol.optimal,
        "nodes": sol.nodes,
        "median_ms": median,
        "times_ms": times,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("siting_csv: {e}");
            ExitCode::from(2)
        }
    }
}
