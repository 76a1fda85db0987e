//! `laoxiao plan …`: spatial planning — who is out of reach under the plan's
//! distance rules (coverage), accessibility by 2SFCA / E2SFCA (access), where
//! the next facilities should go (site), childcare slots per 1,000 residents
//! (slots), the imported resident grid (residents), and the benchmark (bench).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use laoxiao_model::FacilityKind;
use laoxiao_rules::planning::report::{self, AccessRequest, CellFilter};
use laoxiao_rules::planning::siting::{self, Candidates, Mode, SitingRequest};
use laoxiao_rules::planning::{Analysis, Layer, Options, Params};
use laoxiao_store::io::ExportFormat;
use laoxiao_store::planning::{self as plan, SiteToSave, tables};

use super::subsidies::scope_as;
use super::{cli_scope, open, today};
use crate::config::Config;

/// The options every planning command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// The day the registers are read for (default: today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Grid cell side in metres: 100, 250 or 1000.
    #[arg(long, default_value_t = 100.0)]
    pub cell: f64,
    /// Density counts residents (default) or elderly people.
    #[arg(long)]
    pub basis: Option<String>,
    /// Count planned facilities as if they operated.
    #[arg(long)]
    pub with_planned: bool,
    /// A rules file in data/planning/coverage.toml's format.
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

fn params(common: &Common) -> Result<Params> {
    Ok(match &common.rules {
        Some(p) => {
            let meta = std::fs::metadata(p).with_context(|| format!("reading {}", p.display()))?;
            if meta.len() > 256 * 1024 {
                bail!("{}: a rules file is at most 256 KB", p.display());
            }
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Params::parse(&p.display().to_string(), &text)?
        }
        None => Params::embedded()?,
    })
}

fn options(common: &Common) -> Result<Options> {
    let basis = match common.basis.as_deref() {
        None => None,
        Some(b) => match Layer::parse(b) {
            Some(l @ (Layer::Residents | Layer::Elderly)) => Some(l),
            _ => bail!("--basis must be residents or elderly (got {b:?})"),
        },
    };
    let o = Options {
        cell_m: common.cell,
        basis,
        with_planned: common.with_planned,
    };
    o.check()?;
    Ok(o)
}

struct Run {
    store: laoxiao_store::Store,
    loaded: Arc<plan::Loaded>,
    analysis: Arc<Analysis>,
    took: Duration,
}

fn analyse(config: &Config, common: &Common) -> Result<Run> {
    let params = params(common)?;
    let options = options(common)?;
    let date = common.date.unwrap_or_else(today);
    let store = open(config)?;
    let mut c = store.conn()?;
    let start = Instant::now();
    let (loaded, analysis) = store.reference.planning.analysis(
        &mut c,
        &store.reference.areas,
        date,
        &params,
        &options,
    )?;
    let took = start.elapsed();
    drop(c);
    Ok(Run {
        store,
        loaded,
        analysis,
        took,
    })
}

fn print_reading(r: &Run) {
    let a = &r.analysis;
    let rd = report::Reading::of(a);
    println!(
        "{} · rules {} ({}) · {} m cells in {} · density of {} over {} m · residents {}{}",
        rd.date.as_deref().unwrap_or("-"),
        rd.params_version,
        rd.params_source,
        rd.cell_m,
        rd.projection,
        rd.density_basis,
        rd.density_window_m,
        rd.residents_source,
        if rd.with_planned {
            " · planned facilities counted"
        } else {
            ""
        }
    );
    println!(
        "{} people and {} facilities with coordinates ({} people and {} facilities without) · read in {:.1} s, analysed in {:.2} s",
        rd.people,
        rd.facilities,
        rd.people_without_point,
        rd.facilities_without_point,
        r.loaded.took.as_secs_f64(),
        r.took.as_secs_f64().max(0.0),
    );
}

enum Out {
    Table(ExportFormat),
    GeoJson,
}

fn out_of(path: &Path, geojson: bool) -> Result<Out> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(Out::Table(ExportFormat::Csv)),
        Some("xlsx") => Ok(Out::Table(ExportFormat::Xlsx)),
        Some("geojson") if geojson => Ok(Out::GeoJson),
        _ => bail!(
            "{}: the output file must end in .csv, .xlsx{}",
            path.display(),
            if geojson { " or .geojson" } else { "" }
        ),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn pct(covered: u64, in_scope: u64) -> String {
    if in_scope == 0 {
        "-".into()
    } else {
        format!("{:.1}%", covered as f64 * 100.0 / in_scope as f64)
    }
}

/// `plan coverage`.
#[allow(clippy::too_many_arguments)]
pub fn coverage(
    config: &Config,
    common: &Common,
    rule: &str,
    area: Option<&str>,
    clusters: usize,
    out: Option<&Path>,
    cells: Option<&Path>,
    uncovered: bool,
    people: Option<&Path>,
    json: bool,
) -> Result<()> {
    let r = analyse(config, common)?;
    let a = &r.analysis;
    let rep = report::coverage_report(a, rule, area, clusters)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print_reading(&r);
        println!(
            "rule {} ({}): {} within {} · {}",
            rep.rule.code,
            rep.rule.zh,
            rep.rule.kinds.join(", "),
            match (rep.rule.high_m, rep.rule.medium_m, rep.rule.low_m) {
                (Some(h), Some(m), None) => format!("{h} m (high density), {m} m (medium)"),
                (Some(h), _, Some(l)) if h == l => format!("{h:.1} m everywhere"),
                (h, m, l) => format!("high {h:?}, medium {m:?}, low {l:?} m"),
            },
            rep.rule.clause
        );
        println!(
            "{:<14} {:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "area", "name", "people", "in scope", "covered", "not", "low dens.", "share"
        );
        for row in &rep.rows {
            let t = &row.total;
            println!(
                "{:<14} {:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
                row.area,
                row.name,
                t.people,
                t.in_scope,
                t.covered,
                t.not_covered,
                t.not_assessed,
                pct(t.covered, t.in_scope)
            );
        }
        println!(
            "uncovered clusters: {} (the {} biggest below)",
            rep.clusters_total,
            rep.clusters.len()
        );
        for c in &rep.clusters {
            println!(
                "  #{:<3} {:>6} people in {:>4} cells · {} {} · {:.5}, {:.5}",
                c.rank, c.people, c.cells, c.area, c.area_name, c.lng, c.lat
            );
        }
    }
    if let Some(path) = out {
        match out_of(path, false)? {
            Out::Table(f) => write(path, &tables::coverage(&rep, f)?)?,
            Out::GeoJson => unreachable_geojson()?,
        }
    }
    if let Some(path) = cells {
        let filter = if uncovered {
            CellFilter::Uncovered
        } else {
            CellFilter::All
        };
        let rows = report::cells(a, area, Some(rule), filter)?;
        match out_of(path, true)? {
            Out::Table(f) => write(path, &tables::cells(&rows, f)?)?,
            Out::GeoJson => write(
                path,
                serde_json::to_string(&report::cells_geojson(&rows, a.grid.size))?.as_bytes(),
            )?,
        }
    }
    if let Some(path) = people {
        people_file(&r, rule, area, path)?;
    }
    Ok(())
}

fn unreachable_geojson() -> Result<()> {
    bail!("GeoJSON is written with --cells")
}

/// Every person of the rule's population in the area: the nearest facility,
/// its distance and whether covered. Personal data: the export is audited.
fn people_file(r: &Run, rule: &str, area: Option<&str>, path: &Path) -> Result<()> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        bail!("{}: the people file must end in .csv", path.display());
    }
    let a = &r.analysis;
    let rc = report::rule_of(a, rule)?;
    let root = report::area_of(a, area)?;
    let mut rows = Vec::new();
    for (i, p) in a.inputs.people.iter().enumerate() {
        if !a.within(p.area, root) {
            continue;
        }
        let standing = rc.standing[i];
        if standing == laoxiao_rules::planning::Standing::Other {
            continue;
        }
        let cell = a.person_cell[i] as usize;
        let near = a.person_nearest(rc, i);
        rows.push(vec![
            r.loaded
                .person_ids
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            a.inputs.areas[p.area as usize].code.clone(),
            a.class
                .get(cell)
                .map(|c| c.code())
                .unwrap_or("")
                .to_string(),
            near.map(|(f, _)| a.inputs.facilities[f as usize].id.clone())
                .unwrap_or_default(),
            near.map(|(_, d)| format!("{d:.1}")).unwrap_or_default(),
            match standing {
                laoxiao_rules::planning::Standing::Covered => "covered",
                laoxiao_rules::planning::Standing::NotCovered => "not_covered",
                _ => "not_assessed",
            }
            .to_string(),
        ]);
    }
    let bytes = laoxiao_store::indicators::excel::write(
        &[
            "人员编号",
            "居住区划代码",
            "密度分区",
            "最近设施",
            "距离（米）",
            "覆盖情况",
        ],
        &rows,
        ExportFormat::Csv,
        "人员",
    )?;
    let mut c = r.store.conn()?;
    laoxiao_store::audit::append(
        &mut c,
        &cli_scope(),
        laoxiao_store::audit::Event {
            action: "export",
            entity: "planning_people",
            entity_id: None,
            before: None,
            after: Some(
                serde_json::json!({ "rule": rule, "area": area, "people": rows.len() }).to_string(),
            ),
        },
    )?;
    write(path, &bytes)
}

/// `plan access`.
#[allow(clippy::too_many_arguments)]
pub fn access(
    config: &Config,
    common: &Common,
    side: &str,
    radius: Option<f64>,
    decay: Option<&str>,
    demand: Option<&str>,
    area: Option<&str>,
    out: Option<&Path>,
    inputs: Option<&Path>,
    json: bool,
) -> Result<()> {
    let r = analyse(config, common)?;
    let a = &r.analysis;
    let req = AccessRequest::parse(a, side, radius, decay, demand)?;
    let run = report::access(a, &req);
    let rep = report::access_report(a, &run, area)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print_reading(&r);
        println!(
            "{} for {} within {} m, decay {} · computed in {:.1} ms · {} facilities, {} with nobody in reach",
            rep.side,
            rep.demand,
            rep.radius_m,
            rep.decay,
            rep.millis,
            run.supply.len(),
            run.unserved.len()
        );
        println!(
            "{:<14} {:<16} {:>10} {:>12} {:>12}",
            "area", "name", "demand", "no access", "per 1,000"
        );
        for row in &rep.rows {
            println!(
                "{:<14} {:<16} {:>10.0} {:>12.0} {:>12}",
                row.area,
                row.name,
                row.demand,
                row.demand_without_access,
                row.mean_per_1000.map_or("-".into(), |m| format!("{m:.2}"))
            );
        }
        for f in rep.unserved.iter().take(20) {
            println!("  no demand in reach: {} {} ({})", f.id, f.name, f.kind_zh);
        }
    }
    if let Some(path) = out {
        match out_of(path, true)? {
            Out::Table(f) => write(path, &tables::access(&rep, f)?)?,
            Out::GeoJson => {
                let mut rows = report::cells(a, area, None, CellFilter::All)?;
                for row in &mut rows {
                    let c = a
                        .grid
                        .find((row.col, row.row))
                        .context("a listed cell is on the grid")?;
                    row.access = Some(run.value[c]);
                }
                write(
                    path,
                    serde_json::to_string(&report::cells_geojson(&rows, a.grid.size))?.as_bytes(),
                )?;
            }
        }
    }
    if let Some(dir) = inputs {
        // The inputs and our answers, for bench/access_pysal.py.
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let cells = tables::access_cells(a, &run);
        let mut demand = String::from("id,x,y,demand\n");
        let mut ours = String::from("id,x,y,demand,access\n");
        for row in &cells {
            demand.push_str(&format!("{},{},{},{}\n", row[0], row[1], row[2], row[3]));
            ours.push_str(&row.join(","));
            ours.push('\n');
        }
        let mut supply = String::from("id,x,y,capacity\n");
        let mut ours_s = String::from("id,x,y,capacity,ratio\n");
        for (j, f) in run.supply.iter().enumerate() {
            let fac = &a.inputs.facilities[*f as usize];
            let cap = if req.side == report::AccessSide::Beds {
                fac.beds
            } else {
                fac.slots
            };
            let line = format!("{j},{:?},{:?},{:?}", fac.at.x, fac.at.y, cap);
            supply.push_str(&line);
            supply.push('\n');
            ours_s.push_str(&format!(
                "{line},{}\n",
                run.ratio[j].map(|v| format!("{v:?}")).unwrap_or_default()
            ));
        }
        for (name, text) in [
            ("demand.csv", demand),
            ("supply.csv", supply),
            ("ours_demand.csv", ours),
            ("ours_supply.csv", ours_s),
        ] {
            write(&dir.join(name), text.as_bytes())?;
        }
    }
    Ok(())
}

/// `plan slots`.
pub fn slots(
    config: &Config,
    common: &Common,
    area: Option<&str>,
    out: Option<&Path>,
    json: bool,
) -> Result<()> {
    let r = analyse(config, common)?;
    let rep = report::slots_report(&r.analysis, area)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print_reading(&r);
        println!("{}", rep.clause);
        println!(
            "{:<14} {:<16} {:>10} {:>8} {:>9} {:>6} {:>6} status",
            "area", "name", "residents", "slots", "per 1,000", "norm", "gap"
        );
        for row in &rep.rows {
            println!(
                "{:<14} {:<16} {:>10.0} {:>8} {:>9} {:>6} {:>6} {:?}",
                row.area,
                row.name,
                row.residents,
                row.slots,
                row.per_1000.map_or("-".into(), |v| format!("{v:.2}")),
                row.norm_per_1000,
                row.gap,
                row.status
            );
        }
    }
    if let Some(path) = out {
        match out_of(path, false)? {
            Out::Table(f) => write(path, &tables::slots(&rep, f)?)?,
            Out::GeoJson => unreachable_geojson()?,
        }
    }
    Ok(())
}

/// What `plan site` is asked for.
#[derive(Debug, Clone)]
pub struct SiteArgs {
    pub county: String,
    pub rule: String,
    pub k: Option<usize>,
    pub target: Option<f64>,
    pub slots: bool,
    pub candidates: String,
    pub spacing: Option<f64>,
    pub max_gap: f64,
    pub seconds: f64,
    pub out: Option<PathBuf>,
    pub save: bool,
    pub who: Option<String>,
    pub json: bool,
    /// Write the covering problem (demand.csv, candidates.csv) here.
    pub instance: Option<PathBuf>,
}

fn read_points(path: &Path) -> Result<Vec<(f64, f64, String)>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > 8 * 1024 * 1024 {
        bail!("{}: a candidate file is at most 8 MB", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rd.headers()?.clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(ix), Some(iy)) = (find(&["lng", "经度"]), find(&["lat", "纬度"])) else {
        bail!(
            "{}: row 1: the header must name lng and lat (经度, 纬度), and may name name (名称)",
            path.display()
        );
    };
    let iname = find(&["name", "名称"]);
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec?;
        let row = i + 2;
        if out.len() >= siting::MAX_CANDIDATES {
            bail!(
                "{}: more than {} candidates",
                path.display(),
                siting::MAX_CANDIDATES
            );
        }
        let num = |j: usize, what: &str, range: std::ops::RangeInclusive<f64>| -> Result<f64> {
            rec.get(j)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|v| range.contains(v))
                .with_context(|| {
                    format!(
                        "{}: row {row}, column {what}: not a coordinate in China",
                        path.display()
                    )
                })
        };
        out.push((
            num(ix, "lng", 73.0..=136.0)?,
            num(iy, "lat", 3.0..=54.0)?,
            iname.and_then(|j| rec.get(j)).unwrap_or("").to_string(),
        ));
    }
    Ok(out)
}

/// `plan site`.
pub fn site(config: &Config, common: &Common, args: &SiteArgs) -> Result<()> {
    let r = analyse(config, common)?;
    let a = &r.analysis;
    let mode = match (args.k, args.target, args.slots) {
        (k, None, false) => Mode::Count {
            rule: args.rule.clone(),
            k: k.unwrap_or(10),
        },
        (None, Some(share), false) => Mode::Target {
            rule: args.rule.clone(),
            share,
        },
        (None, None, true) => Mode::Slots,
        _ => bail!("give one of --k N, --target SHARE and --slots"),
    };
    let candidates = match args.candidates.as_str() {
        "centres" => Candidates::Centres,
        "grid" => Candidates::Grid {
            spacing_m: args.spacing.unwrap_or(a.params.siting.grid_spacing_m),
        },
        file => Candidates::Points(read_points(Path::new(file))?),
    };
    if !(args.seconds.is_finite() && (0.1..=60.0).contains(&args.seconds)) {
        bail!("--seconds must be from 0.1 to 60");
    }
    let req = SitingRequest {
        county: args.county.clone(),
        mode,
        candidates,
        max_gap: args.max_gap,
        time_limit: Duration::from_secs_f64(args.seconds),
    };
    if let Some(dir) = &args.instance {
        // The problem in the format of the siting_csv example and
        // bench/siting_spopt.py.
        let (demand, cands) = siting::instance(a, &req)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut d = String::from("id,x,y,weight,radius\n");
        for (i, x) in demand.iter().enumerate() {
            d.push_str(&format!(
                "{i},{:?},{:?},{:?},{:?}\n",
                x.at.x, x.at.y, x.weight, x.radius
            ));
        }
        let mut c = String::from("id,x,y\n");
        for (i, x) in cands.iter().enumerate() {
            c.push_str(&format!("{i},{:?},{:?}\n", x.x, x.y));
        }
        write(&dir.join("demand.csv"), d.as_bytes())?;
        write(&dir.join("candidates.csv"), c.as_bytes())?;
    }
    let rep = siting::site(a, &req)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print_reading(&r);
        println!(
            "{} {} · mode {} · {} candidates · {} demand cells · {:.1} ms",
            rep.area.code, rep.area.name, rep.mode, rep.candidates, rep.demand_cells, rep.millis
        );
        if rep.mode == "slots" {
            println!(
                "residents {:.0} · slots {} · short {} · proposed {} in {} sites",
                rep.in_scope,
                rep.covered_before,
                rep.slots_needed.unwrap_or(0.0),
                rep.slots_proposed.unwrap_or(0.0),
                rep.sites.len()
            );
        } else {
            println!(
                "in scope {} · covered {} → {} ({} → {}) · upper bound {} · gap {:.3}% · {}",
                rep.in_scope,
                rep.covered_before,
                rep.covered_after,
                pct(rep.covered_before as u64, rep.in_scope as u64),
                pct(rep.covered_after as u64, rep.in_scope as u64),
                rep.upper_bound.unwrap_or(0.0),
                rep.gap.unwrap_or(0.0) * 100.0,
                if rep.optimal == Some(true) {
                    "proven optimal"
                } else {
                    "not proven optimal"
                }
            );
        }
        for s in &rep.sites {
            println!(
                "  {:>3}. {:<24} {:.6}, {:.6} · {} {} · {} {}",
                s.rank,
                s.name,
                s.lng,
                s.lat,
                s.area,
                s.area_name,
                s.kind,
                match s.slots {
                    Some(n) => format!("{n} slots"),
                    None => format!("+{} people", s.gain),
                }
            );
        }
    }
    if let Some(path) = &args.out {
        match out_of(path, true)? {
            Out::Table(f) => write(path, &tables::sites(&rep, f)?)?,
            Out::GeoJson => {
                let features: Vec<serde_json::Value> = rep
                    .sites
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [s.lng, s.lat]},
                            "properties": s,
                        })
                    })
                    .collect();
                write(
                    path,
                    serde_json::to_string(
                        &serde_json::json!({"type": "FeatureCollection", "features": features}),
                    )?
                    .as_bytes(),
                )?;
            }
        }
    }
    if args.save {
        if rep.sites.is_empty() {
            bail!("no site to save");
        }
        let scope = scope_as(&r.store, args.who.as_deref())?;
        let sites: Vec<SiteToSave> = rep
            .sites
            .iter()
            .map(|s| -> Result<SiteToSave> {
                Ok(SiteToSave {
                    name: format!("规划{}（{}）", kind_label(s.kind), s.name),
                    kind: FacilityKind::parse(s.kind).context("a known kind")?,
                    lng: s.lng,
                    lat: s.lat,
                    area_code: s.area.clone(),
                    beds: None,
                    approved_slots: s.slots.map(|n| n as i64),
                })
            })
            .collect::<Result<_>>()?;
        let mut c = r.store.conn()?;
        let ids = plan::save_sites(&mut c, &r.store.reference, &scope, &sites)?;
        println!("saved {} planned facilities: {}", ids.len(), ids.join(", "));
    }
    Ok(())
}

fn kind_label(code: &str) -> &'static str {
    FacilityKind::parse(code).map_or("设施", |k| k.label_zh())
}

/// `plan residents`: show, load or clear the imported resident grid.
pub fn residents(config: &Config, file: Option<&Path>, clear: bool) -> Result<()> {
    let store = open(config)?;
    let mut c = store.conn()?;
    let scope = cli_scope();
    match (file, clear) {
        (Some(_), true) => bail!("give a file or --clear, not both"),
        (Some(path), false) => {
            let meta =
                std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
            if meta.len() > 200 * 1024 * 1024 {
                bail!("{}: a resident grid file is at most 200 MB", path.display());
            }
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let points = match plan::parse_grid_csv(&bytes) {
                Ok(p) => p,
                Err(laoxiao_store::StoreError::ImportRejected(errors)) => {
                    for e in errors.iter().take(20) {
                        eprintln!("{}: {e}", path.display());
                    }
                    bail!(
                        "{}: {} row error(s); nothing was loaded",
                        path.display(),
                        errors.len()
                    );
                }
                Err(e) => return Err(e.into()),
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let info = plan::import_grid(&mut c, &scope, &points, &name)?;
            println!(
                "loaded {} points, {:.0} residents, from {}: the analysis uses them instead of its estimate",
                info.points, info.residents, info.source
            );
        }
        (None, true) => {
            if plan::clear_grid(&mut c, &scope)? {
                println!("cleared the resident grid: residents are estimated again");
            } else {
                println!("there was no resident grid; residents are estimated");
            }
        }
        (None, false) => match plan::grid_info(&mut c)? {
            Some(i) => println!(
                "resident grid: {} points, {:.0} residents, from {} (loaded {} by {})",
                i.points, i.residents, i.source, i.imported_at, i.imported_by
            ),
            None => println!(
                "no resident grid: residents are estimated per cell from the registers and the county totals (docs/planning.md)"
            ),
        },
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `plan bench`: the measurements, medians of `repeat` runs.
pub fn bench(config: &Config, common: &Common, repeat: usize, county: Option<&str>) -> Result<()> {
    let repeat = repeat.clamp(1, 50);
    let params = params(common)?;
    let options = options(common)?;
    let date = common.date.unwrap_or_else(today);
    let store = open(config)?;
    let mut c = store.conn()?;
    let t = Instant::now();
    let loaded = store
        .reference
        .planning
        .inputs(&mut c, &store.reference.areas, date)?;
    let read_s = t.elapsed().as_secs_f64();
    let rss_inputs = peak_rss_mib();
    let (mut run_ms, mut nearest_ms, mut access_ms, mut total_ms) =
        (vec![], vec![], vec![], vec![]);
    let mut last = None;
    let mut checksum = 0.0;
    let mut mismatches = 0u64;
    for _ in 0..repeat {
        let t0 = Instant::now();
        let a = Analysis::run(&params, Arc::clone(&loaded.inputs), &options)?;
        let t1 = Instant::now();
        // The nearest facility of each kind for every populated cell, and of
        // each elderly kind for every elderly person.
        let mut answers = Vec::new();
        for k in FacilityKind::ALL {
            let cells = a.cell_nearest_of_kind(*k);
            checksum += cells.iter().flatten().map(|x| x.1).sum::<f64>();
            let people = if k.is_elderly() {
                a.person_nearest_of_kind(*k, Layer::Elderly)
            } else {
                Vec::new()
            };
            checksum += people.iter().flatten().map(|x| x.1).sum::<f64>();
            answers.push((*k, cells, people));
        }
        let t2 = Instant::now();
        // Every 1,000th answer against a search of every facility of the kind
        // (outside the timing).
        for (k, cells, people) in &answers {
            let of_kind: Vec<laoxiao_spatial::Xy> = a
                .inputs
                .facilities
                .iter()
                .enumerate()
                .filter(|(i, f)| a.counted[*i] && f.kind == *k)
                .map(|(_, f)| f.at)
                .collect();
            let brute = |p: laoxiao_spatial::Xy| {
                of_kind
                    .iter()
                    .map(|f| f.dist(p))
                    .fold(f64::INFINITY, f64::min)
            };
            // Equal up to rounding (hypot against a square root of squares).
            let differs = |got: Option<(u32, f64)>, want: f64| match got {
                None => want.is_finite(),
                Some((_, d)) => (d - want).abs() > 1e-9 * want.max(1.0),
            };
            for (c, got) in cells.iter().enumerate().step_by(1000) {
                if differs(*got, brute(a.grid.centre(c))) {
                    mismatches += 1;
                }
            }
            for (i, got) in people.iter().enumerate().step_by(1000) {
                if a.inputs.people[i].layer == Layer::Elderly
                    && differs(*got, brute(a.inputs.people[i].at))
                {
                    mismatches += 1;
                }
            }
        }
        drop(answers);
        let t2b = Instant::now();
        let req = AccessRequest::parse(&a, "beds", Some(1000.0), Some("uniform"), None)?;
        let run = report::access(&a, &req);
        checksum += run.value.iter().flatten().sum::<f64>();
        let t3 = Instant::now();
        let verify = t2b - t2;
        run_ms.push((t1 - t0).as_secs_f64() * 1e3);
        nearest_ms.push((t2 - t1).as_secs_f64() * 1e3);
        access_ms.push((t3 - t2b).as_secs_f64() * 1e3);
        total_ms.push((t3 - t0 - verify).as_secs_f64() * 1e3);
        last = Some(a);
    }
    let a = last.context("at least one run")?;
    let stages: Vec<String> = a
        .timings
        .iter()
        .map(|(n, t)| format!("{n} {t:.1}"))
        .collect();
    println!("last analysis by stage (ms): {}", stages.join(" · "));
    println!(
        "inputs: {} people, {} facilities, read in {:.2} s (peak RSS {:.0} MiB)",
        a.inputs.people.len(),
        a.inputs.facilities.len(),
        read_s,
        rss_inputs.unwrap_or(0.0)
    );
    println!(
        "grid: {} cells of {} m; medians of {repeat}: analysis (grid, density, both rules for every person, clusters) {:.1} ms · nearest of every kind for every cell and every elderly person {:.1} ms · 2SFCA beds 1 km {:.1} ms · total {:.1} ms · peak RSS {:.0} MiB (checksum {:.0}; sampled answers differing from a search of every facility: {mismatches})",
        a.grid.len(),
        a.grid.size,
        median(&mut run_ms),
        median(&mut nearest_ms),
        median(&mut access_ms),
        median(&mut total_ms),
        peak_rss_mib().unwrap_or(0.0),
        checksum
    );
    // Siting: 10 sites among 2,000 grid candidates in the county with the
    // most people not covered by the institution rule.
    let rule = a.rule("institution").context("the institution rule")?;
    let county = match county {
        Some(c) => c.to_string(),
        None => a
            .inputs
            .areas
            .iter()
            .enumerate()
            .filter(|(_, x)| x.level == laoxiao_model::AreaLevel::County)
            .max_by_key(|(i, _)| a.area_coverage(rule, *i as u32).total.not_covered)
            .map(|(_, x)| x.code.clone())
            .context("a county")?,
    };
    let ci = report::area_of(&a, Some(&county))?;
    // Grid centres over the county's people, thinned to 2,000.
    let mut pts: Vec<(f64, f64, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in a.cells_in(ci) {
        let key = laoxiao_spatial::grid::cell_of(a.grid.centre(c), 250.0);
        if seen.insert(key) {
            let (lng, lat) =
                laoxiao_spatial::unproject(laoxiao_spatial::grid::centre_of(key, 250.0));
            pts.push((lng, lat, String::new()));
        }
    }
    let step = pts.len().div_ceil(2000).max(1);
    let pts: Vec<_> = pts.into_iter().step_by(step).take(2000).collect();
    let mut site_ms = Vec::new();
    let mut rep = None;
    for _ in 0..repeat {
        let req = SitingRequest {
            county: county.clone(),
            mode: Mode::Count {
                rule: "institution".into(),
                k: 10,
            },
            candidates: Candidates::Points(pts.clone()),
            max_gap: 0.0,
            time_limit: Duration::from_secs(10),
        };
        let t = Instant::now();
        let r = siting::site(&a, &req)?;
        site_ms.push(t.elapsed().as_secs_f64() * 1e3);
        rep = Some(r);
    }
    let rep = rep.context("a siting run")?;
    println!(
        "siting {county}: 10 sites among {} candidates over {} demand cells: median {:.1} ms · covered +{} · upper bound +{} · gap {:.4}% · {}",
        rep.candidates,
        rep.demand_cells,
        median(&mut site_ms),
        rep.covered_after - rep.covered_before,
        rep.upper_bound.unwrap_or(0.0) - rep.covered_before,
        rep.gap.unwrap_or(0.0) * 100.0,
        if rep.optimal == Some(true) {
            "proven optimal"
        } else {
            "not proven optimal"
        }
    );
    Ok(())
}
