//! The planning analysis: the population grid, the density classes, who is
//! covered under each distance rule, the uncovered clusters, and the slots per
//! 1,000 residents, for every person, cell and area at once.
//!
//! The store reads the registers into [`Inputs`] (projected points, areas,
//! county residents); [`Analysis::run`] computes everything else in memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use laoxiao_model::{Area, AreaLevel, FacilityKind};
use laoxiao_spatial::grid::{Blocks, CellKey, CellNearest, Grid, cell_of};
use laoxiao_spatial::{PointIndex, Xy, unproject};

use super::params::{CoverageRule, DensityClass, Layer, Params};
use crate::error::RulesError;

/// Grid sizes a planner may ask for (metres).
pub const CELL_SIZES: [f64; 3] = [100.0, 250.0, 1000.0];
/// Bucket side of the facility indices: about the spacing of facilities of
/// one kind in town.
const FACILITY_BUCKET_M: f64 = 1_000.0;

/// A person on a register, projected: an elderly person or an infant with
/// coordinates, alive and resident on the analysis date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonPoint {
    pub at: Xy,
    /// `Elderly` or `Infants`.
    pub layer: Layer,
    /// Index into [`Inputs::areas`] of the residence area.
    pub area: u32,
}

/// A facility, projected.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityPoint {
    pub id: String,
    pub name: String,
    pub kind: FacilityKind,
    pub at: Xy,
    /// Beds (养老床位), 0 when none.
    pub beds: f64,
    /// Approved childcare slots (核定托位), 0 when none.
    pub slots: f64,
    /// Index into [`Inputs::areas`].
    pub area: u32,
    /// Operating on the analysis date.
    pub operating: bool,
    /// Status `planned` (筹建中).
    pub planned: bool,
}

/// What the analysis reads from the registers.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub date: Option<NaiveDate>,
    /// The area tree, every area once.
    pub areas: Vec<Area>,
    pub people: Vec<PersonPoint>,
    pub facilities: Vec<FacilityPoint>,
    /// Residents per county code (census or the statistics bureau's figure).
    pub county_residents: BTreeMap<String, f64>,
    /// An imported resident grid (cell centres or points with a count); it
    /// replaces the estimate.
    pub resident_grid: Option<Vec<(Xy, f64)>>,
    /// People of the registers left out for want of coordinates.
    pub people_without_point: u64,
    /// Facilities left out for want of coordinates.
    pub facilities_without_point: u64,
}

/// How an analysis is run.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Cell side: 100, 250 or 1,000 m.
    pub cell_m: f64,
    /// The density basis, when not the rules' default.
    pub basis: Option<Layer>,
    /// Count planned facilities as if they operated (a scenario).
    pub with_planned: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cell_m: 100.0,
            basis: None,
            with_planned: false,
        }
    }
}

impl Options {
    /// Checks the options; the error names the field.
    pub fn check(&self) -> Result<(), RulesError> {
        if !CELL_SIZES.contains(&self.cell_m) {
            return Err(RulesError::Parameter {
                name: "cell".into(),
                reason: format!("{} m is not one of 100, 250, 1000", self.cell_m),
            });
        }
        if self.basis == Some(Layer::Infants) {
            return Err(RulesError::Parameter {
                name: "basis".into(),
                reason: "density counts residents or elderly".into(),
            });
        }
        Ok(())
    }
}

/// A person's standing under one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not of the rule's population.
    Other,
    /// In a density class the rule sets no distance for.
    NoRule,
    Covered,
    NotCovered,
}

/// Counts for one area under one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    /// People of the rule's population.
    pub people: u64,
    /// Of them, in a class the rule applies to.
    pub in_scope: u64,
    pub covered: u64,
    pub not_covered: u64,
    /// In a class without a distance (low density).
    pub not_assessed: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.people += o.people;
        self.in_scope += o.in_scope;
        self.covered += o.covered;
        self.not_covered += o.not_covered;
        self.not_assessed += o.not_assessed;
    }

    /// Covered share of those in scope (0–1), none when nobody is in scope.
    pub fn share(&self) -> Option<f64> {
        (self.in_scope > 0).then(|| self.covered as f64 / self.in_scope as f64)
    }
}

/// An area's coverage under one rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaCoverage {
    pub area: String,
    pub name: String,
    pub level: &'static str,
    pub total: Counts,
    /// By density class (high, medium, low).
    pub by_class: [Counts; 3],
}

/// Connected uncovered cells (queen contiguity) and the people in them who
/// are not covered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cluster {
    pub rank: usize,
    pub cells: usize,
    pub people: u64,
    /// The centre of the cluster's cells, weighted by the uncovered people (WGS-84).
    pub lng: f64,
    pub lat: f64,
    /// The town (or county) holding most of them.
    pub area: String,
    pub area_name: String,
    /// Cell indices (grid order).
    #[serde(skip)]
    pub members: Vec<u32>,
}

/// One rule's answers.
#[derive(Debug, Clone)]
pub struct RuleCoverage {
    pub rule: CoverageRule,
    /// Facilities counted (indices into [`Inputs::facilities`]).
    pub facilities: Vec<u32>,
    index: PointIndex,
    cells: CellNearest,
    pub standing: Vec<Standing>,
    /// Per cell: people of the population, and of them not covered.
    pub cell_people: Vec<u32>,
    pub cell_uncovered: Vec<u32>,
    /// Per area (index into the inputs' areas), including everything below.
    pub area_counts: Vec<[Counts; 3]>,
    pub clusters: Vec<Cluster>,
}

/// Slots per 1,000 residents in an area against its norm.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaSlots {
    pub area: String,
    pub name: String,
    pub level: &'static str,
    pub residents: f64,
    pub slots: f64,
    pub per_1000: Option<f64>,
    pub norm_per_1000: f64,
    /// Slots still needed to reach the norm (0 when met).
    pub gap: f64,
    pub status: SlotStatus,
}

/// Whether an area meets its slot norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    Met,
    Short,
    NoResidents,
}

/// The analysis of one date's registers under one set of rules.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub params: Params,
    pub options: Options,
    pub inputs: Arc<Inputs>,
    /// Layers: elderly, infants, residents.
    pub grid: Grid,
    /// Per person: its cell.
    pub person_cell: Vec<u32>,
    /// The grid's blocks, for the nearest-facility lists.
    pub blocks: Blocks,
    /// The people grouped by cell: `people_by_cell[people_start[c]..people_start[c + 1]]`.
    pub people_start: Vec<u32>,
    pub people_by_cell: Vec<u32>,
    /// Per cell: the area (index) holding most of its people.
    pub cell_area: Vec<u32>,
    /// Per cell: people per km² on the density basis, and its class.
    pub density: Vec<f64>,
    pub class: Vec<DensityClass>,
    /// `estimated` or `imported`.
    pub residents_source: &'static str,
    /// Residents per registered person, per county code (the estimator).
    pub resident_factor: BTreeMap<String, f64>,
    pub rules: Vec<RuleCoverage>,
    parent: Vec<Option<u32>>,
    by_code: HashMap<String, u32>,
    /// Facilities counted (operating, or planned in a scenario).
    pub counted: Vec<bool>,
    /// How long each stage of [`Analysis::run`] took (ms), for benchmarks.
    pub timings: Vec<(String, f64)>,
    /// Per facility: the area used for slots (its village where the grid
    /// places it in one of its town's villages).
    pub facility_area: Vec<u32>,
}

/// A bucket side giving about one point per bucket over the points' extent
/// (few buckets to visit per query whether a kind has ten facilities or a
/// thousand).
fn bucket_side(pts: &[Xy]) -> f64 {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in pts {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    if pts.is_empty() || x0 > x1 {
        return FACILITY_BUCKET_M;
    }
    let area = ((x1 - x0).max(1_000.0)) * ((y1 - y0).max(1_000.0));
    (area / pts.len() as f64).sqrt().clamp(250.0, 20_000.0)
}

/// Runs `f` over contiguous ranges splitting `0..n` (one per thread) and
/// returns what each returned, in order.
pub(crate) fn par_chunks<T: Send>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if threads == 1 || n < 10_000 {
        return vec![f(0..n)];
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || f(t * chunk..((t + 1) * chunk).min(n))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Runs `f` over contiguous ranges splitting `0..n` (one per thread) and
/// concatenates what they return, in order.
pub(crate) fn par_ranges<T: Send>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    par_chunks(n, f).into_iter().flatten().collect()
}

/// Runs `f` over `0..n` split between threads and returns the results in order.
pub(crate) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    par_ranges(n, |r| r.map(&f).collect())
}

impl Analysis {
    /// Builds the grid and answers every rule.
    pub fn run(
        params: &Params,
        inputs: Arc<Inputs>,
        options: &Options,
    ) -> Result<Analysis, RulesError> {
        options.check()?;
        let clock = Instant::now();
        let mut timings: Vec<(String, f64)> = Vec::new();
        let lap = |name: &str, timings: &mut Vec<(String, f64)>| {
            let total: f64 = timings.iter().map(|t| t.1).sum();
            timings.push((
                name.to_string(),
                clock.elapsed().as_secs_f64() * 1e3 - total,
            ));
        };
        let by_code: HashMap<String, u32> = inputs
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i as u32))
            .collect();
        let parent: Vec<Option<u32>> = inputs
            .areas
            .iter()
            .map(|a| a.parent_code.as_ref().and_then(|p| by_code.get(p).copied()))
            .collect();
        let county_of = |mut a: u32| -> Option<u32> {
            for _ in 0..8 {
                let area = inputs.areas.get(a as usize)?;
                if area.level == AreaLevel::County {
                    return Some(a);
                }
                a = parent.get(a as usize).copied().flatten()?;
            }
            None
        };
        // The estimator: residents per registered person in each county. A
        // county with its own figure: its residents over its registered
        // people; the others share what the city's figure leaves after those
        // counties, by their registered people; without any figure, one
        // resident per registered person.
        let area_county: Vec<Option<u32>> = (0..inputs.areas.len() as u32).map(county_of).collect();
        let mut registered = vec![0.0f64; inputs.areas.len()];
        for p in &inputs.people {
            if let Some(c) = area_county.get(p.area as usize).copied().flatten() {
                registered[c as usize] += 1.0;
            }
        }
        let city_code = inputs
            .areas
            .iter()
            .find(|a| a.level == AreaLevel::City)
            .map(|a| a.code.clone());
        let (mut known_r, mut known_n, mut unknown_n) = (0.0, 0.0, 0.0);
        for (i, n) in registered.iter().enumerate() {
            if *n <= 0.0 {
                continue;
            }
            match inputs.county_residents.get(&inputs.areas[i].code) {
                Some(r) => {
                    known_r += r;
                    known_n += n;
                }
                None => unknown_n += n,
            }
        }
        let city_r = city_code
            .as_ref()
            .and_then(|c| inputs.county_residents.get(c))
            .copied();
        let fallback = match city_r {
            Some(r) if r > known_r && unknown_n > 0.0 => (r - known_r) / unknown_n,
            _ if known_n > 0.0 => known_r / known_n,
            _ => 1.0,
        };
        let factor: Vec<f64> = registered
            .iter()
            .enumerate()
            .map(
                |(i, n)| match inputs.county_residents.get(&inputs.areas[i].code) {
                    Some(r) if *n > 0.0 => r / n,
                    _ => fallback,
                },
            )
            .collect();
        let resident_factor: BTreeMap<String, f64> = registered
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0.0)
            .map(|(i, _)| (inputs.areas[i].code.clone(), factor[i]))
            .collect();
        let factor_of: Vec<f64> = inputs
            .people
            .iter()
            .map(|p| {
                area_county
                    .get(p.area as usize)
                    .copied()
                    .flatten()
                    .map_or(fallback, |c| factor[c as usize])
            })
            .collect();
        let imported = inputs.resident_grid.is_some();
        // Each person's cell once; the grid of the cells they and the imported
        // points occupy; then the sums.
        let size = options.cell_m;
        let person_key: Vec<CellKey> =
            par_map(inputs.people.len(), |i| cell_of(inputs.people[i].at, size));
        let extra: Vec<(CellKey, f64)> = inputs
            .resident_grid
            .iter()
            .flatten()
            .filter(|(at, n)| at.x.is_finite() && at.y.is_finite() && n.is_finite())
            .map(|(at, n)| (cell_of(*at, size), *n))
            .collect();
        let occupied: Vec<CellKey> = person_key
            .iter()
            .copied()
            .chain(extra.iter().map(|e| e.0))
            .collect();
        let mut grid = Grid::with_cells(size, 3, &occupied);
        drop(occupied);
        let person_cell: Vec<u32> = par_map(inputs.people.len(), |i| {
            grid.find(person_key[i]).map_or(u32::MAX, |c| c as u32)
        });
        for (i, p) in inputs.people.iter().enumerate() {
            let c = person_cell[i];
            if c != u32::MAX {
                grid.add(c as usize, p.layer.index(), 1.0);
                if !imported {
                    grid.add(c as usize, Layer::Residents.index(), factor_of[i]);
                }
            }
        }
        for (key, n) in &extra {
            if let Some(c) = grid.find(*key) {
                grid.add(c, Layer::Residents.index(), *n);
            }
        }
        lap("estimate and grid", &mut timings);
        // The area holding most of each cell's people: the people grouped by
        // cell (a counting sort), then a short tally per cell.
        let mut start = vec![0u32; grid.len() + 1];
        for c in &person_cell {
            if *c != u32::MAX {
                start[*c as usize + 1] += 1;
            }
        }
        for c in 0..grid.len() {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut by_cell = vec![0u32; start[grid.len()] as usize];
        for (i, c) in person_cell.iter().enumerate() {
            if *c != u32::MAX {
                by_cell[fill[*c as usize] as usize] = i as u32;
                fill[*c as usize] += 1;
            }
        }
        let best: Vec<(u32, u32)> = par_map(grid.len(), |c| {
            let mut tally: Vec<(u32, u32)> = Vec::new();
            for &i in &by_cell[start[c] as usize..start[c + 1] as usize] {
                let area = inputs.people[i as usize].area;
                match tally.iter_mut().find(|(a, _)| *a == area) {
                    Some(t) => t.1 += 1,
                    None => tally.push((area, 1)),
                }
            }
            tally
                .iter()
                .map(|(a, n)| (*n, *a))
                .max_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)))
                .unwrap_or((0, u32::MAX))
        });
        lap("people by cell", &mut timings);
        let peopled: Vec<usize> = (0..grid.len()).filter(|c| best[*c].1 != u32::MAX).collect();
        let peopled_index = PointIndex::new(
            &peopled.iter().map(|c| grid.centre(*c)).collect::<Vec<_>>(),
            1_000.0,
        );
        let cell_area: Vec<u32> = (0..grid.len())
            .map(|c| {
                if best[c].1 != u32::MAX {
                    best[c].1
                } else {
                    // A cell of the imported grid with nobody registered: the
                    // area of the nearest cell that has someone.
                    peopled_index
                        .nearest(grid.centre(c))
                        .map_or(u32::MAX, |(j, _)| best[peopled[j]].1)
                }
            })
            .collect();
        lap("cell areas", &mut timings);
        let basis = options.basis.unwrap_or(params.density.basis);
        let reach = params.density.reach(grid.size);
        let window_km2 = ((2 * reach + 1) as f64 * grid.size).powi(2) / 1e6;
        let density: Vec<f64> = grid
            .window_sums(basis.index(), reach)
            .into_iter()
            .map(|s| s / window_km2)
            .collect();
        let class: Vec<DensityClass> = density.iter().map(|d| params.density.class(*d)).collect();
        lap("density", &mut timings);
        let counted: Vec<bool> = inputs
            .facilities
            .iter()
            .map(|f| {
                (f.operating || (options.with_planned && f.planned))
                    && f.at.x.is_finite()
                    && f.at.y.is_finite()
            })
            .collect();
        let mut facility_area: Vec<u32> = Vec::with_capacity(inputs.facilities.len());
        for f in &inputs.facilities {
            let own = f.area;
            let placed = grid
                .find(cell_of(f.at, grid.size))
                .map(|c| cell_area[c])
                .filter(|a| {
                    *a != u32::MAX && parent.get(*a as usize).copied().flatten() == Some(own)
                });
            facility_area.push(placed.unwrap_or(own));
        }
        let blocks = Blocks::new(&grid);
        let mut analysis = Analysis {
            params: params.clone(),
            options: options.clone(),
            inputs: inputs.clone(),
            grid,
            person_cell,
            blocks,
            people_start: start,
            people_by_cell: by_cell,
            cell_area,
            density,
            class,
            residents_source: if imported { "imported" } else { "estimated" },
            resident_factor,
            rules: Vec::new(),
            parent,
            by_code,
            counted,
            facility_area,
            timings: Vec::new(),
        };
        lap("facilities", &mut timings);
        for rule in &params.rules {
            let r = analysis.cover(rule);
            lap(&format!("rule {}", rule.code), &mut timings);
            analysis.rules.push(r);
        }
        analysis.timings = timings;
        Ok(analysis)
    }

    /// The facilities of some kinds that count, with an index over them.
    pub fn facility_index(&self, keep: impl Fn(FacilityKind) -> bool) -> (Vec<u32>, PointIndex) {
        let ids: Vec<u32> = self
            .inputs
            .facilities
            .iter()
            .enumerate()
            .filter(|(i, f)| self.counted[*i] && keep(f.kind))
            .map(|(i, _)| i as u32)
            .collect();
        let pts: Vec<Xy> = ids
            .iter()
            .map(|i| self.inputs.facilities[*i as usize].at)
            .collect();
        let index = PointIndex::new(&pts, bucket_side(&pts));
        (ids, index)
    }

    fn cover(&self, rule: &CoverageRule) -> RuleCoverage {
        let (facilities, index) = self.facility_index(|k| rule.counts(k));
        let cells = CellNearest::new(&self.blocks, &index, |_| true);
        let people = &self.inputs.people;
        // Cell by cell: most cells are decided at once from the centre's
        // nearest distance d₀ (every point of the cell is within h = s√2/2 of
        // the centre: all covered when d₀ + h < t, none when d₀ − h > t);
        // the others person by person. Margins of a micrometre keep
        // rounding from deciding a person exactly on the threshold.
        let h = self.grid.size * std::f64::consts::SQRT_2 / 2.0;
        let decide = |c: usize, out: &mut Vec<Standing>| {
            let list = &self.people_by_cell
                [self.people_start[c] as usize..self.people_start[c + 1] as usize];
            let t = rule.threshold(self.class[c]);
            let short = cells.candidates(&self.blocks, c);
            let centre = CellNearest::among(&index, short, self.grid.centre(c)).map(|(_, d)| d);
            let whole = match (t, centre) {
                (None, _) => Some(Standing::NoRule),
                (Some(_), None) => Some(Standing::NotCovered),
                (Some(t), Some(d0)) if d0 + h < t - 1e-6 => Some(Standing::Covered),
                (Some(t), Some(d0)) if d0 - h > t + 1e-6 => Some(Standing::NotCovered),
                _ => None,
            };
            out.extend(list.iter().map(|&i| {
                let p = &people[i as usize];
                if p.layer != rule.population {
                    return Standing::Other;
                }
                if let Some(s) = whole {
                    return s;
                }
                let near = CellNearest::among(&index, short, p.at);
                match t {
                    Some(t) if near.is_some_and(|(_, d)| d <= t) => Standing::Covered,
                    _ => Standing::NotCovered,
                }
            }));
        };
        // Each thread decides a range of cells and counts them: the people's
        // standings (in the people-by-cell order), the cells' people and
        // uncovered people, and its own tally per area, added up after.
        let parts = par_chunks(self.grid.len(), |r| {
            let mut out = Vec::new();
            let mut cell_people = Vec::with_capacity(r.len());
            let mut cell_uncovered = Vec::with_capacity(r.len());
            let mut leaf: Vec<[Counts; 3]> = vec![[Counts::default(); 3]; self.inputs.areas.len()];
            for c in r {
                let first = out.len();
                decide(c, &mut out);
                let class = self.class[c].index();
                let (mut n, mut u) = (0u32, 0u32);
                let ids = &self.people_by_cell
                    [self.people_start[c] as usize..self.people_start[c + 1] as usize];
                for (&i, &s) in ids.iter().zip(&out[first..]) {
                    if s == Standing::Other {
                        continue;
                    }
                    n += 1;
                    let k = &mut leaf[people[i as usize].area as usize][class];
                    k.people += 1;
                    match s {
                        Standing::Covered => {
                            k.in_scope += 1;
                            k.covered += 1;
                        }
                        Standing::NotCovered => {
                            k.in_scope += 1;
                            k.not_covered += 1;
                            u += 1;
                        }
                        _ => k.not_assessed += 1,
                    }
                }
                cell_people.push(n);
                cell_uncovered.push(u);
            }
            (out, cell_people, cell_uncovered, leaf)
        });
        let mut standing = vec![Standing::Other; people.len()];
        let mut cell_people = Vec::with_capacity(self.grid.len());
        let mut cell_uncovered = Vec::with_capacity(self.grid.len());
        let mut leaf: Vec<[Counts; 3]> = vec![[Counts::default(); 3]; self.inputs.areas.len()];
        let mut k = 0;
        for (out, cp, cu, l) in parts {
            for s in out {
                standing[self.people_by_cell[k] as usize] = s;
                k += 1;
            }
            cell_people.extend(cp);
            cell_uncovered.extend(cu);
            for (total, part) in leaf.iter_mut().zip(&l) {
                for (t, p) in total.iter_mut().zip(part) {
                    t.add(p);
                }
            }
        }
        let area_counts = self.roll_up(leaf);
        let clusters = self.clusters(&cell_uncovered);
        RuleCoverage {
            rule: rule.clone(),
            facilities,
            index,
            cells,
            standing,
            cell_people,
            cell_uncovered,
            area_counts,
            clusters,
        }
    }

    /// The nearest counted facility of a rule to person `i` and its distance.
    pub fn person_nearest(&self, rule: &RuleCoverage, i: usize) -> Option<(u32, f64)> {
        let c = *self.person_cell.get(i)?;
        if c == u32::MAX {
            return None;
        }
        rule.cells
            .of_point(&rule.index, &self.blocks, self.inputs.people[i].at)
            .map(|(j, d)| (rule.facilities[j], d))
    }

    /// Adds every area's counts into its ancestors'.
    fn roll_up(&self, mut counts: Vec<[Counts; 3]>) -> Vec<[Counts; 3]> {
        // Deepest first, so that a town's sum is complete before it is added up.
        let mut order: Vec<usize> = (0..self.inputs.areas.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(self.inputs.areas[*i].level.depth()));
        for i in order {
            if let Some(p) = self.parent[i] {
                let own = counts[i];
                for (k, o) in counts[p as usize].iter_mut().zip(own.iter()) {
                    k.add(o);
                }
            }
        }
        counts
    }

    fn clusters(&self, uncovered: &[u32]) -> Vec<Cluster> {
        let member: Vec<bool> = uncovered.iter().map(|n| *n > 0).collect();
        let mut out: Vec<Cluster> = self
            .grid
            .clusters(&member)
            .into_iter()
            .map(|cells| {
                let people: u64 = cells.iter().map(|c| u64::from(uncovered[*c])).sum();
                let (mut sx, mut sy) = (0.0, 0.0);
                let mut towns: BTreeMap<u32, u64> = BTreeMap::new();
                for c in &cells {
                    let w = f64::from(uncovered[*c]);
                    let p = self.grid.centre(*c);
                    sx += p.x * w;
                    sy += p.y * w;
                    let a = self.cell_area[*c];
                    let town = self.ancestor_at(a, AreaLevel::Town).unwrap_or(a);
                    *towns.entry(town).or_default() += u64::from(uncovered[*c]);
                }
                let n = people.max(1) as f64;
                let (lng, lat) = unproject(Xy::new(sx / n, sy / n));
                let main = towns
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map_or(u32::MAX, |(t, _)| *t);
                let (area, area_name) = self
                    .inputs
                    .areas
                    .get(main as usize)
                    .map_or((String::new(), String::new()), |a| {
                        (a.code.clone(), a.name.clone())
                    });
                Cluster {
                    rank: 0,
                    cells: cells.len(),
                    people,
                    lng,
                    lat,
                    area,
                    area_name,
                    members: cells.iter().map(|c| *c as u32).collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| b.people.cmp(&a.people).then(a.members.cmp(&b.members)));
        for (i, c) in out.iter_mut().enumerate() {
            c.rank = i + 1;
        }
        out
    }

    /// The ancestor of an area at a level (the area itself when at it).
    pub fn ancestor_at(&self, mut a: u32, level: AreaLevel) -> Option<u32> {
        for _ in 0..8 {
            let area = self.inputs.areas.get(a as usize)?;
            if area.level == level {
                return Some(a);
            }
            if area.level.depth() < level.depth() {
                return None;
            }
            a = self.parent.get(a as usize).copied().flatten()?;
        }
        None
    }

    /// An area's index by code.
    pub fn area_index(&self, code: &str) -> Option<u32> {
        self.by_code.get(code).copied()
    }

    /// True when area `a` is `root` or lies below it.
    pub fn within(&self, a: u32, root: u32) -> bool {
        let mut cur = Some(a);
        for _ in 0..8 {
            match cur {
                Some(c) if c == root => return true,
                Some(c) => cur = self.parent.get(c as usize).copied().flatten(),
                None => return false,
            }
        }
        false
    }

    /// A rule's answers by code.
    pub fn rule(&self, code: &str) -> Option<&RuleCoverage> {
        self.rules.iter().find(|r| r.rule.code == code)
    }

    /// Coverage of `area` and of the areas directly below it, under a rule.
    pub fn coverage_table(&self, rule: &RuleCoverage, area: u32) -> Vec<AreaCoverage> {
        let mut rows = vec![self.area_coverage(rule, area)];
        rows.extend(
            self.children(area)
                .into_iter()
                .map(|k| self.area_coverage(rule, k)),
        );
        rows
    }

    /// One area's coverage under a rule.
    pub fn area_coverage(&self, rule: &RuleCoverage, area: u32) -> AreaCoverage {
        let a = &self.inputs.areas[area as usize];
        let by_class = rule.area_counts[area as usize];
        let mut total = Counts::default();
        for k in &by_class {
            total.add(k);
        }
        AreaCoverage {
            area: a.code.clone(),
            name: a.name.clone(),
            level: a.level.code(),
            total,
            by_class,
        }
    }

    /// The uncovered clusters within an area, biggest first.
    pub fn clusters_in<'a>(
        &'a self,
        rule: &'a RuleCoverage,
        area: u32,
    ) -> impl Iterator<Item = &'a Cluster> {
        rule.clusters.iter().filter(move |c| {
            self.area_index(&c.area)
                .is_some_and(|a| self.within(a, area))
        })
    }

    /// Per cell: the nearest counted facility of `kind` to the cell's centre.
    pub fn cell_nearest_of_kind(&self, kind: FacilityKind) -> Vec<Option<(u32, f64)>> {
        let (ids, index) = self.facility_index(|k| k == kind);
        let cells = CellNearest::new(&self.blocks, &index, |_| true);
        par_map(self.grid.len(), |c| {
            cells
                .of_centre(&index, &self.blocks, &self.grid, c)
                .map(|(j, d)| (ids[j], d))
        })
    }

    /// Per person: the nearest counted facility of `kind` (for people of
    /// `layer`; others get none).
    pub fn person_nearest_of_kind(
        &self,
        kind: FacilityKind,
        layer: Layer,
    ) -> Vec<Option<(u32, f64)>> {
        let (ids, index) = self.facility_index(|k| k == kind);
        let cells = CellNearest::new(&self.blocks, &index, |_| true);
        let people = &self.inputs.people;
        // Cell by cell (one short list per cell), in the people-by-cell order.
        let found: Vec<Option<(u32, f64)>> = par_ranges(self.grid.len(), |r| {
            let mut out = Vec::new();
            for c in r {
                let list = &self.people_by_cell
                    [self.people_start[c] as usize..self.people_start[c + 1] as usize];
                if !list.iter().any(|i| people[*i as usize].layer == layer) {
                    out.extend(std::iter::repeat_n(None, list.len()));
                    continue;
                }
                let short = cells.candidates(&self.blocks, c);
                out.extend(list.iter().map(|i| {
                    let p = &people[*i as usize];
                    (p.layer == layer)
                        .then(|| CellNearest::among(&index, short, p.at).map(|(j, d)| (ids[j], d)))
                        .flatten()
                }));
            }
            out
        });
        let mut per_person = vec![None; people.len()];
        for (k, i) in self.people_by_cell.iter().enumerate() {
            per_person[*i as usize] = found[k];
        }
        per_person
    }

    /// Per cell, the nearest counted facility of the rule and whether the
    /// cell's centre is covered (none where the rule sets no distance).
    pub fn cell_cover(
        &self,
        rule: &RuleCoverage,
        cell: usize,
    ) -> (Option<(u32, f64)>, Option<bool>) {
        let near = rule
            .cells
            .of_centre(&rule.index, &self.blocks, &self.grid, cell)
            .map(|(j, d)| (rule.facilities[j], d));
        let t = rule.rule.threshold(self.class[cell]);
        (near, t.map(|t| near.is_some_and(|(_, d)| d <= t)))
    }

    /// The nearest counted facility of the rule to any point (for siting).
    pub fn rule_nearest(&self, rule: &RuleCoverage, p: Xy) -> Option<(u32, f64)> {
        rule.index.nearest(p).map(|(j, d)| (rule.facilities[j], d))
    }

    /// Residents of an area (from the grid's cells by their area).
    pub fn area_residents(&self) -> Vec<f64> {
        let mut leaf = vec![0.0; self.inputs.areas.len()];
        for c in 0..self.grid.len() {
            let a = self.cell_area[c];
            if let Some(v) = leaf.get_mut(a as usize) {
                *v += self.grid.value(c, Layer::Residents.index());
            }
        }
        self.roll_up_values(leaf)
    }

    /// Adds every area's value into its ancestors'.
    pub fn roll_up_values(&self, mut v: Vec<f64>) -> Vec<f64> {
        let mut order: Vec<usize> = (0..self.inputs.areas.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(self.inputs.areas[*i].level.depth()));
        for i in order {
            if let Some(p) = self.parent[i] {
                v[p as usize] += v[i];
            }
        }
        v
    }

    /// Childcare slots per 1,000 residents for `area` and the areas directly
    /// below it: villages and towns against 8 (10 in new residential areas),
    /// counties and the city against the city's 2025 figure (indicator 38).
    pub fn slots_table(&self, area: u32) -> Vec<AreaSlots> {
        let residents = self.area_residents();
        let norms = &self.params.childcare;
        let mut slots = vec![0.0; self.inputs.areas.len()];
        for (i, f) in self.inputs.facilities.iter().enumerate() {
            if self.counted[i]
                && norms.kinds.contains(&f.kind)
                && let Some(s) = slots.get_mut(self.facility_area[i] as usize)
            {
                *s += f.slots;
            }
        }
        let slots = self.roll_up_values(slots);
        let row = |a: u32| -> AreaSlots {
            let area = &self.inputs.areas[a as usize];
            let norm = match area.level {
                AreaLevel::City | AreaLevel::County => norms.city_per_1000,
                _ => {
                    let mut codes = vec![area.code.as_str()];
                    let mut cur = self.parent[a as usize];
                    while let Some(p) = cur {
                        codes.push(self.inputs.areas[p as usize].code.as_str());
                        cur = self.parent[p as usize];
                    }
                    norms.norm_for(codes)
                }
            };
            let (r, s) = (residents[a as usize], slots[a as usize]);
            let need = (norm * r / 1000.0).ceil();
            AreaSlots {
                area: area.code.clone(),
                name: area.name.clone(),
                level: area.level.code(),
                residents: r,
                slots: s,
                per_1000: (r > 0.0).then(|| s / r * 1000.0),
                norm_per_1000: norm,
                gap: (need - s).max(0.0),
                status: if r <= 0.0 {
                    SlotStatus::NoResidents
                } else if s >= need {
                    SlotStatus::Met
                } else {
                    SlotStatus::Short
                },
            }
        };
        std::iter::once(area)
            .chain(self.children(area))
            .map(row)
            .collect()
    }

    /// The areas directly below `area`, by code.
    pub fn children(&self, area: u32) -> Vec<u32> {
        let mut kids: Vec<u32> = (0..self.inputs.areas.len() as u32)
            .filter(|i| self.parent[*i as usize] == Some(area))
            .collect();
        kids.sort_by(|a, b| {
            self.inputs.areas[*a as usize]
                .code
                .cmp(&self.inputs.areas[*b as usize].code)
        });
        kids
    }

    /// Cells whose majority area lies within `area`.
    pub fn cells_in(&self, area: u32) -> Vec<usize> {
        (0..self.grid.len())
            .filter(|c| {
                let a = self.cell_area[*c];
                a != u32::MAX && self.within(a, area)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A corner of a 100 m cell, in Jiaxing's projected metres.
    const BASE: Xy = Xy::new(570_000.0, 3_400_000.0);

    fn at(dx: f64, dy: f64) -> Xy {
        Xy::new(BASE.x + dx, BASE.y + dy)
    }

    fn area(code: &str, level: AreaLevel, parent: Option<&str>) -> Area {
        Area {
            code: code.into(),
            name: format!("A{code}"),
            level,
            parent_code: parent.map(String::from),
            path: String::new(),
            urban_rural_code: None,
            centre: None,
        }
    }

    fn facility(id: &str, kind: FacilityKind, p: Xy, area: u32) -> FacilityPoint {
        FacilityPoint {
            id: id.into(),
            name: id.into(),
            kind,
            at: p,
            beds: 0.0,
            slots: 0.0,
            area,
            operating: true,
            planned: false,
        }
    }

    /// The hand-made city of the tests (indices in brackets):
    /// city [0] → county 1 [1] → town 1 [2] → villages 1 [3], 2 [4];
    /// city → county 2 [5] → town 2 [6] → village 3 [7].
    ///
    /// A care home F sits at BASE. Elderly people: A 500 m east of it and
    /// B 500.5 m east (village 1, one cell); D 1,000 m north and E 1,000.5 m
    /// south (village 2); G 30 km east (village 3). County 1 has 8,000
    /// residents over its 4 registered people (2,000 each); county 2 has 500
    /// for G. Density over the 11 × 11-cell window (1.21 km²): A and B share
    /// one, 4,000 / 1.21 = 3,306 per km², high (> 3,000: 500 m); D and E are
    /// alone, 2,000 / 1.21 = 1,653, medium (1,000 m); G has 413, low (no rule).
    fn city() -> Inputs {
        let areas = vec![
            area("330400", AreaLevel::City, None),
            area("330402", AreaLevel::County, Some("330400")),
            area("330402001", AreaLevel::Town, Some("330402")),
            area("330402001001", AreaLevel::Village, Some("330402001")),
            area("330402001002", AreaLevel::Village, Some("330402001")),
            area("330421", AreaLevel::County, Some("330400")),
            area("330421001", AreaLevel::Town, Some("330421")),
            area("330421001001", AreaLevel::Village, Some("330421001")),
        ];
        let person = |p: Xy, area: u32| PersonPoint {
            at: p,
            layer: Layer::Elderly,
            area,
        };
        let mut childcare = facility("C", FacilityKind::ChildcareInstitution, at(200.0, 200.0), 2);
        childcare.slots = 50.0;
        Inputs {
            areas,
            people: vec![
                person(at(500.0, 0.0), 3),
                person(at(500.5, 0.0), 3),
                person(at(0.0, 1000.0), 4),
                person(at(0.0, -1000.5), 4),
                person(at(30_000.0, 0.0), 7),
            ],
            facilities: vec![
                facility("F", FacilityKind::ElderlyInstitution, BASE, 2),
                // A village station 692 m north of D: inside the walk.
                facility("V", FacilityKind::VillageCareStation, at(0.0, 1692.0), 4),
                childcare,
            ],
            county_residents: [
                ("330402".to_string(), 8000.0),
                ("330421".to_string(), 500.0),
            ]
            .into_iter()
            .collect(),
            ..Inputs::default()
        }
    }

    fn run(inputs: Inputs, options: &Options) -> Analysis {
        let params = Params::embedded().expect("embedded rules");
        Analysis::run(&params, Arc::new(inputs), options).expect("analysis")
    }

    #[test]
    fn density_classes_by_hand() {
        let a = run(city(), &Options::default());
        let class_of = |i: usize| a.class[a.person_cell[i] as usize];
        assert_eq!(class_of(0), DensityClass::High);
        assert_eq!(class_of(1), DensityClass::High);
        assert_eq!(class_of(2), DensityClass::Medium);
        assert_eq!(class_of(3), DensityClass::Medium);
        assert_eq!(class_of(4), DensityClass::Low);
        let d = a.density[a.person_cell[0] as usize];
        assert!((d - 4000.0 / 1.21).abs() < 1e-6, "{d}");
        assert_eq!(a.residents_source, "estimated");
        assert_eq!(a.resident_factor.get("330402"), Some(&2000.0));
        // On the elderly basis every window holds one or two people: low.
        let e = run(
            city(),
            &Options {
                basis: Some(Layer::Elderly),
                ..Options::default()
            },
        );
        assert!(e.class.iter().all(|c| *c == DensityClass::Low));
    }

    #[test]
    fn institution_rule_at_and_past_the_threshold() {
        let a = run(city(), &Options::default());
        let r = a.rule("institution").expect("rule");
        assert_eq!(
            r.standing,
            vec![
                Standing::Covered,    // A: exactly 500 m in a high-density area
                Standing::NotCovered, // B: 500.5 m
                Standing::Covered,    // D: exactly 1,000 m in a medium-density area
                Standing::NotCovered, // E: 1,000.5 m
                Standing::NoRule,     // G: low density
            ]
        );
        let (f, d) = a.person_nearest(r, 1).expect("nearest");
        assert_eq!(a.inputs.facilities[f as usize].id, "F");
        assert!((d - 500.5).abs() < 1e-9);
        let city = a.area_coverage(r, 0).total;
        assert_eq!(
            (
                city.people,
                city.in_scope,
                city.covered,
                city.not_covered,
                city.not_assessed
            ),
            (5, 4, 2, 2, 1)
        );
        assert_eq!(city.share(), Some(0.5));
        let table = a.coverage_table(r, 2);
        assert_eq!(table.len(), 3, "town and its two villages");
        assert_eq!(table[1].total.covered, 1);
        assert_eq!(table[1].by_class[DensityClass::High.index()].not_covered, 1);
        // Two uncovered cells far apart: two clusters of one person each.
        assert_eq!(r.clusters.len(), 2);
        assert!(r.clusters.iter().all(|c| c.people == 1 && c.cells == 1));
        assert_eq!(r.clusters[0].area, "330402001");
        assert_eq!(a.clusters_in(r, 5).count(), 0);
    }

    #[test]
    fn walk_rule_uses_the_detour_factor() {
        let a = run(city(), &Options::default());
        let r = a.rule("home_care_walk").expect("rule");
        // 692 m straight ≤ 900 / 1.3 = 692.3 m: D is covered; nobody else.
        let covered: Vec<bool> = r.standing.iter().map(|s| *s == Standing::Covered).collect();
        assert_eq!(covered, vec![false, false, true, false, false]);
        // The walk applies at every density, low included.
        assert_eq!(r.standing[4], Standing::NotCovered);
    }

    #[test]
    fn planned_facilities_count_only_in_a_scenario() {
        let mut inputs = city();
        let mut planned = facility("P", FacilityKind::ElderlyInstitution, at(600.0, 0.0), 2);
        planned.operating = false;
        planned.planned = true;
        inputs.facilities.push(planned);
        let a = run(inputs.clone(), &Options::default());
        assert_eq!(
            a.rule("institution").expect("rule").standing[1],
            Standing::NotCovered
        );
        let b = run(
            inputs,
            &Options {
                with_planned: true,
                ..Options::default()
            },
        );
        assert_eq!(
            b.rule("institution").expect("rule").standing[1],
            Standing::Covered
        );
    }

    #[test]
    fn slots_per_thousand_against_the_norms() {
        let a = run(city(), &Options::default());
        // Town 1: 8,000 residents, 50 slots = 6.25 per 1,000 against 8:
        // 64 needed, 14 short.
        let t = a.slots_table(2);
        assert_eq!(t[0].area, "330402001");
        assert!((t[0].residents - 8000.0).abs() < 1e-6);
        assert_eq!(t[0].slots, 50.0);
        assert_eq!(t[0].per_1000, Some(6.25));
        assert_eq!(t[0].norm_per_1000, 8.0);
        assert_eq!(t[0].gap, 14.0);
        assert_eq!(t[0].status, SlotStatus::Short);
        // The institution's cell at (200, 200) has nobody registered, so it
        // stays with its town; the villages hold none.
        assert_eq!(t[1].slots, 0.0);
        // The city is held to 4.6: 8,500 residents need 40 (39.1 rounded up); 50 meet it.
        let c = a.slots_table(0);
        assert_eq!(c[0].norm_per_1000, 4.6);
        assert_eq!(c[0].status, SlotStatus::Met);
        assert_eq!(c[0].gap, 0.0);
    }

    #[test]
    fn an_imported_resident_grid_replaces_the_estimate() {
        let mut inputs = city();
        // 1,000 residents in A's cell and 100 somewhere nobody is registered.
        inputs.resident_grid = Some(vec![
            (at(550.0, 50.0), 1000.0),
            (at(5_000.0, 5_000.0), 100.0),
        ]);
        let a = run(inputs, &Options::default());
        assert_eq!(a.residents_source, "imported");
        let total: f64 = (0..a.grid.len())
            .map(|c| a.grid.value(c, Layer::Residents.index()))
            .sum();
        assert_eq!(total, 1100.0);
        // 1,000 / 1.21 = 826 per km²: A's window is low density now.
        assert_eq!(a.class[a.person_cell[0] as usize], DensityClass::Low);
        // The empty cell takes the area of the nearest cell with people.
        let c = a
            .grid
            .find(cell_of(at(5_000.0, 5_000.0), 100.0))
            .expect("cell");
        assert_ne!(a.cell_area[c], u32::MAX);
    }

    #[test]
    fn the_city_figure_covers_counties_without_their_own() {
        let mut inputs = city();
        // County 2 has no figure: it takes what the city's 8,500 leaves after
        // county 1's 8,000, over its one registered person.
        inputs.county_residents = [
            ("330402".to_string(), 8000.0),
            ("330400".to_string(), 8500.0),
        ]
        .into_iter()
        .collect();
        let a = run(inputs, &Options::default());
        assert_eq!(a.resident_factor.get("330421"), Some(&500.0));
        assert_eq!(a.resident_factor.get("330402"), Some(&2000.0));
    }

    #[test]
    fn cell_shortcuts_agree_with_every_distance() {
        // A scatter of people and facilities; each person's standing must be
        // what the distance to every facility says.
        let mut s: u64 = 42;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut inputs = city();
        inputs.people.clear();
        inputs.facilities.clear();
        // Enough cells (over 10,000) for the work to be split across threads.
        for _ in 0..30_000 {
            let p = at(next() * 20_000.0, next() * 20_000.0);
            inputs.people.push(PersonPoint {
                at: p,
                layer: Layer::Elderly,
                area: 3,
            });
        }
        for i in 0..12 {
            inputs.facilities.push(facility(
                &format!("F{i}"),
                FacilityKind::ElderlyInstitution,
                at(next() * 20_000.0, next() * 20_000.0),
                2,
            ));
        }
        // Dense enough for every class to appear.
        inputs.county_residents = [("330402".to_string(), 3_000_000.0)].into_iter().collect();
        let a = run(inputs, &Options::default());
        let r = a.rule("institution").expect("rule");
        let by_kind = a.person_nearest_of_kind(FacilityKind::ElderlyInstitution, Layer::Elderly);
        let by_cell = a.cell_nearest_of_kind(FacilityKind::ElderlyInstitution);
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in a.inputs.people.iter().enumerate() {
            let class = a.class[a.person_cell[i] as usize];
            seen.insert(class);
            let d = a
                .inputs
                .facilities
                .iter()
                .map(|f| f.at.dist(p.at))
                .fold(f64::INFINITY, f64::min);
            let want = match r.rule.threshold(class) {
                None => Standing::NoRule,
                Some(t) if d <= t => Standing::Covered,
                Some(_) => Standing::NotCovered,
            };
            assert_eq!(r.standing[i], want, "person {i} at {d} m, {class:?}");
            let (_, nd) = a.person_nearest(r, i).expect("nearest");
            assert!((nd - d).abs() < 1e-9);
            let (_, kd) = by_kind[i].expect("nearest of the kind");
            assert!((kd - d).abs() < 1e-9, "person {i}: {kd} vs {d}");
            let centre = a.grid.centre(a.person_cell[i] as usize);
            let (_, cd) = by_cell[a.person_cell[i] as usize].expect("a cell's nearest");
            let want = a
                .inputs
                .facilities
                .iter()
                .map(|f| f.at.dist(centre))
                .fold(f64::INFINITY, f64::min);
            assert!((cd - want).abs() < 1e-9);
        }
        assert!(seen.len() >= 2, "classes seen: {seen:?}");
    }

    #[test]
    fn options_are_checked() {
        let p = Params::embedded().expect("rules");
        let bad = Options {
            cell_m: 50.0,
            ..Options::default()
        };
        let e = Analysis::run(&p, Arc::new(city()), &bad).expect_err("50 m");
        assert!(e.to_string().contains("cell"), "{e}");
    }
}
