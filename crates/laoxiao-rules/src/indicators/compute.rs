//! Evaluates computed definitions over [`Facts`] for every area of the tree
//! and one period: each side is one pass over its register, counting each
//! record at its own area; counts are then added up the tree, so a county's
//! count is the sum of its towns' and villages'. Sides that count the same
//! thing (the elderly on a day, say) are counted once per run.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::{AreaLevel, AreaTree};
use serde::{Deserialize, Serialize};

use super::facts::{self, FacilityFact, Facts, NONE, PersonFact, age, day};
use super::parse::{CmpOp, Cond, Field, Relation};
use super::{CityValue, Definition, Method, Side, Source};
use crate::error::RulesError;

/// Whether a definition has values by year or also by month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Year,
    Month,
}

/// A year, or a month of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Period {
    pub year: i32,
    pub month: Option<u32>,
}

/// The first year the platform computes: the plan's baseline year.
pub const FIRST_YEAR: i32 = 2020;
/// The last year it accepts (bounds the input; the plan runs to 2025).
pub const LAST_YEAR: i32 = 2035;

impl Period {
    /// Parses `2022` or `2022-06`, for the years 2020–2035.
    pub fn parse(s: &str) -> Result<Period, RulesError> {
        let bad = || RulesError::Period {
            raw: s.chars().take(20).collect(),
        };
        let s = s.trim();
        let (y, m) = match s.split_once('-') {
            Some((y, m)) => (y, Some(m)),
            None => (s, None),
        };
        let year: i32 = y.parse().map_err(|_| bad())?;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) || y.len() != 4 {
            return Err(bad());
        }
        let month = match m {
            Some(m) => {
                let m: u32 = m.parse().map_err(|_| bad())?;
                if !(1..=12).contains(&m) {
                    return Err(bad());
                }
                Some(m)
            }
            None => None,
        };
        Ok(Period { year, month })
    }

    pub fn kind(self) -> PeriodKind {
        if self.month.is_some() {
            PeriodKind::Month
        } else {
            PeriodKind::Year
        }
    }

    /// The period's first day.
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), 1).unwrap_or_default()
    }

    /// The period's last day.
    pub fn end(self) -> NaiveDate {
        match self.month {
            Some(m) => month_end(self.year, m),
            None => NaiveDate::from_ymd_opt(self.year, 12, 31).unwrap_or_default(),
        }
    }

    /// The months of the period.
    pub fn months(self) -> Vec<u32> {
        match self.month {
            Some(m) => vec![m],
            None => (1..=12).collect(),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.month {
            Some(m) => write!(f, "{}-{m:02}", self.year),
            None => write!(f, "{}", self.year),
        }
    }
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or_default()
}

/// One month's counts behind a monthly average.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthValue {
    pub month: u32,
    pub numerator: i64,
    pub denominator: i64,
    /// numerator ÷ denominator × factor; `None` when nobody was to be counted.
    pub rate: Option<f64>,
}

/// One indicator's value for one area and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Computed {
    pub indicator: u32,
    pub area_code: String,
    /// The numerator's count (or sum); for a monthly average, the months' sum.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// The value in the indicator's unit, unrounded; `None`: no data (no
    /// denominator to divide by, or nothing reported).
    pub value: Option<f64>,
    /// The months behind a monthly average.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<MonthValue>,
}

/// The window a side is counted in: records on `day`, events from `from` to `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Window {
    from: i32,
    day: i32,
    year: i32,
}

/// A month and its numerator's and denominator's counts per area.
type MonthCounts = (u32, Vec<Option<i64>>, Vec<Option<i64>>);

/// The tree's shape, by position.
struct Shape {
    parents: Vec<Option<usize>>,
    levels: Vec<AreaLevel>,
    community: Vec<bool>,
}

/// An urban community (社区 / 居委会) rather than a village: read from the
/// area's name, the only place the division list says it.
pub fn is_community(name: &str) -> bool {
    name.contains("社区") || name.contains("居委会") || name.contains("居民委员会")
}

impl Shape {
    fn of(tree: &AreaTree) -> Shape {
        let pos: HashMap<&str, usize> = tree
            .all()
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.as_str(), i))
            .collect();
        Shape {
            parents: tree
                .all()
                .iter()
                .map(|a| a.parent_code.as_deref().and_then(|p| pos.get(p).copied()))
                .collect(),
            levels: tree.all().iter().map(|a| a.level).collect(),
            community: tree
                .all()
                .iter()
                .map(|a| a.level == AreaLevel::Village && is_community(&a.name))
                .collect(),
        }
    }

    /// Adds every area's own count into its ancestors'. The tree lists
    /// parents before children, so one backward sweep suffices.
    fn roll_up(&self, counts: &mut [i64]) {
        for i in (0..counts.len()).rev() {
            if let Some(p) = self.parents[i]
                && p < i
            {
                counts[p] = counts[p].saturating_add(counts[i]);
            }
        }
    }
}

fn cmp(v: i32, op: CmpOp, n: i32) -> bool {
    match op {
        CmpOp::Ge => v >= n,
        CmpOp::Le => v <= n,
        CmpOp::Gt => v > n,
        CmpOp::Lt => v < n,
    }
}

fn within(code: u64, len: u8, prefix: &str, n: u64) -> bool {
    let plen = prefix.len() as u32;
    let len = u32::from(len);
    if len < plen || len == 0 {
        return false;
    }
    10u64.checked_pow(len - plen).is_some_and(|p| code / p == n)
}

fn live(from: i32, until: i32, d: i32) -> bool {
    from <= d && (until == NONE || until > d)
}

fn person_ok(c: &Cond, p: &PersonFact, i: usize, f: &Facts, w: Window) -> bool {
    match c {
        Cond::Cmp(Field::AbilityLevel, op, n) => {
            p.ability >= 0 && cmp(i32::from(p.ability), *op, *n)
        }
        Cond::Cmp(Field::AgeAtDeath, op, n) => {
            p.death != NONE && cmp(age(p.birth, p.death), *op, *n)
        }
        Cond::Flag(Field::Dementia) => p.dementia,
        Cond::Flag(Field::CareInsurance) => p.care_insurance,
        Cond::Has(Field::SpecialDifficulty, None) => p.difficulty != 0,
        Cond::Has(Field::SpecialDifficulty, Some(b)) => p.difficulty & (1u8 << (b & 7)) != 0,
        Cond::In(Field::LivingArrangement, v, neg) => {
            (p.living >= 0 && v.contains(&(p.living as u8))) != *neg
        }
        Cond::Within(Field::HukouAreaCode, s, n) => within(p.hukou, p.hukou_len, s, *n),
        Cond::Related(Relation::Residence) => f
            .residences_of(i)
            .iter()
            .any(|r| live(r.from, r.until, w.day)),
        Cond::Related(Relation::Service(kinds)) => f
            .services_of(i)
            .iter()
            .any(|s| s.from >= w.from && s.from <= w.day && kinds.contains(&s.kind)),
        Cond::Related(Relation::Insurance(kinds)) => f
            .insurance_of(i)
            .iter()
            .any(|e| live(e.from, e.until, w.day) && kinds.contains(&e.kind)),
        Cond::Not(c) => !person_ok(c, p, i, f, w),
        Cond::Or(v) => v.iter().any(|c| person_ok(c, p, i, f, w)),
        // Parsing only lets a source's own fields through.
        _ => false,
    }
}

fn facility_ok(c: &Cond, x: &FacilityFact, w: Window) -> bool {
    let is = |v: &Vec<u8>, neg: bool, val: i16| (val >= 0 && v.contains(&(val as u8))) != neg;
    match c {
        Cond::In(Field::Kind, v, neg) => is(v, *neg, i16::from(x.kind)),
        Cond::In(Field::Level, v, neg) => is(v, *neg, i16::from(x.level)),
        Cond::In(Field::Rating, v, neg) => is(v, *neg, i16::from(x.rating)),
        Cond::In(Field::FilingStatus, v, neg) => is(v, *neg, i16::from(x.filing_status)),
        Cond::Flag(Field::RatingValid) => {
            x.rating >= 0
                && (x.rating_from == NONE || x.rating_from <= w.day)
                && (x.rating_until == NONE || x.rating_until >= w.day)
        }
        Cond::Flag(Field::Smart) => x.smart,
        Cond::Flag(Field::Demonstration) => x.demonstration,
        Cond::Flag(Field::Inclusive) => x.inclusive,
        Cond::Flag(Field::Filed) => {
            usize::from(x.filing_status) == FILED
                && (x.filing_date == NONE || x.filing_date <= w.day)
        }
        Cond::Not(c) => !facility_ok(c, x, w),
        Cond::Or(v) => v.iter().any(|c| facility_ok(c, x, w)),
        _ => false,
    }
}

/// Position of 已备案 in `FilingStatus::VALUES`.
const FILED: usize = 3;

fn staff_ok(c: &Cond, s: &facts::StaffFact) -> bool {
    let is = |v: &Vec<u8>, neg: bool, val: u8| v.contains(&val) != neg;
    match c {
        Cond::In(Field::Role, v, neg) => is(v, *neg, s.role),
        Cond::In(Field::SkillGrade, v, neg) => is(v, *neg, s.grade),
        Cond::Flag(Field::Certified) => s.certified,
        Cond::Not(c) => !staff_ok(c, s),
        Cond::Or(v) => v.iter().any(|c| staff_ok(c, s)),
        _ => false,
    }
}

/// Which areas (by position) hold an operating facility of these kinds on
/// the day, themselves or below.
fn with_facility(kinds: &[u8], f: &Facts, shape: &Shape, d: i32) -> Vec<bool> {
    let mut has = vec![false; shape.parents.len()];
    for x in &f.facilities {
        if kinds.contains(&x.kind) && x.operating(d) {
            let mut at = Some(x.area as usize);
            while let Some(i) = at {
                if i >= has.len() || has[i] {
                    break;
                }
                has[i] = true;
                at = shape.parents[i];
            }
        }
    }
    has
}

fn area_ok(c: &Cond, i: usize, covered: &HashMap<Vec<u8>, Vec<bool>>) -> bool {
    match c {
        Cond::Related(Relation::Facility(k)) => covered.get(k).is_some_and(|v| v[i]),
        Cond::Not(c) => !area_ok(c, i, covered),
        Cond::Or(v) => v.iter().any(|c| area_ok(c, i, covered)),
        _ => false,
    }
}

fn facility_kinds(c: &Cond, out: &mut Vec<Vec<u8>>) {
    match c {
        Cond::Related(Relation::Facility(k)) => out.push(k.clone()),
        Cond::Not(c) => facility_kinds(c, out),
        Cond::Or(v) => v.iter().for_each(|c| facility_kinds(c, out)),
        _ => {}
    }
}

/// Students a year counts: those enrolled in the cohorts admitted in the
/// year and the two before it, and the graduates of the cohort admitted
/// three years before (three-year programmes; 含毕业).
pub fn students_counted(cohorts: &[facts::CohortFact], year: i32) -> i64 {
    cohorts
        .iter()
        .map(|c| {
            if (year - 2..=year).contains(&c.intake_year) {
                c.enrolled
            } else if c.intake_year == year - 3 {
                c.graduated
            } else {
                0
            }
        })
        .fold(0i64, i64::saturating_add)
}

/// The same day `years` years before `d` (28 February for 29 February), as
/// days: a person is `years` old on `d` exactly when born on or before it.
fn years_before(d: i32, years: i32) -> i32 {
    let Some(t) = NaiveDate::from_num_days_from_ce_opt(d) else {
        return NONE;
    };
    NaiveDate::from_ymd_opt(t.year() - years, t.month(), t.day())
        .or_else(|| NaiveDate::from_ymd_opt(t.year() - years, t.month(), 28))
        .map_or(NONE, day)
}

/// Whether a person counts for a people source on the window's day.
fn person_counted(source: Source, p: &PersonFact, w: Window, cuts: (i32, i32)) -> bool {
    match source {
        // Aged 60 on D: born on or before D − 60 years (no date arithmetic
        // per person: one cut per window).
        Source::Elderly => !p.infant && p.birth <= cuts.0 && p.present(w.day),
        Source::Infants => p.infant && p.birth > cuts.1 && p.present(w.day),
        Source::Births => p.infant && p.birth >= w.from && p.birth <= w.day,
        _ => {
            p.infant
                && p.death != NONE
                && p.death >= w.from
                && p.death <= w.day
                && age(p.birth, p.death) < 1
        }
    }
}

/// Counts one side for every area (rolled up), or `None` per area where the
/// side has no figure there (residents below county level).
fn count(side: &Side, f: &Facts, shape: &Shape, w: Window) -> Vec<Option<i64>> {
    let n = shape.parents.len();
    let mut acc = vec![0i64; n];
    let all = |p: &PersonFact, i: usize| side.conditions.iter().all(|c| person_ok(c, p, i, f, w));
    let cuts = (years_before(w.day, 60), years_before(w.day, 3));
    match side.count {
        Source::Elderly | Source::Infants | Source::Births | Source::InfantDeaths => {
            for (i, p) in f.people.iter().enumerate() {
                let counted = person_counted(side.count, p, w, cuts);
                if counted
                    && all(p, i)
                    && let Some(a) = acc.get_mut(p.area as usize)
                {
                    *a += 1;
                }
            }
        }
        Source::Facilities => {
            for x in &f.facilities {
                if x.operating(w.day) && side.conditions.iter().all(|c| facility_ok(c, x, w)) {
                    let v = match side.sum.as_deref() {
                        Some("beds") => x.beds,
                        Some("nursing_beds") => x.nursing_beds,
                        Some("dementia_beds") => x.dementia_beds,
                        Some("approved_slots") => x.approved_slots,
                        _ => 1,
                    };
                    if let Some(a) = acc.get_mut(x.area as usize) {
                        *a = a.saturating_add(v);
                    }
                }
            }
        }
        Source::Staff => {
            for s in &f.staff {
                if s.employed(w.day) && side.conditions.iter().all(|c| staff_ok(c, s)) {
                    let area = f.facilities[s.facility as usize].area as usize;
                    if let Some(a) = acc.get_mut(area) {
                        *a += 1;
                    }
                }
            }
        }
        Source::Students => {
            // City-wide records: counted at the root only.
            let mut out = vec![None; n];
            if let Some(root) = shape.parents.iter().position(Option::is_none) {
                out[root] = Some(students_counted(&f.cohorts, w.year));
            }
            return out;
        }
        Source::Towns | Source::Communities => {
            let mut kinds = Vec::new();
            side.conditions
                .iter()
                .for_each(|c| facility_kinds(c, &mut kinds));
            let covered: HashMap<Vec<u8>, Vec<bool>> = kinds
                .into_iter()
                .map(|k| {
                    let v = with_facility(&k, f, shape, w.day);
                    (k, v)
                })
                .collect();
            for (i, a) in acc.iter_mut().enumerate() {
                let unit = match side.count {
                    Source::Towns => shape.levels[i] == AreaLevel::Town,
                    _ => shape.community[i],
                };
                if unit && side.conditions.iter().all(|c| area_ok(c, i, &covered)) {
                    *a = 1;
                }
            }
        }
        Source::Residents => return residents(f, shape, w.year),
    }
    shape.roll_up(&mut acc);
    acc.into_iter().map(Some).collect()
}

/// Residents per area: the area's latest figure of the year or before (the
/// earliest if all are later), else the sum of its children's when every
/// child has one.
fn residents(f: &Facts, shape: &Shape, year: i32) -> Vec<Option<i64>> {
    let n = shape.parents.len();
    let mut best: Vec<Option<(i32, i64)>> = vec![None; n];
    for r in &f.residents {
        let Some(slot) = best.get_mut(r.area as usize) else {
            continue;
        };
        // The latest figure up to the year; failing that, the earliest.
        let better = match *slot {
            None => true,
            Some((y, _)) if r.year <= year => y > year || r.year > y,
            Some((y, _)) => y > year && r.year < y,
        };
        if better {
            *slot = Some((r.year, r.residents));
        }
    }
    let mut out: Vec<Option<i64>> = best.iter().map(|b| b.map(|(_, v)| v)).collect();
    // Children first: fill an area without a figure from complete children.
    let mut sums: Vec<(i64, usize, usize)> = vec![(0, 0, 0); n]; // (sum, with, children)
    for i in (0..n).rev() {
        if out[i].is_none() && sums[i].2 > 0 && sums[i].1 == sums[i].2 {
            out[i] = Some(sums[i].0);
        }
        if let Some(p) = shape.parents[i] {
            sums[p].2 += 1;
            if let Some(v) = out[i] {
                sums[p].0 = sums[p].0.saturating_add(v);
                sums[p].1 += 1;
            }
        }
    }
    out
}

fn ratio(num: Option<i64>, den: Option<i64>, with_den: bool, factor: f64) -> Option<f64> {
    match (num, den, with_den) {
        (Some(n), _, false) => Some(n as f64 * factor),
        (Some(n), Some(d), true) if d > 0 => Some(n as f64 / d as f64 * factor),
        _ => None,
    }
}

/// Computes `defs` (the computed ones; reported ones are skipped) for every
/// area of `tree` where their levels allow, for `period` as it stands on
/// `as_of` (the period's end, or an earlier day if the period is not over).
pub fn compute(
    defs: &[&Definition],
    facts: &Facts,
    tree: &AreaTree,
    period: Period,
    as_of: NaiveDate,
) -> Vec<Computed> {
    let shape = Shape::of(tree);
    let end = period.end().min(as_of);
    let year_window = Window {
        from: day(period.start()),
        day: day(end),
        year: period.year,
    };
    let mut memo: HashMap<(String, Window), Vec<Option<i64>>> = HashMap::new();
    let mut side_counts = |side: &Side, w: Window| -> Vec<Option<i64>> {
        memo.entry((side.key(), w))
            .or_insert_with(|| count(side, facts, &shape, w))
            .clone()
    };
    let mut out = Vec::new();
    for d in defs {
        if d.method != Method::Computed || !d.periods.contains(&period.kind()) {
            continue;
        }
        let Some(num_side) = &d.numerator else {
            continue;
        };
        let with_den = d.denominator.is_some();
        let n = shape.parents.len();
        let mut rows: Vec<Computed> = Vec::with_capacity(n);
        if d.monthly_average {
            let months: Vec<(u32, Window)> = period
                .months()
                .into_iter()
                .filter_map(|m| {
                    let start = NaiveDate::from_ymd_opt(period.year, m, 1)?;
                    (start <= as_of).then(|| {
                        (
                            m,
                            Window {
                                from: day(start),
                                day: day(month_end(period.year, m).min(as_of)),
                                year: period.year,
                            },
                        )
                    })
                })
                .collect();
            let per_month: Vec<MonthCounts> = months
                .iter()
                .map(|&(m, w)| {
                    let num = side_counts(num_side, w);
                    let den = match &d.denominator {
                        Some(s) => side_counts(s, w),
                        None => vec![None; n],
                    };
                    (m, num, den)
                })
                .collect();
            for i in 0..n {
                let months: Vec<MonthValue> = per_month
                    .iter()
                    .map(|(m, num, den)| {
                        let (a, b) = (num[i].unwrap_or(0), den[i].unwrap_or(0));
                        MonthValue {
                            month: *m,
                            numerator: a,
                            denominator: b,
                            rate: ratio(num[i], den[i], with_den, d.factor),
                        }
                    })
                    .collect();
                let rates: Vec<f64> = months.iter().filter_map(|m| m.rate).collect();
                rows.push(Computed {
                    indicator: d.number,
                    area_code: tree.all()[i].code.clone(),
                    numerator: Some(months.iter().map(|m| m.numerator).sum()),
                    denominator: with_den.then(|| months.iter().map(|m| m.denominator).sum()),
                    value: (!rates.is_empty())
                        .then(|| rates.iter().sum::<f64>() / rates.len() as f64),
                    months,
                });
            }
        } else {
            let num = side_counts(num_side, year_window);
            let den = d.denominator.as_ref().map(|s| side_counts(s, year_window));
            for i in 0..n {
                let dn = den.as_ref().and_then(|v| v[i]);
                rows.push(Computed {
                    indicator: d.number,
                    area_code: tree.all()[i].code.clone(),
                    numerator: num[i],
                    denominator: dn,
                    value: ratio(num[i], dn, with_den, d.factor),
                    months: Vec::new(),
                });
            }
        }
        if d.city_value == Some(CityValue::MinOfCounties)
            && let Some(root) = shape.parents.iter().position(Option::is_none)
        {
            let least = (0..n)
                .filter(|&i| shape.levels[i] == AreaLevel::County)
                .filter_map(|i| rows[i].value.map(|v| (v, i)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let (num, den, value) = match least {
                Some((v, i)) => (rows[i].numerator, rows[i].denominator, Some(v)),
                None => (None, None, None),
            };
            rows[root].numerator = num;
            rows[root].denominator = den;
            rows[root].value = value;
        }
        out.extend(
            rows.into_iter()
                .enumerate()
                .filter(|(i, _)| d.allows(shape.levels[*i]))
                .map(|(_, r)| r),
        );
    }
    out
}

/// The positions (in the facts' register) of the records a side counts in
/// one area on the period, for explaining a count. `area` is a position in
/// the tree; records of areas below it count.
pub fn records(
    side: &Side,
    facts: &Facts,
    tree: &AreaTree,
    area: usize,
    period: Period,
    as_of: NaiveDate,
    limit: usize,
) -> Vec<usize> {
    let shape = Shape::of(tree);
    let w = Window {
        from: day(period.start()),
        day: day(period.end().min(as_of)),
        year: period.year,
    };
    let inside = |mut a: usize| loop {
        if a == area {
            return true;
        }
        match shape.parents.get(a).copied().flatten() {
            Some(p) => a = p,
            None => return false,
        }
    };
    let mut out = Vec::new();
    let cuts = (years_before(w.day, 60), years_before(w.day, 3));
    match side.count {
        Source::Elderly | Source::Infants | Source::Births | Source::InfantDeaths => {
            for (i, p) in facts.people.iter().enumerate() {
                if out.len() >= limit {
                    break;
                }
                let counted = person_counted(side.count, p, w, cuts);
                if counted
                    && inside(p.area as usize)
                    && side.conditions.iter().all(|c| person_ok(c, p, i, facts, w))
                {
                    out.push(i);
                }
            }
        }
        Source::Facilities => {
            for (i, x) in facts.facilities.iter().enumerate() {
                if out.len() < limit
                    && x.operating(w.day)
                    && inside(x.area as usize)
                    && side.conditions.iter().all(|c| facility_ok(c, x, w))
                {
                    out.push(i);
                }
            }
        }
        Source::Staff => {
            for (i, s) in facts.staff.iter().enumerate() {
                if out.len() < limit
                    && s.employed(w.day)
                    && inside(facts.facilities[s.facility as usize].area as usize)
                    && side.conditions.iter().all(|c| staff_ok(c, s))
                {
                    out.push(i);
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::facts::age;

    #[test]
    fn the_age_cut_agrees_with_whole_years() {
        // Every birth day around the cut, on ordinary days and 29 February.
        for d in ["2020-02-29", "2021-02-28", "2022-12-31", "2024-03-01"] {
            let d = day(NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date"));
            for years in [3, 60] {
                let cut = years_before(d, years);
                for b in cut - 3..=cut + 3 {
                    assert_eq!(b <= cut, age(b, d) >= years, "born {b}, day {d}, {years}");
                }
            }
        }
    }
}
