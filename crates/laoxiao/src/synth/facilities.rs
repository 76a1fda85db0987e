//! The facility registers: care homes, home-care centres and stations, guidance
//! centres, childcare institutions and nursery classes with their classes, and
//! the smaller service sites. Counts follow the plan (see `calib`); names,
//! operators, sizes and dates are synthetic.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Ownership, Rating};
use laoxiao_model::{ChildcareClass, ClassSizeRule as _, ClassType, Facility, FacilityKind};
use laoxiao_rules::ClassLimits;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::calib::{self, Targets};
use super::names::{BRANDS, CHILD_BRANDS, ROADS, landline};
use super::operators::{Entity, Operators};
use super::util::{
    Concern, add_years, apportion, apportion_capped, date_between, lognormal, pick_weighted,
    scaled, shuffle, stream, ymd,
};
use super::world::{CountyGeo, TownGeo, VillageGeo, World};

/// Where residents of a care home live, for the elderly register.
#[derive(Debug, Clone)]
pub(crate) struct HomeSlot {
    /// The care home's facility id.
    pub facility_id: String,
    pub county: usize,
    pub area_code: String,
    pub point: (f64, f64),
    pub address: String,
    /// Residents (occupied beds).
    pub occupied: i64,
}

/// The facility registers and what the people generator needs from them.
#[derive(Debug, Clone, Default)]
pub(crate) struct FacilityOut {
    pub facilities: Vec<Facility>,
    pub classes: Vec<ChildcareClass>,
    pub homes: Vec<HomeSlot>,
}

/// A (county, town, village) position in the world; village `None` = town level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Spot {
    county: usize,
    town: usize,
    village: Option<usize>,
}

fn county_short(name: &str) -> &str {
    name.strip_suffix('区')
        .or_else(|| name.strip_suffix('县'))
        .or_else(|| name.strip_suffix('市'))
        .unwrap_or(name)
}

struct Gen<'a> {
    world: &'a World,
    seed: u64,
    ops: Operators,
    ids: BTreeMap<(&'static str, usize), u32>,
    names: BTreeSet<String>,
    out: FacilityOut,
}

fn blank(id: String, name: String, kind: FacilityKind, area_code: String) -> Facility {
    Facility::blank(id, name, kind, area_code)
}

/// Sets a rating valid for three years from a date in 2020–2022, or (1 in 12)
/// from 2018–2019 so that it has lapsed by the register date; never before opening.
fn rate(
    f: &mut Facility,
    rng: &mut ChaCha8Rng,
    rating: Option<Rating>,
    opening: NaiveDate,
    may_lapse: bool,
) {
    let Some(r) = rating else {
        return;
    };
    let from = if may_lapse && rng.random::<f64>() < 1.0 / 12.0 {
        date_between(rng, ymd(2018, 6, 1), ymd(2019, 11, 30))
    } else {
        date_between(rng, ymd(2020, 1, 1), ymd(2022, 11, 30))
    }
    .max(opening);
    f.rating = Some(r);
    f.rating_valid_from = Some(from);
    f.rating_valid_until = Some(add_years(from, 3) - Days::new(1));
}

impl<'a> Gen<'a> {
    fn county(&self, c: usize) -> &'a CountyGeo {
        &self.world.counties[c]
    }

    fn town(&self, s: Spot) -> &'a TownGeo {
        &self.world.counties[s.county].towns[s.town]
    }

    fn village(&self, s: Spot) -> Option<&'a VillageGeo> {
        s.village.map(|v| &self.town(s).villages[v])
    }

    fn next_id(&mut self, prefix: &'static str, county: usize) -> String {
        let n = self.ids.entry((prefix, county)).or_insert(0);
        *n += 1;
        format!("{prefix}{}{:04}", self.world.counties[county].code, n)
    }

    /// A name from `make` that no facility has yet (up to 20 tries), else the
    /// last try made unique by [`Gen::unique_name`].
    fn fresh(
        &self,
        rng: &mut ChaCha8Rng,
        mut make: impl FnMut(&mut ChaCha8Rng) -> String,
    ) -> String {
        let mut n = make(rng);
        for _ in 0..20 {
            if !self.names.contains(&n) {
                break;
            }
            n = make(rng);
        }
        n
    }

    /// `want` if free, else `want` with a number, so facility names are unique.
    fn unique_name(&mut self, want: String) -> String {
        if self.names.insert(want.clone()) {
            return want;
        }
        for k in 2.. {
            let n = format!("{want}（{k}）");
            if self.names.insert(n.clone()) {
                return n;
            }
        }
        want
    }

    /// A facility at a spot: id, name, area code, point and address.
    fn at(
        &mut self,
        rng: &mut ChaCha8Rng,
        prefix: &'static str,
        kind: FacilityKind,
        spot: Spot,
        name: String,
    ) -> Facility {
        let id = self.next_id(prefix, spot.county);
        let name = self.unique_name(name);
        let county = self.county(spot.county);
        let town = self.town(spot);
        let (code, point, address) = match self.village(spot) {
            Some(v) => {
                let p = self
                    .world
                    .jitter(rng, spot.county, v.anchor, v.sigma_m * 0.4);
                let addr = format!(
                    "{}{}{}{}号",
                    county.name,
                    town.name,
                    v.short,
                    rng.random_range(1..300)
                );
                (v.code.clone(), p, addr)
            }
            None => {
                let p = self.world.jitter(rng, spot.county, town.anchor, 250.0);
                let addr = format!(
                    "{}{}{}路{}号",
                    county.name,
                    town.name,
                    ROADS[rng.random_range(0..ROADS.len())],
                    rng.random_range(1..400)
                );
                (town.code.clone(), p, addr)
            }
        };
        let mut f = blank(id, name, kind, code);
        f.lng = Some(p6(point.0));
        f.lat = Some(p6(point.1));
        f.address = Some(address);
        f.phone = Some(landline(rng));
        // Published hours and number, derived without drawing from the
        // stream so the rest of the city stays as calibrated.
        f.opening_hours = Some(opening_hours(kind, &f.id).into());
        if !matches!(kind, FacilityKind::VillageCareStation) {
            f.public_phone = f.phone.clone();
        }
        f
    }

    fn operate(
        &mut self,
        f: &mut Facility,
        name: String,
        entity: Entity,
        division6: &str,
    ) -> Result<(), SynthError> {
        let code = self.ops.code(self.seed, &name, entity, division6)?;
        f.operator_name = Some(name);
        f.operator_credit_code = Some(code);
        Ok(())
    }

    /// A contracted operator (公建民营 or a chain): one of a few per county,
    /// social-work agencies or companies.
    fn pool_operator(
        &mut self,
        rng: &mut ChaCha8Rng,
        f: &mut Facility,
        county: usize,
    ) -> Result<(), SynthError> {
        let c = self.county(county);
        let short = county_short(&c.name);
        // Four agencies and two companies per county, one of three city-wide companies.
        let k = rng.random_range(0..9usize);
        let brand = BRANDS[(county * 7 + k * 3) % BRANDS.len()];
        let (name, entity, div) = match k {
            0..=3 => (
                format!("{short}{brand}社会工作服务社"),
                Entity::SocialOrg,
                c.code.clone(),
            ),
            4 | 5 => (
                format!("{short}{brand}养老服务有限公司"),
                Entity::Enterprise,
                c.code.clone(),
            ),
            _ => (
                format!("嘉兴{}健康产业有限公司", BRANDS[(k * 11) % BRANDS.len()]),
                Entity::Enterprise,
                "330400".to_string(),
            ),
        };
        self.operate(f, name, entity, &div)
    }

    /// The town's own government (镇人民政府 / 街道办事处).
    fn town_government(&mut self, f: &mut Facility, spot: Spot) -> Result<(), SynthError> {
        let t = self.town(spot);
        let name = if t.street {
            format!("{}办事处", t.name)
        } else {
            format!("{}人民政府", t.name)
        };
        let div = self.county(spot.county).code.clone();
        self.operate(f, name, Entity::Organ, &div)
    }

    /// A village's economic cooperative (股份经济合作社).
    fn collective(&mut self, f: &mut Facility, spot: Spot) -> Result<(), SynthError> {
        let t = self.town(spot);
        let v = self
            .village(spot)
            .map(|v| v.short.clone())
            .unwrap_or_default();
        let name = format!("{}{v}股份经济合作社", t.name);
        let div = self.county(spot.county).code.clone();
        self.operate(f, name, Entity::Collective, &div)
    }

    fn public_body(
        &mut self,
        f: &mut Facility,
        name: String,
        county: usize,
    ) -> Result<(), SynthError> {
        let div = self.county(county).code.clone();
        self.operate(f, name, Entity::PublicInstitution, &div)
    }
}

/// Coordinates are written with six decimals; rounding here keeps the record
/// in memory equal to what a re-import reads back.
fn p6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Every (county, town) in code order.
fn all_towns(world: &World) -> Vec<Spot> {
    let mut v = Vec::new();
    for (c, county) in world.counties.iter().enumerate() {
        for t in 0..county.towns.len() {
            v.push(Spot {
                county: c,
                town: t,
                village: None,
            });
        }
    }
    v
}

/// A village of a town, drawn by resident weight (× `community_bias` for communities).
fn pick_village(rng: &mut ChaCha8Rng, town: &TownGeo, community_bias: f64) -> usize {
    let w: Vec<f64> = town
        .villages
        .iter()
        .map(|v| v.pop_weight * if v.community { community_bias } else { 1.0 })
        .collect();
    pick_weighted(rng, &w)
}

/// Draws `k` distinct indices with probability ∝ weight (Efraimidis–Spirakis).
fn sample_without_replacement(rng: &mut ChaCha8Rng, weights: &[f64], k: usize) -> Vec<usize> {
    let mut keys: Vec<(f64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let u: f64 = rng.random::<f64>().max(1e-300);
            (
                if *w > 0.0 {
                    u.ln() / w
                } else {
                    f64::NEG_INFINITY
                },
                i,
            )
        })
        .collect();
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keys.into_iter().take(k).map(|(_, i)| i).collect()
}

/// Generates every facility register.
pub(crate) fn generate(
    world: &World,
    targets: &Targets,
    limits: &ClassLimits,
    seed: u64,
) -> Result<FacilityOut, SynthError> {
    let mut g = Gen {
        world,
        seed,
        ops: Operators::default(),
        ids: BTreeMap::new(),
        names: BTreeSet::new(),
        out: FacilityOut::default(),
    };
    let s = targets.scale;
    care_homes(&mut g, targets)?;
    town_centres(&mut g, s)?;
    let stations = village_stations(&mut g, s)?;
    guidance_centres(&mut g)?;
    childcare(&mut g, targets, limits)?;
    wellness(&mut g, s)?;
    schools(&mut g)?;
    canteens(&mut g, &stations)?;
    rentals(&mut g)?;
    sunflower(&mut g)?;
    Ok(g.out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum HomeClass {
    Welfare,
    Town,
    Private,
}

fn care_homes(g: &mut Gen<'_>, t: &Targets) -> Result<(), SynthError> {
    let s = t.scale;
    let world = g.world;
    let n_counties = world.counties.len() as i64;
    let n_total = scaled(calib::CARE_HOMES as f64, s).max(n_counties);
    let n_town = scaled(calib::TOWN_CARE_HOMES as f64, s).min(n_total - n_counties);
    let n_other = n_total - n_town - n_counties;
    let mut plan = stream(g.seed, Concern::CareHomes, 99);

    // Town-level homes (镇（街道）养老机构): every 镇 first, then 街道, at random.
    let towns = all_towns(world);
    let mut zhen: Vec<Spot> = towns
        .iter()
        .copied()
        .filter(|sp| !g.town(*sp).street)
        .collect();
    let mut jiedao: Vec<Spot> = towns
        .iter()
        .copied()
        .filter(|sp| g.town(*sp).street)
        .collect();
    shuffle(&mut plan, &mut zhen);
    shuffle(&mut plan, &mut jiedao);
    let order: Vec<Spot> = zhen.into_iter().chain(jiedao).collect();
    let mut town_spots: Vec<Spot> = (0..n_town as usize)
        .map(|i| order[i % order.len()])
        .collect();
    town_spots.sort();

    // Other homes by county in proportion to 60+, then by town population.
    let w60: Vec<f64> = t.counties.iter().map(|c| c.aged_60 as f64).collect();
    let per_county = apportion(n_other, &w60);

    struct Draft {
        spot: Spot,
        class: HomeClass,
        weight: f64,
        nursing_share: f64,
    }
    let mut drafts: Vec<Draft> = Vec::new();
    for (c, county) in world.counties.iter().enumerate() {
        let mut rng = stream(g.seed, Concern::CareHomes, c as u64);
        let seat = Spot {
            county: c,
            town: 0,
            village: Some(pick_village(&mut rng, county.seat(), 1.0)),
        };
        drafts.push(Draft {
            spot: seat,
            class: HomeClass::Welfare,
            weight: 3.0 * lognormal(&mut rng, 0.3),
            nursing_share: rng.random_range(0.65..0.85),
        });
        for sp in town_spots.iter().filter(|sp| sp.county == c) {
            let v = pick_village(&mut rng, g.town(*sp), 1.0);
            drafts.push(Draft {
                spot: Spot {
                    village: Some(v),
                    ..*sp
                },
                class: HomeClass::Town,
                weight: lognormal(&mut rng, 0.45),
                nursing_share: rng.random_range(0.30..0.65),
            });
        }
        let tw: Vec<f64> = county.towns.iter().map(|t| t.pop_weight()).collect();
        for _ in 0..per_county[c] {
            let ti = pick_weighted(&mut rng, &tw);
            let v = pick_village(&mut rng, &county.towns[ti], 1.5);
            drafts.push(Draft {
                spot: Spot {
                    county: c,
                    town: ti,
                    village: Some(v),
                },
                class: HomeClass::Private,
                weight: lognormal(&mut rng, 0.6),
                nursing_share: rng.random_range(0.30..0.85),
            });
        }
    }

    // Beds: town homes share 表1's town-level beds, the others the rest; at least 10 each.
    let town_ix: Vec<usize> = (0..drafts.len())
        .filter(|&i| drafts[i].class == HomeClass::Town)
        .collect();
    let other_ix: Vec<usize> = (0..drafts.len())
        .filter(|&i| drafts[i].class != HomeClass::Town)
        .collect();
    let mut beds = vec![0i64; drafts.len()];
    for (ix, total) in [
        (&town_ix, scaled(calib::TOWN_CARE_HOME_BEDS as f64, s)),
        (
            &other_ix,
            scaled(
                (calib::CARE_HOME_BEDS - calib::TOWN_CARE_HOME_BEDS) as f64,
                s,
            ),
        ),
    ] {
        let w: Vec<f64> = ix.iter().map(|&i| drafts[i].weight).collect();
        let caps = vec![3_000; ix.len()];
        let b = apportion_capped(total.max(10 * ix.len() as i64), &w, 10, &caps);
        for (k, &i) in ix.iter().enumerate() {
            beds[i] = b[k];
        }
    }
    let nursing_w: Vec<f64> = drafts
        .iter()
        .zip(&beds)
        .map(|(d, b)| *b as f64 * d.nursing_share)
        .collect();
    let nursing = apportion_capped(scaled(calib::NURSING_BEDS as f64, s), &nursing_w, 0, &beds);

    // Dementia zones: every county welfare centre (市县公办养老机构应设立失智症照护专区),
    // a third of the larger private homes and a tenth of the town homes; up to a quarter of beds.
    let dementia_total =
        (calib::DEMENTIA_BEDS_PER_10K * t.aged_60() as f64 / 10_000.0).round() as i64;
    let mut dcaps = vec![0i64; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let eligible = match d.class {
            HomeClass::Welfare => true,
            HomeClass::Private => beds[i] >= 100 && plan.random::<f64>() < 0.35,
            HomeClass::Town => plan.random::<f64>() < 0.10,
        };
        if eligible {
            dcaps[i] = (beds[i] / 4).max(1);
        }
    }
    let dw: Vec<f64> = beds.iter().map(|b| *b as f64).collect();
    let dementia = apportion_capped(dementia_total, &dw, 0, &dcaps);

    // Smart care homes: one per county (indicator 12's 2022 target), by beds.
    let mut smart = vec![false; drafts.len()];
    for c in 0..world.counties.len() {
        let ix: Vec<usize> = (0..drafts.len())
            .filter(|&i| drafts[i].spot.county == c)
            .collect();
        let w: Vec<f64> = ix.iter().map(|&i| beds[i] as f64).collect();
        for k in sample_without_replacement(&mut plan, &w, calib::SMART_HOMES_PER_COUNTY as usize) {
            smart[ix[k]] = true;
        }
    }

    for (i, d) in drafts.iter().enumerate() {
        let c = d.spot.county;
        let mut rng = stream(g.seed, Concern::CareHomes, 1_000 + i as u64);
        let county = g.county(c);
        let town = g.town(d.spot);
        let short = county_short(&county.name).to_string();
        let name = match d.class {
            HomeClass::Welfare => format!("{}社会福利中心", county.name),
            HomeClass::Town if town.street => format!("{}颐养院", town.name),
            HomeClass::Town => format!("{}敬老院", town.name),
            HomeClass::Private => {
                const SUFFIX: &[&str] = &[
                    "颐养院",
                    "养老院",
                    "护理院",
                    "老年公寓",
                    "康养中心",
                    "颐养中心",
                ];
                g.fresh(&mut rng, |r| {
                    format!(
                        "{short}{}{}",
                        BRANDS[r.random_range(0..BRANDS.len())],
                        SUFFIX[r.random_range(0..SUFFIX.len())]
                    )
                })
            }
        };
        let mut f = g.at(
            &mut rng,
            "YL",
            FacilityKind::ElderlyInstitution,
            d.spot,
            name,
        );
        f.beds = Some(beds[i]);
        f.nursing_beds = Some(nursing[i]);
        f.dementia_beds = Some(dementia[i]);
        f.smart = smart[i];
        // 表1 counts 镇（街道）养老机构 apart: they carry the town level, the
        // county welfare centres the county level, the others none.
        f.level = match d.class {
            HomeClass::Welfare => Some(FacilityLevel::County),
            HomeClass::Town => Some(FacilityLevel::Town),
            HomeClass::Private => None,
        };
        let (ownership, opening) = match d.class {
            HomeClass::Welfare => {
                let n = f.name.clone();
                g.public_body(&mut f, n, c)?;
                (
                    Ownership::Public,
                    date_between(&mut rng, ymd(1990, 1, 1), ymd(2010, 12, 31)),
                )
            }
            HomeClass::Town => {
                let o = if rng.random::<f64>() < 0.65 {
                    g.town_government(&mut f, d.spot)?;
                    Ownership::Public
                } else {
                    g.pool_operator(&mut rng, &mut f, c)?;
                    Ownership::PublicBuiltPrivateRun
                };
                (
                    o,
                    date_between(&mut rng, ymd(1985, 1, 1), ymd(2012, 12, 31)),
                )
            }
            HomeClass::Private => {
                let o = if rng.random::<f64>() < 0.8 {
                    if rng.random::<f64>() < 0.65 {
                        let n = f.name.clone();
                        g.operate(&mut f, n, Entity::SocialOrg, &county.code)?;
                    } else {
                        let n = format!(
                            "{short}{}养老服务有限公司",
                            BRANDS[rng.random_range(0..BRANDS.len())]
                        );
                        g.operate(&mut f, n, Entity::Enterprise, &county.code)?;
                    }
                    Ownership::Private
                } else {
                    g.pool_operator(&mut rng, &mut f, c)?;
                    Ownership::PublicBuiltPrivateRun
                };
                (o, date_between(&mut rng, ymd(2008, 1, 1), ymd(2022, 6, 30)))
            }
        };
        f.ownership = Some(ownership);
        f.opening_date = Some(opening);
        let rating = if d.class == HomeClass::Welfare {
            Some(if rng.random::<f64>() < 0.6 {
                Rating::Star4
            } else {
                Rating::Star5
            })
        } else {
            let stars = [
                None,
                Some(Rating::Star1),
                Some(Rating::Star2),
                Some(Rating::Star3),
                Some(Rating::Star4),
                Some(Rating::Star5),
            ];
            stars[pick_weighted(&mut rng, &[0.18, 0.08, 0.25, 0.30, 0.14, 0.05])]
        };
        rate(&mut f, &mut rng, rating, opening, true);
        let (lo, hi) = calib::OCCUPANCY;
        let occupied = (beds[i] as f64 * rng.random_range(lo..hi)).round() as i64;
        g.out.homes.push(HomeSlot {
            facility_id: f.id.clone(),
            county: c,
            area_code: f.area_code.clone(),
            point: (f.lng.unwrap_or_default(), f.lat.unwrap_or_default()),
            address: f.address.clone().unwrap_or_default(),
            occupied,
        });
        g.out.facilities.push(f);
    }
    Ok(())
}

fn a_rating(rng: &mut ChaCha8Rng, weights: &[f64; 4]) -> Option<Rating> {
    [None, Some(Rating::A3), Some(Rating::A4), Some(Rating::A5)][pick_weighted(rng, weights)]
}

fn town_centres(g: &mut Gen<'_>, s: f64) -> Result<(), SynthError> {
    let towns = all_towns(g.world);
    let n = scaled(calib::TOWN_HOME_CARE_CENTRES as f64, s).max(towns.len() as i64) as usize;
    let mut plan = stream(g.seed, Concern::TownCentres, 99);
    let w: Vec<f64> = towns.iter().map(|sp| g.town(*sp).pop_weight()).collect();
    // One per town (全覆盖), the extra ones in populous towns.
    let mut extra: Vec<usize> = Vec::new();
    while extra.len() < n - towns.len() {
        let k = (n - towns.len() - extra.len()).min(towns.len());
        extra.extend(sample_without_replacement(&mut plan, &w, k));
    }
    let mut spots: Vec<(Spot, bool)> = towns.iter().map(|sp| (*sp, false)).collect();
    for e in extra {
        spots.push((towns[e], true));
    }
    spots.sort_by_key(|(sp, x)| (*sp, *x));
    for (i, (sp, branch)) in spots.into_iter().enumerate() {
        let mut rng = stream(g.seed, Concern::TownCentres, i as u64);
        let town = g.town(sp);
        let (spot, name) = if branch {
            let v = pick_village(&mut rng, town, 2.0);
            (
                Spot {
                    village: Some(v),
                    ..sp
                },
                format!(
                    "{}居家养老服务中心{}分中心",
                    town.name, town.villages[v].short
                ),
            )
        } else {
            (sp, format!("{}居家养老服务中心", town.name))
        };
        let mut f = g.at(&mut rng, "JZ", FacilityKind::TownHomeCareCenter, spot, name);
        if rng.random::<f64>() < 0.7 {
            g.pool_operator(&mut rng, &mut f, sp.county)?;
            f.ownership = Some(Ownership::PublicBuiltPrivateRun);
        } else {
            g.town_government(&mut f, sp)?;
            f.ownership = Some(Ownership::Public);
        }
        let opening = date_between(&mut rng, ymd(2014, 6, 1), ymd(2020, 12, 31));
        f.opening_date = Some(opening);
        let r = a_rating(&mut rng, &[0.05, 0.25, 0.40, 0.30]);
        rate(&mut f, &mut rng, r, opening, true);
        g.out.facilities.push(f);
    }
    Ok(())
}

/// Village care stations; returns their spots (for co-located canteens).
fn village_stations(g: &mut Gen<'_>, s: f64) -> Result<Vec<(Spot, usize)>, SynthError> {
    let world = g.world;
    let towns = all_towns(world);
    let n = scaled(calib::VILLAGE_STATIONS as f64, s).max(towns.len() as i64) as usize;
    let mut plan = stream(g.seed, Concern::Stations, 99);
    let mut all: Vec<Spot> = Vec::new();
    for sp in &towns {
        for v in 0..g.town(*sp).villages.len() {
            all.push(Spot {
                village: Some(v),
                ..*sp
            });
        }
    }
    // One per town first, then villages by population until the count is reached.
    let mut chosen: Vec<Spot> = Vec::new();
    let mut taken = vec![false; all.len()];
    for sp in &towns {
        let v = pick_village(&mut plan, g.town(*sp), 1.0);
        let k = all
            .iter()
            .position(|a| a.county == sp.county && a.town == sp.town && a.village == Some(v))
            .unwrap_or(0);
        taken[k] = true;
        chosen.push(all[k]);
    }
    while chosen.len() < n {
        let w: Vec<f64> = all
            .iter()
            .zip(&taken)
            .map(|(a, t)| {
                if *t {
                    0.0
                } else {
                    g.village(*a).map(|v| v.pop_weight).unwrap_or(0.0)
                }
            })
            .collect();
        let free = taken.iter().filter(|t| !**t).count();
        if free == 0 {
            // More stations than villages (scale > 1): a second round.
            taken.iter_mut().for_each(|t| *t = false);
            continue;
        }
        let k = (n - chosen.len()).min(free);
        for i in sample_without_replacement(&mut plan, &w, k) {
            taken[i] = true;
            chosen.push(all[i]);
        }
    }
    chosen.sort();
    let rated_n = (calib::STATIONS_3A_SHARE * n as f64).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut plan, &mut order);
    let mut rated = vec![false; n];
    for &i in order.iter().take(rated_n) {
        rated[i] = true;
    }
    let mut out = Vec::with_capacity(n);
    for (i, sp) in chosen.into_iter().enumerate() {
        let mut rng = stream(g.seed, Concern::Stations, i as u64);
        let short = g.village(sp).map(|v| v.short.clone()).unwrap_or_default();
        let mut f = g.at(
            &mut rng,
            "ZL",
            FacilityKind::VillageCareStation,
            sp,
            format!("{}{short}居家养老服务照料中心", g.town(sp).name),
        );
        if rng.random::<f64>() < 0.65 {
            g.collective(&mut f, sp)?;
            f.ownership = Some(Ownership::Public);
        } else {
            g.pool_operator(&mut rng, &mut f, sp.county)?;
            f.ownership = Some(Ownership::PublicBuiltPrivateRun);
        }
        let opening = date_between(&mut rng, ymd(2012, 1, 1), ymd(2020, 12, 31));
        f.opening_date = Some(opening);
        if rated[i] {
            // Station ratings all hold on the register date (indicator 11 counts them).
            let r = a_rating(&mut rng, &[0.0, 0.50, 0.32, 0.18]);
            rate(&mut f, &mut rng, r, opening, false);
        }
        g.out.facilities.push(f);
        out.push((sp, g.out.facilities.len() - 1));
    }
    Ok(out)
}

fn guidance_centres(g: &mut Gen<'_>) -> Result<(), SynthError> {
    let world = g.world;
    let seed = g.seed;
    let mut i = 0u64;
    let next_rng = |i: &mut u64| {
        *i += 1;
        stream(seed, Concern::Guidance, *i)
    };
    // City: in the city seat (南湖区's first street).
    let seat = Spot {
        county: 0,
        town: 0,
        village: None,
    };
    let mut rng = next_rng(&mut i);
    let mut f = g.at(
        &mut rng,
        "ZD",
        FacilityKind::GuidanceCenter,
        seat,
        "嘉兴市婴幼儿照护服务指导中心".into(),
    );
    f.level = Some(FacilityLevel::City);
    f.ownership = Some(Ownership::Public);
    g.operate(
        &mut f,
        "嘉兴市妇幼保健院".into(),
        Entity::PublicInstitution,
        "330400",
    )?;
    f.opening_date = Some(date_between(&mut rng, ymd(2020, 3, 1), ymd(2020, 12, 31)));
    g.out.facilities.push(f);
    for (c, county) in world.counties.iter().enumerate() {
        let mut rng = next_rng(&mut i);
        let spot = Spot {
            county: c,
            town: 0,
            village: None,
        };
        let mut f = g.at(
            &mut rng,
            "ZD",
            FacilityKind::GuidanceCenter,
            spot,
            format!("{}婴幼儿照护服务指导中心", county.name),
        );
        f.level = Some(FacilityLevel::County);
        f.ownership = Some(Ownership::Public);
        g.public_body(&mut f, format!("{}妇幼保健院", county.name), c)?;
        f.opening_date = Some(date_between(&mut rng, ymd(2020, 6, 1), ymd(2021, 12, 31)));
        g.out.facilities.push(f);
    }
    for sp in all_towns(world) {
        let mut rng = next_rng(&mut i);
        let town = g.town(sp);
        let mut f = g.at(
            &mut rng,
            "ZD",
            FacilityKind::GuidanceCenter,
            sp,
            format!("{}婴幼儿照护服务指导中心", town.name),
        );
        f.level = Some(FacilityLevel::Town);
        f.ownership = Some(Ownership::Public);
        g.public_body(&mut f, format!("{}社区卫生服务中心", town.name), sp.county)?;
        f.opening_date = Some(date_between(&mut rng, ymd(2020, 9, 1), ymd(2022, 6, 30)));
        g.out.facilities.push(f);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Care {
    Filed { national: bool },
    Unfiled,
    Nursery { public: bool },
}

impl Care {
    fn group(self) -> usize {
        match self {
            Care::Filed { national: true } => 0,
            Care::Filed { national: false } => 1,
            Care::Unfiled => 2,
            Care::Nursery { .. } => 3,
        }
    }
}

fn childcare(g: &mut Gen<'_>, t: &Targets, limits: &ClassLimits) -> Result<(), SynthError> {
    let s = t.scale;
    let world = g.world;
    let mut plan = stream(g.seed, Concern::Childcare, 99);
    let n_filed = scaled(calib::FILED_INSTITUTIONS as f64, s).max(1) as usize;
    let n_nat = (scaled(calib::NATIONAL_INCLUSIVE as f64, s) as usize).min(n_filed);
    let n_unfiled = scaled(calib::UNFILED_INSTITUTIONS as f64, s) as usize;
    let n_nursery = scaled(calib::NURSERY_KINDERGARTENS as f64, s).max(1) as usize;
    let total_slots = (calib::SLOTS_PER_1000 * t.residents() as f64 / 1000.0).round() as i64;
    let nat_slots = scaled(calib::NATIONAL_INCLUSIVE_SLOTS as f64, s).max(10 * n_nat as i64);
    let filed_slots = scaled(calib::FILED_SLOTS as f64, s).max(10 * n_filed as i64);
    let unfiled_slots = scaled(calib::UNFILED_SLOTS as f64, s).max(10 * n_unfiled as i64);
    let nursery_slots = (total_slots - filed_slots - unfiled_slots).max(10 * n_nursery as i64);

    let mut kinds: Vec<Care> = Vec::new();
    kinds.extend((0..n_filed).map(|i| Care::Filed {
        national: i < n_nat,
    }));
    kinds.extend((0..n_unfiled).map(|_| Care::Unfiled));
    kinds.extend((0..n_nursery).map(|_| Care::Nursery {
        public: plan.random::<f64>() < 0.65,
    }));

    // Slots.
    let mut slots = vec![0i64; kinds.len()];
    // (total, cap per facility) for national-programme, other filed, unfiled and nursery.
    let groups: [(i64, i64); 4] = [
        (nat_slots, 200),
        (filed_slots - if n_nat > 0 { nat_slots } else { 0 }, 300),
        (unfiled_slots, 200),
        (nursery_slots, 60),
    ];
    for (g_ix, (total, cap)) in groups.iter().enumerate() {
        let ix: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i].group() == g_ix)
            .collect();
        if ix.is_empty() {
            continue;
        }
        let w: Vec<f64> = ix.iter().map(|_| lognormal(&mut plan, 0.5)).collect();
        let caps = vec![*cap; ix.len()];
        let lo = 10.min(*total / ix.len() as i64).max(1);
        let a = apportion_capped((*total).max(ix.len() as i64), &w, lo, &caps);
        for (k, &i) in ix.iter().enumerate() {
            slots[i] = a[k];
        }
    }

    // Towns: one town (the 镇 with the fewest residents) has none (71 of 72 covered);
    // the first facilities cover distinct towns, the rest go by population.
    let towns = all_towns(world);
    let mut zhen: Vec<usize> = (0..towns.len())
        .filter(|&i| !g.town(towns[i]).street)
        .collect();
    zhen.sort_by(|&a, &b| {
        g.town(towns[a])
            .pop_weight()
            .total_cmp(&g.town(towns[b]).pop_weight())
            .then(a.cmp(&b))
    });
    let excluded: BTreeSet<usize> = zhen
        .into_iter()
        .take(calib::CHILDCARE_TOWNS_WITHOUT)
        .collect();
    let eligible: Vec<usize> = (0..towns.len()).filter(|i| !excluded.contains(i)).collect();
    let mut cover = eligible.clone();
    shuffle(&mut plan, &mut cover);
    let mut order: Vec<usize> = (0..kinds.len()).collect();
    shuffle(&mut plan, &mut order);
    let tw: Vec<f64> = eligible
        .iter()
        .map(|&i| g.town(towns[i]).pop_weight())
        .collect();
    let mut town_of = vec![0usize; kinds.len()];
    for (k, &i) in order.iter().enumerate() {
        town_of[i] = if k < cover.len() {
            cover[k]
        } else {
            eligible[pick_weighted(&mut plan, &tw)]
        };
    }

    // Inclusive (普惠): the national programme's institutions, then public nursery
    // classes, then other filed institutions, until the share is reached.
    let target = (calib::INCLUSIVE_SLOT_SHARE * slots.iter().sum::<i64>() as f64).round() as i64;
    let mut inclusive = vec![false; kinds.len()];
    let mut got = 0;
    for pass in 0..3 {
        for i in 0..kinds.len() {
            let take = match (pass, kinds[i]) {
                (0, Care::Filed { national: true }) => true,
                (1, Care::Nursery { public: true }) => got < target,
                (2, Care::Filed { national: false }) => got < target,
                _ => false,
            };
            if take && !inclusive[i] {
                inclusive[i] = true;
                got += slots[i];
            }
        }
    }
    // Filing dates: the 2020 baseline's institutions filed by the end of 2020.
    let filed_ix: Vec<usize> = (0..kinds.len())
        .filter(|&i| matches!(kinds[i], Care::Filed { .. }))
        .collect();
    let mut early = filed_ix.clone();
    shuffle(&mut plan, &mut early);
    let n_early = (scaled(calib::FILED_BY_2020 as f64, s) as usize).min(early.len());
    let early: BTreeSet<usize> = early.into_iter().take(n_early).collect();
    let mut demo = filed_ix.clone();
    shuffle(&mut plan, &mut demo);
    let n_demo = (scaled(calib::DEMONSTRATION as f64, s) as usize).min(demo.len());
    let demo: BTreeSet<usize> = demo.into_iter().take(n_demo).collect();

    // Output in (kind, county, town) order.
    let mut idx: Vec<usize> = (0..kinds.len()).collect();
    let rank = |k: &Care| match k {
        Care::Filed { .. } | Care::Unfiled => 0,
        Care::Nursery { .. } => 1,
    };
    idx.sort_by_key(|&i| (rank(&kinds[i]), towns[town_of[i]], i));
    for (n, i) in idx.into_iter().enumerate() {
        let mut rng = stream(g.seed, Concern::Childcare, n as u64);
        let tsp = towns[town_of[i]];
        let c = tsp.county;
        let county = g.county(c);
        let short = county_short(&county.name).to_string();
        let town = g.town(tsp);
        let v = pick_village(&mut rng, town, 2.0);
        let spot = Spot {
            village: Some(v),
            ..tsp
        };
        let tname = town.name.clone();
        let any_brand = |r: &mut ChaCha8Rng| CHILD_BRANDS[r.random_range(0..CHILD_BRANDS.len())];
        let (prefix, kind, name) = match kinds[i] {
            Care::Filed { .. } | Care::Unfiled => {
                let name = g.fresh(&mut rng, |r| {
                    let brand = any_brand(r);
                    match r.random_range(0..3) {
                        0 => format!("{short}{brand}托育中心"),
                        1 => format!("{brand}婴幼儿照护中心（{tname}店）"),
                        _ => format!("{tname}{brand}托育园"),
                    }
                });
                ("TY", FacilityKind::ChildcareInstitution, name)
            }
            Care::Nursery { public: true } => {
                let centre = format!("{tname}中心幼儿园托班");
                let name = if g.names.contains(&centre) || rng.random::<f64>() < 0.4 {
                    g.fresh(&mut rng, |r| {
                        let v = &town.villages[pick_village(r, town, 2.0)];
                        format!("{tname}{}幼儿园托班", v.short)
                    })
                } else {
                    centre
                };
                ("TB", FacilityKind::KindergartenNurseryClass, name)
            }
            Care::Nursery { public: false } => {
                let name = g.fresh(&mut rng, |r| format!("{short}{}幼儿园托班", any_brand(r)));
                ("TB", FacilityKind::KindergartenNurseryClass, name)
            }
        };
        let mut f = g.at(&mut rng, prefix, kind, spot, name);
        // The operator carries the facility's brand.
        let brand = CHILD_BRANDS
            .iter()
            .copied()
            .find(|b| f.name.contains(b))
            .unwrap_or(CHILD_BRANDS[0]);
        f.approved_slots = Some(slots[i]);
        f.inclusive = inclusive[i];
        match kinds[i] {
            Care::Filed { .. } => {
                let filed = if early.contains(&i) {
                    date_between(&mut rng, ymd(2019, 10, 8), ymd(2020, 12, 31))
                } else {
                    date_between(&mut rng, ymd(2021, 1, 1), ymd(2022, 12, 31))
                };
                f.filing_status = FilingStatus::Filed;
                f.filing_date = Some(filed);
                f.opening_date =
                    Some((filed - Days::new(rng.random_range(0..400))).max(ymd(2017, 1, 1)));
                f.demonstration = demo.contains(&i);
                // One demonstration institution in three is later rated
                // provincial (by position: the random streams stay as they were).
                f.provincial_demonstration = f.demonstration
                    && demo
                        .iter()
                        .position(|&d| d == i)
                        .is_some_and(|p| p % 3 == 0);
                let r = rng.random::<f64>();
                if r < 0.10 {
                    f.ownership = Some(Ownership::Public);
                    g.public_body(&mut f, format!("{}中心幼儿园", town.name), c)?;
                } else if r < 0.25 {
                    f.ownership = Some(Ownership::PublicBuiltPrivateRun);
                    g.operate(
                        &mut f,
                        format!("嘉兴{brand}托育服务有限公司"),
                        Entity::Enterprise,
                        "330400",
                    )?;
                } else {
                    f.ownership = Some(Ownership::Private);
                    g.operate(
                        &mut f,
                        format!("{short}{brand}教育科技有限公司"),
                        Entity::Enterprise,
                        &county.code,
                    )?;
                }
            }
            Care::Unfiled => {
                f.filing_status = if rng.random::<f64>() < 0.3 {
                    FilingStatus::Pending
                } else {
                    FilingStatus::Unfiled
                };
                f.opening_date = Some(date_between(&mut rng, ymd(2016, 3, 1), ymd(2022, 10, 31)));
                f.ownership = Some(Ownership::Private);
                g.operate(
                    &mut f,
                    format!("{short}{brand}教育科技有限公司"),
                    Entity::Enterprise,
                    &county.code,
                )?;
            }
            Care::Nursery { public } => {
                f.opening_date = Some(ymd(rng.random_range(2019..=2022), 9, 1));
                let kindergarten = f.name.trim_end_matches("托班").to_string();
                if public {
                    f.ownership = Some(Ownership::Public);
                    g.public_body(&mut f, kindergarten, c)?;
                } else {
                    f.ownership = Some(Ownership::Private);
                    g.operate(&mut f, kindergarten, Entity::SocialOrg, &county.code)?;
                }
            }
        }
        let mut crng = stream(g.seed, Concern::Classes, n as u64);
        let classes = classes_for(&mut crng, &f, limits);
        g.out.classes.extend(classes);
        g.out.facilities.push(f);
    }
    Ok(())
}

/// Splits a facility's slots into classes within the national maxima; the
/// capacities sum to the approved slots exactly.
fn classes_for(rng: &mut ChaCha8Rng, f: &Facility, limits: &ClassLimits) -> Vec<ChildcareClass> {
    let slots = f.approved_slots.unwrap_or(0);
    if slots <= 0 {
        return Vec::new();
    }
    let nursery = f.kind == FacilityKind::KindergartenNurseryClass;
    let types: &[(ClassType, f64)] = if nursery {
        &[
            (ClassType::OlderToddlerClass, 0.8),
            (ClassType::MixedAgeClass, 0.2),
        ]
    } else {
        &[
            (ClassType::InfantClass, 0.15),
            (ClassType::YoungToddlerClass, 0.30),
            (ClassType::OlderToddlerClass, 0.35),
            (ClassType::MixedAgeClass, 0.20),
        ]
    };
    let weights: Vec<f64> = types.iter().map(|t| t.1).collect();
    let max_of = |t: ClassType| limits.get(t).map(|l| l.max_size).unwrap_or(15);
    let mut chosen: Vec<ClassType> = Vec::new();
    let mut room = 0.0;
    while room < slots as f64 {
        let t = types[pick_weighted(rng, &weights)].0;
        room += max_of(t) as f64 * 0.85;
        chosen.push(t);
    }
    let caps: Vec<i64> = chosen.iter().map(|t| max_of(*t)).collect();
    let w: Vec<f64> = caps.iter().map(|c| *c as f64).collect();
    let sizes = apportion_capped(slots, &w, 1, &caps);
    chosen
        .iter()
        .zip(sizes)
        .enumerate()
        .map(|(k, (t, cap))| {
            let fill = if nursery {
                rng.random_range(0.75..=1.0)
            } else if f.filing_status == FilingStatus::Filed {
                rng.random_range(0.55..=0.95)
            } else {
                rng.random_range(0.45..=0.90)
            };
            let enrolled = ((cap as f64 * fill).round() as i64).min(cap);
            // Caregivers by the ratio in force on the register date (the
            // standard's, or the dated parameter for 混龄班): the register
            // refuses a class short of them. The generator's own date keeps the
            // city a function of its seed (the ratios have not changed since
            // 2019). One class in sixteen has a caregiver to spare.
            let ratio = limits
                .children_per_caregiver(*t, calib::as_of())
                .map_or(5, |r| r.0)
                .max(1);
            let mut caregivers = ((enrolled + ratio - 1) / ratio).max(1);
            if rng.random::<f64>() < 1.0 / 16.0 {
                caregivers += 1;
            }
            let yuan: i64 = match (nursery, f.ownership, f.inclusive) {
                (true, Some(Ownership::Public), _) => rng.random_range(60..=150) * 10,
                (true, _, _) => rng.random_range(150..=350) * 10,
                (false, _, true) => rng.random_range(150..=260) * 10,
                (false, _, false) if *t == ClassType::InfantClass => {
                    rng.random_range(350..=650) * 10
                }
                (false, _, false) => rng.random_range(280..=550) * 10,
            };
            // A field added to the declaration takes its default here.
            #[allow(clippy::needless_update)]
            ChildcareClass {
                id: format!("{}-{:02}", f.id, k + 1),
                facility_id: f.id.clone(),
                class_type: *t,
                capacity: cap,
                enrolled,
                caregivers,
                monthly_fee_fen: Some(yuan * 100),
                ..Default::default()
            }
        })
        .collect()
}

fn wellness(g: &mut Gen<'_>, s: f64) -> Result<(), SynthError> {
    let n = scaled(calib::WELLNESS_ALLIANCES as f64, s).max(1) as usize;
    let n_prov = (calib::WELLNESS_PROVINCIAL as f64 * n as f64 / calib::WELLNESS_ALLIANCES as f64)
        .round() as usize;
    let mut plan = stream(g.seed, Concern::Wellness, 99);
    // Led by care homes, the larger ones more likely.
    let homes: Vec<usize> = (0..g.out.facilities.len())
        .filter(|&i| g.out.facilities[i].kind == FacilityKind::ElderlyInstitution)
        .collect();
    let w: Vec<f64> = homes
        .iter()
        .map(|&i| g.out.facilities[i].beds.unwrap_or(0) as f64)
        .collect();
    let mut lead: Vec<usize> = sample_without_replacement(&mut plan, &w, n.min(homes.len()))
        .into_iter()
        .map(|k| homes[k])
        .collect();
    lead.sort();
    for (k, &h) in lead.iter().enumerate() {
        let mut rng = stream(g.seed, Concern::Wellness, k as u64);
        let home = g.out.facilities[h].clone();
        let c = g
            .world
            .counties
            .iter()
            .position(|c| home.area_code.starts_with(&c.code))
            .unwrap_or(0);
        let town_code = &home.area_code[..9.min(home.area_code.len())];
        let t = g.world.counties[c]
            .towns
            .iter()
            .position(|t| t.code == town_code)
            .unwrap_or(0);
        let spot = Spot {
            county: c,
            town: t,
            village: None,
        };
        let name = format!(
            "{}{}康养联合体",
            g.town(spot).name,
            BRANDS[rng.random_range(0..BRANDS.len())]
        );
        let mut f = g.at(&mut rng, "KY", FacilityKind::WellnessAlliance, spot, name);
        // Sits with its lead care home.
        f.area_code = home.area_code.clone();
        f.lng = home.lng;
        f.lat = home.lat;
        f.address = home.address.clone();
        f.level = Some(if k < n_prov {
            FacilityLevel::Provincial
        } else {
            FacilityLevel::City
        });
        f.ownership = home.ownership;
        f.operator_name = home.operator_name.clone();
        f.operator_credit_code = home.operator_credit_code.clone();
        f.opening_date = Some(date_between(&mut rng, ymd(2019, 1, 1), ymd(2020, 12, 31)));
        // A quarter of the city-level alliances already draw the city's
        // medical-care-integration subsidy (no alliance award on top).
        f.medical_care_subsidy = k >= n_prov && k % 4 == 1;
        g.out.facilities.push(f);
    }
    Ok(())
}

/// `share` of the towns, chosen at random, in code order.
fn towns_share(g: &Gen<'_>, concern: Concern, share: f64) -> Vec<Spot> {
    let towns = all_towns(g.world);
    let k = (share * towns.len() as f64).round() as usize;
    let mut plan = stream(g.seed, concern, 99);
    let mut ix: Vec<usize> = (0..towns.len()).collect();
    shuffle(&mut plan, &mut ix);
    let mut pick: Vec<Spot> = ix.into_iter().take(k).map(|i| towns[i]).collect();
    pick.sort();
    pick
}

fn schools(g: &mut Gen<'_>) -> Result<(), SynthError> {
    for (i, sp) in towns_share(g, Concern::Schools, calib::SCHOOL_TOWN_SHARE)
        .into_iter()
        .enumerate()
    {
        let mut rng = stream(g.seed, Concern::Schools, i as u64);
        let town = g.town(sp);
        let mut f = g.at(
            &mut rng,
            "LX",
            FacilityKind::ElderlySchool,
            sp,
            format!("{}老年学校", town.name),
        );
        f.level = Some(FacilityLevel::Town);
        f.ownership = Some(Ownership::Public);
        g.public_body(&mut f, format!("{}成人文化技术学校", town.name), sp.county)?;
        f.opening_date = Some(date_between(&mut rng, ymd(2005, 9, 1), ymd(2020, 9, 30)));
        g.out.facilities.push(f);
    }
    Ok(())
}

fn canteens(g: &mut Gen<'_>, stations: &[(Spot, usize)]) -> Result<(), SynthError> {
    let mut plan = stream(g.seed, Concern::Canteens, 99);
    let k = (calib::CANTEEN_STATION_SHARE * stations.len() as f64).round() as usize;
    let mut ix: Vec<usize> = (0..stations.len()).collect();
    shuffle(&mut plan, &mut ix);
    let mut at_stations: Vec<usize> = ix.into_iter().take(k).collect();
    at_stations.sort();
    let mut n = 0u64;
    for sp in all_towns(g.world) {
        n += 1;
        let mut rng = stream(g.seed, Concern::Canteens, n);
        let town = g.town(sp);
        let mut f = g.at(
            &mut rng,
            "ST",
            FacilityKind::ElderlyCanteen,
            sp,
            format!("{}老年中心食堂", town.name),
        );
        if rng.random::<f64>() < 0.6 {
            g.pool_operator(&mut rng, &mut f, sp.county)?;
            f.ownership = Some(Ownership::PublicBuiltPrivateRun);
        } else {
            g.town_government(&mut f, sp)?;
            f.ownership = Some(Ownership::Public);
        }
        f.opening_date = Some(date_between(&mut rng, ymd(2016, 1, 1), ymd(2022, 10, 31)));
        g.out.facilities.push(f);
    }
    for i in at_stations {
        n += 1;
        let mut rng = stream(g.seed, Concern::Canteens, n);
        let (sp, fi) = stations[i];
        let station = g.out.facilities[fi].clone();
        let short = g.village(sp).map(|v| v.short.clone()).unwrap_or_default();
        let mut f = g.at(
            &mut rng,
            "ST",
            FacilityKind::ElderlyCanteen,
            sp,
            format!("{}{short}老年食堂", g.town(sp).name),
        );
        // In the station's building, run by its operator.
        f.lng = station.lng;
        f.lat = station.lat;
        f.address = station.address.clone();
        f.ownership = station.ownership;
        f.operator_name = station.operator_name.clone();
        f.operator_credit_code = station.operator_credit_code.clone();
        f.opening_date = Some(
            date_between(&mut rng, ymd(2016, 1, 1), ymd(2022, 10, 31))
                .max(station.opening_date.unwrap_or(NaiveDate::MIN)),
        );
        g.out.facilities.push(f);
    }
    Ok(())
}

fn rentals(g: &mut Gen<'_>) -> Result<(), SynthError> {
    for (i, sp) in towns_share(g, Concern::Rentals, calib::RENTAL_TOWN_SHARE)
        .into_iter()
        .enumerate()
    {
        let mut rng = stream(g.seed, Concern::Rentals, i as u64);
        let town = g.town(sp);
        let mut f = g.at(
            &mut rng,
            "FJ",
            FacilityKind::AssistiveDeviceRental,
            sp,
            format!("{}康复辅助器具社区租赁点", town.name),
        );
        let op = format!(
            "嘉兴{}康复辅具有限公司",
            ["仁和", "安康", "长青"][rng.random_range(0..3)]
        );
        g.operate(&mut f, op, Entity::Enterprise, "330400")?;
        f.ownership = Some(Ownership::PublicBuiltPrivateRun);
        f.opening_date = Some(date_between(&mut rng, ymd(2019, 3, 1), ymd(2020, 12, 31)));
        g.out.facilities.push(f);
    }
    Ok(())
}

fn sunflower(g: &mut Gen<'_>) -> Result<(), SynthError> {
    for (i, sp) in towns_share(g, Concern::Sunflower, calib::SUNFLOWER_PARK_TOWN_SHARE)
        .into_iter()
        .enumerate()
    {
        let mut rng = stream(g.seed, Concern::Sunflower, i as u64);
        let town = g.town(sp);
        let mut f = g.at(
            &mut rng,
            "XP",
            FacilityKind::SunflowerPark,
            sp,
            format!("{}向日葵亲子乐园", town.name),
        );
        f.ownership = Some(Ownership::Public);
        g.public_body(&mut f, format!("{}社区卫生服务中心", town.name), sp.county)?;
        f.opening_date = Some(date_between(&mut rng, ymd(2021, 3, 1), ymd(2022, 12, 15)));
        // Three parks in five offer temporary or hourly care (临时托、计时托).
        f.temporary_care = i % 5 < 3;
        g.out.facilities.push(f);
    }
    let mut villages: Vec<Spot> = Vec::new();
    for sp in all_towns(g.world) {
        for v in 0..g.town(sp).villages.len() {
            villages.push(Spot {
                village: Some(v),
                ..sp
            });
        }
    }
    let k = (calib::SUNFLOWER_HUT_VILLAGE_SHARE * villages.len() as f64).round() as usize;
    let mut plan = stream(g.seed, Concern::Sunflower, 1_000_000);
    let mut ix: Vec<usize> = (0..villages.len()).collect();
    shuffle(&mut plan, &mut ix);
    let mut pick: Vec<usize> = ix.into_iter().take(k).collect();
    pick.sort();
    for (i, vi) in pick.into_iter().enumerate() {
        let sp = villages[vi];
        let mut rng = stream(g.seed, Concern::Sunflower, 10_000 + i as u64);
        let short = g.village(sp).map(|v| v.short.clone()).unwrap_or_default();
        let mut f = g.at(
            &mut rng,
            "XW",
            FacilityKind::SunflowerHut,
            sp,
            format!("{}{short}向日葵亲子小屋", g.town(sp).name),
        );
        f.ownership = Some(Ownership::Public);
        g.collective(&mut f, sp)?;
        f.opening_date = Some(date_between(&mut rng, ymd(2021, 6, 1), ymd(2022, 12, 15)));
        // One hut in four offers temporary or hourly care.
        f.temporary_care = i % 4 == 0;
        g.out.facilities.push(f);
    }
    Ok(())
}

/// Typical hours of a kind of place; the id picks among a few variants.
fn opening_hours(kind: FacilityKind, id: &str) -> &'static str {
    let v = id
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 3;
    match kind {
        FacilityKind::ElderlyInstitution | FacilityKind::WellnessAlliance => "24/7",
        FacilityKind::ChildcareInstitution => match v {
            0 => "Mo-Fr 07:30-17:30",
            1 => "Mo-Fr 07:30-18:00; Sa 08:00-12:00",
            _ => "Mo-Sa 07:00-18:30",
        },
        FacilityKind::KindergartenNurseryClass => "Mo-Fr 07:45-16:30",
        FacilityKind::SunflowerPark | FacilityKind::SunflowerHut => match v {
            0 => "Tu-Su 09:00-11:30,14:00-17:00",
            _ => "Mo-Su 09:00-17:00",
        },
        FacilityKind::ElderlyCanteen => "Mo-Su 10:30-13:00,16:30-18:30",
        FacilityKind::TownHomeCareCenter => match v {
            0 => "Mo-Su 08:00-17:00",
            _ => "Mo-Fr 08:00-17:30; Sa,Su 08:30-16:30",
        },
        _ => match v {
            0 => "Mo-Fr 08:30-11:30,13:30-17:00",
            _ => "Mo-Sa 08:00-16:30",
        },
    }
}
