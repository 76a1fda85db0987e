//! The public entitlement check (待遇测算 / 政策找人): a visitor answers a
//! few questions and learns which of the plan's subsidies and services they
//! qualify for, which they do not and why, and where to apply. Pure: nothing
//! is read from or written to the registers.
//!
//! Every condition is the rule the platform already applies, called here, not
//! copied: the centenarian rule's age and hukou predicates
//! (`subsidies::rules`), the voucher table ([`crate::vouchers`]), the
//! visiting rounds ([`crate::visits::MonthRules::due`]), the admission
//! classes ([`crate::admission`]) and the inclusive price cap
//! ([`crate::subsidies::price_cap`]) with the national class-age table
//! ([`crate::standards`]). What this module adds is in
//! `data/policy/entitlements.toml`: what each benefit is, where to apply,
//! and two parameters of benefits the counties pay themselves (高龄补贴's age,
//! 育儿补贴金's age limit). `docs/entitlements.md` explains it.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::facility::ClassType;
use laoxiao_model::family::ServiceCategory;
use laoxiao_model::person::{AbilityLevel, LivingArrangement, SpecialDifficulty};
use serde::{Deserialize, Serialize};

use crate::admission::{self, Applicant};
use crate::error::RulesError;
use crate::standards::ClassLimits;
use crate::subsidies::{self, Month, Params, Used, Value};
use crate::visits::VisitRules;
use crate::vouchers::{Vouchers, Who as VoucherWho};

const FILE: &str = "data/policy/entitlements.toml";
const EMBEDDED: &str = include_str!("../../../data/policy/entitlements.toml");

/// The oldest age the check accepts (a typing error beyond it).
pub const MAX_AGE_YEARS: i32 = 120;
/// The youngest elderly person (老年人: 60 周岁, 《老年人权益保障法》第二条).
pub const MIN_ELDER_AGE_YEARS: i32 = 60;
/// The oldest child the check accepts, in months (婴幼儿 are under 3; a
/// little beyond lets a visitor learn that the age has passed).
pub const MAX_CHILD_MONTHS: u32 = 72;

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

/// "Needs one of: …" over the groups a benefit is for.
fn needs_one_of(whos: &[Text]) -> Text {
    let zh: Vec<&str> = whos.iter().map(|w| w.zh.as_str()).collect();
    let en: Vec<&str> = whos.iter().map(|w| w.en.as_str()).collect();
    text(
        format!("须为以下之一：{}", zh.join("、")),
        format!("needs one of: {}", en.join(", ")),
    )
}

fn text(zh: impl Into<String>, en: impl Into<String>) -> Text {
    Text {
        zh: zh.into(),
        en: en.into(),
    }
}

/// Where a person's hukou or home is: one of Jiaxing's counties (its
/// six-digit code) or elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    County(String),
    Elsewhere,
}

impl Place {
    fn code(&self) -> &str {
        match self {
            Place::County(c) => c,
            Place::Elsewhere => "",
        }
    }
}

/// Birth order of a child (育儿补贴金 is for a second or later child).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthOrder {
    First,
    SecondOrLater,
    Unknown,
}

/// An elderly person's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElderAnswers {
    pub birth_year: i32,
    pub birth_month: u32,
    pub hukou: Place,
    pub residence: Place,
    /// The special-difficulty categories that apply (特殊困难类别).
    pub categories: Vec<SpecialDifficulty>,
    /// `None`: never assessed or not known.
    pub ability: Option<AbilityLevel>,
    /// How they live; `InInstitution`: in a care home.
    pub living: LivingArrangement,
}

impl ElderAnswers {
    /// The birth date as the registers' rules read it for a month-precision
    /// answer: the month's first day.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.birth_year, self.birth_month, 1).unwrap_or_default()
    }
}

/// A child's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildAnswers {
    pub age_months: u32,
    /// The parents' hukou (either parent's Jiaxing hukou counts).
    pub parents_hukou: Place,
    pub residence: Place,
    pub birth_order: BirthOrder,
}

/// What the visitor answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answers {
    Elder(ElderAnswers),
    Child(ChildAnswers),
}

/// The verdict on one benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every condition holds.
    Met,
    /// It holds if an answer given as unknown turns out one way (or the plan
    /// leaves it to the county).
    Possibly,
    /// A condition fails: the reasons say which.
    NotMet,
}

/// How often an amount is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    Month,
}

/// One amount of a benefit (a voucher has one per service category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub label: Text,
    /// `None`: the plan fixes no amount (the county sets it).
    pub fen: Option<i64>,
    pub per: Per,
    /// An amount that is a ceiling (a fee cap), not a payment.
    pub ceiling: bool,
}

/// Where a parameter comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub name: String,
    pub value: String,
    pub from: NaiveDate,
    pub clause: String,
    /// A stand-in figure (the county incomes), not an official one.
    pub placeholder: bool,
}

impl From<&Used> for Source {
    fn from(u: &Used) -> Source {
        Source {
            name: u.name.clone(),
            value: match &u.value {
                Value::Int(n) => n.to_string(),
                Value::Text(t) => t.clone(),
            },
            from: u.from,
            clause: u.clause.clone(),
            placeholder: u.placeholder,
        }
    }
}

/// One benefit and the visitor's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entitlement {
    /// The rule code (`centenarian`, `home_care_voucher` …).
    pub code: String,
    pub name: Text,
    pub status: Status,
    /// What it is.
    pub what: Text,
    pub amounts: Vec<Amount>,
    pub sources: Vec<Source>,
    /// The conditions that hold.
    pub met: Vec<Text>,
    /// The conditions that fail: what would qualify.
    pub unmet: Vec<Text>,
    /// What an unknown answer would have to be.
    pub unknown: Vec<Text>,
    /// Anything else the visitor should know.
    pub notes: Vec<Text>,
    /// Where to apply.
    pub apply: Text,
    /// Link to the place search (`/portal/places`) for where the service is.
    pub places: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum For {
    Elder,
    Child,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Office {
    code: String,
    #[serde(rename = "for")]
    for_: For,
    zh: String,
    en: String,
    what_zh: String,
    what_en: String,
    apply_zh: String,
    apply_en: String,
    places: bool,
}

#[derive(Deserialize)]
struct File {
    entitlement: Vec<Office>,
}

/// The benefits the check knows, by code, and whom they are for.
const CODES: &[(&str, For)] = &[
    ("centenarian", For::Elder),
    ("elderly_allowance", For::Elder),
    ("home_care_voucher", For::Elder),
    ("visits", For::Elder),
    ("care_home_admission", For::Elder),
    ("inclusive_childcare", For::Child),
    ("childcare_allowance", For::Child),
];

/// The descriptions and offices of `data/policy/entitlements.toml`.
#[derive(Debug, Clone)]
pub struct Offices {
    entries: Vec<Office>,
}

fn bad(reason: impl Into<String>) -> RulesError {
    RulesError::Parameters {
        file: FILE.into(),
        reason: reason.into(),
    }
}

impl Offices {
    /// The embedded file (parsed once).
    pub fn embedded() -> Result<&'static Offices, RulesError> {
        static O: OnceLock<Result<Offices, RulesError>> = OnceLock::new();
        crate::parsed_once(&O, || Offices::parse(EMBEDDED))
    }

    /// Parses the file: every benefit the check knows appears once, for the
    /// right person, and nothing else.
    pub fn parse(text: &str) -> Result<Offices, RulesError> {
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for e in &f.entitlement {
            match CODES.iter().find(|(c, _)| *c == e.code) {
                None => return Err(bad(format!("unknown entitlement {:?}", e.code))),
                Some((_, w)) if *w != e.for_ => {
                    return Err(bad(format!("entitlement {}: wrong `for`", e.code)));
                }
                _ => {}
            }
            if f.entitlement.iter().filter(|x| x.code == e.code).count() > 1 {
                return Err(bad(format!("entitlement {} twice", e.code)));
            }
        }
        for (c, _) in CODES {
            if !f.entitlement.iter().any(|e| e.code == *c) {
                return Err(bad(format!("entitlement {c} missing")));
            }
        }
        Ok(Offices {
            entries: f.entitlement,
        })
    }
}

/// Everything the check reads: the parameters and the rule tables.
#[derive(Debug, Clone, Copy)]
pub struct Rulebook<'a> {
    pub params: &'a Params,
    pub vouchers: &'a Vouchers,
    pub visits: &'a VisitRules,
    pub admission: &'a admission::Rulebook,
    pub classes: &'a ClassLimits,
    pub offices: &'a Offices,
}

impl Rulebook<'static> {
    /// The embedded tables.
    pub fn embedded() -> Result<Rulebook<'static>, RulesError> {
        static CLASSES: OnceLock<Result<ClassLimits, RulesError>> = OnceLock::new();
        Ok(Rulebook {
            params: Params::embedded()?,
            vouchers: Vouchers::embedded()?,
            visits: VisitRules::embedded()?,
            admission: admission::Rulebook::embedded()?,
            classes: crate::parsed_once(&CLASSES, ClassLimits::embedded)?,
            offices: Offices::embedded()?,
        })
    }
}

/// Age in completed years on `day` of a person born `birth`.
pub fn age_years(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut a = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

fn month_label(y: i32, m: u32) -> Text {
    text(format!("{y}年{m}月"), format!("{y}-{m:02}"))
}

/// A draft verdict, filled by each rule.
struct Draft {
    amounts: Vec<Amount>,
    sources: Vec<Source>,
    met: Vec<Text>,
    unmet: Vec<Text>,
    unknown: Vec<Text>,
    /// The plan leaves the benefit to the county: at best "possibly".
    at_most_possibly: bool,
    notes: Vec<Text>,
}

impl Draft {
    fn new() -> Draft {
        Draft {
            amounts: Vec::new(),
            sources: Vec::new(),
            met: Vec::new(),
            unmet: Vec::new(),
            unknown: Vec::new(),
            at_most_possibly: false,
            notes: Vec::new(),
        }
    }
    fn cond(&mut self, holds: bool, yes: Text, no: Text) {
        if holds {
            self.met.push(yes);
        } else {
            self.unmet.push(no);
        }
    }
    fn used(&mut self, u: &Used) {
        if !self.sources.iter().any(|s| s.name == u.name) {
            self.sources.push(Source::from(u));
        }
    }
    fn status(&self) -> Status {
        if !self.unmet.is_empty() {
            Status::NotMet
        } else if !self.unknown.is_empty() || self.at_most_possibly {
            Status::Possibly
        } else {
            Status::Met
        }
    }
}

/// Checks the answers against every benefit for that kind of person, on
/// `today` (the month's rules, read as the monthly runs read them). Returns
/// one verdict per benefit, in the file's order, met ones included.
pub fn check(
    answers: &Answers,
    book: &Rulebook<'_>,
    today: NaiveDate,
) -> Result<Vec<Entitlement>, RulesError> {
    let mut out = Vec::new();
    for o in &book.offices.entries {
        let draft = match (answers, o.code.as_str()) {
            (Answers::Elder(a), "centenarian") => centenarian(a, book, today)?,
            (Answers::Elder(a), "elderly_allowance") => elderly_allowance(a, book, today)?,
            (Answers::Elder(a), "home_care_voucher") => home_care_voucher(a, book, today),
            (Answers::Elder(a), "visits") => visits(a, book, today)?,
            (Answers::Elder(a), "care_home_admission") => care_home_admission(a, book, today),
            (Answers::Child(a), "inclusive_childcare") => inclusive_childcare(a, book, today)?,
            (Answers::Child(a), "childcare_allowance") => childcare_allowance(a, book, today)?,
            _ => continue,
        };
        out.push(Entitlement {
            code: o.code.clone(),
            name: text(&o.zh, &o.en),
            status: draft.status(),
            what: text(&o.what_zh, &o.what_en),
            amounts: draft.amounts,
            sources: draft.sources,
            met: draft.met,
            unmet: draft.unmet,
            unknown: draft.unknown,
            notes: draft.notes,
            apply: text(&o.apply_zh, &o.apply_en),
            places: o.places,
        });
    }
    Ok(out)
}

fn hukou_cond(d: &mut Draft, hukou: &Place, whose_zh: &str, whose_en: &str) {
    d.cond(
        subsidies::jiaxing_hukou(hukou.code()),
        text(
            format!("{whose_zh}嘉兴户籍"),
            format!("{whose_en} Jiaxing hukou"),
        ),
        text(
            format!("须{whose_zh}嘉兴户籍"),
            format!("needs {whose_en} Jiaxing hukou"),
        ),
    );
}

fn resident_cond(d: &mut Draft, residence: &Place) {
    d.cond(
        matches!(residence, Place::County(_)),
        text("居住在嘉兴", "lives in Jiaxing"),
        text(
            "须居住在嘉兴（由居住地村（社区）提供）",
            "needs to live in Jiaxing (the village where one lives provides it)",
        ),
    );
}

/// An age condition as the centenarian rule reads it: from the birthday's month.
fn age_cond(d: &mut Draft, a: &ElderAnswers, age: i64, today: NaiveDate) {
    let age = i32::try_from(age.clamp(0, 150)).unwrap_or(150);
    let birth = a.birth_date();
    let (y, m) = subsidies::turns(birth, age);
    let when = month_label(y, m);
    d.cond(
        subsidies::turned_by(birth, age, Month::of(today)),
        text(
            format!("年满{age}周岁（{}起）", when.zh),
            format!("aged {age} or over (from {})", when.en),
        ),
        text(
            format!("须年满{age}周岁：{}满{age}周岁", when.zh),
            format!("needs to be aged {age}: turns {age} in {}", when.en),
        ),
    );
}

fn centenarian(
    a: &ElderAnswers,
    book: &Rulebook<'_>,
    today: NaiveDate,
) -> Result<Draft, RulesError> {
    // The engine reads a month's parameters on its 15th (the mid-month rule).
    let day = Month::of(today).mid();
    let mut d = Draft::new();
    let (age, used) = book.params.int("centenarian.age", day)?;
    d.used(&used);
    let (yuan, used) = book.params.int("centenarian.monthly", day)?;
    d.used(&used);
    age_cond(&mut d, a, age, today);
    hukou_cond(&mut d, &a.hukou, "", "a");
    d.amounts.push(Amount {
        label: text("每月", "a month"),
        fen: Some(yuan * 100),
        per: Per::Month,
        ceiling: false,
    });
    Ok(d)
}

fn elderly_allowance(
    a: &ElderAnswers,
    book: &Rulebook<'_>,
    today: NaiveDate,
) -> Result<Draft, RulesError> {
    let mut d = Draft::new();
    let (age, used) = book.params.int("elderly_allowance.age", today)?;
    d.used(&used);
    age_cond(&mut d, a, age, today);
    hukou_cond(&mut d, &a.hukou, "", "a");
    d.amounts.push(Amount {
        label: text("金额由县（市、区）确定", "amount set by the county"),
        fen: None,
        per: Per::Month,
        ceiling: false,
    });
    Ok(d)
}

fn who_text(w: &VoucherWho) -> Text {
    match w {
        VoucherWho::Difficulty(c) => text(c.label_zh(), c.label_en()),
        VoucherWho::AbilityAtLeast(n) => {
            let l = AbilityLevel::ALL
                .iter()
                .copied()
                .find(|l| l.number() == *n)
                .unwrap_or(AbilityLevel::Complete);
            text(
                format!("能力等级为{}或更重", l.label_zh()),
                format!("ability level {} or worse", l.label_en().to_lowercase()),
            )
        }
    }
}

fn home_care_voucher(a: &ElderAnswers, book: &Rulebook<'_>, today: NaiveDate) -> Draft {
    let first = Month::of(today).first();
    let mut d = Draft::new();
    resident_cond(&mut d, &a.residence);
    // The vouchers with the answers; then, if ability is unknown, with the
    // worst level (what an assessment could give).
    let amounts = |ability: Option<AbilityLevel>| {
        ServiceCategory::ALL
            .iter()
            .map(|c| (*c, book.vouchers.monthly(&a.categories, ability, *c, first)))
            .filter(|(_, (fen, _))| *fen > 0)
            .map(|(c, (fen, v))| (c, fen, v.cloned()))
            .collect::<Vec<_>>()
    };
    let mut got = amounts(a.ability);
    if got.is_empty() && a.ability.is_none() {
        got = amounts(Some(AbilityLevel::Complete));
        if !got.is_empty() {
            for v in &book.vouchers.entries {
                if v.in_effect(first) && matches!(v.who, VoucherWho::AbilityAtLeast(_)) {
                    let w = who_text(&v.who);
                    d.unknown.push(text(
                        format!(
                            "能力等级未评估：如评估为{}即可享受",
                            w.zh.trim_start_matches("能力等级为")
                        ),
                        format!("ability not assessed: qualifies with {}", w.en),
                    ));
                }
            }
        }
    }
    if got.is_empty() {
        let mut whos: Vec<Text> = Vec::new();
        for v in &book.vouchers.entries {
            if v.in_effect(first) {
                let w = who_text(&v.who);
                if !whos.contains(&w) {
                    whos.push(w);
                }
            }
        }
        d.unmet.push(needs_one_of(&whos));
    }
    for (c, fen, v) in got {
        d.amounts.push(Amount {
            label: text(c.label_zh(), c.label_en()),
            fen: Some(fen),
            per: Per::Month,
            ceiling: false,
        });
        if let Some(v) = v {
            // An ability entry reached only by supposing the worst level is
            // not a condition met (the unknown answer says so).
            let supposed = matches!(v.who, VoucherWho::AbilityAtLeast(_)) && a.ability.is_none();
            let who = who_text(&v.who);
            if !supposed && !d.met.contains(&who) {
                d.met.push(who);
            }
            if !d.sources.iter().any(|s| s.name == v.name) {
                d.sources.push(Source {
                    name: v.name.clone(),
                    value: v.zh.clone(),
                    from: v.from,
                    clause: v.clause.clone(),
                    placeholder: false,
                });
            }
        }
    }
    d
}

fn visits(a: &ElderAnswers, book: &Rulebook<'_>, today: NaiveDate) -> Result<Draft, RulesError> {
    let rules = book.visits.for_month(today)?;
    let mut d = Draft::new();
    resident_cond(&mut d, &a.residence);
    d.cond(
        a.living != LivingArrangement::InInstitution,
        text("居住在家中", "lives at home"),
        text(
            "入住养老机构的老年人由机构照护，不在探访名单",
            "people living in a care home are cared for there, not visited",
        ),
    );
    if a.living != LivingArrangement::InInstitution {
        let mut whos: Vec<Text> = rules
            .special_difficulty
            .iter()
            .map(|c| text(c.label_zh(), c.label_en()))
            .collect();
        whos.extend(
            rules
                .living_arrangement
                .iter()
                .map(|l| text(l.label_zh(), l.label_en())),
        );
        let due = rules.due(&a.categories, Some(a.living));
        d.cond(
            due,
            text("属于探访对象", "in a group that is visited"),
            needs_one_of(&whos),
        );
    }
    d.sources.push(Source {
        name: "visits.who".into(),
        value: String::new(),
        from: rules.month,
        clause: rules.clauses.first().cloned().unwrap_or_default(),
        placeholder: false,
    });
    Ok(d)
}

fn care_home_admission(a: &ElderAnswers, book: &Rulebook<'_>, today: NaiveDate) -> Draft {
    let rules = book.admission.on(today);
    let mut d = Draft::new();
    let applicant = |ability: Option<AbilityLevel>| Applicant {
        key: String::new(),
        birth_date: a.birth_date(),
        ability,
        categories: a.categories.clone(),
        applied_at: today.and_hms_opt(0, 0, 0).unwrap_or_default(),
        active_elderly: matches!(a.residence, Place::County(_)),
        in_care_home: a.living == LivingArrangement::InInstitution,
    };
    let me = applicant(a.ability);
    for why in admission::eligibility(rules, &me, today) {
        d.unmet.push(match why {
            admission::Ineligible::NotActiveElderly => text(
                "须为居住在嘉兴的在册老年人",
                "needs to be an elderly person living in Jiaxing",
            ),
            w => text(w.zh(), w.en()),
        });
    }
    let last = rules.classes.iter().map(|c| c.rank).max().unwrap_or(0);
    let class = admission::class_of(rules, &me);
    if d.unmet.is_empty() {
        if class.rank < last {
            d.met.push(text(&class.zh, &class.en));
        } else {
            let better: Vec<&admission::PriorityClass> =
                rules.classes.iter().filter(|c| c.rank < last).collect();
            d.unmet.push(text(
                format!(
                    "可申请入住，但不属于优先类别；优先类别为：{}",
                    better
                        .iter()
                        .map(|c| c.zh.as_str())
                        .collect::<Vec<_>>()
                        .join("；")
                ),
                format!(
                    "may apply, but in no priority class; the priority classes are: {}",
                    better
                        .iter()
                        .map(|c| c.en.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ));
        }
        // Ability unknown: an assessment could put the person in a better class.
        if a.ability.is_none() {
            let best = admission::class_of(rules, &applicant(Some(AbilityLevel::Complete)));
            if best.rank < class.rank {
                let t = text(
                    format!("能力等级未评估：经评估可能属于“{}”", best.zh),
                    format!("ability not assessed: an assessment may give “{}”", best.en),
                );
                if class.rank < last {
                    // A priority already; a better one is a note.
                    d.notes.push(t);
                } else {
                    // No priority unless the assessment gives one.
                    d.unmet.clear();
                    d.unknown.push(t);
                }
            }
        }
    }
    d
}

/// The class type of a child's age: the national table's rows for single-age
/// classes, from the row's minimum (inclusive) to its maximum (exclusive).
pub fn class_for_age(classes: &ClassLimits, age_months: u32) -> Option<ClassType> {
    [
        ClassType::InfantClass,
        ClassType::YoungToddlerClass,
        ClassType::OlderToddlerClass,
    ]
    .into_iter()
    .find(|t| {
        classes
            .get(*t)
            .is_some_and(|l| l.min_age_months <= age_months && age_months < l.max_age_months)
    })
}

fn inclusive_childcare(
    a: &ChildAnswers,
    book: &Rulebook<'_>,
    today: NaiveDate,
) -> Result<Draft, RulesError> {
    let mut d = Draft::new();
    let class = class_for_age(book.classes, a.age_months);
    let ages = [
        ClassType::InfantClass,
        ClassType::YoungToddlerClass,
        ClassType::OlderToddlerClass,
    ]
    .iter()
    .filter_map(|t| book.classes.get(*t))
    .fold((u32::MAX, 0), |(lo, hi), l| {
        (lo.min(l.min_age_months), hi.max(l.max_age_months))
    });
    match class {
        Some(t) => d.met.push(text(
            format!("{}个月，可入{}", a.age_months, t.label_zh()),
            format!("{} months: {}", a.age_months, t.label_en().to_lowercase()),
        )),
        None => d.unmet.push(text(
            format!(
                "托育机构收托{}至{}个月的婴幼儿（{}个月不在此范围）",
                ages.0, ages.1, a.age_months
            ),
            format!(
                "childcare institutions take children from {} to {} months ({} months is outside)",
                ages.0, ages.1, a.age_months
            ),
        )),
    }
    if let Some(l) = class.and_then(|t| book.classes.get(t)) {
        d.sources.push(Source {
            name: format!("class_age.{}", l.class_type.code()),
            value: format!("{}-{}", l.min_age_months, l.max_age_months),
            from: l.effective_from,
            clause: l.source.clone(),
            placeholder: false,
        });
    }
    match (&a.residence, class) {
        (Place::County(county), Some(t)) => {
            d.met.push(text("居住在嘉兴", "lives in Jiaxing"));
            let cap = subsidies::price_cap(book.params, county, t, today)?;
            d.used(&cap.share);
            d.used(&cap.income);
            d.amounts.push(Amount {
                label: text(
                    format!("{}每月收费上限", t.label_zh()),
                    format!("monthly fee cap, {}", t.label_en().to_lowercase()),
                ),
                fen: Some(cap.cap_fen),
                per: Per::Month,
                ceiling: true,
            });
        }
        (Place::Elsewhere, _) => d.unmet.push(text(
            "请选择孩子将入托的嘉兴县（市、区）：收费上限按当地收入计算",
            "choose the Jiaxing county where the child would attend: the cap follows its income",
        )),
        _ => {}
    }
    Ok(d)
}

fn childcare_allowance(
    a: &ChildAnswers,
    book: &Rulebook<'_>,
    today: NaiveDate,
) -> Result<Draft, RulesError> {
    let mut d = Draft::new();
    d.at_most_possibly = true;
    let (max, used) = book
        .params
        .int("childcare_allowance.max_age_months", today)?;
    d.used(&used);
    d.cond(
        i64::from(a.age_months) < max,
        text(
            format!("未满{max}个月（三周岁）"),
            format!("under {max} months (three years)"),
        ),
        text(
            format!("发放至孩子满{max}个月（三周岁）前"),
            format!("paid until the child is {max} months (three years) old"),
        ),
    );
    hukou_cond(&mut d, &a.parents_hukou, "父母", "a parent with");
    match a.birth_order {
        BirthOrder::SecondOrLater => d.met.push(text("二孩或多孩", "a second or later child")),
        BirthOrder::First => d.unmet.push(text(
            "面向符合政策生育的二孩、多孩家庭",
            "for families with a second or later child",
        )),
        BirthOrder::Unknown => d.unknown.push(text(
            "须为符合政策生育的二孩或多孩",
            "the child needs to be a second or later child",
        )),
    }
    d.notes.push(text(
        "规划提出“探索研究”，金额和条件以所在县（市、区）公布为准",
        "the plan asks counties to study it: your county publishes the amount and conditions",
    ));
    d.amounts.push(Amount {
        label: text("金额由县（市、区）确定", "amount set by the county"),
        fen: None,
        per: Per::Month,
        ceiling: false,
    });
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsidies::{Elder, Period, Rule, Snapshot};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
    }

    fn elder(year: i32, month: u32) -> ElderAnswers {
        ElderAnswers {
            birth_year: year,
            birth_month: month,
            hukou: Place::County("330402".into()),
            residence: Place::County("330402".into()),
            categories: vec![],
            ability: Some(AbilityLevel::Intact),
            living: LivingArrangement::WithFamily,
        }
    }

    fn child(months: u32) -> ChildAnswers {
        ChildAnswers {
            age_months: months,
            parents_hukou: Place::County("330411".into()),
            residence: Place::County("330402".into()),
            birth_order: BirthOrder::SecondOrLater,
        }
    }

    fn run(a: &Answers) -> Vec<Entitlement> {
        check(a, &Rulebook::embedded().expect("rules"), today()).expect("check")
    }

    fn get<'a>(v: &'a [Entitlement], code: &str) -> &'a Entitlement {
        v.iter().find(|e| e.code == code).expect(code)
    }

    fn fen(e: &Entitlement, label_zh: &str) -> Option<i64> {
        e.amounts
            .iter()
            .find(|a| a.label.zh == label_zh)
            .and_then(|a| a.fen)
    }

    #[test]
    fn the_file_lists_every_benefit_once() {
        let o = Offices::embedded().expect("offices");
        assert_eq!(o.entries.len(), CODES.len());
        let bad = EMBEDDED.replace("code = \"visits\"", "code = \"massage\"");
        assert!(Offices::parse(&bad).is_err());
        let bad = EMBEDDED.replace(
            "code = \"childcare_allowance\"\nfor = \"child\"",
            "code = \"childcare_allowance\"\nfor = \"elder\"",
        );
        assert!(Offices::parse(&bad).is_err());
    }

    #[test]
    fn centenarian_from_the_month_of_the_hundredth_birthday() {
        // Born December 1926: 100 in December 2026 — paid 600 yuan a month.
        let v = run(&Answers::Elder(elder(1926, 12)));
        let c = get(&v, "centenarian");
        assert_eq!(c.status, Status::Met);
        assert_eq!(fen(c, "每月"), Some(60_000));
        assert!(
            c.sources
                .iter()
                .any(|s| s.name == "centenarian.monthly" && s.clause.contains("600元"))
        );
        // Born January 1927: 100 only in January 2027.
        let v = run(&Answers::Elder(elder(1927, 1)));
        let c = get(&v, "centenarian");
        assert_eq!(c.status, Status::NotMet);
        assert!(
            c.unmet.iter().any(|t| t.zh.contains("2027年1月")),
            "{:?}",
            c.unmet
        );
        // 100 but hukou elsewhere: not paid.
        let mut a = elder(1920, 5);
        a.hukou = Place::Elsewhere;
        let v = run(&Answers::Elder(a));
        let c = get(&v, "centenarian");
        assert_eq!(c.status, Status::NotMet);
        assert!(c.unmet.iter().any(|t| t.en.contains("Jiaxing hukou")));
    }

    #[test]
    fn old_age_allowance_from_eighty() {
        // Exactly 80 this month (born 1946-12): covered; a month younger: not.
        let v = run(&Answers::Elder(elder(1946, 12)));
        let e = get(&v, "elderly_allowance");
        assert_eq!(e.status, Status::Met);
        assert_eq!(e.amounts[0].fen, None, "the plan fixes no amount");
        let v = run(&Answers::Elder(elder(1947, 1)));
        assert_eq!(get(&v, "elderly_allowance").status, Status::NotMet);
        assert_eq!(get(&v, "centenarian").status, Status::NotMet);
    }

    #[test]
    fn vouchers_take_the_largest_entry_per_category() {
        // 特困 and severely impaired (vouchers.toml): meals 特困 200 > 失能 100;
        // bathing 失能 150 > 特困 100; cleaning 100 vs 50; rehabilitation 150
        // vs 100; escort 50 both; other 0 (not listed).
        let mut a = elder(1940, 6);
        a.categories = vec![SpecialDifficulty::ExtremePoverty];
        a.ability = Some(AbilityLevel::Severe);
        let v = run(&Answers::Elder(a));
        let e = get(&v, "home_care_voucher");
        assert_eq!(e.status, Status::Met);
        assert_eq!(fen(e, "助餐"), Some(20_000));
        assert_eq!(fen(e, "助浴"), Some(15_000));
        assert_eq!(fen(e, "助洁"), Some(10_000));
        assert_eq!(fen(e, "康复"), Some(15_000));
        assert_eq!(fen(e, "陪诊"), Some(5_000));
        assert_eq!(e.amounts.len(), 5);
        assert_eq!(e.met.len(), 1 + 2, "{:?}", e.met); // lives in Jiaxing, 特困, 失能

        // No category, ability unknown: possibly, at the severe entry's amounts.
        let mut a = elder(1940, 6);
        a.ability = None;
        let v = run(&Answers::Elder(a));
        let e = get(&v, "home_care_voucher");
        assert_eq!(e.status, Status::Possibly);
        assert_eq!(fen(e, "助餐"), Some(10_000));
        assert_eq!(fen(e, "助浴"), Some(15_000));
        assert!(e.unknown[0].zh.contains("重度失能"), "{:?}", e.unknown);

        // Moderately impaired, no category: none, and the reason lists who qualifies.
        let mut a = elder(1940, 6);
        a.ability = Some(AbilityLevel::Moderate);
        let v = run(&Answers::Elder(a));
        let e = get(&v, "home_care_voucher");
        assert_eq!(e.status, Status::NotMet);
        assert!(e.amounts.is_empty());
        assert!(e.unmet[0].zh.contains("低保边缘"), "{:?}", e.unmet);
    }

    #[test]
    fn visits_for_special_difficulty_at_home_only() {
        let mut a = elder(1940, 6);
        a.categories = vec![SpecialDifficulty::MinimumLivingAllowance];
        assert_eq!(
            get(&run(&Answers::Elder(a.clone())), "visits").status,
            Status::Met
        );
        a.living = LivingArrangement::InInstitution;
        assert_eq!(
            get(&run(&Answers::Elder(a.clone())), "visits").status,
            Status::NotMet
        );
        // Living alone without a category: the rules visit no arrangement by default.
        let mut b = elder(1940, 6);
        b.living = LivingArrangement::LivingAlone;
        assert_eq!(
            get(&run(&Answers::Elder(b)), "visits").status,
            Status::NotMet
        );
        // Agreement with the month's rules the rounds apply.
        let rules = VisitRules::embedded()
            .expect("visits")
            .for_month(today())
            .expect("month");
        assert!(!rules.due(&a.categories, Some(a.living)));
        assert!(rules.due(&a.categories, Some(LivingArrangement::WithFamily)));
    }

    #[test]
    fn admission_priority_by_class() {
        // 特困 and moderately impaired: first class (admission.toml: 特困, ability ≥ 2).
        let mut a = elder(1940, 6);
        a.categories = vec![SpecialDifficulty::ExtremePoverty];
        a.ability = Some(AbilityLevel::Moderate);
        let e = get(&run(&Answers::Elder(a.clone())), "care_home_admission").clone();
        assert_eq!(e.status, Status::Met);
        assert!(e.met[0].zh.starts_with("第一优先类"), "{:?}", e.met);
        // Mildly impaired 特困: second class.
        a.ability = Some(AbilityLevel::Mild);
        let e = get(&run(&Answers::Elder(a.clone())), "care_home_admission").clone();
        assert!(e.met[0].zh.starts_with("第二优先类"));
        assert!(e.notes.is_empty());
        // Not assessed: second, and the note says an assessment may give the first.
        a.ability = None;
        let e = get(&run(&Answers::Elder(a.clone())), "care_home_admission").clone();
        assert_eq!(e.status, Status::Met);
        assert!(e.notes[0].zh.contains("第一优先类"), "{:?}", e.notes);
        // Already in a care home: not eligible.
        a.living = LivingArrangement::InInstitution;
        let e = get(&run(&Answers::Elder(a)), "care_home_admission").clone();
        assert_eq!(e.status, Status::NotMet);
        assert!(e.unmet.iter().any(|t| t.zh == "已入住养老机构"));
        // No category: may apply, no priority.
        let e = get(&run(&Answers::Elder(elder(1940, 6))), "care_home_admission").clone();
        assert_eq!(e.status, Status::NotMet);
        assert!(e.unmet[0].zh.contains("不属于优先类别"));
    }

    #[test]
    fn inclusive_childcare_fee_caps_by_age() {
        // 南湖 income 2025 (placeholder) 76,000 yuan a year; December 2026's cap
        // reads 2025. 乳儿班 60%: 76,000 × 60% ÷ 12 = 3,800.00 yuan.
        let v = run(&Answers::Child(child(6)));
        let e = get(&v, "inclusive_childcare");
        assert_eq!(e.status, Status::Met);
        assert_eq!(e.amounts[0].fen, Some(380_000));
        assert!(e.amounts[0].ceiling);
        assert!(
            e.sources.iter().any(|s| s.placeholder),
            "the income is a placeholder"
        );
        // 12 months: 托小班 50%: 76,000 × 50% ÷ 12 = 3,166.666… → 3,166.67.
        let e = get(&run(&Answers::Child(child(12))), "inclusive_childcare").clone();
        assert_eq!(e.amounts[0].fen, Some(316_667));
        assert!(e.met[0].zh.contains("托小班"));
        // 35 months: 托大班 40%: 76,000 × 40% ÷ 12 = 2,533.333… → 2,533.33.
        let e = get(&run(&Answers::Child(child(35))), "inclusive_childcare").clone();
        assert_eq!(e.amounts[0].fen, Some(253_333));
        // 5 and 36 months: outside 6–36.
        for m in [5, 36] {
            let e = get(&run(&Answers::Child(child(m))), "inclusive_childcare").clone();
            assert_eq!(e.status, Status::NotMet, "{m}");
            assert!(e.amounts.is_empty());
        }
        // Living elsewhere: no county to cap by.
        let mut c = child(20);
        c.residence = Place::Elsewhere;
        assert_eq!(
            get(&run(&Answers::Child(c)), "inclusive_childcare").status,
            Status::NotMet
        );
    }

    #[test]
    fn childcare_allowance_is_at_most_possible() {
        let e = get(&run(&Answers::Child(child(35))), "childcare_allowance").clone();
        assert_eq!(e.status, Status::Possibly);
        let e = get(&run(&Answers::Child(child(36))), "childcare_allowance").clone();
        assert_eq!(e.status, Status::NotMet);
        let mut c = child(10);
        c.birth_order = BirthOrder::First;
        assert_eq!(
            get(&run(&Answers::Child(c.clone())), "childcare_allowance").status,
            Status::NotMet
        );
        c.birth_order = BirthOrder::SecondOrLater;
        c.parents_hukou = Place::Elsewhere;
        assert_eq!(
            get(&run(&Answers::Child(c)), "childcare_allowance").status,
            Status::NotMet
        );
        // An elder's answers give no child benefits, and the reverse.
        assert!(
            run(&Answers::Elder(elder(1940, 1)))
                .iter()
                .all(|e| e.code != "childcare_allowance")
        );
        assert!(
            run(&Answers::Child(child(10)))
                .iter()
                .all(|e| e.code != "centenarian")
        );
    }

    #[test]
    fn the_engine_pays_exactly_what_the_check_says() {
        // The same person as a register entry: the monthly run of this month
        // pays the centenarian allowance exactly when the check says "met",
        // the same amount.
        let params = Params::embedded().expect("params");
        let month = Month::of(today());
        let cases = [
            (1926, 11, "330402"),
            (1926, 12, "330482"),
            (1927, 1, "330402"),
            (1915, 3, "330483"),
            (1926, 12, ""),
            (1950, 7, "330421"),
        ];
        for (y, m, hukou) in cases {
            let mut a = elder(y, m);
            a.hukou = if hukou.is_empty() {
                Place::Elsewhere
            } else {
                Place::County(hukou.into())
            };
            let e = get(&run(&Answers::Elder(a.clone())), "centenarian").clone();
            let snap = Snapshot {
                elders: vec![Elder {
                    id: "E1".into(),
                    name: String::new(),
                    birth_date: a.birth_date(),
                    hukou_area_code: (!hukou.is_empty()).then(|| hukou.to_string()),
                    status: Default::default(),
                    death_date: None,
                }],
                ..Default::default()
            };
            let out = subsidies::compute(&snap, params, Period::Month(month)).expect("compute");
            let paid: Vec<i64> = out
                .lines
                .iter()
                .filter(|l| l.rule == Rule::Centenarian)
                .map(|l| l.amount_fen)
                .collect();
            match e.status {
                Status::Met => assert_eq!(paid, vec![fen(&e, "每月").expect("amount")], "{y}-{m}"),
                _ => assert!(paid.is_empty(), "{y}-{m}: {paid:?}"),
            }
        }
    }

    #[test]
    fn age_in_completed_years() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        assert_eq!(age_years(d(1966, 12, 1), d(2026, 12, 3)), 60);
        assert_eq!(age_years(d(1966, 12, 4), d(2026, 12, 3)), 59);
        assert_eq!(
            class_for_age(&ClassLimits::embedded().expect("t"), 24),
            Some(ClassType::OlderToddlerClass)
        );
    }
}
