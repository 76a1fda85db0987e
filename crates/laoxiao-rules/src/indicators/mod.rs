//! The plan's 44 indicators (二（三）具体指标) as data: one definition per
//! indicator in `data/indicators/NN.toml`, embedded at compile time.
//!
//! A definition is either **computed** (a numerator and a denominator counted
//! over the registers, with filters and a date rule, times a factor) or
//! **reported** (values entered per area and period by the responsible unit).
//! The filter language is small on purpose, so that a bureau official can read
//! a definition file: `ability_level >= 2`, `special_difficulty has
//! extreme_poverty`, `kind in (childcare_institution, kindergarten_nursery_class)`,
//! `has residence`, `has service visit`, `a or b`, `not has residence`.
//! `docs/indicators.md` writes every computed definition out in words.
//!
//! [`compute`] evaluates the definitions over [`Facts`] (the registers'
//! relevant fields, loaded by the store), [`status`] compares values with the
//! plan's targets.

pub mod compute;
pub mod facts;
mod parse;
pub mod status;

use std::sync::LazyLock;

use laoxiao_model::AreaLevel;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;
use crate::plan::{IndicatorGroup, Target};

pub use compute::{Computed, FIRST_YEAR, LAST_YEAR, MonthValue, Period, PeriodKind, compute};
pub use facts::Facts;
pub use parse::{Cond, Field, INSURANCE_KINDS, Relation, parse_insurance_kind};
pub use status::{AreaTarget, Status, StatusKind};

macro_rules! embed {
    ($($n:literal),+ $(,)?) => {
        &[$(($n, include_str!(concat!("../../../../data/indicators/", $n, ".toml")))),+]
    };
}

/// The definition files, by file stem, in the plan's order.
const FILES: &[(&str, &str)] = embed!(
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "45",
);

/// Whether more of the indicator is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 越高越好 (most indicators).
    Higher,
    /// 越低越好 (31 婴儿死亡率).
    Lower,
}

/// How an indicator's values come about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Counted from the registers.
    Computed,
    /// 填报: entered by the responsible unit.
    Reported,
}

/// Which areas the plan's targets apply to unless an area carries its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetScope {
    /// Rates and ratios: every area is held to the city's target.
    EveryArea,
    /// City totals (a number of centres, of students): only the city is;
    /// a county's count has no target unless the county sets one.
    City,
}

/// How the city's value is formed where summing is not the plan's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CityValue {
    /// 各县（市、区）…数: the least county's value (every county must reach it).
    MinOfCounties,
}

/// What a side counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 老年人: people on the elderly register, on it and aged 60+ on the day.
    Elderly,
    /// 婴幼儿: children under three on the day, alive and on the register.
    Infants,
    /// Children (infant register) born during the period.
    Births,
    /// Children who died during the period before their first birthday.
    InfantDeaths,
    /// 设施 operating on the day.
    Facilities,
    /// 从业人员 employed on the day (counted where their employer is).
    Staff,
    /// 养老服务相关专业学生: the students a year counts (cohort rule).
    Students,
    /// 镇（街道）: the towns of the area.
    Towns,
    /// 社区: the village-level areas that are urban communities.
    Communities,
    /// 常住人口: the resident population (reference figures, not a register).
    Residents,
}

impl Source {
    fn when(self) -> When {
        match self {
            Source::Births | Source::InfantDeaths | Source::Students => When::During,
            _ => When::OnDate,
        }
    }

    /// The fields a sum may add up.
    fn summable(self) -> &'static [&'static str] {
        match self {
            Source::Facilities => &["beds", "nursing_beds", "dementia_beds", "approved_slots"],
            _ => &[],
        }
    }
}

/// When a record counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// On the period's last day (or the day asked, if the period is not over).
    OnDate,
    /// Dated within the period.
    During,
}

/// One side of a ratio (numerator or denominator).
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub count: Source,
    pub when: When,
    /// Add up this field instead of counting records.
    pub sum: Option<String>,
    /// The conditions, all of which must hold, as written.
    #[serde(rename = "where")]
    pub text: Vec<String>,
    #[serde(skip)]
    pub conditions: Vec<Cond>,
}

impl Side {
    /// A key that is equal for two sides that count the same thing.
    pub fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{}",
            self.count,
            self.when,
            self.sum,
            self.text.join("&")
        )
    }
}

/// One plan indicator's definition.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    /// 序号 (1–43 and 45).
    pub number: u32,
    pub group: IndicatorGroup,
    pub name_zh: String,
    pub name_en: String,
    /// The plan's unit (%, ‰, 个, 张, 人, 岁, 万人); `None` where it prints none.
    pub unit: Option<String>,
    /// 责任单位
    pub responsible_unit: String,
    pub direction: Direction,
    pub baseline_2020: Target,
    pub target_2022: Target,
    pub target_2025: Target,
    pub method: Method,
    /// Where in the plan the indicator and its reading come from.
    pub clause: String,
    /// The area levels the definition has a value for.
    pub levels: Vec<AreaLevel>,
    pub periods: Vec<PeriodKind>,
    pub targets_apply_to: TargetScope,
    /// Numerator ÷ denominator × factor (or the numerator × factor alone).
    pub factor: f64,
    /// Decimals shown.
    pub decimals: u32,
    /// A year's value is the average of its monthly rates.
    pub monthly_average: bool,
    pub city_value: Option<CityValue>,
    /// How the plan's words are read, where they leave room.
    pub reading: Option<String>,
    pub numerator: Option<Side>,
    pub denominator: Option<Side>,
}

impl Definition {
    /// The target for a year: the plan's 2022 target up to 2022, then 2025's
    /// (the next one with a figure); `None` after 2025 without one.
    pub fn next_target(&self, year: i32) -> Option<(i32, &Target)> {
        [(2022, &self.target_2022), (2025, &self.target_2025)]
            .into_iter()
            .find(|(y, t)| *y >= year && t.value.is_some())
            .or_else(|| {
                (year > 2025 && self.target_2025.value.is_some())
                    .then_some((2025, &self.target_2025))
            })
    }

    /// Whether the definition has values for areas of this level.
    pub fn allows(&self, level: AreaLevel) -> bool {
        self.levels.contains(&level)
    }

    /// Rounds a value to the decimals shown.
    pub fn round(&self, v: f64) -> f64 {
        let p = 10f64.powi(self.decimals.min(6) as i32);
        (v * p).round() / p
    }
}

/// The TOML shape of a definition file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionFile {
    number: u32,
    group: IndicatorGroup,
    name_zh: String,
    name_en: String,
    unit: String,
    responsible_unit: String,
    direction: Direction,
    baseline_2020: String,
    target_2022: String,
    target_2025: String,
    method: Method,
    clause: String,
    levels: Vec<String>,
    periods: Vec<PeriodKind>,
    targets_apply_to: TargetScope,
    #[serde(default = "one")]
    factor: f64,
    decimals: u32,
    average: Option<String>,
    city_value: Option<CityValue>,
    reading: Option<String>,
    numerator: Option<SideFile>,
    denominator: Option<SideFile>,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SideFile {
    count: Source,
    when: When,
    sum: Option<String>,
    #[serde(rename = "where")]
    conditions: Vec<String>,
}

fn bad(file: &str, reason: impl Into<String>) -> RulesError {
    RulesError::Definition {
        file: file.to_string(),
        reason: reason.into(),
    }
}

/// Parses one definition file (`file` names it in errors).
pub fn parse_definition(file: &str, text: &str) -> Result<Definition, RulesError> {
    let f: DefinitionFile = toml::from_str(text).map_err(|e| bad(file, e.to_string()))?;
    let target = |raw: &str| Target::parse(raw).map_err(|e| bad(file, e.to_string()));
    let mut levels = Vec::new();
    for l in &f.levels {
        levels.push(AreaLevel::parse(l).ok_or_else(|| bad(file, format!("unknown level {l:?}")))?);
    }
    if levels.is_empty() {
        return Err(bad(file, "levels is empty"));
    }
    if !(f.factor.is_finite() && f.factor > 0.0 && f.factor <= 1e6) {
        return Err(bad(file, "factor must be in (0, 1000000]"));
    }
    if f.decimals > 4 {
        return Err(bad(file, "decimals must be 0-4"));
    }
    let monthly_average = match f.average.as_deref() {
        None => false,
        Some("monthly") => true,
        Some(o) => {
            return Err(bad(
                file,
                format!("unknown average {o:?} (only \"monthly\")"),
            ));
        }
    };
    let side = |s: Option<SideFile>, which: &str| -> Result<Option<Side>, RulesError> {
        let Some(s) = s else { return Ok(None) };
        if s.when != s.count.when() {
            return Err(bad(
                file,
                format!(
                    "{which}: {:?} is counted {:?}, not {:?}",
                    s.count,
                    s.count.when(),
                    s.when
                ),
            ));
        }
        if let Some(sum) = &s.sum
            && !s.count.summable().contains(&sum.as_str())
        {
            return Err(bad(
                file,
                format!("{which}: {sum:?} cannot be summed over {:?}", s.count),
            ));
        }
        let mut conditions = Vec::new();
        for c in &s.conditions {
            conditions.push(
                parse::condition(s.count, c)
                    .map_err(|r| bad(file, format!("{which}: {c:?}: {r}")))?,
            );
        }
        Ok(Some(Side {
            count: s.count,
            when: s.when,
            sum: s.sum,
            text: s.conditions,
            conditions,
        }))
    };
    let numerator = side(f.numerator, "numerator")?;
    let denominator = side(f.denominator, "denominator")?;
    match f.method {
        Method::Computed if numerator.is_none() => {
            return Err(bad(file, "a computed indicator needs a numerator"));
        }
        Method::Reported if numerator.is_some() || denominator.is_some() => {
            return Err(bad(
                file,
                "a reported indicator has no numerator or denominator",
            ));
        }
        _ => {}
    }
    if f.city_value.is_some() && !levels.contains(&AreaLevel::County) {
        return Err(bad(file, "city_value needs county values"));
    }
    Ok(Definition {
        number: f.number,
        group: f.group,
        name_zh: f.name_zh,
        name_en: f.name_en,
        unit: (!f.unit.is_empty()).then_some(f.unit),
        responsible_unit: f.responsible_unit,
        direction: f.direction,
        baseline_2020: target(&f.baseline_2020)?,
        target_2022: target(&f.target_2022)?,
        target_2025: target(&f.target_2025)?,
        method: f.method,
        clause: f.clause,
        levels,
        periods: f.periods,
        targets_apply_to: f.targets_apply_to,
        factor: f.factor,
        decimals: f.decimals,
        monthly_average,
        city_value: f.city_value,
        reading: f.reading,
        numerator,
        denominator,
    })
}

/// The embedded definitions, parsed once.
pub struct Definitions {
    pub all: Vec<Definition>,
    /// A digest of the definition files: a publication records it, so a
    /// recomputation can say that the definitions changed.
    pub version: String,
}

static EMBEDDED: LazyLock<Result<Definitions, String>> = LazyLock::new(|| {
    let mut all = Vec::with_capacity(FILES.len());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (stem, text) in FILES {
        let d = parse_definition(&format!("{stem}.toml"), text).map_err(|e| e.to_string())?;
        if format!("{:02}", d.number) != *stem {
            return Err(format!("{stem}.toml holds indicator {}", d.number));
        }
        all.push(d);
        // FNV-1a: stable across builds and platforms (a digest, not a secret).
        for b in text.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(Definitions {
        all,
        version: format!("{hash:016x}"),
    })
});

/// The plan's indicator definitions, embedded from `data/indicators/`.
pub fn definitions() -> Result<&'static Definitions, RulesError> {
    EMBEDDED.as_ref().map_err(|e| RulesError::Definition {
        file: "data/indicators".into(),
        reason: e.clone(),
    })
}

/// One definition by number.
pub fn definition(number: u32) -> Result<Option<&'static Definition>, RulesError> {
    Ok(definitions()?.all.iter().find(|d| d.number == number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Comparator, Plan};

    #[test]
    fn every_plan_indicator_has_one_valid_definition() {
        let defs = definitions().expect("definitions parse");
        let plan = Plan::embedded().expect("plan");
        assert_eq!(defs.all.len(), 44);
        for (d, p) in defs.all.iter().zip(&plan.indicators) {
            assert_eq!(d.number, p.number);
            assert_eq!(d.name_zh, p.name_zh, "{}", d.number);
            assert_eq!(d.unit, p.unit, "{}", d.number);
            assert_eq!(d.responsible_unit, p.responsible_unit, "{}", d.number);
            assert_eq!(d.group, p.group, "{}", d.number);
            // The targets agree with the plan's table as parsed there.
            assert_eq!(d.baseline_2020, p.baseline_2020, "{}", d.number);
            assert_eq!(d.target_2022, p.target_2022, "{}", d.number);
            assert_eq!(d.target_2025, p.target_2025, "{}", d.number);
        }
        assert_eq!(defs.version.len(), 16);
    }

    #[test]
    fn the_issue_list_is_computed() {
        let defs = definitions().expect("definitions parse");
        let computed: Vec<u32> = defs
            .all
            .iter()
            .filter(|d| d.method == Method::Computed)
            .map(|d| d.number)
            .collect();
        for n in [
            6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 18, 19, 20, 22, 24, 26, 30, 31, 35, 36, 37, 38, 39,
            40, 41, 42, 43, 45,
        ] {
            assert!(computed.contains(&n), "indicator {n} is not computed");
        }
    }

    #[test]
    fn directory_holds_exactly_the_embedded_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/indicators");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("data/indicators")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(s, _)| format!("{s}.toml")).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn targets_parse_with_their_comparison() {
        let d = definition(2).expect("defs").expect("2");
        let t = d.target_2025.value.expect("72以上");
        assert_eq!((t.comparator, t.value), (Comparator::AtLeast, 72.0));
        let d = definition(31).expect("defs").expect("31");
        assert_eq!(d.direction, Direction::Lower);
        let t = d.target_2022.value.expect("5以下");
        assert_eq!((t.comparator, t.value), (Comparator::AtMost, 5.0));
        let d = definition(6).expect("defs").expect("6");
        assert!(d.baseline_2020.value.is_none(), "- is no figure");
        // Next target: 2022's up to 2022, then 2025's, and 2025's after.
        assert_eq!(d.next_target(2021).map(|t| t.0), Some(2022));
        assert_eq!(d.next_target(2023).map(|t| t.0), Some(2025));
        assert_eq!(d.next_target(2026).map(|t| t.0), Some(2025));
        // 7 has no 2022 target: 2025's is the next one.
        let d = definition(7).expect("defs").expect("7");
        assert_eq!(d.next_target(2021).map(|t| t.0), Some(2025));
    }

    fn minimal(extra: &str) -> String {
        format!(
            "number = 99\ngroup = \"elderly\"\nname_zh = \"x\"\nname_en = \"x\"\nunit = \"%\"\n\
             responsible_unit = \"x\"\ndirection = \"higher\"\nbaseline_2020 = \"/\"\n\
             target_2022 = \"/\"\ntarget_2025 = \"/\"\nclause = \"x\"\nperiods = [\"year\"]\n\
             targets_apply_to = \"every_area\"\ndecimals = 1\n{extra}"
        )
    }

    #[test]
    fn bad_definitions_name_the_file_and_reason() {
        let cases = [
            (
                "method = \"computed\"\nlevels = [\"city\"]\n",
                "needs a numerator",
            ),
            (
                "method = \"computed\"\nlevels = [\"city\"]\n[numerator]\ncount = \"elderly\"\nwhen = \"during\"\nwhere = []\n",
                "not During",
            ),
            (
                "method = \"computed\"\nlevels = [\"city\"]\n[numerator]\ncount = \"elderly\"\nwhen = \"on_date\"\nwhere = [\"shoe_size >= 2\"]\n",
                "shoe_size",
            ),
            (
                "method = \"computed\"\nlevels = [\"city\"]\n[numerator]\ncount = \"elderly\"\nwhen = \"on_date\"\nsum = \"beds\"\nwhere = []\n",
                "cannot be summed",
            ),
            (
                "method = \"reported\"\nlevels = [\"planet\"]\n",
                "unknown level",
            ),
            (
                "method = \"reported\"\nlevels = [\"city\"]\nfactor = -1\n",
                "factor",
            ),
        ];
        for (extra, want) in cases {
            let e = parse_definition("99.toml", &minimal(extra)).expect_err(want);
            let msg = e.to_string();
            assert!(msg.contains("99.toml") && msg.contains(want), "{msg}");
            assert_eq!(e.code(), "indicator_definition_invalid");
        }
    }
}
