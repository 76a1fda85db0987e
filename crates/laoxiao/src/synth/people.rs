//! The elderly (60+) and infant (under 3) registers of one county. Counts follow
//! the census and births (see `calib`); every person, name and ID number is synthetic.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use laoxiao_model::idcard;
use laoxiao_model::person::{
    AbilityLevel, LivingArrangement, PersonStatus, Sex, SpecialDifficulty,
};
use laoxiao_model::{Person, PersonRole};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::calib::{self, CountyTarget};
use super::facilities::HomeSlot;
use super::names::{Era, Names, mobile};
use super::util::{Concern, Cumulative, add_years, apportion, pick_weighted, shuffle, stream, ymd};
use super::world::{CountyGeo, VillageGeo, World};

/// Hukou outside Jiaxing: county codes of some common origins of Jiaxing's
/// migrants (Anhui, Henan, Jiangxi, Sichuan, Chongqing, southern Zhejiang).
const ORIGINS: &[&str] = &[
    "341221", "341222", "341226", "341623", "411525", "411526", "411627", "361128", "510921",
    "500233", "330326", "330327",
];

/// Who lives in which care home: (index in the county's elderly, facility id).
pub(crate) type Residents = Vec<(usize, String)>;

/// One county's people.
#[derive(Debug, Default)]
pub(crate) struct CountyPeople {
    pub elderly: Vec<Person>,
    pub infants: Vec<Person>,
    /// Who lives in which care home: (index in `elderly`, facility id).
    pub residents: Residents,
}

/// Allocates ID sequence numbers so that no two people share an ID number.
/// Numbers with the county's own address code use sequences 000–649; numbers
/// with any other code (another county's, or outside Jiaxing) use the 50
/// sequences 650 + 50 × county index …, so counties generated on different
/// threads can never collide.
struct IdMaker {
    own: String,
    county_idx: usize,
    used: HashSet<u64>,
}

impl IdMaker {
    fn make(&mut self, rng: &mut ChaCha8Rng, addr6: &str, birth: NaiveDate, male: bool) -> String {
        let (lo, span) = if addr6 == self.own {
            (0u16, 650u16)
        } else {
            (650 + 50 * self.county_idx as u16, 50u16)
        };
        let addr: u64 = addr6.parse().unwrap_or(0);
        let day = (birth - ymd(1880, 1, 1)).num_days().max(0) as u64;
        let parity = u16::from(male);
        let pick = |k: u16| lo + (k % (span / 2)) * 2 + parity;
        let start = rng.random_range(0..span / 2);
        for step in 0..span / 2 {
            let seq = pick(start + step);
            let key = (addr << 36) | (day << 10) | u64::from(seq);
            if self.used.insert(key) {
                return idcard::make(addr6, birth, seq);
            }
        }
        // All sequences of that day taken (cannot happen at the scales allowed):
        // fall back to the next day's.
        self.make(rng, addr6, birth + Days::new(1), male)
    }
}

struct Ctx<'a> {
    world: &'a World,
    county: &'a CountyGeo,
    c: usize,
    names: Names,
    ids: IdMaker,
    as_of: NaiveDate,
}

impl<'a> Ctx<'a> {
    fn villages(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for (t, town) in self.county.towns.iter().enumerate() {
            for k in 0..town.villages.len() {
                v.push((t, k));
            }
        }
        v
    }

    fn village(&self, tv: (usize, usize)) -> &'a VillageGeo {
        &self.county.towns[tv.0].villages[tv.1]
    }

    fn address(&self, rng: &mut ChaCha8Rng, tv: (usize, usize)) -> String {
        let town = &self.county.towns[tv.0];
        let v = &town.villages[tv.1];
        if v.community {
            let floors = if v.urban_rural == Some(111) { 18 } else { 6 };
            format!(
                "{}{}{}{}幢{}单元{}{:02}室",
                self.county.name,
                town.name,
                v.short,
                rng.random_range(1..=40),
                rng.random_range(1..=4),
                rng.random_range(1..=floors),
                rng.random_range(1..=4)
            )
        } else {
            format!(
                "{}{}{}{}组{}号",
                self.county.name,
                town.name,
                v.short,
                rng.random_range(1..=15),
                rng.random_range(1..=120)
            )
        }
    }

    /// 户籍 code: a town of this county (usually the residence town), a town of
    /// another Jiaxing county, or a county outside Jiaxing.
    fn hukou(&self, rng: &mut ChaCha8Rng, town: usize, same: f64, jiaxing: f64) -> String {
        let r = rng.random::<f64>();
        if r < same {
            let t = if rng.random::<f64>() < 0.85 {
                town
            } else {
                rng.random_range(0..self.county.towns.len())
            };
            self.county.towns[t].code.clone()
        } else if r < same + jiaxing {
            let others: Vec<usize> = (0..self.world.counties.len())
                .filter(|&i| i != self.c)
                .collect();
            let oc = &self.world.counties[others[rng.random_range(0..others.len())]];
            oc.towns[rng.random_range(0..oc.towns.len())].code.clone()
        } else {
            ORIGINS[rng.random_range(0..ORIGINS.len())].to_string()
        }
    }

    /// A birth date giving exactly `age` whole years on the register date.
    fn birth_for_age(&self, rng: &mut ChaCha8Rng, age: i32) -> NaiveDate {
        let latest = add_years(self.as_of, -age);
        let earliest = add_years(self.as_of, -(age + 1)) + Days::new(1);
        let span = (latest - earliest).num_days().max(0) as u64;
        earliest + Days::new(rng.random_range(0..=span))
    }
}

/// Ages for a county's 60+ with exact counts of 60–64, 65–79 (three bands),
/// 80+ (five bands, the last 100–105), shuffled.
fn ages(rng: &mut ChaCha8Rng, t: &CountyTarget) -> Vec<u8> {
    let n60 = (t.aged_60 - t.aged_65).max(0);
    let n65 = (t.aged_65 - t.aged_80).max(0);
    let b65 = apportion(n65, &calib::BANDS_65_79);
    let b80 = apportion(t.aged_80, &calib::BANDS_80_PLUS);
    let mut out: Vec<u8> = Vec::with_capacity(t.aged_60.max(0) as usize);
    let mut band = |first: u8, n: i64, w: &[f64], out: &mut Vec<u8>| {
        let cum = Cumulative::new(w);
        for _ in 0..n {
            out.push(first + cum.draw(rng) as u8);
        }
    };
    band(60, n60, &[1.0; 5], &mut out);
    let decline = |f: f64, n: usize| -> Vec<f64> { (0..n).map(|k| f.powi(k as i32)).collect() };
    for (k, n) in b65.iter().enumerate() {
        band(65 + 5 * k as u8, *n, &decline(0.93, 5), &mut out);
    }
    for (k, n) in b80.iter().enumerate() {
        if k < 4 {
            band(80 + 5 * k as u8, *n, &decline(0.85, 5), &mut out);
        } else {
            band(100, *n, &[0.45, 0.25, 0.15, 0.08, 0.05, 0.02], &mut out);
        }
    }
    shuffle(rng, &mut out);
    out
}

#[derive(Debug, Clone)]
struct Draft {
    tv: (usize, usize),
    age: u8,
    male: bool,
    ability: AbilityLevel,
    dementia: bool,
    sd: Vec<SpecialDifficulty>,
    home: Option<usize>,
}

fn p_female(age: u8) -> f64 {
    match age {
        0..=69 => 0.50,
        70..=79 => 0.52,
        80..=89 => 0.58,
        90..=99 => 0.68,
        _ => 0.80,
    }
}

fn p_dementia(age: u8) -> f64 {
    match age {
        0..=64 => 0.005,
        65..=69 => 0.012,
        70..=74 => 0.025,
        75..=79 => 0.05,
        80..=84 => 0.08,
        85..=89 => 0.14,
        90..=94 => 0.24,
        _ => 0.33,
    }
}

/// (P(level ≥ 2), P(level 1)) by age.
fn p_ability(age: u8) -> (f64, f64) {
    match age {
        0..=69 => (0.010, 0.06),
        70..=79 => (0.025, 0.12),
        80..=89 => (0.10, 0.25),
        _ => (0.25, 0.35),
    }
}

fn draft(rng: &mut ChaCha8Rng, tv: (usize, usize), age: u8) -> Draft {
    let male = rng.random::<f64>() >= p_female(age);
    let dementia = rng.random::<f64>() < p_dementia(age);
    let (mut p2, mut p1) = p_ability(age);
    if dementia {
        p2 = p2.max(0.35);
        p1 = 0.40;
    }
    let r = rng.random::<f64>();
    let ability = if r < p2 {
        [
            AbilityLevel::Moderate,
            AbilityLevel::Severe,
            AbilityLevel::Complete,
        ][pick_weighted(rng, &[0.5, 0.3, 0.2])]
    } else if r < p2 + p1 {
        AbilityLevel::Mild
    } else {
        AbilityLevel::Intact
    };
    let mut sd = Vec::new();
    let r = rng.random::<f64>();
    if r < 0.004 {
        sd.push(SpecialDifficulty::ExtremePoverty);
    } else if r < 0.022 {
        sd.push(SpecialDifficulty::MinimumLivingAllowance);
    } else if r < 0.030 {
        sd.push(SpecialDifficulty::LowIncomeMargin);
    }
    if rng.random::<f64>() < 0.004 {
        sd.push(SpecialDifficulty::FamilyPlanningSpecialFamily);
    }
    let p_disabled = 0.008 + if ability.is_disabled() { 0.15 } else { 0.0 };
    if rng.random::<f64>() < p_disabled {
        sd.push(SpecialDifficulty::SevereDisability);
    }
    Draft {
        tv,
        age,
        male,
        ability,
        dementia,
        sd,
        home: None,
    }
}

/// Who lives in the county's care homes: 90% of the 特困 who cannot look after
/// themselves (indicator 6's 2022 target), then others drawn with weights that
/// favour disability, dementia and age, until the occupied beds are filled.
fn place_in_homes(rng: &mut ChaCha8Rng, drafts: &mut [Draft], homes: &[&HomeSlot]) {
    let capacity: i64 = homes.iter().map(|h| h.occupied).sum();
    let mut chosen: Vec<usize> = Vec::new();
    // Decided apart: the 特困 who cannot look after themselves (in or out).
    let mut decided = vec![false; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        if d.ability.is_disabled() && d.sd.contains(&SpecialDifficulty::ExtremePoverty) {
            decided[i] = true;
            if rng.random::<f64>() < 0.9 {
                chosen.push(i);
            }
        }
    }
    chosen.truncate(capacity.max(0) as usize);
    let rest = (capacity as usize).saturating_sub(chosen.len());
    if rest > 0 {
        let mut keys: Vec<(f64, usize)> = drafts
            .iter()
            .enumerate()
            .filter(|(i, _)| !decided[*i])
            .map(|(i, d)| {
                let mut w = match d.ability.number() {
                    0 => 1.0,
                    1 => 2.0,
                    2 => 10.0,
                    _ => 20.0,
                };
                if d.dementia {
                    w *= 4.0;
                }
                w *= match d.age {
                    90.. => 4.0,
                    80..=89 => 2.5,
                    _ => 1.0,
                };
                if d.sd.contains(&SpecialDifficulty::ExtremePoverty) {
                    w *= 5.0;
                }
                let u: f64 = rng.random::<f64>().max(1e-300);
                (u.ln() / w, i)
            })
            .collect();
        let k = rest.min(keys.len());
        if k > 0 && k < keys.len() {
            keys.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        chosen.extend(keys.into_iter().take(k).map(|(_, i)| i));
    }
    chosen.sort_unstable();
    shuffle(rng, &mut chosen);
    let mut it = chosen.into_iter();
    for (h, home) in homes.iter().enumerate() {
        for _ in 0..home.occupied {
            match it.next() {
                Some(i) => drafts[i].home = Some(h),
                None => return,
            }
        }
    }
}

/// Generates one county's elderly and infants.
pub(crate) fn county(
    world: &World,
    c: usize,
    target: &CountyTarget,
    homes: &[HomeSlot],
    seed: u64,
    as_of: NaiveDate,
) -> Result<CountyPeople, SynthError> {
    let county = &world.counties[c];
    let mut ctx = Ctx {
        world,
        county,
        c,
        names: Names::new(),
        ids: IdMaker {
            own: county.code.clone(),
            county_idx: c,
            used: HashSet::with_capacity((target.aged_60 + 3 * target.births[0]).max(0) as usize),
        },
        as_of,
    };
    let (elderly, residents) = elderly(&mut ctx, target, homes, seed)?;
    let infants = infants(&mut ctx, target, seed)?;
    Ok(CountyPeople {
        elderly,
        infants,
        residents,
    })
}

fn elderly(
    ctx: &mut Ctx<'_>,
    target: &CountyTarget,
    homes: &[HomeSlot],
    seed: u64,
) -> Result<(Vec<Person>, Residents), SynthError> {
    let mut rng = stream(seed, Concern::Elderly, ctx.c as u64);
    let vs = ctx.villages();
    let w: Vec<f64> = vs
        .iter()
        .map(|tv| {
            let v = ctx.village(*tv);
            v.pop_weight * if v.urban { 1.0 } else { 1.35 }
        })
        .collect();
    let counts = apportion(target.aged_60, &w);
    let ages = ages(&mut rng, target);
    let mut drafts = Vec::with_capacity(ages.len());
    let mut k = 0;
    for (tv, n) in vs.iter().zip(&counts) {
        for _ in 0..*n {
            drafts.push(draft(&mut rng, *tv, ages[k]));
            k += 1;
        }
    }
    let my_homes: Vec<&HomeSlot> = homes.iter().filter(|h| h.county == ctx.c).collect();
    place_in_homes(&mut rng, &mut drafts, &my_homes);

    let mut out = Vec::with_capacity(drafts.len());
    let mut residents = Vec::new();
    for (i, d) in drafts.into_iter().enumerate() {
        let v = ctx.village(d.tv);
        let (residence, point, address) = match d.home {
            Some(h) => {
                let home = my_homes[h];
                residents.push((i, home.facility_id.clone()));
                let p = ctx.world.jitter(&mut rng, ctx.c, home.point, 15.0);
                (home.area_code.clone(), p, home.address.clone())
            }
            None => {
                let p = ctx.world.jitter(&mut rng, ctx.c, v.anchor, v.sigma_m);
                (v.code.clone(), p, ctx.address(&mut rng, d.tv))
            }
        };
        let living = if d.home.is_some() {
            LivingArrangement::InInstitution
        } else {
            let old = d.age >= 80;
            let r = rng.random::<f64>();
            let left = if v.urban { 0.01 } else { 0.08 };
            let alone = if old { 0.17 } else { 0.10 };
            let nest = if old { 0.30 } else { 0.40 };
            if r < left {
                LivingArrangement::LeftBehind
            } else if r < left + alone {
                LivingArrangement::LivingAlone
            } else if r < left + alone + nest {
                LivingArrangement::EmptyNest
            } else {
                LivingArrangement::WithFamily
            }
        };
        let town = match d.home {
            Some(_) => ctx
                .county
                .towns
                .iter()
                .position(|t| residence.starts_with(&t.code))
                .unwrap_or(d.tv.0),
            None => d.tv.0,
        };
        let hukou = ctx.hukou(&mut rng, town, 0.90, 0.03);
        let birth = ctx.birth_for_age(&mut rng, i32::from(d.age));
        let id_number = ctx.ids.make(&mut rng, &hukou[..6], birth, d.male);
        let (name, _) = ctx.names.full(&mut rng, Era::Elderly, d.male);
        out.push(Person {
            id: format!("E{}{:07}", ctx.county.code, i + 1),
            role: PersonRole::Elderly,
            id_number,
            name,
            sex: if d.male { Sex::Male } else { Sex::Female },
            birth_date: birth,
            hukou_area_code: Some(hukou),
            residence_area_code: residence,
            address: Some(address),
            lng: Some(p6(point.0)),
            lat: Some(p6(point.1)),
            living_arrangement: Some(living),
            special_difficulty: d.sd,
            ability_level: Some(d.ability),
            dementia: d.dementia,
            status: PersonStatus::Active,
            // Fields the generator does not model (the infants' ones,
            // death dates, fields added later) keep their defaults.
            ..Person::default()
        });
    }
    Ok((out, residents))
}

fn p6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn infants(ctx: &mut Ctx<'_>, target: &CountyTarget, seed: u64) -> Result<Vec<Person>, SynthError> {
    let mut rng = stream(seed, Concern::Infants, ctx.c as u64);
    let vs = ctx.villages();
    let w: Vec<f64> = vs
        .iter()
        .map(|tv| {
            let v = ctx.village(*tv);
            v.pop_weight * if v.urban { 1.1 } else { 0.85 }
        })
        .collect();
    let total: i64 = target.births.iter().sum();
    let counts = apportion(total, &w);
    // Birth years, exact per year, shuffled over the villages.
    let mut years: Vec<u8> = Vec::with_capacity(total.max(0) as usize);
    for (k, n) in target.births.iter().enumerate() {
        years.extend(std::iter::repeat_n(k as u8, (*n).max(0) as usize));
    }
    shuffle(&mut rng, &mut years);
    let window_start = add_years(ctx.as_of, -3) + Days::new(1);
    let p_male = calib::SEX_RATIO_AT_BIRTH / (1.0 + calib::SEX_RATIO_AT_BIRTH);
    let mut out = Vec::with_capacity(years.len());
    let mut k = 0;
    for (tv, n) in vs.iter().zip(&counts) {
        let v = ctx.village(*tv);
        for _ in 0..*n {
            let yi = years[k] as usize;
            k += 1;
            let y = calib::BIRTHS[yi].0;
            let from = ymd(y, 1, 1).max(window_start);
            let to = ymd(y, 12, 31).min(ctx.as_of);
            let span = (to - from).num_days().max(0) as u64;
            let birth = from + Days::new(rng.random_range(0..=span));
            let male = rng.random::<f64>() < p_male;
            let order = match pick_weighted(&mut rng, &calib::BIRTH_ORDER[yi]) {
                0 => 1,
                1 => 2,
                _ => [3, 4, 5][pick_weighted(&mut rng, &[0.85, 0.12, 0.03])],
            };
            let family = ctx.names.surname(&mut rng);
            let mut name = String::from(family);
            name.push_str(&ctx.names.given(&mut rng, Era::Child, male));
            let guardian = if rng.random::<f64>() < 0.7 {
                format!("{family}{}", ctx.names.given(&mut rng, Era::Parent, true))
            } else {
                let (n, _) = ctx.names.full(&mut rng, Era::Parent, false);
                n
            };
            let point = ctx.world.jitter(&mut rng, ctx.c, v.anchor, v.sigma_m);
            let address = ctx.address(&mut rng, *tv);
            let hukou = ctx.hukou(&mut rng, tv.0, 0.68, 0.04);
            let id_number = ctx.ids.make(&mut rng, &hukou[..6], birth, male);
            debug_assert!(birth.year() >= y);
            out.push(Person {
                id: format!("I{}{:07}", ctx.county.code, out.len() + 1),
                role: PersonRole::Infant,
                id_number,
                name,
                sex: if male { Sex::Male } else { Sex::Female },
                birth_date: birth,
                hukou_area_code: Some(hukou),
                residence_area_code: v.code.clone(),
                address: Some(address),
                lng: Some(p6(point.0)),
                lat: Some(p6(point.1)),
                birth_order: Some(order),
                guardian_name: Some(guardian),
                guardian_phone: Some(mobile(&mut rng)),
                status: PersonStatus::Active,
                ..Person::default()
            });
        }
    }
    Ok(out)
}
