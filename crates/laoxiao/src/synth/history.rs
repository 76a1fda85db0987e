//! History on the synthetic registers, for indicators of any year from 2020 to
//! the register date: people who died or moved out during those years (kept on
//! the register with their dates), the yearly child health checks (儿童健康检查)
//! and developmental screenings (发育筛查) of infants, and insurance enrolments
//! (参保登记). Every draw comes from its own streams, so the records the rest of
//! the generator writes are unchanged. `docs/synthetic-city.md` gives the rates
//! and the values generated.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use laoxiao_model::activity::{
    Enrolment, InsuranceEnrolment, InsuranceKind, ServiceKind, ServiceRecord,
};
use laoxiao_model::idcard;
use laoxiao_model::person::{LivingArrangement, PersonStatus, age_on};
use laoxiao_model::{Person, PersonRole};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::util::{Concern, add_years, date_between, shuffle, stream, ymd};

/// Infant mortality (婴儿死亡率, indicator 31: 2020 baseline 2‰, target
/// "5以下"): deaths under one per live birth, in every year. Deaths are dated
/// in the child's year of birth, so each year's deaths are its births'.
pub(crate) const INFANT_MORTALITY: f64 = 0.002;
/// Deaths per year among people aged 60+ (assumption: Jiaxing's crude death
/// rate is about 7‰, and most deaths are of people over 60).
pub(crate) const ELDERLY_DEATH_RATE: f64 = 0.025;
/// People aged 60+ who move out of the city per year (assumption).
pub(crate) const ELDERLY_MOVE_RATE: f64 = 0.004;
/// Children under three alive at the end of a year with a health check in the
/// year (indicator 43, 婴幼儿健康管理率: 98.78% in 2020, "95以上" in 2022).
pub(crate) const CHILD_HEALTH_CHECK: [(i32, f64); 3] =
    [(2020, 0.9878), (2021, 0.972), (2022, 0.96)];
/// The same with a developmental screening (indicator 45, 发育筛查率: 90.00%
/// in 2020, "85以上" in 2022).
pub(crate) const DEVELOPMENTAL_SCREENING: [(i32, f64); 3] =
    [(2020, 0.90), (2021, 0.89), (2022, 0.88)];

/// The first year of history: two years before the register date's.
pub(crate) fn first_year(as_of: NaiveDate) -> i32 {
    as_of.year() - 2
}

/// The rate of `year` in a table of the years `first_year ..= first_year + 2`.
fn rate(table: &[(i32, f64); 3], year: i32, as_of: NaiveDate) -> f64 {
    let k = (year - first_year(as_of)).clamp(0, 2) as usize;
    table[k].1
}

/// Allocates ID numbers that no one on the registers holds yet.
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    fn new(people: &[&Person]) -> Self {
        Ids {
            used: people
                .iter()
                .map(|p| p.id_number.get(..17).unwrap_or_default().to_string())
                .collect(),
        }
    }

    fn make(&mut self, rng: &mut ChaCha8Rng, addr6: &str, birth: NaiveDate, male: bool) -> String {
        let start: u16 = rng.random_range(0..500);
        for k in 0..500u16 {
            let seq = ((start + k) % 500) * 2 + u16::from(male);
            let id = idcard::make(addr6, birth, seq);
            if self
                .used
                .insert(id.get(..17).unwrap_or_default().to_string())
            {
                return id;
            }
        }
        // A full day (cannot happen at the scales allowed): the next day's.
        self.make(rng, addr6, birth + Days::new(1), male)
    }
}

/// The six-digit address code of an ID number from a hukou code.
fn six(hukou: Option<&str>) -> &str {
    hukou.and_then(|h| h.get(..6)).unwrap_or("330400")
}

/// A birth date giving exactly `age` whole years on `on`.
fn birth_for_age(rng: &mut ChaCha8Rng, age: i32, on: NaiveDate) -> NaiveDate {
    let latest = add_years(on, -age);
    let earliest = add_years(on, -(age + 1)) + Days::new(1);
    date_between(rng, earliest, latest)
}

/// The people who left the registers during the years of history: elderly
/// people who died or moved out, and infants who died before their first
/// birthday. Each is modelled on a person of the register (area, hukou, ability)
/// and gets a new id and ID number. Returned as (elderly, infants).
pub(crate) fn departed(
    elderly: &[Person],
    infants: &[Person],
    seed: u64,
    as_of: NaiveDate,
) -> (Vec<Person>, Vec<Person>) {
    let everyone: Vec<&Person> = elderly.iter().chain(infants).collect();
    let mut ids = Ids::new(&everyone);
    let mut rng = stream(seed, Concern::Departures, 0);
    let mut gone_elderly = Vec::new();
    if !elderly.is_empty() {
        for year in first_year(as_of)..=as_of.year() {
            let from = ymd(year, 1, 1);
            let to = ymd(year, 12, 31).min(as_of);
            let share = ((to - from).num_days() + 1) as f64 / 365.0;
            let n = elderly.len() as f64 * share;
            let deaths = (n * ELDERLY_DEATH_RATE).round() as usize;
            let moves = (n * ELDERLY_MOVE_RATE).round() as usize;
            for k in 0..deaths + moves {
                let died = k < deaths;
                // Deaths lean old: the oldest of three people drawn.
                let draws = if died { 3 } else { 1 };
                let t = (0..draws)
                    .map(|_| &elderly[rng.random_range(0..elderly.len())])
                    .min_by_key(|p| p.birth_date)
                    .unwrap_or(&elderly[0]);
                let day = date_between(&mut rng, from, to);
                // At least 61 on the day, so no leap-day move of the register
                // date can make the person younger than 60 then.
                let age = age_on(t.birth_date, as_of).max(61);
                let birth = birth_for_age(&mut rng, age, day);
                let male = t.sex == laoxiao_model::person::Sex::Male;
                let addr6 = six(t.hukou_area_code.as_deref());
                let mut p = t.clone();
                p.id = format!(
                    "{}9{:06}",
                    t.id.get(..7).unwrap_or("E"),
                    gone_elderly.len() + 1
                );
                p.id_number = ids.make(&mut rng, addr6, birth, male);
                p.birth_date = birth;
                if p.living_arrangement == Some(LivingArrangement::InInstitution) {
                    p.living_arrangement = Some(LivingArrangement::WithFamily);
                }
                if died {
                    p.status = PersonStatus::Deceased;
                    p.death_date = Some(day);
                } else {
                    p.status = PersonStatus::MovedOut;
                    p.moved_out_date = Some(day);
                }
                gone_elderly.push(p);
            }
        }
    }
    let mut gone_infants = Vec::new();
    if !infants.is_empty() {
        let window_start = add_years(as_of, -3) + Days::new(1);
        for year in window_start.year()..=as_of.year() {
            let born: Vec<&Person> = infants
                .iter()
                .filter(|p| p.birth_date.year() == year)
                .collect();
            if born.is_empty() {
                continue;
            }
            // deaths / (live + deaths) = the rate.
            let deaths =
                (born.len() as f64 * INFANT_MORTALITY / (1.0 - INFANT_MORTALITY)).round() as usize;
            let from = ymd(year, 1, 1).max(window_start);
            let to = ymd(year, 12, 31).min(as_of);
            for _ in 0..deaths {
                let t = born[rng.random_range(0..born.len())];
                let birth = date_between(&mut rng, from, to);
                // Most infant deaths are neonatal (the first 28 days).
                let days = if rng.random::<f64>() < 0.6 {
                    rng.random_range(0..28u64)
                } else {
                    rng.random_range(28..365u64)
                };
                let death = (birth + Days::new(days)).min(to);
                let male = rng.random::<f64>() < 0.53;
                let addr6 = six(t.hukou_area_code.as_deref());
                let mut p = t.clone();
                p.id = format!(
                    "{}9{:06}",
                    t.id.get(..7).unwrap_or("I"),
                    gone_infants.len() + 1
                );
                p.id_number = ids.make(&mut rng, addr6, birth, male);
                p.sex = if male {
                    laoxiao_model::person::Sex::Male
                } else {
                    laoxiao_model::person::Sex::Female
                };
                p.birth_date = birth;
                p.status = PersonStatus::Deceased;
                p.death_date = Some(death);
                gone_infants.push(p);
            }
        }
    }
    (gone_elderly, gone_infants)
}

/// True when `p` was born, alive and not moved out at the end of `d`.
fn alive_on(p: &Person, d: NaiveDate) -> bool {
    p.birth_date <= d
        && [p.death_date, p.moved_out_date]
            .into_iter()
            .flatten()
            .all(|x| x > d)
}

/// Children under three alive on `end`, in register order.
fn under_three_on(infants: &[Person], end: NaiveDate) -> Vec<&Person> {
    infants
        .iter()
        .filter(|p| {
            p.role == PersonRole::Infant && alive_on(p, end) && age_on(p.birth_date, end) < 3
        })
        .collect()
}

/// Each year's child health checks and developmental screenings: one of each
/// for exactly the calibrated share of the children under three alive at the
/// year's end (dated in the year, after birth).
pub(crate) fn child_health(infants: &[Person], seed: u64, as_of: NaiveDate) -> Vec<ServiceRecord> {
    let mut out = Vec::new();
    for year in first_year(as_of)..=as_of.year() {
        let from = ymd(year, 1, 1);
        let end = ymd(year, 12, 31).min(as_of);
        let kids = under_three_on(infants, end);
        for (kind, table, concern, prefix) in [
            (
                ServiceKind::ChildHealthCheck,
                &CHILD_HEALTH_CHECK,
                Concern::HealthChecks,
                "CH",
            ),
            (
                ServiceKind::DevelopmentalScreening,
                &DEVELOPMENTAL_SCREENING,
                Concern::Screenings,
                "DS",
            ),
        ] {
            let mut rng = stream(seed, concern, year as u64);
            let n = (kids.len() as f64 * rate(table, year, as_of)).round() as usize;
            let mut order: Vec<usize> = (0..kids.len()).collect();
            shuffle(&mut rng, &mut order);
            let mut chosen = order[..n.min(order.len())].to_vec();
            chosen.sort_unstable();
            for i in chosen {
                let p = kids[i];
                out.push(ServiceRecord {
                    id: format!("{prefix}{year}{}", p.id),
                    person_id: p.id.clone(),
                    kind,
                    date: date_between(&mut rng, from.max(p.birth_date), end),
                    facility_id: None,
                    ability_level: None,
                    note: None,
                });
            }
        }
    }
    out
}

/// Insurance enrolments (参保登记): policy accident insurance for the elderly
/// for everyone 60+ with a Jiaxing hukou, one enrolment from January 1 of the
/// first year (or the 60th birthday) until the day the person left, if they
/// did (indicator 24: 100%); long-term care insurance for those drawing its
/// benefits (`care_insurance`); childcare accident insurance for each
/// childcare enrolment, over its period.
pub(crate) fn insurance(
    elderly: &[Person],
    enrolments: &[Enrolment],
    seed: u64,
    as_of: NaiveDate,
) -> Vec<InsuranceEnrolment> {
    let mut rng = stream(seed, Concern::Insurance, 0);
    let mut out = Vec::new();
    let first = ymd(first_year(as_of), 1, 1);
    for p in elderly {
        let jiaxing = p
            .hukou_area_code
            .as_deref()
            .is_some_and(|h| h.starts_with("3304"));
        let left = [p.death_date, p.moved_out_date].into_iter().flatten().min();
        let sixty = add_years(p.birth_date, 60);
        if jiaxing {
            // One enrolment over the years (a yearly policy renewed each
            // January 1): from 2020-01-01 or the 60th birthday, until the day
            // the person left. One row per year would triple the register
            // (docs/synthetic-city.md, "History").
            let start = first.max(sixty);
            if start <= as_of && left.is_none_or(|l| l >= start) {
                out.push(InsuranceEnrolment {
                    id: format!("EA{}", p.id),
                    person_id: p.id.clone(),
                    kind: InsuranceKind::ElderlyAccident,
                    start_date: start,
                    end_date: left,
                    note: None,
                });
            }
        }
        if p.care_insurance {
            let start = date_between(&mut rng, first.max(sixty), as_of);
            if left.is_none_or(|l| l >= start) {
                out.push(InsuranceEnrolment {
                    id: format!("LT{}", p.id),
                    person_id: p.id.clone(),
                    kind: InsuranceKind::LongTermCare,
                    start_date: start,
                    end_date: left,
                    note: None,
                });
            }
        }
    }
    for e in enrolments {
        out.push(InsuranceEnrolment {
            id: format!("CA{}", e.id),
            person_id: e.infant_id.clone(),
            kind: InsuranceKind::ChildcareAccident,
            start_date: e.start_date,
            end_date: e.end_date,
            note: None,
        });
    }
    out
}
