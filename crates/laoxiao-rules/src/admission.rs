//! Care-home admission by priority (养老机构入住轮候): who may wait for a bed
//! (eligibility, 入住条件), in which priority class (优先类别), and the order
//! within a class (tie-breaks). The rules are data (`data/policy/admission.toml`,
//! dated, with the plan clause: §3（一）“兜底保障” and indicator 6); this module
//! ranks a waiting list and explains every position in Chinese and English,
//! so an applicant can be told why they stand where they stand.
//!
//! The ranking is recomputed from the registers each time (a person's
//! special-difficulty categories, ability level and age change; the position
//! follows), never stored.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime};
use laoxiao_model::person::{AbilityLevel, SpecialDifficulty, age_on};
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

const FILE: &str = "admission.toml";
const TEXT: &str = include_str!("../../../data/policy/admission.toml");

/// Most classes a rule set may declare (bounds the data).
const MAX_CLASSES: usize = 10;

/// One tie-break within a priority class, in the order the data lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// Higher ability level (more impaired) first.
    AbilityDesc,
    /// Older first (earlier birth date).
    AgeDesc,
    /// Earlier application first.
    AppliedAsc,
}

impl TieBreak {
    fn zh(self) -> &'static str {
        match self {
            TieBreak::AbilityDesc => "能力等级更高（失能更重）者在前",
            TieBreak::AgeDesc => "年龄较大者在前",
            TieBreak::AppliedAsc => "申请较早者在前",
        }
    }
    fn en(self) -> &'static str {
        match self {
            TieBreak::AbilityDesc => "a higher ability level (more impaired) goes first",
            TieBreak::AgeDesc => "the older goes first",
            TieBreak::AppliedAsc => "the earlier application goes first",
        }
    }
}

/// A priority class (优先类别): an applicant belongs to the first class whose
/// conditions they meet (any of the categories, when listed; the minimum
/// ability level, when given). A class with no categories takes everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityClass {
    pub rank: u8,
    pub zh: String,
    pub en: String,
    #[serde(default)]
    pub any_of: Vec<SpecialDifficulty>,
    #[serde(default)]
    pub min_ability_level: Option<u8>,
}

impl PriorityClass {
    fn admits(&self, a: &Applicant) -> bool {
        (self.any_of.is_empty() || self.any_of.iter().any(|c| a.categories.contains(c)))
            && self
                .min_ability_level
                .is_none_or(|m| a.ability_number() >= m)
    }
}

/// The admission rules in force from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionRules {
    pub from: NaiveDate,
    pub clause: String,
    /// 老年人: age reached on the day of ranking.
    pub min_age: i32,
    /// Lowest ability level admitted (0: everyone).
    pub min_ability_level: u8,
    /// Days an offered bed is held (入住通知的答复期限).
    pub offer_days: i64,
    pub tie_breaks: Vec<TieBreak>,
    #[serde(rename = "class")]
    pub classes: Vec<PriorityClass>,
}

#[derive(Deserialize)]
struct File {
    rules: Vec<AdmissionRules>,
}

/// Every dated rule set, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rulebook {
    sets: Vec<AdmissionRules>,
}

fn bad(reason: impl Into<String>) -> RulesError {
    RulesError::Parameters {
        file: FILE.to_string(),
        reason: reason.into(),
    }
}

impl Rulebook {
    /// The embedded rules (`data/policy/admission.toml`).
    pub fn embedded() -> Result<&'static Rulebook, RulesError> {
        static BOOK: std::sync::OnceLock<Result<Rulebook, RulesError>> = std::sync::OnceLock::new();
        crate::parsed_once(&BOOK, || Rulebook::parse(TEXT))
    }

    /// Parses and checks a rule file: classes ranked 1, 2, … with the last
    /// one taking everyone (so every eligible applicant has a class), each
    /// tie-break at most once, bounded numbers.
    pub fn parse(text: &str) -> Result<Rulebook, RulesError> {
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut sets = f.rules;
        if sets.is_empty() {
            return Err(bad("no [[rules]] entry"));
        }
        sets.sort_by_key(|s| s.from);
        for s in &sets {
            let at = format!("rules from {}", s.from);
            if s.classes.is_empty() || s.classes.len() > MAX_CLASSES {
                return Err(bad(format!("{at}: 1 to {MAX_CLASSES} classes")));
            }
            for (i, c) in s.classes.iter().enumerate() {
                if usize::from(c.rank) != i + 1 {
                    return Err(bad(format!(
                        "{at}: classes must be ranked 1, 2, … in order"
                    )));
                }
                if c.min_ability_level.is_some_and(|m| m > 4) {
                    return Err(bad(format!("{at}: ability levels are 0–4")));
                }
            }
            let last = &s.classes[s.classes.len() - 1];
            if !last.any_of.is_empty() || last.min_ability_level.is_some() {
                return Err(bad(format!("{at}: the last class must take everyone")));
            }
            if !(1..=90).contains(&s.offer_days) {
                return Err(bad(format!("{at}: offer_days must be 1–90")));
            }
            if !(0..=120).contains(&s.min_age) || s.min_ability_level > 4 {
                return Err(bad(format!("{at}: min_age 0–120, min_ability_level 0–4")));
            }
            let mut seen = Vec::new();
            for t in &s.tie_breaks {
                if seen.contains(t) {
                    return Err(bad(format!("{at}: tie-break {t:?} twice")));
                }
                seen.push(*t);
            }
        }
        Ok(Rulebook { sets })
    }

    /// The rules in force on `day` (the earliest set before its start).
    pub fn on(&self, day: NaiveDate) -> &AdmissionRules {
        let mut cur = &self.sets[0];
        for s in &self.sets {
            if s.from <= day {
                cur = s;
            }
        }
        cur
    }
}

/// One application as the ranking sees it, read from the registers at
/// ranking time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The application's id (what the ranking returns).
    pub key: String,
    pub birth_date: NaiveDate,
    /// `None`: never assessed (ranked as 能力完好, and said so).
    pub ability: Option<AbilityLevel>,
    pub categories: Vec<SpecialDifficulty>,
    /// When the application was made (RFC 3339 text or a date).
    pub applied_at: NaiveDateTime,
    /// An elderly person in the register, alive and registered (在册).
    pub active_elderly: bool,
    /// Living in a care home already (an active residence).
    pub in_care_home: bool,
}

impl Applicant {
    fn ability_number(&self) -> u8 {
        self.ability.map(AbilityLevel::number).unwrap_or(0)
    }
}

/// Why an applicant is not eligible (入住条件不符).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    NotActiveElderly,
    InCareHome,
    TooYoung,
    AbilityTooLow,
}

impl Ineligible {
    pub fn zh(self) -> &'static str {
        match self {
            Ineligible::NotActiveElderly => "不是在册老年人",
            Ineligible::InCareHome => "已入住养老机构",
            Ineligible::TooYoung => "未达最低年龄",
            Ineligible::AbilityTooLow => "能力等级低于入住条件",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Ineligible::NotActiveElderly => "not an active elderly person in the register",
            Ineligible::InCareHome => "lives in a care home already",
            Ineligible::TooYoung => "below the minimum age",
            Ineligible::AbilityTooLow => "ability level below the admission condition",
        }
    }
}

/// Eligibility on `day`: every reason that fails (empty: eligible).
pub fn eligibility(rules: &AdmissionRules, a: &Applicant, day: NaiveDate) -> Vec<Ineligible> {
    let mut v = Vec::new();
    if !a.active_elderly {
        v.push(Ineligible::NotActiveElderly);
    }
    if a.in_care_home {
        v.push(Ineligible::InCareHome);
    }
    if age_on(a.birth_date, day) < rules.min_age {
        v.push(Ineligible::TooYoung);
    }
    if a.ability_number() < rules.min_ability_level {
        v.push(Ineligible::AbilityTooLow);
    }
    v
}

/// The class an applicant falls in (the last class takes everyone).
pub fn class_of<'r>(rules: &'r AdmissionRules, a: &Applicant) -> &'r PriorityClass {
    rules
        .classes
        .iter()
        .find(|c| c.admits(a))
        .unwrap_or(&rules.classes[rules.classes.len() - 1])
}

/// The first tie-break on which `a` and `b` differ, and its ordering.
fn tie(rules: &AdmissionRules, a: &Applicant, b: &Applicant) -> (Option<TieBreak>, Ordering) {
    for t in &rules.tie_breaks {
        let o = match t {
            TieBreak::AbilityDesc => b.ability_number().cmp(&a.ability_number()),
            TieBreak::AgeDesc => a.birth_date.cmp(&b.birth_date),
            TieBreak::AppliedAsc => a.applied_at.cmp(&b.applied_at),
        };
        if o != Ordering::Equal {
            return (Some(*t), o);
        }
    }
    // Stable and total: the application id last.
    (None, a.key.cmp(&b.key))
}

/// One application's place on a waiting list, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub key: String,
    /// 1-based position among the eligible; `None` when not eligible.
    pub position: Option<u32>,
    /// The priority class's rank (1 first); `None` when not eligible.
    pub class_rank: Option<u8>,
    pub ineligible: Vec<Ineligible>,
    /// The explanation (e.g. "第3位：特困且中度失能（第一优先类…）；…").
    pub explanation_zh: String,
    pub explanation_en: String,
}

fn describe_zh(a: &Applicant) -> String {
    let mut parts: Vec<&str> = a.categories.iter().map(|c| c.label_zh()).collect();
    if parts.is_empty() {
        parts.push("无特殊困难类别");
    }
    let level = match a.ability {
        Some(l) => l.label_zh().to_string(),
        None => "能力等级未评估（按能力完好计）".to_string(),
    };
    format!("{}且{}", parts.join("、"), level)
}

fn describe_en(a: &Applicant) -> String {
    let mut parts: Vec<&str> = a.categories.iter().map(|c| c.label_en()).collect();
    if parts.is_empty() {
        parts.push("no special-difficulty category");
    }
    let level = match a.ability {
        Some(l) => l.label_en().to_lowercase(),
        None => "ability not assessed (ranked as intact)".to_string(),
    };
    format!("{}, {}", parts.join(", "), level)
}

/// Ranks a waiting list on `day`: the eligible in class order, then by the
/// tie-breaks, then by id; the ineligible last, without a position. Each line
/// says its class and who stands ahead and why (by class, and within the
/// class by the first tie-break that separates them).
pub fn rank(rules: &AdmissionRules, list: &[Applicant], day: NaiveDate) -> Vec<Ranked> {
    let mut eligible: Vec<(&Applicant, &PriorityClass)> = Vec::new();
    let mut out_ineligible = Vec::new();
    for a in list {
        let why = eligibility(rules, a, day);
        if why.is_empty() {
            eligible.push((a, class_of(rules, a)));
        } else {
            let zh: Vec<&str> = why.iter().map(|w| w.zh()).collect();
            let en: Vec<&str> = why.iter().map(|w| w.en()).collect();
            out_ineligible.push(Ranked {
                key: a.key.clone(),
                position: None,
                class_rank: None,
                ineligible: why,
                explanation_zh: format!("不在轮候序列：{}", zh.join("；")),
                explanation_en: format!("Not on the waiting order: {}", en.join("; ")),
            });
        }
    }
    eligible.sort_by(|(a, ca), (b, cb)| ca.rank.cmp(&cb.rank).then_with(|| tie(rules, a, b).1));
    let order_zh: Vec<&str> = rules.tie_breaks.iter().map(|t| t.zh()).collect();
    let order_en: Vec<&str> = rules.tie_breaks.iter().map(|t| t.en()).collect();
    let mut out = Vec::with_capacity(list.len());
    for (i, (a, c)) in eligible.iter().enumerate() {
        let ahead = &eligible[..i];
        let mut zh = format!("第{}位：{}（{}）", i + 1, describe_zh(a), c.zh);
        let mut en = format!("Position {}: {} ({})", i + 1, describe_en(a), c.en);
        let higher = ahead.iter().filter(|(_, cb)| cb.rank < c.rank).count();
        if higher > 0 {
            zh.push_str(&format!("；优先类别更高者{higher}人在前"));
            en.push_str(&format!("; {higher} of a higher priority class ahead"));
        }
        let same: Vec<&Applicant> = ahead
            .iter()
            .filter(|(_, cb)| cb.rank == c.rank)
            .map(|(b, _)| *b)
            .collect();
        if !same.is_empty() {
            zh.push_str(&format!("；同类{}人在前", same.len()));
            en.push_str(&format!("; {} of the same class ahead", same.len()));
            for t in &rules.tie_breaks {
                let n = same
                    .iter()
                    .filter(|b| tie(rules, b, a).0 == Some(*t))
                    .count();
                if n > 0 {
                    zh.push_str(&format!("（{}：{n}人）", t.zh()));
                    en.push_str(&format!(" ({}: {n})", t.en()));
                }
            }
        }
        zh.push_str(&format!("；同类排序：{}", order_zh.join("，其次")));
        en.push_str(&format!("; within a class: {}", order_en.join(", then ")));
        out.push(Ranked {
            key: a.key.clone(),
            position: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
            class_rank: Some(c.rank),
            ineligible: Vec::new(),
            explanation_zh: zh,
            explanation_en: en,
        });
    }
    out.extend(out_ineligible);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpecialDifficulty::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test value")
    }

    fn app(
        key: &str,
        birth: &str,
        ability: Option<AbilityLevel>,
        cats: &[SpecialDifficulty],
        applied: &str,
    ) -> Applicant {
        Applicant {
            key: key.into(),
            birth_date: d(birth),
            ability,
            categories: cats.to_vec(),
            applied_at: d(applied).and_hms_opt(9, 0, 0).expect("test value"),
            active_elderly: true,
            in_care_home: false,
        }
    }

    fn rules() -> AdmissionRules {
        Rulebook::embedded()
            .expect("test value")
            .on(d("2026-06-01"))
            .clone()
    }

    /// A hand-made list of eight, ordered by hand:
    /// class 1 (特困 and level ≥ 2): C (特困, 4), A (特困, 2, born 1940), E (特困, 2, born 1945)
    /// class 2: F (低保, 3), B (特困 but level 1 → class 2, level 1, applied earlier), G (低保边缘, 1, applied later)
    /// class 3: D (none, 4)
    /// ineligible: H (in a care home), I (born 1970: 56 on the day).
    #[test]
    fn ranks_a_hand_made_list() {
        use AbilityLevel::*;
        let list = vec![
            app(
                "A",
                "1940-03-01",
                Some(Moderate),
                &[ExtremePoverty],
                "2026-01-10",
            ),
            app(
                "B",
                "1938-01-01",
                Some(Mild),
                &[ExtremePoverty],
                "2026-01-05",
            ),
            app(
                "C",
                "1950-05-05",
                Some(Complete),
                &[ExtremePoverty, SevereDisability],
                "2026-03-01",
            ),
            app("D", "1930-01-01", Some(Complete), &[], "2025-12-01"),
            app(
                "E",
                "1945-07-07",
                Some(Moderate),
                &[ExtremePoverty],
                "2025-11-01",
            ),
            app(
                "F",
                "1948-02-02",
                Some(Severe),
                &[MinimumLivingAllowance],
                "2026-02-01",
            ),
            app(
                "G",
                "1939-01-01",
                Some(Mild),
                &[LowIncomeMargin],
                "2026-02-01",
            ),
            Applicant {
                in_care_home: true,
                ..app(
                    "H",
                    "1935-01-01",
                    Some(Complete),
                    &[ExtremePoverty],
                    "2025-01-01",
                )
            },
            app(
                "I",
                "1970-01-01",
                Some(Complete),
                &[ExtremePoverty],
                "2025-01-01",
            ),
        ];
        let r = rank(&rules(), &list, d("2026-06-01"));
        let order: Vec<(&str, Option<u32>, Option<u8>)> = r
            .iter()
            .map(|x| (x.key.as_str(), x.position, x.class_rank))
            .collect();
        assert_eq!(
            order,
            [
                ("C", Some(1), Some(1)),
                ("A", Some(2), Some(1)),
                ("E", Some(3), Some(1)),
                ("F", Some(4), Some(2)),
                // B and G: both level 1; B born 1938 is older than G (1939).
                ("B", Some(5), Some(2)),
                ("G", Some(6), Some(2)),
                ("D", Some(7), Some(3)),
                ("H", None, None),
                ("I", None, None),
            ]
        );
        // E is third: two of the same class ahead, C by ability, A by age.
        let e = &r[2];
        assert!(
            e.explanation_zh
                .starts_with("第3位：特困且中度失能（第一优先类"),
            "{}",
            e.explanation_zh
        );
        assert!(e.explanation_zh.contains("同类2人在前"));
        assert!(
            e.explanation_zh
                .contains("能力等级更高（失能更重）者在前：1人")
        );
        assert!(e.explanation_zh.contains("年龄较大者在前：1人"));
        assert!(!e.explanation_zh.contains("优先类别更高者"));
        // D is seventh: six of higher classes ahead.
        assert!(r[6].explanation_zh.contains("优先类别更高者6人在前"));
        assert!(
            r[6].explanation_en
                .starts_with("Position 7: no special-difficulty category")
        );
        assert_eq!(r[7].ineligible, [Ineligible::InCareHome]);
        assert_eq!(r[8].ineligible, [Ineligible::TooYoung]);
        assert!(r[8].explanation_zh.contains("未达最低年龄"));
    }

    #[test]
    fn application_time_breaks_the_last_tie_and_unassessed_counts_as_intact() {
        let list = vec![
            app("late", "1940-01-01", None, &[], "2026-02-01"),
            app(
                "early",
                "1940-01-01",
                Some(AbilityLevel::Intact),
                &[],
                "2026-01-01",
            ),
        ];
        let r = rank(&rules(), &list, d("2026-06-01"));
        assert_eq!(r[0].key, "early");
        assert_eq!(r[1].key, "late");
        assert!(r[1].explanation_zh.contains("能力等级未评估"));
        assert!(r[1].explanation_zh.contains("申请较早者在前：1人"));
    }

    #[test]
    fn the_age_limit_is_reached_on_the_birthday() {
        let rules = rules();
        let a = app("x", "1966-06-01", None, &[], "2026-01-01");
        assert_eq!(
            eligibility(&rules, &a, d("2026-05-31")),
            [Ineligible::TooYoung]
        );
        assert!(eligibility(&rules, &a, d("2026-06-01")).is_empty());
    }

    #[test]
    fn rule_files_are_checked() {
        let ok = Rulebook::embedded().expect("test value");
        let r = ok.on(d("2020-01-01"));
        assert_eq!(r.offer_days, 7);
        assert_eq!(r.classes[0].min_ability_level, Some(2));
        let no_catch_all = TEXT.replace("any_of = []", "any_of = [\"extreme_poverty\"]");
        assert!(Rulebook::parse(&no_catch_all).is_err());
        let bad_days = TEXT.replace("offer_days = 7", "offer_days = 0");
        assert!(Rulebook::parse(&bad_days).is_err());
        let twice = TEXT.replace(
            "tie_breaks = [\"ability_desc\", \"age_desc\", \"applied_asc\"]",
            "tie_breaks = [\"age_desc\", \"age_desc\"]",
        );
        assert!(Rulebook::parse(&twice).is_err());
    }

    #[test]
    fn a_later_rule_set_applies_from_its_date() {
        let later = format!(
            "{TEXT}\n[[rules]]\nfrom = \"2027-01-01\"\nclause = \"x\"\nmin_age = 65\nmin_ability_level = 1\noffer_days = 10\ntie_breaks = []\n[[rules.class]]\nrank = 1\nzh = \"全部\"\nen = \"all\"\n"
        );
        let b = Rulebook::parse(&later).expect("test value");
        assert_eq!(b.on(d("2026-12-31")).offer_days, 7);
        assert_eq!(b.on(d("2027-01-01")).offer_days, 10);
    }
}
