//! The subsidy engine (财政补助): every subsidy the plan fixes (§19, annex 2)
//! as a formula over an in-memory snapshot of the registers, with dated
//! parameters from `data/policy/` ([`params`]). Money is integer fen (分)
//! end to end; a yuan figure from a parameter is multiplied by 100, and the
//! only divisions (an annual amount pro rata by month, a price cap, a
//! funder's share) round half up to the fen, once, where the docs say.
//!
//! [`compute`] gives a period's entitlements; [`run`] adds what the ledger
//! says was paid: one-time awards already paid are not paid again, and a
//! month (or year) already paid whose entitlement has changed since gives an
//! adjustment line (补发 / 扣回), never a rewrite. [`whatif`] costs a reform
//! month by month. Every line carries its [`Explanation`]: the parameters
//! with their dates and clauses, the inputs read, and the arithmetic.
//! `docs/subsidies.md` gives each clause's reading.

pub mod cases;
pub mod params;
mod rules;
pub use rules::inclusive_child_rate;
pub(crate) use rules::{jiaxing_hukou, turned_by, turns};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use laoxiao_model::person::PersonStatus;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, StudentCohort};
use serde::{Deserialize, Serialize};

use crate::error::RulesError;
pub use params::{Dated, Params, Used, Value};

/// Version of the explanation format stored with each line (bumped when its
/// shape changes, so an old paid run still reads as it was written).
pub const EXPLANATION_VERSION: u32 = 1;

/// A calendar month, `2025-06`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// Parses `2025-06` (years 2020–2035, like the indicators' periods).
    pub fn parse(s: &str) -> Result<Month, RulesError> {
        let p = crate::indicators::Period::parse(s)?;
        match p.month {
            Some(month) => Ok(Month {
                year: p.year,
                month,
            }),
            None => Err(RulesError::Period {
                raw: s.chars().take(20).collect(),
            }),
        }
    }

    pub fn first(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn last(self) -> NaiveDate {
        self.next().first().pred_opt().unwrap_or_default()
    }

    /// The day a month's conditions are read on (the mid-month rule, see
    /// `docs/subsidies.md`): the 15th.
    pub fn mid(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 15).unwrap_or_default()
    }

    pub fn next(self) -> Month {
        self.add(1)
    }

    /// `n` months later (earlier when negative).
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, n: i32) -> Month {
        let i = self.year * 12 + self.month as i32 - 1 + n;
        Month {
            year: i.div_euclid(12),
            month: (i.rem_euclid(12) + 1) as u32,
        }
    }

    pub fn of(d: NaiveDate) -> Month {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = RulesError;
    fn try_from(s: String) -> Result<Self, RulesError> {
        Month::parse(&s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

/// What a run covers: a month (monthly rules and one-time awards) or a year
/// (annual rules, pro rata by month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Month(Month),
    Year(i32),
}

impl Period {
    /// `2025-06` or `2025`.
    pub fn parse(s: &str) -> Result<Period, RulesError> {
        let p = crate::indicators::Period::parse(s)?;
        Ok(match p.month {
            Some(month) => Period::Month(Month {
                year: p.year,
                month,
            }),
            None => Period::Year(p.year),
        })
    }

    pub fn cadence(self) -> Cadence {
        match self {
            Period::Month(_) => Cadence::Monthly,
            Period::Year(_) => Cadence::Annual,
        }
    }

    /// `n` periods earlier.
    pub fn back(self, n: i32) -> Period {
        match self {
            Period::Month(m) => Period::Month(m.add(-n)),
            Period::Year(y) => Period::Year(y - n),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Year(y) => write!(f, "{y}"),
        }
    }
}

/// How often a rule pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// 按月: computed for a month, paid in the monthly run.
    Monthly,
    /// 按年: computed for a year, pro rata by the months its conditions held.
    Annual,
    /// 一次性: paid once (the award ledger), in the monthly run of the month
    /// its condition first holds.
    OneTime,
}

macro_rules! rules_enum {
    ($( $(#[$m:meta])* $v:ident = ($code:literal, $zh:literal, $en:literal, $cad:ident) ),+ $(,)?) => {
        /// A subsidy rule (补助项目).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Rule { $( $(#[$m])* $v ),+ }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$v),+];
            pub fn code(self) -> &'static str { match self { $(Rule::$v => $code),+ } }
            pub fn zh(self) -> &'static str { match self { $(Rule::$v => $zh),+ } }
            pub fn en(self) -> &'static str { match self { $(Rule::$v => $en),+ } }
            pub fn cadence(self) -> Cadence { match self { $(Rule::$v => Cadence::$cad),+ } }
            pub fn from_code(s: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.code() == s)
            }
        }
    };
}

rules_enum! {
    /// 普惠托位运营补助
    InclusiveChildcare = ("inclusive_childcare", "普惠托位运营补助", "Inclusive childcare operating subsidy", Monthly),
    /// 百岁老人长寿保健金
    Centenarian = ("centenarian", "百岁老人长寿保健金", "Centenarian longevity allowance", Monthly),
    /// 养老服务相关专业学生生活补助
    EldercareStudent = ("eldercare_student", "养老服务相关专业学生生活补助", "Eldercare student living subsidy", Monthly),
    /// 向日葵亲子乐园/小屋运营补助
    SunflowerOperating = ("sunflower_operating", "向日葵亲子乐园/小屋运营补助", "Sunflower park / hut operating subsidy", Annual),
    /// 镇（街道）居家养老服务中心财政补助
    TownCenter = ("town_center", "镇（街道）居家养老服务中心财政补助", "Town home-care centre subsidy", Annual),
    /// 村（社区）居家养老服务照料中心财政补助
    VillageStation = ("village_station", "村（社区）居家养老服务照料中心财政补助", "Village care station subsidy", Annual),
    /// 婴幼儿照护服务指导中心工作经费
    GuidanceFunds = ("guidance_funds", "婴幼儿照护服务指导中心工作经费", "Guidance centre working funds", Annual),
    /// 向日葵亲子乐园/小屋建成奖补
    SunflowerConstruction = ("sunflower_construction", "向日葵亲子乐园/小屋建成奖补", "Sunflower construction award", OneTime),
    /// 康养联合体建设补助
    WellnessAlliance = ("wellness_alliance", "康养联合体建设补助", "Wellness alliance award", OneTime),
    /// 备案班级奖励
    ClassFiling = ("class_filing", "备案班级奖励补助", "Class filing award", OneTime),
    /// 示范性托育机构奖补
    DemonstrationAward = ("demonstration_award", "示范性托育机构奖补", "Demonstration award", OneTime),
    /// 省级示范性托育机构再奖励
    ProvincialDemonstrationAward = ("provincial_demonstration_award", "省级示范性托育机构再奖励", "Provincial demonstration award", OneTime),
    /// 连锁补助
    ChainAward = ("chain_award", "连锁补助", "Chain award", OneTime),
}

/// The one-time rule an award key names (`class_filing:C1` → class filing),
/// by the prefixes the rules write.
pub fn award_rule(key: &str) -> Option<(Rule, &str)> {
    let (prefix, subject) = key.split_once(':')?;
    let rule = match prefix {
        "sunflower_construction" => Rule::SunflowerConstruction,
        "wellness_alliance" => Rule::WellnessAlliance,
        "class_filing" => Rule::ClassFiling,
        "demonstration" => Rule::DemonstrationAward,
        "provincial_demonstration" => Rule::ProvincialDemonstrationAward,
        "chain" => Rule::ChainAward,
        _ => return None,
    };
    (!subject.is_empty()).then_some((rule, subject))
}

/// Who is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    Facility,
    /// A person (百岁老人): paid to their own account.
    Person,
    /// An operator, by credit code (the chain award).
    Operator,
    /// A school, per cohort (student living subsidy).
    School,
}

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The period's entitlement.
    Regular,
    /// A one-time award.
    Award,
    /// The difference between what a paid period's entitlement is now and
    /// what was paid (positive: 补发, negative: 扣回).
    Adjustment,
}

/// An elderly person as the centenarian rule reads them (the store loads
/// only those old enough).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elder {
    pub id: String,
    /// As shown on payout lists (masked by the store).
    #[serde(default)]
    pub name: String,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub hukou_area_code: Option<String>,
    #[serde(default)]
    pub status: PersonStatus,
    #[serde(default)]
    pub death_date: Option<NaiveDate>,
}

/// The registers as the rules read them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub facilities: Vec<Facility>,
    #[serde(default)]
    pub classes: Vec<ChildcareClass>,
    #[serde(default)]
    pub enrolments: Vec<Enrolment>,
    #[serde(default)]
    pub elders: Vec<Elder>,
    #[serde(default)]
    pub cohorts: Vec<StudentCohort>,
    /// Facilities whose operating subsidies are held by their inspections
    /// (`laoxiao_store::inspections::subsidy_holds`). Left out of the JSON
    /// (and so of the digest) when empty: a snapshot without holds has the
    /// digest it had before holds existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<Hold>,
}

/// A facility held from its operating subsidies by an inspection (暂缓拨付):
/// its latest published result 不合格 and not yet put right
/// (`failed_inspection`), or a rectification order past its deadline
/// (`overdue_rectification`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub facility_id: String,
    pub reason: String,
    pub inspection_id: String,
    /// The day of the failed inspection, or the missed deadline.
    pub since: String,
}

/// Whether a line is an operating subsidy an inspection hold withholds: a
/// recurring rule (monthly or annual) paid to the facility, a positive
/// amount (a regular line or a back payment; a clawback still goes through).
pub fn held_by_inspection(l: &Line) -> bool {
    l.payee_kind == PayeeKind::Facility && l.rule.cadence() != Cadence::OneTime && l.amount_fen > 0
}

/// Moves the lines of held facilities out of a run into notes (暂缓发放),
/// each saying the amount, the hold and that it is paid once the hold is
/// lifted: the next run's look-back finds the month unpaid and pays it as
/// an adjustment (补发).
fn withhold(out: &mut Outcome, holds: &[Hold]) {
    if holds.is_empty() {
        return;
    }
    let held: BTreeMap<&str, &Hold> = holds.iter().map(|h| (h.facility_id.as_str(), h)).collect();
    let mut kept = Vec::with_capacity(out.lines.len());
    for l in std::mem::take(&mut out.lines) {
        match held.get(l.payee_id.as_str()) {
            Some(h) if held_by_inspection(&l) => {
                let why = match h.reason.as_str() {
                    "failed_inspection" => {
                        "检查结果不合格、整改未完成 failed inspection not yet put right"
                    }
                    "overdue_rectification" => "整改逾期 rectification overdue",
                    _ => "检查暂缓 held by an inspection",
                };
                out.notes.push(Note {
                    rule: l.rule,
                    period: l.period.clone(),
                    payee_id: l.payee_id.clone(),
                    subject_id: l.subject_id.clone(),
                    reason: format!(
                        "暂缓发放 withheld {} ({}): {why} (inspection {}, since {}); paid as an adjustment once the hold is lifted",
                        yuan(l.amount_fen),
                        match l.kind {
                            LineKind::Adjustment => "adjustment",
                            _ => "regular",
                        },
                        h.inspection_id,
                        h.since
                    ),
                });
            }
            _ => kept.push(l),
        }
    }
    out.lines = kept;
}

impl Snapshot {
    /// FNV-1a digest of the snapshot (its JSON form): a run records it, so
    /// that two runs over the same registers can be told apart from two runs
    /// over different ones.
    pub fn digest(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let text = serde_json::to_string(self).unwrap_or_default();
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// One input value a rule read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub name: String,
    pub value: String,
}

/// Why a line has its amount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub version: u32,
    pub params: Vec<Used>,
    pub inputs: Vec<Input>,
    /// The arithmetic, one step per line, amounts in yuan.
    pub steps: Vec<String>,
}

impl Explanation {
    fn new() -> Self {
        Explanation {
            version: EXPLANATION_VERSION,
            ..Default::default()
        }
    }
    fn input(&mut self, name: &str, value: impl std::fmt::Display) {
        self.inputs.push(Input {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    fn param(&mut self, u: &Used) {
        if !self
            .params
            .iter()
            .any(|p| p.name == u.name && p.from == u.from)
        {
            self.params.push(u.clone());
        }
    }
    fn step(&mut self, s: impl Into<String>) {
        self.steps.push(s.into());
    }
}

/// One month's share of an annual amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthShare {
    pub month: u32,
    pub fen: i64,
}

/// One amount to pay (or adjust).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub rule: Rule,
    pub kind: LineKind,
    /// The month (`2025-06`) or year (`2025`) the amount is for.
    pub period: String,
    pub payee_kind: PayeeKind,
    pub payee_id: String,
    pub payee_name: String,
    /// 账户名: the facility's operator, the person, the school.
    pub account_holder: String,
    /// What the amount is for: the facility, class, person, cohort or operator.
    pub subject_id: String,
    /// The county (or `330400` for the city) whose budget the line belongs to.
    pub county_code: String,
    pub amount_fen: i64,
    /// 市级承担 and 县（市、区）承担: `city_fen + county_fen == amount_fen`.
    pub city_fen: i64,
    pub county_fen: i64,
    /// One-time awards: the ledger key that stops a second payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award_key: Option<String>,
    /// True when a placeholder parameter (a county income) decided it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub placeholder: bool,
    /// Annual rules: the amount month by month.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<MonthShare>,
    pub explanation: Explanation,
}

/// Why a candidate got nothing (shown by explain for a payee without a line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub rule: Rule,
    pub period: String,
    pub payee_id: String,
    pub subject_id: String,
    pub reason: String,
}

/// What was paid before (from paid runs), summed per rule, subject, period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    pub rule: Rule,
    pub subject_id: String,
    pub period: String,
    pub amount_fen: i64,
    #[serde(default)]
    pub city_fen: i64,
    #[serde(default)]
    pub county_fen: i64,
    /// The paid runs behind the sum (for the explanation).
    #[serde(default)]
    pub runs: Vec<i64>,
    /// Who was paid (a clawback line goes back to them).
    #[serde(default = "facility_kind")]
    pub payee_kind: PayeeKind,
    #[serde(default)]
    pub payee_id: String,
    #[serde(default)]
    pub payee_name: String,
    #[serde(default)]
    pub account_holder: String,
    #[serde(default)]
    pub county_code: String,
}

fn facility_kind() -> PayeeKind {
    PayeeKind::Facility
}

/// The award ledger and the paid amounts a run is checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Award keys already paid.
    #[serde(default)]
    pub awards: BTreeSet<String>,
    #[serde(default)]
    pub paid: Vec<Paid>,
}

/// A run's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub lines: Vec<Line>,
    pub notes: Vec<Note>,
}

impl Outcome {
    pub fn total_fen(&self) -> i64 {
        self.lines.iter().map(|l| l.amount_fen).sum()
    }
    pub fn placeholder(&self) -> bool {
        self.lines.iter().any(|l| l.placeholder)
    }
}

/// Rounds `num / den` half away from zero, to an integer (fen). `den > 0`.
/// The parameter holding a county's per-capita disposable income by year
/// (上一年全体居民人均可支配收入, `data/policy/income.toml`).
pub fn income_param(county: &str) -> String {
    format!("income.per_capita_disposable.{county}")
}

/// The parameter holding a class type's share of the monthly income that an
/// inclusive institution may charge (规划附件2 托育服务政策8).
pub fn price_cap_share_param(class_type: laoxiao_model::facility::ClassType) -> String {
    format!("price_cap.share.{}", class_type.code())
}

/// The day whose income figure caps fees in `year`: the previous year's
/// (the plan says 上一年).
pub fn price_cap_income_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year - 1, 7, 1).unwrap_or_default()
}

/// The inclusive price cap in fen: the yearly income in yuan ÷ 12 × the share
/// in percent (每月收费标准不高于人均可支配月收入的 60% / 50% / 40%).
pub fn price_cap_fen(income_yuan: i64, share_percent: i64) -> i64 {
    div_round(
        i128::from(income_yuan) * 100 * i128::from(share_percent),
        1200,
    )
}

/// An inclusive price cap (普惠收费上限) with the two parameters it read.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceCap {
    pub cap_fen: i64,
    pub income_yuan: i64,
    pub share_percent: i64,
    pub income: Used,
    pub share: Used,
}

/// The inclusive price cap of a class type in a county on `day`.
pub fn price_cap(
    params: &Params,
    county: &str,
    class_type: laoxiao_model::facility::ClassType,
    day: NaiveDate,
) -> Result<PriceCap, RulesError> {
    let (income_yuan, income) =
        params.int(&income_param(county), price_cap_income_day(day.year()))?;
    let (share_percent, share) = params.int(&price_cap_share_param(class_type), day)?;
    Ok(PriceCap {
        cap_fen: price_cap_fen(income_yuan, share_percent),
        income_yuan,
        share_percent,
        income,
        share,
    })
}

pub fn div_round(num: i128, den: i128) -> i64 {
    let q = if num >= 0 {
        (num + den / 2) / den
    } else {
        -((-num + den / 2) / den)
    };
    i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN })
}

/// Yuan as `1,234.50`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    let int = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", a % 100)
}

/// Parses a yuan amount (`3100`, `3100.5`, `-0.01`) into fen exactly.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().replace(',', "");
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (i, f) = s.split_once('.').unwrap_or((&s, ""));
    if i.is_empty()
        || f.len() > 2
        || !i.bytes().all(|b| b.is_ascii_digit())
        || !f.bytes().all(|b| b.is_ascii_digit())
        || i.len() > 12
    {
        return None;
    }
    let fen = i.parse::<i64>().ok()? * 100 + format!("{f:0<2}").parse::<i64>().ok()?;
    Some(if neg { -fen } else { fen })
}

/// A period's entitlements (no ledger: every award due is listed).
pub fn compute(snap: &Snapshot, params: &Params, period: Period) -> Result<Outcome, RulesError> {
    rules::entitlements(snap, params, period, &BTreeSet::new())
}

/// A run: the period's entitlements less the awards already paid, plus
/// adjustment lines for every period already paid (within the look-back
/// parameter) whose entitlement differs now from what was paid.
pub fn run(
    snap: &Snapshot,
    params: &Params,
    period: Period,
    ledger: &Ledger,
) -> Result<Outcome, RulesError> {
    let mut out = rules::entitlements(snap, params, period, &ledger.awards)?;
    let date = match period {
        Period::Month(m) => m.last(),
        Period::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or_default(),
    };
    let (back, _) = params.int("corrections.lookback_months", date)?;
    let back = i32::try_from(back.clamp(0, 120)).unwrap_or(24);
    let earliest = match period {
        Period::Month(m) => Period::Month(m.add(-back)),
        Period::Year(y) => Period::Year(y - (back + 11) / 12),
    };
    // Paid amounts per period of this run's cadence, awards aside.
    let mut by_period: BTreeMap<Period, BTreeMap<(Rule, String), &Paid>> = BTreeMap::new();
    for p in &ledger.paid {
        if p.rule.cadence() == Cadence::OneTime {
            continue;
        }
        let Ok(q) = Period::parse(&p.period) else {
            continue;
        };
        if q.cadence() != period.cadence() || q < earliest || q > period {
            continue;
        }
        by_period
            .entry(q)
            .or_default()
            .insert((p.rule, p.subject_id.clone()), p);
    }
    for (q, paid) in by_period {
        let now = if q == period {
            std::mem::take(&mut out.lines)
        } else {
            rules::entitlements(snap, params, q, &ledger.awards)?
                .lines
                .into_iter()
                .filter(|l| l.kind == LineKind::Regular)
                .collect()
        };
        let mut seen = BTreeSet::new();
        let mut lines = Vec::new();
        for l in now {
            if l.kind != LineKind::Regular {
                lines.push(l);
                continue;
            }
            let key = (l.rule, l.subject_id.clone());
            match paid.get(&key) {
                None => {
                    if q == period {
                        lines.push(l);
                    } else {
                        lines.push(adjustment(l, None));
                    }
                }
                Some(p) => {
                    seen.insert(key);
                    if l.amount_fen != p.amount_fen {
                        lines.push(adjustment(l, Some(p)));
                    }
                }
            }
        }
        for (key, p) in &paid {
            if !seen.contains(key) && p.amount_fen != 0 {
                lines.push(clawback(p));
            }
        }
        if q == period {
            out.lines = lines;
        } else {
            out.lines.extend(lines);
        }
    }
    withhold(&mut out, &snap.holds);
    Ok(out)
}

fn adjustment(mut l: Line, paid: Option<&Paid>) -> Line {
    let (amt, city, county, runs) = paid.map_or((0, 0, 0, Vec::new()), |p| {
        (p.amount_fen, p.city_fen, p.county_fen, p.runs.clone())
    });
    let now = l.amount_fen;
    l.kind = LineKind::Adjustment;
    l.amount_fen = now - amt;
    l.city_fen -= city;
    l.county_fen -= county;
    l.months.clear();
    l.explanation.input("paid_fen", amt);
    l.explanation.input(
        "paid_in_runs",
        runs.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    l.explanation.step(format!(
        "更正 adjustment: entitled now {} − paid {} = {}",
        yuan(now),
        yuan(amt),
        yuan(l.amount_fen)
    ));
    l
}

fn clawback(p: &Paid) -> Line {
    let mut e = Explanation::new();
    e.input("paid_fen", p.amount_fen);
    e.input(
        "paid_in_runs",
        p.runs
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    e.step(format!(
        "更正 adjustment: no longer entitled (the registers changed); entitled now 0.00 − paid {} = {}",
        yuan(p.amount_fen),
        yuan(-p.amount_fen)
    ));
    Line {
        rule: p.rule,
        kind: LineKind::Adjustment,
        period: p.period.clone(),
        payee_kind: p.payee_kind,
        payee_id: if p.payee_id.is_empty() {
            p.subject_id.clone()
        } else {
            p.payee_id.clone()
        },
        payee_name: p.payee_name.clone(),
        account_holder: p.account_holder.clone(),
        subject_id: p.subject_id.clone(),
        county_code: p.county_code.clone(),
        amount_fen: -p.amount_fen,
        city_fen: -p.city_fen,
        county_fen: -p.county_fen,
        award_key: None,
        placeholder: false,
        months: Vec::new(),
        explanation: e,
    }
}

/// One cell of a what-if comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostCell {
    pub month: String,
    pub rule: Rule,
    pub county_code: String,
    pub baseline_fen: i64,
    pub reform_fen: i64,
    pub baseline_city_fen: i64,
    pub reform_city_fen: i64,
}

/// What each month of a year costs under two parameter sets: monthly rules
/// and awards as they fall due (awards in the ledger are not future costs),
/// annual rules by their month shares.
pub fn whatif(
    snap: &Snapshot,
    baseline: &Params,
    reform: &Params,
    year: i32,
    ledger: &Ledger,
) -> Result<Vec<CostCell>, RulesError> {
    let mut cells: BTreeMap<(String, Rule, String), CostCell> = BTreeMap::new();
    for (which, params) in [(0, baseline), (1, reform)] {
        let mut awards = ledger.awards.clone();
        let mut add = |month: String, l: &Line, fen: i64, city: i64| {
            let c = cells
                .entry((month.clone(), l.rule, l.county_code.clone()))
                .or_insert_with(|| CostCell {
                    month,
                    rule: l.rule,
                    county_code: l.county_code.clone(),
                    baseline_fen: 0,
                    reform_fen: 0,
                    baseline_city_fen: 0,
                    reform_city_fen: 0,
                });
            if which == 0 {
                c.baseline_fen += fen;
                c.baseline_city_fen += city;
            } else {
                c.reform_fen += fen;
                c.reform_city_fen += city;
            }
        };
        for m in 1..=12 {
            let month = Month { year, month: m };
            let out = rules::entitlements(snap, params, Period::Month(month), &awards)?;
            for l in &out.lines {
                if let Some(k) = &l.award_key {
                    awards.insert(k.clone());
                }
                add(month.to_string(), l, l.amount_fen, l.city_fen);
            }
        }
        let out = rules::entitlements(snap, params, Period::Year(year), &awards)?;
        for l in &out.lines {
            for s in &l.months {
                // The city's part of a month share, in the line's proportion.
                let city = if l.amount_fen == 0 {
                    0
                } else {
                    div_round(
                        i128::from(s.fen) * i128::from(l.city_fen),
                        i128::from(l.amount_fen),
                    )
                };
                add(
                    Month {
                        year,
                        month: s.month,
                    }
                    .to_string(),
                    l,
                    s.fen,
                    city,
                );
            }
        }
    }
    Ok(cells.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_across_years() {
        let m = Month::parse("2025-01").expect("ok");
        assert_eq!(m.add(-1).to_string(), "2024-12");
        assert_eq!(m.add(13).to_string(), "2026-02");
        assert_eq!(
            Month::parse("2024-02").expect("ok").last().to_string(),
            "2024-02-29"
        );
        assert!(Month::parse("2025").is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(16_000_000, 12), 1_333_333);
    }

    #[test]
    fn award_keys_name_their_rule() {
        assert_eq!(
            award_rule("class_filing:C1"),
            Some((Rule::ClassFiling, "C1"))
        );
        assert_eq!(
            award_rule("chain:facility:F1"),
            Some((Rule::ChainAward, "facility:F1"))
        );
        assert_eq!(award_rule("centenarian:P1"), None);
        assert_eq!(award_rule("class_filing:"), None);
        // Every award rule's key prefix is known (the rules write these).
        for r in Rule::ALL.iter().filter(|r| r.cadence() == Cadence::OneTime) {
            assert!(
                [
                    "sunflower_construction",
                    "wellness_alliance",
                    "class_filing",
                    "demonstration_award",
                    "provincial_demonstration_award",
                    "chain_award"
                ]
                .contains(&r.code()),
                "{r:?}"
            );
        }
    }

    fn line(rule: Rule, kind: LineKind, payee: &str, fen: i64) -> Line {
        Line {
            rule,
            kind,
            period: "2026-06".into(),
            payee_kind: PayeeKind::Facility,
            payee_id: payee.into(),
            payee_name: payee.into(),
            account_holder: payee.into(),
            subject_id: payee.into(),
            county_code: "330402".into(),
            amount_fen: fen,
            city_fen: 0,
            county_fen: fen,
            award_key: None,
            placeholder: false,
            months: Vec::new(),
            explanation: Explanation::new(),
        }
    }

    #[test]
    fn an_inspection_hold_withholds_operating_subsidies_only() {
        let mut out = Outcome {
            lines: vec![
                line(Rule::InclusiveChildcare, LineKind::Regular, "F1", 120_000),
                line(Rule::InclusiveChildcare, LineKind::Adjustment, "F1", 5_000),
                line(Rule::InclusiveChildcare, LineKind::Adjustment, "F1", -3_000),
                line(Rule::ClassFiling, LineKind::Award, "F1", 1_000_000),
                line(Rule::InclusiveChildcare, LineKind::Regular, "F2", 80_000),
            ],
            notes: Vec::new(),
        };
        let holds = vec![Hold {
            facility_id: "F1".into(),
            reason: "failed_inspection".into(),
            inspection_id: "IN-1".into(),
            since: "2026-05-20".into(),
        }];
        withhold(&mut out, &holds);
        let kept: Vec<(&str, i64)> = out
            .lines
            .iter()
            .map(|l| (l.payee_id.as_str(), l.amount_fen))
            .collect();
        // The regular line and the back payment of F1 are withheld; its
        // clawback, its one-time award and F2 are not.
        assert_eq!(
            kept,
            vec![("F1", -3_000), ("F1", 1_000_000), ("F2", 80_000)]
        );
        assert_eq!(out.notes.len(), 2);
        assert!(out.notes[0].reason.contains("暂缓发放"), "{:?}", out.notes);
        assert!(out.notes[0].reason.contains("1,200.00"), "{:?}", out.notes);
        assert!(out.notes[0].reason.contains("IN-1"), "{:?}", out.notes);
        // No holds: nothing moves, and the digest is the one without holds.
        let snap = Snapshot::default();
        let mut with = snap.clone();
        assert_eq!(snap.digest(), with.digest());
        with.holds = holds;
        assert_ne!(snap.digest(), with.digest(), "holds are in the digest");
    }

    #[test]
    fn yuan_round_trips() {
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-1), "-0.01");
        assert_eq!(parse_yuan("1,234,567.89"), Some(123_456_789));
        assert_eq!(parse_yuan("3100.5"), Some(310_050));
        assert_eq!(parse_yuan("-0.01"), Some(-1));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("abc"), None);
    }
}
