//! What planners read: the coverage report of an area, the cells of the gap
//! map (as rows and as GeoJSON), accessibility by 2SFCA / E2SFCA, and the
//! slot table; every answer carries the reading it was made under.

use std::time::Instant;

use laoxiao_model::{AreaLevel, FacilityKind};
use laoxiao_spatial::access::{Decay, two_step};
use laoxiao_spatial::grid::centre_of;
use laoxiao_spatial::{Xy, unproject};
use serde::Serialize;
use serde_json::{Value, json};

use super::analysis::{Analysis, AreaCoverage, AreaSlots, Cluster, RuleCoverage};
use super::params::{DensityClass, Layer};
use crate::error::RulesError;

/// Cells one answer may list at most (a 100 m grid of a county is ~30,000
/// populated cells; the city's ~150,000 at 100 m is asked at 250 m or 1 km).
pub const MAX_CELLS: usize = 60_000;
/// Clusters listed at most.
pub const MAX_CLUSTERS: usize = 500;
/// Catchment radius bounds (metres).
pub const RADIUS_RANGE: (f64, f64) = (50.0, 20_000.0);

fn bad(name: &str, reason: impl Into<String>) -> RulesError {
    RulesError::Parameter {
        name: name.into(),
        reason: reason.into(),
    }
}

/// How an answer was computed: the rules' version and the readings the plan
/// leaves open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub date: Option<String>,
    pub params_source: String,
    pub params_version: String,
    pub projection: &'static str,
    pub cell_m: f64,
    pub density_basis: &'static str,
    pub density_basis_zh: &'static str,
    /// The side of the neighbourhood density is measured over.
    pub density_window_m: f64,
    pub high_above: f64,
    pub medium_from: f64,
    /// `estimated` or `imported`.
    pub residents_source: &'static str,
    pub with_planned: bool,
    pub people: usize,
    pub people_without_point: u64,
    pub facilities: usize,
    pub facilities_without_point: u64,
}

impl Reading {
    pub fn of(a: &Analysis) -> Reading {
        let basis = a.options.basis.unwrap_or(a.params.density.basis);
        let reach = a.params.density.reach(a.grid.size);
        Reading {
            date: a.inputs.date.map(|d| d.to_string()),
            params_source: a.params.source.clone(),
            params_version: a.params.version.clone(),
            projection: laoxiao_spatial::proj::PROJECTION,
            cell_m: a.grid.size,
            density_basis: basis.code(),
            density_basis_zh: basis.label_zh(),
            density_window_m: (2 * reach + 1) as f64 * a.grid.size,
            high_above: a.params.density.high_above,
            medium_from: a.params.density.medium_from,
            residents_source: a.residents_source,
            with_planned: a.options.with_planned,
            people: a.inputs.people.len(),
            people_without_point: a.inputs.people_without_point,
            facilities: a.counted.iter().filter(|c| **c).count(),
            facilities_without_point: a.inputs.facilities_without_point,
        }
    }
}

/// A rule as shown beside its answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInfo {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub kinds: Vec<&'static str>,
    pub population: &'static str,
    pub high_m: Option<f64>,
    pub medium_m: Option<f64>,
    pub low_m: Option<f64>,
    pub walk: Option<Value>,
    pub clause: String,
}

impl RuleInfo {
    pub fn of(r: &RuleCoverage) -> RuleInfo {
        let rule = &r.rule;
        RuleInfo {
            code: rule.code.clone(),
            zh: rule.zh.clone(),
            en: rule.en.clone(),
            kinds: rule.kinds.iter().map(|k| k.code()).collect(),
            population: rule.population.code(),
            high_m: rule.threshold(DensityClass::High),
            medium_m: rule.threshold(DensityClass::Medium),
            low_m: rule.threshold(DensityClass::Low),
            walk: rule.walk.as_ref().map(|w| {
                json!({
                    "minutes": w.minutes,
                    "m_per_min": w.m_per_min,
                    "detour_factor": w.detour_factor,
                    "straight_m": w.straight_m(),
                })
            }),
            clause: rule.clause.clone(),
        }
    }
}

/// An area named in an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
    pub level: &'static str,
}

fn area_ref(a: &Analysis, i: u32) -> AreaRef {
    let area = &a.inputs.areas[i as usize];
    AreaRef {
        code: area.code.clone(),
        name: area.name.clone(),
        level: area.level.code(),
    }
}

/// Resolves an area code (the city when absent).
pub fn area_of(a: &Analysis, code: Option<&str>) -> Result<u32, RulesError> {
    match code {
        Some(c) => a
            .area_index(c)
            .ok_or_else(|| bad("area", format!("unknown area {c:?}"))),
        None => a
            .inputs
            .areas
            .iter()
            .position(|x| x.level == AreaLevel::City)
            .map(|i| i as u32)
            .ok_or_else(|| bad("area", "the area tree has no city")),
    }
}

/// A rule by code, with the codes in the error.
pub fn rule_of<'a>(a: &'a Analysis, code: &str) -> Result<&'a RuleCoverage, RulesError> {
    a.rule(code).ok_or_else(|| {
        bad(
            "rule",
            format!("unknown rule {code:?}; one of {}", a.params.rule_codes()),
        )
    })
}

/// The coverage report of an area under a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub reading: Reading,
    pub rule: RuleInfo,
    pub area: AreaRef,
    /// The area first, then the areas directly below it.
    pub rows: Vec<AreaCoverage>,
    /// The biggest uncovered clusters in the area.
    pub clusters: Vec<Cluster>,
    pub clusters_total: usize,
}

pub fn coverage_report(
    a: &Analysis,
    rule: &str,
    area: Option<&str>,
    max_clusters: usize,
) -> Result<CoverageReport, RulesError> {
    let r = rule_of(a, rule)?;
    let ai = area_of(a, area)?;
    let all: Vec<&Cluster> = a.clusters_in(r, ai).collect();
    Ok(CoverageReport {
        reading: Reading::of(a),
        rule: RuleInfo::of(r),
        area: area_ref(a, ai),
        rows: a.coverage_table(r, ai),
        clusters: all
            .iter()
            .take(max_clusters.min(MAX_CLUSTERS))
            .map(|c| (*c).clone())
            .collect(),
        clusters_total: all.len(),
    })
}

/// One rule's answer for a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRule {
    pub rule: String,
    pub nearest_id: Option<String>,
    pub nearest_m: Option<f64>,
    /// Whether the cell's centre is within the rule's distance (none where
    /// the rule sets no distance).
    pub centre_covered: Option<bool>,
    /// People of the rule's population in the cell, and of them not covered.
    pub people: u32,
    pub uncovered: u32,
}

/// A cell of the grid with its people and answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRow {
    pub col: i32,
    pub row: i32,
    /// Centre (WGS-84).
    pub lng: f64,
    pub lat: f64,
    pub area: String,
    pub elderly: f64,
    pub infants: f64,
    pub residents: f64,
    pub density: f64,
    pub class: &'static str,
    pub rules: Vec<CellRule>,
    /// Accessibility, when computed with the cells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Option<f64>>,
}

/// Which cells to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFilter {
    All,
    /// Cells where someone is not covered under the rule.
    Uncovered,
}

/// The cells of an area (at most [`MAX_CELLS`]; more is an error that says
/// to choose a smaller area or a coarser grid).
pub fn cells(
    a: &Analysis,
    area: Option<&str>,
    rule: Option<&str>,
    filter: CellFilter,
) -> Result<Vec<CellRow>, RulesError> {
    let ai = area_of(a, area)?;
    let focus = rule.map(|r| rule_of(a, r)).transpose()?;
    let rules: Vec<&RuleCoverage> = match focus {
        Some(r) => vec![r],
        None => a.rules.iter().collect(),
    };
    let ids: Vec<usize> = a
        .cells_in(ai)
        .into_iter()
        .filter(|c| match filter {
            CellFilter::All => true,
            CellFilter::Uncovered => rules.iter().any(|r| r.cell_uncovered[*c] > 0),
        })
        .collect();
    if ids.len() > MAX_CELLS {
        return Err(bad(
            "cells",
            format!(
                "{} cells of {} m: more than {MAX_CELLS}; choose a smaller area or a coarser grid (250 or 1000 m)",
                ids.len(),
                a.grid.size
            ),
        ));
    }
    Ok(ids.into_iter().map(|c| cell_row(a, c, &rules)).collect())
}

fn cell_row(a: &Analysis, c: usize, rules: &[&RuleCoverage]) -> CellRow {
    let key = a.grid.keys[c];
    let (lng, lat) = unproject(a.grid.centre(c));
    CellRow {
        col: key.0,
        row: key.1,
        lng,
        lat,
        area: a
            .inputs
            .areas
            .get(a.cell_area[c] as usize)
            .map(|x| x.code.clone())
            .unwrap_or_default(),
        elderly: a.grid.value(c, Layer::Elderly.index()),
        infants: a.grid.value(c, Layer::Infants.index()),
        residents: (a.grid.value(c, Layer::Residents.index()) * 10.0).round() / 10.0,
        density: a.density[c].round(),
        class: a.class[c].code(),
        rules: rules
            .iter()
            .map(|r| {
                let (near, covered) = a.cell_cover(r, c);
                CellRule {
                    rule: r.rule.code.clone(),
                    nearest_id: near.map(|(f, _)| a.inputs.facilities[f as usize].id.clone()),
                    nearest_m: near.map(|(_, d)| (d * 10.0).round() / 10.0),
                    centre_covered: covered,
                    people: r.cell_people[c],
                    uncovered: r.cell_uncovered[c],
                }
            })
            .collect(),
        access: None,
    }
}

/// The square of a cell as a GeoJSON ring (WGS-84).
pub fn cell_ring(col: i32, row: i32, size: f64) -> Vec<[f64; 2]> {
    let c = centre_of((col, row), size);
    let h = size / 2.0;
    [(-h, -h), (h, -h), (h, h), (-h, h), (-h, -h)]
        .iter()
        .map(|(dx, dy)| {
            let (lng, lat) = unproject(Xy::new(c.x + dx, c.y + dy));
            [(lng * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6]
        })
        .collect()
}

/// Cells as a GeoJSON FeatureCollection of squares.
pub fn cells_geojson(rows: &[CellRow], size: f64) -> Value {
    let features: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut props = serde_json::to_value(r).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut props {
                m.remove("rules");
                for cr in &r.rules {
                    m.insert(format!("{}_nearest_id", cr.rule), json!(cr.nearest_id));
                    m.insert(format!("{}_nearest_m", cr.rule), json!(cr.nearest_m));
                    m.insert(
                        format!("{}_centre_covered", cr.rule),
                        json!(cr.centre_covered),
                    );
                    m.insert(format!("{}_people", cr.rule), json!(cr.people));
                    m.insert(format!("{}_uncovered", cr.rule), json!(cr.uncovered));
                }
            }
            json!({
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [cell_ring(r.col, r.row, size)]},
                "properties": props,
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// A facility as shown on maps and in lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityRef {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub kind_zh: &'static str,
    pub lng: f64,
    pub lat: f64,
    pub beds: f64,
    pub slots: f64,
    pub area: String,
    pub planned: bool,
}

pub fn facility_ref(a: &Analysis, i: u32) -> FacilityRef {
    let f = &a.inputs.facilities[i as usize];
    let (lng, lat) = unproject(f.at);
    FacilityRef {
        id: f.id.clone(),
        name: f.name.clone(),
        kind: f.kind.code(),
        kind_zh: f.kind.label_zh(),
        lng: (lng * 1e6).round() / 1e6,
        lat: (lat * 1e6).round() / 1e6,
        beds: f.beds,
        slots: f.slots,
        area: a
            .inputs
            .areas
            .get(f.area as usize)
            .map(|x| x.code.clone())
            .unwrap_or_default(),
        planned: f.planned,
    }
}

/// The counted facilities of some kinds in an area (by their own area).
pub fn facilities_in(a: &Analysis, area: u32, kinds: &[FacilityKind]) -> Vec<FacilityRef> {
    (0..a.inputs.facilities.len() as u32)
        .filter(|i| {
            let f = &a.inputs.facilities[*i as usize];
            a.counted[*i as usize]
                && (kinds.is_empty() || kinds.contains(&f.kind))
                && a.within(f.area, area)
        })
        .map(|i| facility_ref(a, i))
        .collect()
}

/// Facilities as a GeoJSON FeatureCollection of points.
pub fn facilities_geojson(list: &[FacilityRef]) -> Value {
    let features: Vec<Value> = list
        .iter()
        .map(|f| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [f.lng, f.lat]},
                "properties": f,
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// What accessibility is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessSide {
    /// Care-home beds (养老床位) for the elderly.
    Beds,
    /// Childcare slots (托位) for infants.
    Slots,
}

impl AccessSide {
    pub fn parse(s: &str) -> Option<AccessSide> {
        match s.trim() {
            "beds" => Some(AccessSide::Beds),
            "slots" => Some(AccessSide::Slots),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            AccessSide::Beds => "beds",
            AccessSide::Slots => "slots",
        }
    }

    /// The default demand.
    pub fn demand(self) -> Layer {
        match self {
            AccessSide::Beds => Layer::Elderly,
            AccessSide::Slots => Layer::Infants,
        }
    }
}

/// An accessibility request.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRequest {
    pub side: AccessSide,
    pub radius_m: f64,
    pub decay: Decay,
    pub demand: Layer,
}

impl AccessRequest {
    /// A request from texts (the CLI's and API's parameters), defaults from the rules.
    pub fn parse(
        a: &Analysis,
        side: &str,
        radius_m: Option<f64>,
        decay: Option<&str>,
        demand: Option<&str>,
    ) -> Result<AccessRequest, RulesError> {
        let side = AccessSide::parse(side)
            .ok_or_else(|| bad("side", format!("{side:?} is not beds or slots")))?;
        let radius_m = radius_m.unwrap_or(a.params.access.radius_m);
        if !(radius_m.is_finite() && (RADIUS_RANGE.0..=RADIUS_RANGE.1).contains(&radius_m)) {
            return Err(bad(
                "radius",
                format!(
                    "{radius_m} m is not from {} to {} m",
                    RADIUS_RANGE.0, RADIUS_RANGE.1
                ),
            ));
        }
        let decay =
            Decay::parse(decay.unwrap_or(&a.params.access.decay)).map_err(|e| bad("decay", e))?;
        let demand = match demand {
            None => side.demand(),
            Some(d) => Layer::parse(d).ok_or_else(|| {
                bad(
                    "demand",
                    format!("{d:?} is not elderly, infants or residents"),
                )
            })?,
        };
        Ok(AccessRequest {
            side,
            radius_m,
            decay,
            demand,
        })
    }
}

/// Accessibility over the whole grid (catchments cross area borders).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRun {
    pub request: AccessRequest,
    /// Per grid cell.
    pub value: Vec<Option<f64>>,
    /// The supply facilities (indices into the inputs) and their ratios.
    pub supply: Vec<u32>,
    pub ratio: Vec<Option<f64>>,
    /// Supply facilities with no demand in reach.
    pub unserved: Vec<u32>,
    pub millis: f64,
}

/// Runs 2SFCA / E2SFCA for every cell of the grid.
pub fn access(a: &Analysis, req: &AccessRequest) -> AccessRun {
    let start = Instant::now();
    let demand: Vec<(Xy, f64)> = (0..a.grid.len())
        .map(|c| (a.grid.centre(c), a.grid.value(c, req.demand.index())))
        .collect();
    let supply: Vec<u32> = (0..a.inputs.facilities.len() as u32)
        .filter(|i| {
            let f = &a.inputs.facilities[*i as usize];
            a.counted[*i as usize]
                && match req.side {
                    AccessSide::Beds => f.kind.has_beds() && f.beds > 0.0,
                    AccessSide::Slots => {
                        a.params.childcare.kinds.contains(&f.kind) && f.slots > 0.0
                    }
                }
        })
        .collect();
    let pts: Vec<(Xy, f64)> = supply
        .iter()
        .map(|i| {
            let f = &a.inputs.facilities[*i as usize];
            (
                f.at,
                if req.side == AccessSide::Beds {
                    f.beds
                } else {
                    f.slots
                },
            )
        })
        .collect();
    let r = two_step(&demand, &pts, req.radius_m, &req.decay);
    AccessRun {
        request: req.clone(),
        value: r.value,
        unserved: r.unserved.iter().map(|j| supply[*j]).collect(),
        ratio: r.ratio,
        supply,
        millis: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// Accessibility summed up for an area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaAccess {
    pub area: String,
    pub name: String,
    pub level: &'static str,
    /// Demand (people) in the area's cells.
    pub demand: f64,
    /// Of it, in cells with no facility in reach.
    pub demand_without_access: f64,
    /// Demand-weighted mean of the cells' values (cells with a value).
    pub mean: Option<f64>,
    /// Per 1,000 people, for reading (beds or slots per 1,000).
    pub mean_per_1000: Option<f64>,
}

/// The accessibility report of an area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessReport {
    pub reading: Reading,
    pub side: &'static str,
    pub demand: &'static str,
    pub radius_m: f64,
    pub decay: String,
    pub area: AreaRef,
    pub rows: Vec<AreaAccess>,
    pub unserved: Vec<FacilityRef>,
    pub millis: f64,
}

pub fn access_report(
    a: &Analysis,
    run: &AccessRun,
    area: Option<&str>,
) -> Result<AccessReport, RulesError> {
    let ai = area_of(a, area)?;
    let mut demand = vec![0.0; a.inputs.areas.len()];
    let mut without = vec![0.0; a.inputs.areas.len()];
    let mut weighted = vec![0.0; a.inputs.areas.len()];
    let mut with = vec![0.0; a.inputs.areas.len()];
    for c in 0..a.grid.len() {
        let Some(ar) = a.cell_area.get(c).copied().filter(|x| *x != u32::MAX) else {
            continue;
        };
        let d = a.grid.value(c, run.request.demand.index());
        demand[ar as usize] += d;
        match run.value[c] {
            Some(v) => {
                weighted[ar as usize] += v * d;
                with[ar as usize] += d;
            }
            None => without[ar as usize] += d,
        }
    }
    let demand = a.roll_up_values(demand);
    let without = a.roll_up_values(without);
    let weighted = a.roll_up_values(weighted);
    let with = a.roll_up_values(with);
    let row = |i: u32| {
        let r = area_ref(a, i);
        let i = i as usize;
        let mean = (with[i] > 0.0).then(|| weighted[i] / with[i]);
        AreaAccess {
            area: r.code,
            name: r.name,
            level: r.level,
            demand: demand[i],
            demand_without_access: without[i],
            mean,
            mean_per_1000: mean.map(|m| m * 1000.0),
        }
    };
    let rows = std::iter::once(ai).chain(a.children(ai)).map(row).collect();
    Ok(AccessReport {
        reading: Reading::of(a),
        side: run.request.side.code(),
        demand: run.request.demand.code(),
        radius_m: run.request.radius_m,
        decay: run.request.decay.to_string(),
        area: area_ref(a, ai),
        rows,
        unserved: run
            .unserved
            .iter()
            .filter(|f| a.within(a.inputs.facilities[**f as usize].area, ai))
            .map(|f| facility_ref(a, *f))
            .collect(),
        millis: run.millis,
    })
}

/// The slot table of an area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotsReport {
    pub reading: Reading,
    pub area: AreaRef,
    pub clause: String,
    pub rows: Vec<AreaSlots>,
}

pub fn slots_report(a: &Analysis, area: Option<&str>) -> Result<SlotsReport, RulesError> {
    let ai = area_of(a, area)?;
    Ok(SlotsReport {
        reading: Reading::of(a),
        area: area_ref(a, ai),
        clause: a.params.childcare.clause.clone(),
        rows: a.slots_table(ai),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_ring_is_a_closed_square_of_the_cell_size() {
        let ring = cell_ring(5700, 34000, 100.0);
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        let p: Vec<Xy> = ring
            .iter()
            .map(|q| laoxiao_spatial::project(q[0], q[1]))
            .collect();
        // Sides of 100 m (to the 1e-6° rounding, ~0.1 m).
        for i in 0..4 {
            let d = p[i].dist(p[i + 1]);
            assert!((d - 100.0).abs() < 0.2, "side {i}: {d}");
        }
        assert!((p[0].x - 570_000.0).abs() < 0.2 && (p[0].y - 3_400_000.0).abs() < 0.2);
    }
}
