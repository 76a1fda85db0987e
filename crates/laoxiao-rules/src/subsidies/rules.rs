//! One formula per rule. Each reads the snapshot and the parameters in force
//! on the day it needs (a month's 15th: the mid-month rule), and returns
//! lines with their explanation, or notes saying why a candidate got nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Rating};
use laoxiao_model::person::PersonStatus;
use laoxiao_model::{ChildcareClass, ClassType, Enrolment, Facility, FacilityKind, FacilityStatus};

use super::{
    Explanation, Line, LineKind, Month, MonthShare, Note, Outcome, PayeeKind, Period, Rule,
    Snapshot, Used, Value, div_round, params::Params, yuan,
};
use crate::error::RulesError;

/// The city's own code: the funder of city-level items, the "county" of
/// lines that belong to no county.
pub(super) const CITY: &str = "330400";
/// Jiaxing's hukou codes start with it.
const CITY_PREFIX: &str = "3304";

/// A Jiaxing hukou (户籍): the person rules' residence condition (shared with
/// the public entitlement check, `crate::entitlements`).
pub(crate) fn jiaxing_hukou(code: &str) -> bool {
    code.starts_with(CITY_PREFIX)
}

/// The year and month a person born `birth` turns `age`: an age condition of a
/// person rule holds from that month on (the month of the birthday counts).
pub(crate) fn turns(birth: NaiveDate, age: i32) -> (i32, u32) {
    (birth.year() + age, birth.month())
}

/// True when a person born `birth` has turned `age` by month `m` (the
/// birthday's month counts): the age condition of the centenarian rule, shared
/// with the entitlement check.
pub(crate) fn turned_by(birth: NaiveDate, age: i32, m: Month) -> bool {
    turns(birth, age) <= (m.year, m.month)
}

struct Ctx<'a> {
    snap: &'a Snapshot,
    params: &'a Params,
    classes: HashMap<&'a str, Vec<&'a ChildcareClass>>,
    class_by_id: HashMap<&'a str, &'a ChildcareClass>,
    enrolments: HashMap<&'a str, Vec<&'a Enrolment>>,
    out: Outcome,
    awards_paid: &'a BTreeSet<String>,
}

fn county_of(code: &str) -> String {
    code.get(..6).unwrap_or(code).to_string()
}

/// Operating on `d`: not planned or suspended, opened by then, not closed.
pub(super) fn operating(f: &Facility, d: NaiveDate) -> bool {
    let status = match f.status {
        FacilityStatus::Operating => true,
        FacilityStatus::Closed => f.closed_date.is_some(),
        FacilityStatus::Planned | FacilityStatus::Suspended => false,
    };
    status && f.opening_date.is_none_or(|o| o <= d) && f.closed_date.is_none_or(|c| c > d)
}

fn filed(f: &Facility, d: NaiveDate) -> bool {
    f.filing_status == FilingStatus::Filed && f.filing_date.is_some_and(|fd| fd <= d)
}

fn rating_on(f: &Facility, d: NaiveDate) -> Option<Rating> {
    let r = f.rating?;
    let valid =
        f.rating_valid_from.is_none_or(|v| v <= d) && f.rating_valid_until.is_none_or(|v| v >= d);
    valid.then_some(r)
}

fn class_key(t: ClassType) -> &'static str {
    t.code()
}

fn facility_payee(f: &Facility) -> (PayeeKind, String, String, String) {
    (
        PayeeKind::Facility,
        f.id.clone(),
        f.name.clone(),
        f.operator_name.clone().unwrap_or_else(|| f.name.clone()),
    )
}

/// A line before its funder split: what a rule decided.
struct Draft<'p> {
    rule: Rule,
    kind: LineKind,
    period: &'p str,
    payee: (PayeeKind, String, String, String),
    subject: &'p str,
    county: String,
    amount: i64,
    /// The facility's level, where the funding depends on it.
    level: Option<&'p str>,
    award_key: Option<String>,
    months: Vec<MonthShare>,
}

impl<'p> Draft<'p> {
    /// A period's entitlement (no level, award key or month shares).
    fn regular(
        rule: Rule,
        period: &'p str,
        payee: (PayeeKind, String, String, String),
        subject: &'p str,
        county: String,
        amount: i64,
    ) -> Self {
        Draft {
            rule,
            kind: LineKind::Regular,
            period,
            payee,
            subject,
            county,
            amount,
            level: None,
            award_key: None,
            months: Vec::new(),
        }
    }
}

impl<'a> Ctx<'a> {
    fn int(&self, name: &str, d: NaiveDate, e: &mut Explanation) -> Result<i64, RulesError> {
        let (v, u) = self.params.int(name, d)?;
        e.param(&u);
        Ok(v)
    }

    /// An amount parameter in yuan, as fen.
    fn fen(&self, name: &str, d: NaiveDate, e: &mut Explanation) -> Result<i64, RulesError> {
        Ok(self.int(name, d, e)?.saturating_mul(100))
    }

    fn note(&mut self, rule: Rule, period: &str, payee: &str, subject: &str, reason: String) {
        self.out.notes.push(Note {
            rule,
            period: period.to_string(),
            payee_id: payee.to_string(),
            subject_id: subject.to_string(),
            reason,
        });
    }

    /// The funder split of `amount` for `rule` in `county`, by the funding
    /// parameters in force on `d`.
    fn split(
        &self,
        rule: Rule,
        level: Option<&str>,
        county: &str,
        amount: i64,
        d: NaiveDate,
        e: &mut Explanation,
    ) -> Result<(i64, i64), RulesError> {
        let specific = level
            .map(|l| format!("funding.{}.{l}", rule.code()))
            .filter(|n| self.params.has(n));
        let general = format!("funding.{}", rule.code());
        let name = specific.unwrap_or_else(|| {
            if self.params.has(&general) {
                general
            } else {
                "funding.default".to_string()
            }
        });
        let u = self.params.at(&name, d)?;
        e.param(&u);
        let how = u.value.to_string();
        let (city, county_part) = match how.as_str() {
            "city" => (amount, 0),
            "county" => (0, amount),
            "split" if county == CITY => (amount, 0),
            "split" => {
                let share_name = format!("funding.city_share.{county}");
                let share_name = if self.params.has(&share_name) {
                    share_name
                } else {
                    "funding.city_share.default".to_string()
                };
                let pct = self.int(&share_name, d, e)?.clamp(0, 100);
                let city = div_round(i128::from(amount) * i128::from(pct), 100);
                (city, amount - city)
            }
            other => {
                return Err(RulesError::Parameter {
                    name,
                    reason: format!("funder {other:?} is none of city, county, split"),
                });
            }
        };
        e.step(format!(
            "资金承担 funders ({how}): 市级 city {} + 县（市、区） county {} = {}",
            yuan(city),
            yuan(county_part),
            yuan(amount)
        ));
        Ok((city, county_part))
    }

    /// Adds a line: its funder split (read on `d`) and placeholder flag
    /// follow from the draft and the explanation.
    fn push(
        &mut self,
        draft: Draft<'_>,
        d: NaiveDate,
        mut e: Explanation,
    ) -> Result<(), RulesError> {
        let Draft {
            rule,
            kind,
            period,
            payee,
            subject,
            county,
            amount,
            level,
            award_key,
            months,
        } = draft;
        let (city_fen, county_fen) = self.split(rule, level, &county, amount, d, &mut e)?;
        let placeholder = e.params.iter().any(|p| p.placeholder);
        self.out.lines.push(Line {
            rule,
            kind,
            period: period.to_string(),
            payee_kind: payee.0,
            payee_id: payee.1,
            payee_name: payee.2,
            account_holder: payee.3,
            subject_id: subject.to_string(),
            county_code: county,
            amount_fen: amount,
            city_fen,
            county_fen,
            award_key,
            placeholder,
            months,
            explanation: e,
        });
        Ok(())
    }
}

/// The entitlements of `period`; awards whose key is in `awards_paid` are left out.
pub(super) fn entitlements(
    snap: &Snapshot,
    params: &Params,
    period: Period,
    awards_paid: &BTreeSet<String>,
) -> Result<Outcome, RulesError> {
    let mut classes: HashMap<&str, Vec<&ChildcareClass>> = HashMap::new();
    let mut class_by_id = HashMap::new();
    for c in &snap.classes {
        classes.entry(c.facility_id.as_str()).or_default().push(c);
        class_by_id.insert(c.id.as_str(), c);
    }
    let mut enrolments: HashMap<&str, Vec<&Enrolment>> = HashMap::new();
    for e in &snap.enrolments {
        enrolments
            .entry(e.facility_id.as_str())
            .or_default()
            .push(e);
    }
    let mut ctx = Ctx {
        snap,
        params,
        classes,
        class_by_id,
        enrolments,
        out: Outcome::default(),
        awards_paid,
    };
    match period {
        Period::Month(m) => {
            inclusive_childcare(&mut ctx, m)?;
            centenarian(&mut ctx, m)?;
            eldercare_student(&mut ctx, m)?;
            awards(&mut ctx, m)?;
        }
        Period::Year(y) => annual(&mut ctx, y)?,
    }
    Ok(ctx.out)
}

// ---------------------------------------------------------------- monthly

fn inclusive_childcare(ctx: &mut Ctx<'_>, m: Month) -> Result<(), RulesError> {
    let rule = Rule::InclusiveChildcare;
    let d = m.mid();
    let period = m.to_string();
    for f in &ctx.snap.facilities {
        if !f.kind.has_slots() {
            continue;
        }
        let institution = f.kind == FacilityKind::ChildcareInstitution;
        let why_not = if !operating(f, d) {
            Some(format!("not operating on {d}"))
        } else if !f.inclusive {
            Some("not inclusive (普惠)".to_string())
        } else if institution && !filed(f, d) {
            Some(format!("not filed (备案) by {d}"))
        } else {
            None
        };
        if let Some(r) = why_not {
            ctx.note(rule, &period, &f.id, &f.id, r);
            continue;
        }
        let mut e = Explanation::new();
        let county = county_of(&f.area_code);
        e.input("facility", format!("{} {}", f.id, f.name));
        e.input("kind", f.kind.code());
        e.input("county_code", &county);
        e.input("inclusive", true);
        if institution {
            e.input(
                "filing_date",
                f.filing_date.map(|x| x.to_string()).unwrap_or_default(),
            );
        }
        let classes = ctx.classes.get(f.id.as_str()).cloned().unwrap_or_default();
        // The price cap (institutions only): every class's fee within its type's cap.
        if institution {
            let income_name = super::income_param(&county);
            let income_day = super::price_cap_income_day(m.year);
            let income = match ctx.params.int(&income_name, income_day) {
                Ok((v, u)) => {
                    e.param(&u);
                    v
                }
                Err(err) => {
                    ctx.note(
                        rule,
                        &period,
                        &f.id,
                        &f.id,
                        format!("no income figure for the price cap: {err}"),
                    );
                    continue;
                }
            };
            e.input("previous_year_income_yuan", income);
            let mut over = None;
            if classes.is_empty() {
                over = Some("no classes on the register: the fee cannot be checked".to_string());
            }
            for c in &classes {
                let share = ctx.int(&super::price_cap_share_param(c.class_type), d, &mut e)?;
                let cap = super::price_cap_fen(income, share);
                let Some(fee) = c.monthly_fee_fen.or(f.monthly_fee) else {
                    over = Some(format!("class {} has no fee on record", c.id));
                    break;
                };
                e.step(format!(
                    "收费上限 price cap {} ({}): {} × {share}% ÷ 12 = {}; fee {} {}",
                    c.id,
                    c.class_type.label_zh(),
                    yuan(income * 100),
                    yuan(cap),
                    yuan(fee),
                    if fee <= cap { "≤ cap" } else { "> cap" }
                ));
                if fee > cap {
                    over = Some(format!(
                        "class {} ({}) fee {} is above the inclusive price cap {}",
                        c.id,
                        c.class_type.code(),
                        yuan(fee),
                        yuan(cap)
                    ));
                    break;
                }
            }
            if let Some(r) = over {
                ctx.note(rule, &period, &f.id, &f.id, r);
                continue;
            }
        }
        // Children counted: enrolled on the month's 15th, by class type.
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        let mut unclassed = 0;
        for en in ctx
            .enrolments
            .get(f.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            if !en.active_on(d) {
                continue;
            }
            match en.class_id.as_deref().and_then(|c| ctx.class_by_id.get(c)) {
                Some(c) if c.facility_id == f.id => {
                    *counts.entry(class_key(c.class_type)).or_default() += 1
                }
                _ => unclassed += 1,
            }
        }
        let total: i64 = counts.values().sum();
        e.input("counted_children", total);
        for (t, n) in &counts {
            e.input(&format!("counted.{t}"), n);
        }
        if unclassed > 0 {
            e.input("enrolled_without_class", unclassed);
            e.step(format!("{unclassed} enrolment(s) without a class on the register are not counted (班型未知)"));
        }
        let slots = f.approved_slots.unwrap_or(0);
        e.input("approved_slots", slots);
        if total > slots {
            let order = ctx.params.at("inclusive.cut_order", d)?;
            e.param(&order);
            let Value::Text(order) = order.value else {
                return Err(RulesError::Parameter {
                    name: "inclusive.cut_order".into(),
                    reason: "must be a list of class types".into(),
                });
            };
            let mut excess = total - slots;
            e.step(format!("收托 {total} > 核定托位 {slots}: cut {excess}, lowest-paid class types first ({order})"));
            for t in order.split(',').map(str::trim) {
                if excess == 0 {
                    break;
                }
                if let Some(n) = counts.get_mut(t) {
                    let cut = excess.min(*n);
                    *n -= cut;
                    excess -= cut;
                    if cut > 0 {
                        e.step(format!("  cut {cut} from {t}"));
                    }
                }
            }
        }
        let mut amount = 0i64;
        for (t, n) in &counts {
            if *n == 0 {
                continue;
            }
            let rate = ctx.fen(&format!("inclusive.per_child.{t}"), d, &mut e)?;
            let part = rate.saturating_mul(*n);
            e.step(format!("{t}: {n} × {} = {}", yuan(rate), yuan(part)));
            amount += part;
        }
        e.step(format!("合计 total {}", yuan(amount)));
        if amount == 0 {
            ctx.note(
                rule,
                &period,
                &f.id,
                &f.id,
                "no child counted on the 15th".into(),
            );
            continue;
        }
        ctx.push(
            Draft::regular(rule, &period, facility_payee(f), &f.id, county, amount),
            d,
            e,
        )?;
    }
    Ok(())
}

fn centenarian(ctx: &mut Ctx<'_>, m: Month) -> Result<(), RulesError> {
    let rule = Rule::Centenarian;
    let period = m.to_string();
    let d = m.mid();
    let mut age_e = Explanation::new();
    let age = ctx.int("centenarian.age", d, &mut age_e)?;
    let age = i32::try_from(age.clamp(0, 150)).unwrap_or(100);
    for p in &ctx.snap.elders {
        // From the month of the 100th birthday, while alive on the month's first day.
        if !turned_by(p.birth_date, age, m) {
            continue;
        }
        let turns = turns(p.birth_date, age);
        let hukou = p.hukou_area_code.as_deref().unwrap_or("");
        if !jiaxing_hukou(hukou) {
            continue;
        }
        if p.death_date.is_some_and(|dd| dd < m.first()) {
            continue;
        }
        if p.status == PersonStatus::Deceased && p.death_date.is_none() {
            ctx.note(
                rule,
                &period,
                &p.id,
                &p.id,
                "deceased without a death date: not paid until the date is registered".into(),
            );
            continue;
        }
        let mut e = age_e.clone();
        let amount = ctx.fen("centenarian.monthly", d, &mut e)?;
        e.input("person", &p.id);
        e.input("birth_date", p.birth_date);
        e.input("hukou_area_code", hukou);
        if let Some(dd) = p.death_date {
            e.input("death_date", dd);
        }
        e.step(format!(
            "turns {age} in {}-{:02} ≤ {m}; alive on {}; Jiaxing hukou → {}",
            turns.0,
            turns.1,
            m.first(),
            yuan(amount)
        ));
        let county = county_of(hukou);
        let payee = (
            PayeeKind::Person,
            p.id.clone(),
            p.name.clone(),
            p.name.clone(),
        );
        ctx.push(
            Draft::regular(rule, &period, payee, &p.id, county, amount),
            d,
            e,
        )?;
    }
    Ok(())
}

fn eldercare_student(ctx: &mut Ctx<'_>, m: Month) -> Result<(), RulesError> {
    let rule = Rule::EldercareStudent;
    let period = m.to_string();
    let d = m.mid();
    let mut base = Explanation::new();
    let first = ctx.int("student.first_month", d, &mut base)?;
    let last = ctx.int("student.last_month", d, &mut base)?;
    let years = ctx.int("student.program_years", d, &mut base)?;
    let mm = i64::from(m.month);
    let in_term = if first <= last {
        (first..=last).contains(&mm)
    } else {
        mm >= first || mm <= last
    };
    if !in_term {
        return Ok(());
    }
    // The academic year a month belongs to starts in `first`'s month.
    let ay = if mm >= first { m.year } else { m.year - 1 };
    for c in &ctx.snap.cohorts {
        let intake = c.intake_year;
        if !(intake..intake + years).contains(&i64::from(ay)) || c.enrolled <= 0 {
            continue;
        }
        let mut e = base.clone();
        let rate = ctx.fen("student.monthly", d, &mut e)?;
        let amount = rate.saturating_mul(c.enrolled);
        e.input("cohort", &c.id);
        e.input("school", &c.institution);
        e.input("programme", &c.program);
        e.input("intake_year", intake);
        e.input("students", c.enrolled);
        e.step(format!(
            "{m} is in the academic year {ay}/{} (months {first}–{last}); intake {intake} studies {years} years; {} × {} = {}",
            ay + 1,
            c.enrolled,
            yuan(rate),
            yuan(amount)
        ));
        let payee = (
            PayeeKind::School,
            c.institution.clone(),
            c.institution.clone(),
            c.institution.clone(),
        );
        ctx.push(
            Draft::regular(rule, &period, payee, &c.id, CITY.to_string(), amount),
            d,
            e,
        )?;
    }
    Ok(())
}

// ----------------------------------------------------------------- awards

fn enrolled_on(ctx: &Ctx<'_>, f: &Facility, d: NaiveDate) -> i64 {
    ctx.enrolments
        .get(f.id.as_str())
        .map_or(0, |v| v.iter().filter(|e| e.active_on(d)).count() as i64)
}

#[allow(clippy::too_many_arguments)]
fn award(
    ctx: &mut Ctx<'_>,
    rule: Rule,
    m: Month,
    key: String,
    payee: (PayeeKind, String, String, String),
    subject: &str,
    county: String,
    amount: i64,
    e: Explanation,
) -> Result<(), RulesError> {
    if ctx.awards_paid.contains(&key) {
        return Ok(());
    }
    ctx.push(
        Draft {
            kind: LineKind::Award,
            award_key: Some(key),
            ..Draft::regular(rule, &m.to_string(), payee, subject, county, amount)
        },
        m.mid(),
        e,
    )
}

fn awards(ctx: &mut Ctx<'_>, m: Month) -> Result<(), RulesError> {
    let d = m.mid();
    let period = m.to_string();
    let mut chains: BTreeMap<String, Vec<&Facility>> = BTreeMap::new();
    let facilities = ctx.snap.facilities.as_slice();
    for f in facilities {
        if !operating(f, d) {
            continue;
        }
        let county = county_of(&f.area_code);
        match f.kind {
            FacilityKind::SunflowerPark | FacilityKind::SunflowerHut => {
                let mut e = Explanation::new();
                let name = if f.kind == FacilityKind::SunflowerPark {
                    "sunflower.construction.park"
                } else {
                    "sunflower.construction.hut"
                };
                let amount = ctx.fen(name, d, &mut e)?;
                e.input("facility", format!("{} {}", f.id, f.name));
                e.input("kind", f.kind.code());
                e.input(
                    "opening_date",
                    f.opening_date.map(|x| x.to_string()).unwrap_or_default(),
                );
                e.step(format!(
                    "建成并运营 built and operating on {d}: {}",
                    yuan(amount)
                ));
                award(
                    ctx,
                    Rule::SunflowerConstruction,
                    m,
                    format!("sunflower_construction:{}", f.id),
                    facility_payee(f),
                    &f.id,
                    county,
                    amount,
                    e,
                )?;
            }
            FacilityKind::WellnessAlliance => {
                let level = match f.level {
                    Some(FacilityLevel::Provincial) => "provincial",
                    Some(FacilityLevel::City) => "city",
                    _ => {
                        ctx.note(
                            Rule::WellnessAlliance,
                            &period,
                            &f.id,
                            &f.id,
                            "level is neither provincial nor city".into(),
                        );
                        continue;
                    }
                };
                if f.medical_care_subsidy {
                    ctx.note(
                        Rule::WellnessAlliance,
                        &period,
                        &f.id,
                        &f.id,
                        "already receives the city's medical-care-integration subsidy (不重复享受)"
                            .into(),
                    );
                    continue;
                }
                let mut e = Explanation::new();
                let amount = ctx.fen(&format!("wellness_alliance.{level}"), d, &mut e)?;
                e.input("facility", format!("{} {}", f.id, f.name));
                e.input("level", level);
                e.input("medical_care_subsidy", false);
                e.step(format!(
                    "{level} alliance, no medical-care-integration subsidy: {}",
                    yuan(amount)
                ));
                award(
                    ctx,
                    Rule::WellnessAlliance,
                    m,
                    format!("wellness_alliance:{}", f.id),
                    facility_payee(f),
                    &f.id,
                    county,
                    amount,
                    e,
                )?;
            }
            FacilityKind::ChildcareInstitution => {
                if let Some(code) = f.operator_credit_code.as_deref().filter(|c| !c.is_empty()) {
                    chains.entry(code.to_string()).or_default().push(f);
                }
                if !filed(f, d) {
                    continue;
                }
                let classes = ctx.classes.get(f.id.as_str()).cloned().unwrap_or_default();
                for c in classes {
                    let mut e = Explanation::new();
                    let amount = ctx.fen("class_filing.per_class", d, &mut e)?;
                    e.input("facility", format!("{} {}", f.id, f.name));
                    e.input(
                        "filing_date",
                        f.filing_date.map(|x| x.to_string()).unwrap_or_default(),
                    );
                    e.input("class", format!("{} {}", c.id, c.class_type.code()));
                    e.step(format!(
                        "class {} of a filed institution: {}",
                        c.id,
                        yuan(amount)
                    ));
                    award(
                        ctx,
                        Rule::ClassFiling,
                        m,
                        format!("class_filing:{}", c.id),
                        facility_payee(f),
                        &c.id,
                        county.clone(),
                        amount,
                        e,
                    )?;
                }
                if f.demonstration {
                    let n = enrolled_on(ctx, f, d);
                    let mut e = Explanation::new();
                    let medium = ctx.int("demonstration.medium_from", d, &mut e)?;
                    let large = ctx.int("demonstration.large_from", d, &mut e)?;
                    let tier = if n >= large {
                        "large"
                    } else if n >= medium {
                        "medium"
                    } else {
                        "small"
                    };
                    let amount = ctx.fen(&format!("demonstration.award.{tier}"), d, &mut e)?;
                    e.input("facility", format!("{} {}", f.id, f.name));
                    e.input("demonstration", true);
                    e.input("enrolled_on_15th", n);
                    e.step(format!("收托 {n} children on {d} (tiers: < {medium}, {medium}–{}, ≥ {large}) → {tier}: {}", large - 1, yuan(amount)));
                    award(
                        ctx,
                        Rule::DemonstrationAward,
                        m,
                        format!("demonstration:{}", f.id),
                        facility_payee(f),
                        &f.id,
                        county.clone(),
                        amount,
                        e,
                    )?;
                    if f.provincial_demonstration {
                        let mut e = Explanation::new();
                        let amount = ctx.fen("demonstration.provincial_extra", d, &mut e)?;
                        e.input("facility", format!("{} {}", f.id, f.name));
                        e.input("provincial_demonstration", true);
                        e.step(format!(
                            "city demonstration institution rated provincial: {}",
                            yuan(amount)
                        ));
                        award(
                            ctx,
                            Rule::ProvincialDemonstrationAward,
                            m,
                            format!("provincial_demonstration:{}", f.id),
                            facility_payee(f),
                            &f.id,
                            county,
                            amount,
                            e,
                        )?;
                    }
                }
            }
            _ => {}
        }
    }
    // Chain award: one per operator (credit code) running enough institutions,
    // or per institution enrolling enough children.
    let mut e0 = Explanation::new();
    let min_inst = ctx.int("chain.min_institutions", d, &mut e0)?;
    let min_enrolled = ctx.int("chain.min_enrolled", d, &mut e0)?;
    let mut done = BTreeSet::new();
    for (code, fs) in &chains {
        if (fs.len() as i64) < min_inst {
            continue;
        }
        let mut e = e0.clone();
        let amount = ctx.fen("chain.award", d, &mut e)?;
        e.input("operator_credit_code", code);
        e.input(
            "institutions",
            fs.iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        e.step(format!(
            "{} operating childcare institutions of one operator ≥ {min_inst}: {}",
            fs.len(),
            yuan(amount)
        ));
        let name = fs[0].operator_name.clone().unwrap_or_else(|| code.clone());
        let payee = (PayeeKind::Operator, code.clone(), name.clone(), name);
        done.insert(code.clone());
        award(
            ctx,
            Rule::ChainAward,
            m,
            format!("chain:{code}"),
            payee,
            code,
            CITY.to_string(),
            amount,
            e,
        )?;
    }
    for f in facilities {
        if f.kind != FacilityKind::ChildcareInstitution || !operating(f, d) {
            continue;
        }
        let n = enrolled_on(ctx, f, d);
        if n < min_enrolled {
            continue;
        }
        let (key, payee, subject) =
            match f.operator_credit_code.as_deref().filter(|c| !c.is_empty()) {
                Some(code) if done.contains(code) => continue,
                Some(code) => {
                    let name = f.operator_name.clone().unwrap_or_else(|| code.to_string());
                    (
                        format!("chain:{code}"),
                        (PayeeKind::Operator, code.to_string(), name.clone(), name),
                        code.to_string(),
                    )
                }
                None => (
                    format!("chain:facility:{}", f.id),
                    facility_payee(f),
                    f.id.clone(),
                ),
            };
        done.insert(subject.clone());
        let mut e = e0.clone();
        let amount = ctx.fen("chain.award", d, &mut e)?;
        e.input("facility", format!("{} {}", f.id, f.name));
        e.input("enrolled_on_15th", n);
        e.step(format!(
            "one institution enrols {n} ≥ {min_enrolled} children: {}",
            yuan(amount)
        ));
        award(
            ctx,
            Rule::ChainAward,
            m,
            key,
            payee,
            &subject,
            CITY.to_string(),
            amount,
            e,
        )?;
    }
    Ok(())
}

// ----------------------------------------------------------------- annual

/// The annual rate (fen per year) a facility earns under `rule` on day `d`,
/// with the parameter used, or why none.
fn annual_rate(
    ctx: &Ctx<'_>,
    rule: Rule,
    f: &Facility,
    d: NaiveDate,
) -> Result<Result<(i64, Used, String), String>, RulesError> {
    if !operating(f, d) {
        return Ok(Err("not operating".into()));
    }
    let (name, why) = match rule {
        Rule::TownCenter => ("town_center.annual".to_string(), "operating".to_string()),
        Rule::VillageStation => match rating_on(f, d) {
            Some(Rating::A5) => ("village_station.annual.5a".into(), "5A valid".into()),
            Some(Rating::A4) => ("village_station.annual.4a".into(), "4A valid".into()),
            Some(Rating::A3) => ("village_station.annual.3a".into(), "3A valid".into()),
            _ => return Ok(Err("no 3A–5A rating valid".into())),
        },
        Rule::GuidanceFunds => match f.level {
            Some(FacilityLevel::Town) => ("guidance.funds.town".into(), "town level".into()),
            Some(FacilityLevel::County) => ("guidance.funds.county".into(), "county level".into()),
            Some(FacilityLevel::City) => ("guidance.funds.city".into(), "city level".into()),
            _ => return Ok(Err("level is not town, county or city".into())),
        },
        Rule::SunflowerOperating => {
            if f.temporary_care {
                (
                    "sunflower.operating.with_temporary_care".into(),
                    "with temporary/hourly care".into(),
                )
            } else {
                (
                    "sunflower.operating.base".into(),
                    "without temporary/hourly care".into(),
                )
            }
        }
        _ => return Ok(Err("not an annual rule".into())),
    };
    let (v, u) = ctx.params.int(&name, d)?;
    Ok(Ok((v.saturating_mul(100), u, why)))
}

fn annual(ctx: &mut Ctx<'_>, year: i32) -> Result<(), RulesError> {
    let period = year.to_string();
    for f in &ctx.snap.facilities {
        let rule = match f.kind {
            FacilityKind::TownHomeCareCenter => Rule::TownCenter,
            FacilityKind::VillageCareStation => Rule::VillageStation,
            FacilityKind::GuidanceCenter => Rule::GuidanceFunds,
            FacilityKind::SunflowerPark | FacilityKind::SunflowerHut => Rule::SunflowerOperating,
            _ => continue,
        };
        let mut e = Explanation::new();
        e.input("facility", format!("{} {}", f.id, f.name));
        e.input("kind", f.kind.code());
        let mut rates = Vec::with_capacity(12);
        let mut last_reason = String::new();
        for month in 1..=12 {
            let m = Month { year, month };
            match annual_rate(ctx, rule, f, m.mid())? {
                Ok((rate, u, why)) => {
                    e.param(&u);
                    rates.push((month, rate, why));
                }
                Err(r) => {
                    last_reason = r.clone();
                    rates.push((month, 0, r));
                }
            }
        }
        let sum: i64 = rates.iter().map(|r| r.1).sum();
        if sum == 0 {
            ctx.note(
                rule,
                &period,
                &f.id,
                &f.id,
                format!("no month qualified ({last_reason})"),
            );
            continue;
        }
        // Runs of equal rate, for a readable explanation.
        let mut i = 0;
        while i < rates.len() {
            let mut j = i;
            while j + 1 < rates.len()
                && rates[j + 1].1 == rates[i].1
                && rates[j + 1].2 == rates[i].2
            {
                j += 1;
            }
            let what = if rates[i].1 == 0 {
                format!("not qualified ({})", rates[i].2)
            } else {
                format!("{} ({} a year)", rates[i].2, yuan(rates[i].1))
            };
            e.step(format!("months {}–{}: {what}", rates[i].0, rates[j].0));
            i = j + 1;
        }
        let amount = div_round(i128::from(sum), 12);
        e.step(format!(
            "Σ annual rates of the months ÷ 12 = {} ÷ 12 = {}",
            yuan(sum),
            yuan(amount)
        ));
        // Month shares that add up exactly: cumulative rounding.
        let mut months = Vec::with_capacity(12);
        let mut acc = 0i128;
        let mut prev = 0i64;
        for (month, rate, _) in &rates {
            acc += i128::from(*rate);
            let upto = div_round(acc, 12);
            if upto != prev {
                months.push(MonthShare {
                    month: *month,
                    fen: upto - prev,
                });
            }
            prev = upto;
        }
        let level = match (rule, f.level) {
            (Rule::GuidanceFunds, Some(FacilityLevel::City)) => Some("city"),
            (Rule::GuidanceFunds, Some(FacilityLevel::County)) => Some("county"),
            (Rule::GuidanceFunds, Some(FacilityLevel::Town)) => Some("town"),
            _ => None,
        };
        let county = county_of(&f.area_code);
        let d = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
        ctx.push(
            Draft {
                level,
                months,
                ..Draft::regular(rule, &period, facility_payee(f), &f.id, county, amount)
            },
            d,
            e,
        )?;
    }
    Ok(())
}

/// The inclusive operating subsidy (普惠托位运营补助) one child brings its
/// institution in month `m`, with the parameter it read: the same conditions
/// as [`Rule::InclusiveChildcare`] for the facility (operating, inclusive,
/// filed for an institution) and the child (enrolled on the 15th), at its
/// class type's monthly rate. `None` where the rule does not apply. A bill
/// shows it; the slot cap and the price-cap check stay with the monthly run,
/// which pays the institution.
pub fn inclusive_child_rate(
    params: &crate::subsidies::Params,
    f: &Facility,
    class_type: ClassType,
    enrolled_on_mid: bool,
    m: super::Month,
) -> Result<Option<(i64, crate::subsidies::Used)>, RulesError> {
    let d = m.mid();
    let institution = f.kind == FacilityKind::ChildcareInstitution;
    if !f.kind.has_slots()
        || !enrolled_on_mid
        || !operating(f, d)
        || !f.inclusive
        || (institution && !filed(f, d))
    {
        return Ok(None);
    }
    let (yuan, used) = params.int(&format!("inclusive.per_child.{}", class_key(class_type)), d)?;
    Ok(Some((yuan.saturating_mul(100), used)))
}
