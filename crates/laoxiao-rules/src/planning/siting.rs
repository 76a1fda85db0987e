//! Where the next facilities should go (选址): the maximal covering location
//! problem over a county's uncovered people, a "close the gap" mode that adds
//! sites until a coverage share is reached, and childcare sites sized to the
//! county's slot shortfall (4.6 per 1,000 residents).
//!
//! Demand is aggregated at the 100 m cells' centres (a person is within 71 m
//! of it): a cell's uncovered people count as covered by a new site when the
//! centre is within the cell's distance (500 m or 1,000 m by density class,
//! the walk for home care). The solver (`laoxiao_spatial::siting`) proves
//! optimality or reports the gap to a proven upper bound.

use std::collections::HashSet;
use std::time::Duration;

use laoxiao_model::{AreaLevel, FacilityKind};
use laoxiao_spatial::grid::cell_of;
use laoxiao_spatial::siting::{self, Demand};
use laoxiao_spatial::{PointIndex, Xy, project, unproject};
use serde::Serialize;

use super::analysis::Analysis;
use super::params::Layer;
use super::report::{AccessRequest, AccessSide, AreaRef, Reading, area_of, rule_of};
use crate::error::RulesError;

/// Candidates considered at most.
pub const MAX_CANDIDATES: usize = 20_000;
/// Sites proposed at most.
pub const MAX_SITES: usize = 200;

fn bad(name: &str, reason: impl Into<String>) -> RulesError {
    RulesError::Parameter {
        name: name.into(),
        reason: reason.into(),
    }
}

/// Where candidate sites come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidates {
    /// The known centres of the county's villages and towns.
    Centres,
    /// The centres of a square grid's cells that hold people.
    Grid { spacing_m: f64 },
    /// Points given by the planner (WGS-84 longitude, latitude, name).
    Points(Vec<(f64, f64, String)>),
}

/// What the siting tool optimises.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `k` new sites covering the most uncovered people under a rule.
    Count { rule: String, k: usize },
    /// As few sites as reach a covered share (0–1) of those in scope.
    Target { rule: String, share: f64 },
    /// Childcare sites sized to the need until the county reaches its slots
    /// per 1,000 residents (indicator 38).
    Slots,
}

/// A siting request for one county.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingRequest {
    pub county: String,
    pub mode: Mode,
    pub candidates: Candidates,
    /// The accepted gap (0 = prove optimal) and the time allowed.
    pub max_gap: f64,
    pub time_limit: Duration,
}

/// One proposed site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedSite {
    pub rank: usize,
    pub name: String,
    pub source: &'static str,
    pub lng: f64,
    pub lat: f64,
    /// The village (or town) it lies in.
    pub area: String,
    pub area_name: String,
    /// The kind it would be saved as.
    pub kind: &'static str,
    /// People newly covered given the sites before it (count modes).
    pub gain: f64,
    /// Slots (slots mode).
    pub slots: Option<f64>,
    /// The need within its reach (slots mode).
    pub need_in_reach: Option<f64>,
}

/// The answer of the siting tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitingReport {
    pub reading: Reading,
    pub area: AreaRef,
    pub mode: &'static str,
    pub rule: Option<String>,
    pub candidates: usize,
    pub demand_cells: usize,
    /// People in scope, covered now, and covered with the sites.
    pub in_scope: f64,
    pub covered_before: f64,
    pub covered_after: f64,
    pub upper_bound: Option<f64>,
    pub gap: Option<f64>,
    pub optimal: Option<bool>,
    pub nodes: Option<u64>,
    /// Slots mode: residents, slots now, slots needed and proposed.
    pub slots_needed: Option<f64>,
    pub slots_proposed: Option<f64>,
    pub sites: Vec<ProposedSite>,
    pub millis: f64,
}

struct Candidate {
    at: Xy,
    area: u32,
    name: String,
    source: &'static str,
}

fn candidates(a: &Analysis, county: u32, from: &Candidates) -> Result<Vec<Candidate>, RulesError> {
    let cells = a.cells_in(county);
    let mut out = Vec::new();
    match from {
        Candidates::Centres => {
            for (i, area) in a.inputs.areas.iter().enumerate() {
                let level = area.level;
                if !matches!(level, AreaLevel::Town | AreaLevel::Village)
                    || !a.within(i as u32, county)
                {
                    continue;
                }
                if let Some((lng, lat)) = area.centre {
                    out.push(Candidate {
                        at: project(lng, lat),
                        area: i as u32,
                        name: area.name.clone(),
                        source: if level == AreaLevel::Town {
                            "town_centre"
                        } else {
                            "village_centre"
                        },
                    });
                }
            }
        }
        Candidates::Grid { spacing_m } => {
            if !(spacing_m.is_finite() && (50.0..=5_000.0).contains(spacing_m)) {
                return Err(bad(
                    "spacing",
                    format!("{spacing_m} m is not from 50 to 5000 m"),
                ));
            }
            let mut seen: HashSet<(i32, i32)> = HashSet::new();
            for c in &cells {
                let key = cell_of(a.grid.centre(*c), *spacing_m);
                if seen.insert(key) {
                    let at = laoxiao_spatial::grid::centre_of(key, *spacing_m);
                    out.push(Candidate {
                        at,
                        area: a.cell_area[*c],
                        name: format!("网格 {}-{}", key.0, key.1),
                        source: "grid",
                    });
                }
            }
        }
        Candidates::Points(points) => {
            let centres: Vec<Xy> = cells.iter().map(|c| a.grid.centre(*c)).collect();
            let index = PointIndex::new(&centres, 500.0);
            for (i, (lng, lat, name)) in points.iter().enumerate() {
                if !(lng.is_finite() && lat.is_finite()) {
                    return Err(bad("points", format!("point {}: not a coordinate", i + 1)));
                }
                let at = project(*lng, *lat);
                // The area of the nearest populated cell of the county.
                let Some((j, d)) = index.nearest(at) else {
                    return Err(bad("points", "the county has no populated cell"));
                };
                if d > 5_000.0 {
                    return Err(bad(
                        "points",
                        format!("point {} lies {d:.0} m from the county's people", i + 1),
                    ));
                }
                out.push(Candidate {
                    at,
                    area: a.cell_area[cells[j]],
                    name: if name.trim().is_empty() {
                        format!("候选点 {}", i + 1)
                    } else {
                        name.chars().take(100).collect()
                    },
                    source: "file",
                });
            }
        }
    }
    if out.len() > MAX_CANDIDATES {
        return Err(bad(
            "candidates",
            format!(
                "{} candidates: more than {MAX_CANDIDATES}; use a wider grid",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn kind_for(a: &Analysis, key: &str) -> &'static str {
    a.params
        .siting
        .save_as
        .get(key)
        .map_or(FacilityKind::ElderlyInstitution.code(), |k| k.code())
}

fn site_of(a: &Analysis, c: &Candidate, rank: usize, kind: &'static str) -> ProposedSite {
    let (lng, lat) = unproject(c.at);
    let area = a.inputs.areas.get(c.area as usize);
    ProposedSite {
        rank,
        name: c.name.clone(),
        source: c.source,
        lng: (lng * 1e6).round() / 1e6,
        lat: (lat * 1e6).round() / 1e6,
        area: area.map(|x| x.code.clone()).unwrap_or_default(),
        area_name: area.map(|x| x.name.clone()).unwrap_or_default(),
        kind,
        gain: 0.0,
        slots: None,
        need_in_reach: None,
    }
}

/// The uncovered people of a rule in `cells`, at the cells' centres, each
/// with its density class's distance.
fn demand_of(a: &Analysis, r: &super::RuleCoverage, cells: &[usize]) -> Vec<Demand> {
    cells
        .iter()
        .filter(|c| r.cell_uncovered[**c] > 0)
        .filter_map(|c| {
            r.rule.threshold(a.class[*c]).map(|t| Demand {
                at: a.grid.centre(*c),
                weight: f64::from(r.cell_uncovered[*c]),
                radius: t,
            })
        })
        .collect()
}

/// The covering problem a count or target request solves: demand and
/// candidate points (projected), for comparisons with other solvers.
pub fn instance(a: &Analysis, req: &SitingRequest) -> Result<(Vec<Demand>, Vec<Xy>), RulesError> {
    let county = area_of(a, Some(&req.county))?;
    let rule = match &req.mode {
        Mode::Count { rule, .. } | Mode::Target { rule, .. } => rule_of(a, rule)?,
        Mode::Slots => return Err(bad("mode", "the slots mode is not a covering problem")),
    };
    let cands = candidates(a, county, &req.candidates)?;
    Ok((
        demand_of(a, rule, &a.cells_in(county)),
        cands.iter().map(|c| c.at).collect(),
    ))
}

/// Runs the siting tool.
pub fn site(a: &Analysis, req: &SitingRequest) -> Result<SitingReport, RulesError> {
    let start = std::time::Instant::now();
    let county = area_of(a, Some(&req.county))?;
    if a.inputs.areas[county as usize].level != AreaLevel::County {
        return Err(bad(
            "area",
            format!("{} is not a county: siting runs per county", req.county),
        ));
    }
    if !(req.max_gap.is_finite() && (0.0..=0.5).contains(&req.max_gap)) {
        return Err(bad("max_gap", "give a share from 0 to 0.5"));
    }
    let cands = candidates(a, county, &req.candidates)?;
    let points: Vec<Xy> = cands.iter().map(|c| c.at).collect();
    let cells = a.cells_in(county);
    let mut report = SitingReport {
        reading: Reading::of(a),
        area: AreaRef {
            code: a.inputs.areas[county as usize].code.clone(),
            name: a.inputs.areas[county as usize].name.clone(),
            level: "county",
        },
        mode: "",
        rule: None,
        candidates: cands.len(),
        demand_cells: 0,
        in_scope: 0.0,
        covered_before: 0.0,
        covered_after: 0.0,
        upper_bound: None,
        gap: None,
        optimal: None,
        nodes: None,
        slots_needed: None,
        slots_proposed: None,
        sites: Vec::new(),
        millis: 0.0,
    };
    match &req.mode {
        Mode::Count { rule, .. } | Mode::Target { rule, .. } => {
            let r = rule_of(a, rule)?;
            let demand = demand_of(a, r, &cells);
            let counts = a.area_coverage(r, county).total;
            report.rule = Some(r.rule.code.clone());
            report.demand_cells = demand.len();
            report.in_scope = counts.in_scope as f64;
            report.covered_before = counts.covered as f64;
            let solution = if let Mode::Count { k, .. } = &req.mode {
                if *k == 0 || *k > MAX_SITES {
                    return Err(bad("k", format!("give 1 to {MAX_SITES} sites")));
                }
                report.mode = "count";
                siting::max_cover(
                    &demand,
                    &points,
                    &siting::Options {
                        k: *k,
                        max_gap: req.max_gap,
                        time_limit: req.time_limit,
                        ..siting::Options::default()
                    },
                )
            } else {
                let share = match &req.mode {
                    Mode::Target { share, .. } => *share,
                    _ => f64::NAN,
                };
                if !(share.is_finite() && share > 0.0 && share <= 1.0) {
                    return Err(bad(
                        "target",
                        "give a share above 0 and up to 1 (0.95 = 95%)",
                    ));
                }
                report.mode = "target";
                let want = share * counts.in_scope as f64 - counts.covered as f64;
                siting::cover_until(&demand, &points, want, MAX_SITES)
            };
            let kind = kind_for(a, &r.rule.code);
            report.covered_after = report.covered_before + solution.covered;
            report.upper_bound = Some(report.covered_before + solution.upper_bound);
            report.gap = Some(solution.gap);
            report.optimal = Some(solution.optimal);
            report.nodes = Some(solution.nodes);
            report.sites = solution
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut p = site_of(a, &cands[s.candidate], i + 1, kind);
                    p.gain = s.gain;
                    p
                })
                .collect();
        }
        Mode::Slots => {
            report.mode = "slots";
            let norms = &a.params.childcare;
            let row = a
                .slots_table(county)
                .into_iter()
                .next()
                .ok_or_else(|| bad("area", "no slot figures"))?;
            report.in_scope = row.residents;
            report.covered_before = row.slots;
            report.slots_needed = Some(row.gap);
            // Need per cell: its residents' share of the norm, less what the
            // slots within reach already give them (2SFCA over residents).
            let req2 = AccessRequest {
                side: AccessSide::Slots,
                radius_m: a.params.access.radius_m,
                decay: laoxiao_spatial::access::Decay::Uniform,
                demand: Layer::Residents,
            };
            let run = super::report::access(a, &req2);
            let per = norms.city_per_1000 / 1000.0;
            let need: Vec<(Xy, f64)> = cells
                .iter()
                .map(|c| {
                    let r = a.grid.value(*c, Layer::Residents.index());
                    let have = run.value[*c].unwrap_or(0.0);
                    (a.grid.centre(*c), (r * (per - have)).max(0.0))
                })
                .filter(|(_, n)| *n > 0.0)
                .collect();
            report.demand_cells = need.len();
            let sized = siting::size_to_need(
                &need,
                &points,
                a.params.access.radius_m,
                row.gap,
                a.params.siting.childcare_min_slots,
                a.params.siting.childcare_max_slots,
            );
            let kind = kind_for(a, "childcare");
            let total: f64 = sized.iter().map(|s| s.size).sum();
            report.slots_proposed = Some(total);
            report.covered_after = row.slots + total;
            report.sites = sized
                .iter()
                .take(MAX_SITES)
                .enumerate()
                .map(|(i, s)| {
                    let mut p = site_of(a, &cands[s.candidate], i + 1, kind);
                    p.slots = Some(s.size);
                    p.need_in_reach = Some(s.need_in_reach);
                    p.gain = s.size;
                    p
                })
                .collect();
        }
    }
    report.millis = start.elapsed().as_secs_f64() * 1e3;
    Ok(report)
}
