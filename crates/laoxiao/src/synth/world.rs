//! The real geography the synthetic people and facilities are placed on: the
//! NBS divisions, the county polygons and the 2016 centre points, plus an anchor
//! point and a spread for every town and village.

use laoxiao_model::area::AreaLevel;
use laoxiao_model::jiaxing;
use laoxiao_spatial::IndexedBoundary;
use rand::Rng;

use super::SynthError;
use super::calib::COUNTIES;
use super::util::{Concern, normal, stream};

const M_PER_DEG_LAT: f64 = 110_574.0;
const M_PER_DEG_LNG_EQ: f64 = 111_320.0;

/// A village (村/社区) with where its people live.
#[derive(Debug, Clone)]
pub(crate) struct VillageGeo {
    pub code: String,
    /// Short name for addresses (`百福弄社区`, `新农村`).
    pub short: String,
    /// An urban community (社区/居委会): flats in addresses; else a village (组/号).
    pub community: bool,
    pub urban_rural: Option<u16>,
    /// Urban-rural class is urban (1xx), or unknown and a community.
    pub urban: bool,
    pub anchor: (f64, f64),
    /// Standard deviation of homes around the anchor, metres.
    pub sigma_m: f64,
    /// Relative resident population.
    pub pop_weight: f64,
}

/// A town (镇/街道).
#[derive(Debug, Clone)]
pub(crate) struct TownGeo {
    pub code: String,
    pub name: String,
    /// 街道 rather than 镇.
    pub street: bool,
    pub anchor: (f64, f64),
    pub villages: Vec<VillageGeo>,
}

impl TownGeo {
    pub(crate) fn pop_weight(&self) -> f64 {
        self.villages.iter().map(|v| v.pop_weight).sum()
    }
}

/// A county-level unit with its polygon.
#[derive(Debug, Clone)]
pub(crate) struct CountyGeo {
    pub code: String,
    pub name: String,
    pub region: IndexedBoundary,
    pub towns: Vec<TownGeo>,
}

impl CountyGeo {
    /// The county seat: its first town in code order (a 街道).
    pub(crate) fn seat(&self) -> &TownGeo {
        &self.towns[0]
    }
}

/// Counts for the documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct GeoStats {
    pub towns_known: usize,
    pub villages_known: usize,
    pub centres_outside: usize,
}

/// Everything geographic.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub city: IndexedBoundary,
    pub counties: Vec<CountyGeo>,
    /// For the documentation's figures.
    #[cfg_attr(not(test), allow(dead_code))]
    pub stats: GeoStats,
}

/// Spread (σ, metres) and resident weight by urban-rural code. Weights put an
/// urban-core community at ~8,000 residents and a village at ~3,000 (assumption,
/// typical of Jiaxing); the spreads make urban cores dense (> 3,000/km²).
fn class_of(ur: Option<u16>, community: bool) -> (f64, f64) {
    match ur {
        Some(111) => (350.0, 8.0),
        Some(112) => (500.0, 5.0),
        Some(121) => (420.0, 4.5),
        Some(122) => (650.0, 3.5),
        Some(123) => (800.0, 2.0),
        Some(210) => (550.0, 3.5),
        Some(220) => (850.0, 3.0),
        _ if community => (450.0, 5.0),
        _ => (850.0, 3.0),
    }
}

/// How far (metres) from its town's anchor a village without a known centre is put.
fn offset_radius(ur: Option<u16>, community: bool, town_radius: f64) -> f64 {
    match ur {
        Some(111) => 1_300.0,
        Some(112) => 2_500.0,
        Some(121) => 1_500.0,
        Some(122) => 3_000.0,
        _ if community => 2_000.0,
        _ => (town_radius * 0.85).max(1_500.0),
    }
}

/// Short name: drop 居委会 / 村委会 / 居民委员会 / 村民委员会.
fn short_name(name: &str) -> (String, bool) {
    for (suffix, village) in [
        ("村民委员会", true),
        ("居民委员会", false),
        ("村委会", true),
        ("居委会", false),
    ] {
        if let Some(s) = name.strip_suffix(suffix) {
            let mut s = s.to_string();
            if village && !s.ends_with('村') {
                s.push('村');
            }
            return (s, !village);
        }
    }
    (name.to_string(), name.contains("社区"))
}

/// Moves `p` by (dx, dy) metres.
pub(crate) fn offset(p: (f64, f64), dx: f64, dy: f64) -> (f64, f64) {
    let k = p.1.to_radians().cos() * M_PER_DEG_LNG_EQ;
    (p.0 + dx / k, p.1 + dy / M_PER_DEG_LAT)
}

/// Planar metres east and north of `origin`.
#[cfg(test)]
pub(crate) fn to_metres(origin: (f64, f64), p: (f64, f64)) -> (f64, f64) {
    let k = origin.1.to_radians().cos() * M_PER_DEG_LNG_EQ;
    ((p.0 - origin.0) * k, (p.1 - origin.1) * M_PER_DEG_LAT)
}

impl World {
    /// Loads the embedded divisions and boundaries and places every anchor.
    pub(crate) fn build(seed: u64) -> Result<World, SynthError> {
        let areas = jiaxing::areas()?;
        let bounds = jiaxing::boundaries()?;
        let city = bounds
            .iter()
            .find(|b| b.code == jiaxing::CITY_CODE)
            .map(|b| IndexedBoundary::new(b.boundary.clone()))
            .ok_or_else(|| SynthError::Geography("no city outline".into()))?;
        let mut stats = GeoStats::default();
        let mut counties = Vec::new();
        for (idx, code) in COUNTIES.iter().enumerate() {
            let mut rng = stream(seed, Concern::Geography, idx as u64);
            let area = areas
                .get(code)
                .ok_or_else(|| SynthError::Geography(format!("no area {code}")))?;
            let b = bounds
                .iter()
                .find(|b| b.code == *code)
                .ok_or_else(|| SynthError::Geography(format!("no boundary for {code}")))?;
            let region = IndexedBoundary::new(b.boundary.clone());
            let area_km2 = b.boundary.area_km2();
            let inside = |p: (f64, f64)| region.contains(p.0, p.1) && city.contains(p.0, p.1);
            let town_areas = areas.children(code);
            let n_villages_county: usize = town_areas
                .iter()
                .map(|t| areas.children(&t.code).len())
                .sum::<usize>()
                .max(1);
            let mut towns = Vec::new();
            for t in town_areas {
                if t.level != AreaLevel::Town {
                    continue;
                }
                let vareas = areas.children(&t.code);
                // Town anchor: its centre, else the mean of its villages' known
                // centres, else a random point in the county.
                let known: Vec<(f64, f64)> = vareas
                    .iter()
                    .filter_map(|v| v.centre)
                    .filter(|p| inside(*p))
                    .collect();
                let town_anchor = match t.centre.filter(|p| inside(*p)) {
                    Some(p) => {
                        stats.towns_known += 1;
                        p
                    }
                    None => {
                        if t.centre.is_some() {
                            stats.centres_outside += 1;
                        }
                        let mean = (!known.is_empty()).then(|| {
                            let n = known.len() as f64;
                            (
                                known.iter().map(|p| p.0).sum::<f64>() / n,
                                known.iter().map(|p| p.1).sum::<f64>() / n,
                            )
                        });
                        match mean.filter(|p| inside(*p)) {
                            Some(p) => p,
                            None => random_point(&mut rng, &region, &city)?,
                        }
                    }
                };
                let town_area = area_km2 * vareas.len().max(1) as f64 / n_villages_county as f64;
                let town_radius = (town_area * 1e6 / std::f64::consts::PI).sqrt();
                let mut villages = Vec::new();
                for v in vareas {
                    let (short, community) = short_name(&v.name);
                    let ur = v.urban_rural_code;
                    let (sigma_m, pop_weight) = class_of(ur, community);
                    let urban = match ur {
                        Some(c) => c < 200,
                        None => community,
                    };
                    let anchor = match v.centre.filter(|p| inside(*p)) {
                        Some(p) => {
                            stats.villages_known += 1;
                            p
                        }
                        None => {
                            if v.centre.is_some() {
                                stats.centres_outside += 1;
                            }
                            let r = offset_radius(ur, community, town_radius);
                            let mut p = town_anchor;
                            for _ in 0..200 {
                                let a = rng.random::<f64>() * std::f64::consts::TAU;
                                let d = r * rng.random::<f64>().sqrt();
                                let q = offset(town_anchor, d * a.cos(), d * a.sin());
                                if inside(q) {
                                    p = q;
                                    break;
                                }
                            }
                            p
                        }
                    };
                    villages.push(VillageGeo {
                        code: v.code.clone(),
                        short,
                        community,
                        urban_rural: ur,
                        urban,
                        anchor,
                        sigma_m,
                        pop_weight,
                    });
                }
                if villages.is_empty() {
                    return Err(SynthError::Geography(format!(
                        "town {} has no villages",
                        t.code
                    )));
                }
                towns.push(TownGeo {
                    code: t.code.clone(),
                    name: t.name.clone(),
                    street: t.name.ends_with("街道"),
                    anchor: town_anchor,
                    villages,
                });
            }
            counties.push(CountyGeo {
                code: code.to_string(),
                name: area.name.clone(),
                region,
                towns,
            });
        }
        Ok(World {
            city,
            counties,
            stats,
        })
    }

    /// Inside both the county polygon and the city outline.
    pub(crate) fn inside(&self, county: usize, p: (f64, f64)) -> bool {
        self.counties[county].region.contains(p.0, p.1) && self.city.contains(p.0, p.1)
    }

    /// A point around `anchor` with a Gaussian spread of `sigma_m` (truncated at
    /// 2.5σ), rounded to 6 decimals, inside the county and the city; the anchor
    /// itself if 24 draws miss.
    pub(crate) fn jitter<R: Rng>(
        &self,
        rng: &mut R,
        county: usize,
        anchor: (f64, f64),
        sigma_m: f64,
    ) -> (f64, f64) {
        for _ in 0..24 {
            let dx = normal(rng).clamp(-2.5, 2.5) * sigma_m;
            let dy = normal(rng).clamp(-2.5, 2.5) * sigma_m;
            let p = offset(anchor, dx, dy);
            // Checked as the files write it (6 decimals): rounding must not
            // carry a point within centimetres of the border outside.
            let p = ((p.0 * 1e6).round() / 1e6, (p.1 * 1e6).round() / 1e6);
            if self.inside(county, p) {
                return p;
            }
        }
        anchor
    }

    #[cfg(test)]
    pub(crate) fn town_count(&self) -> usize {
        self.counties.iter().map(|c| c.towns.len()).sum()
    }

    #[cfg(test)]
    pub(crate) fn village_count(&self) -> usize {
        self.counties
            .iter()
            .flat_map(|c| &c.towns)
            .map(|t| t.villages.len())
            .sum()
    }
}

/// A uniformly random point inside the county and the city (rejection sampling
/// over the county's bounding box).
fn random_point<R: Rng>(
    rng: &mut R,
    region: &IndexedBoundary,
    city: &IndexedBoundary,
) -> Result<(f64, f64), SynthError> {
    let (x0, y0, x1, y1) = region.bbox();
    for _ in 0..100_000 {
        let x = x0 + (x1 - x0) * rng.random::<f64>();
        let y = y0 + (y1 - y0) * rng.random::<f64>();
        if region.contains(x, y) && city.contains(x, y) {
            return Ok((x, y));
        }
    }
    Err(SynthError::Geography(
        "no point found inside a county polygon".into(),
    ))
}
