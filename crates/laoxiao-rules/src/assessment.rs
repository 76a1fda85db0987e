//! Ability assessment (老年人能力评估) by GB/T 42195-2022 《老年人能力评估规范》.
//!
//! The standard is data (`data/standards/gbt42195.toml`): the 4 domains
//! (一级指标) and 26 items (二级指标) of Annex B with each option's score and
//! descriptor, the C.3 level bands and the C.4 level-change rules (能力等级变更
//! 依据). The two points the transcription marks [UNVERIFIED] (whether the two
//! "+1" rules stack, and the routine reassessment period) are dated
//! parameters. [`Standard::assess`] turns the 26 answers and the Annex A facts
//! into domain scores, the total, the initial level (初步等级, C.3) and the final
//! level (最终等级, C.5), with an explanation naming each rule and clause.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Months, NaiveDate};
use laoxiao_model::person::AbilityLevel;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

const FILE: &str = "gbt42195.toml";
const SOURCE: &str = include_str!("../../../data/standards/gbt42195.toml");

/// The most care-risk events of one type an assessment may record (30 days).
pub const MAX_RISK_EVENTS: u32 = 100;

/// One option of an item: its score and the standard's descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemOption {
    pub score: u8,
    pub zh: String,
}

/// A second-level item (二级指标) such as B.1.1 进食.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// The clause number, `B.1.1` … `B.4.5`: also the import file's column.
    pub code: String,
    pub key: String,
    pub domain: String,
    pub zh: String,
    pub en: String,
    pub hint: String,
    /// Highest score first.
    pub options: Vec<ItemOption>,
}

impl Item {
    /// The item's maximum score.
    pub fn max(&self) -> u8 {
        self.options.iter().map(|o| o.score).max().unwrap_or(0)
    }
}

/// A first-level indicator (一级指标), B.1 … B.4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainDef {
    pub code: String,
    pub key: String,
    pub zh: String,
    pub en: String,
    pub max: u32,
}

/// A C.3 band: the level for totals `min..=max`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub level: u8,
    pub clause: String,
    pub min: u32,
    pub max: u32,
    pub zh: String,
}

/// The C.4 rules' wording, clauses and the risk-event threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRules {
    pub coma_clause: String,
    pub coma_zh: String,
    pub diagnosis_clause: String,
    pub diagnosis_zh: String,
    pub risk_clause: String,
    pub risk_zh: String,
    pub risk_event_threshold: u32,
    pub cap_zh: String,
}

/// One dated value of a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedValue {
    pub from: NaiveDate,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    pub value: i64,
}

/// A dated parameter (a point the transcription marks [UNVERIFIED]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub zh: String,
    pub clause: String,
    pub values: Vec<DatedValue>,
}

impl Parameter {
    /// The value in force on `on`: the latest entry starting on or before it.
    pub fn on(&self, on: NaiveDate) -> Option<i64> {
        self.values
            .iter()
            .filter(|v| v.from <= on && v.until.is_none_or(|u| on <= u))
            .max_by_key(|v| v.from)
            .map(|v| v.value)
    }
}

/// A care-risk event type (A.2.14 照护风险事件).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskEventType {
    pub key: String,
    pub zh: String,
    pub en: String,
}

/// A disease on the A.4.1 list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub key: String,
    pub icd: String,
    pub zh: String,
}

/// GB/T 42195-2022 as loaded from its data file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standard {
    pub code: String,
    pub zh: String,
    pub max_total: u32,
    pub domains: Vec<DomainDef>,
    pub items: Vec<Item>,
    pub bands: Vec<Band>,
    pub rules: ChangeRules,
    pub parameters: Vec<Parameter>,
    pub risk_events: Vec<RiskEventType>,
    pub diagnoses: Vec<Diagnosis>,
}

// ---- the file's shape ----------------------------------------------------------

#[derive(Deserialize)]
struct RawHead {
    code: String,
    zh: String,
    max_total: u32,
}

#[derive(Deserialize)]
struct RawDomain {
    code: String,
    key: String,
    zh: String,
    en: String,
    max: u32,
}

#[derive(Deserialize)]
struct RawItem {
    code: String,
    key: String,
    zh: String,
    en: String,
    #[serde(default)]
    hint: String,
    #[serde(default)]
    scale: Option<String>,
    #[serde(default)]
    options: Vec<(u8, String)>,
}

#[derive(Deserialize)]
struct RawAnnexA {
    diagnoses: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
struct RawFile {
    standard: RawHead,
    level: Vec<Band>,
    change_rules: ChangeRules,
    parameter: Vec<Parameter>,
    domain: Vec<RawDomain>,
    scales: BTreeMap<String, Vec<String>>,
    item: Vec<RawItem>,
    risk_event: Vec<RiskEventType>,
    annex_a: RawAnnexA,
}

fn bad(reason: impl Into<String>) -> RulesError {
    RulesError::ReferenceData {
        file: FILE,
        reason: reason.into(),
    }
}

/// The parameter name: do C.4 b) and c) stack to two steps (0 = no, 1 = yes)?
pub const PARAM_STACK: &str = "raise_rules_stack";
/// The parameter name: months between routine assessments.
pub const PARAM_REASSESS_MONTHS: &str = "reassessment_months";

impl Standard {
    /// The embedded standard, parsed and checked once.
    pub fn embedded() -> Result<&'static Standard, RulesError> {
        static STD: OnceLock<Result<Standard, String>> = OnceLock::new();
        STD.get_or_init(|| Standard::parse(SOURCE).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| bad(e.clone()))
    }

    /// Parses and checks a standard file: each domain's maximum equals the sum
    /// of its items' maxima, the domains sum to the total, the bands cover
    /// 0..=total once each, every item's options are distinct and end at 0.
    pub fn parse(text: &str) -> Result<Standard, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut items = Vec::with_capacity(raw.item.len());
        for it in raw.item {
            let options: Vec<ItemOption> = match (&it.scale, it.options.is_empty()) {
                (Some(scale), true) => {
                    let steps = raw
                        .scales
                        .get(scale)
                        .ok_or_else(|| bad(format!("{}: unknown scale {scale}", it.code)))?;
                    let n = steps.len();
                    steps
                        .iter()
                        .enumerate()
                        .map(|(i, zh)| ItemOption {
                            score: u8::try_from(n - 1 - i).unwrap_or(0),
                            zh: zh.clone(),
                        })
                        .collect()
                }
                (None, false) => it
                    .options
                    .into_iter()
                    .map(|(score, zh)| ItemOption { score, zh })
                    .collect(),
                _ => return Err(bad(format!("{}: give either scale or options", it.code))),
            };
            let mut scores: Vec<u8> = options.iter().map(|o| o.score).collect();
            scores.sort_unstable();
            scores.dedup();
            if scores.len() != options.len() || scores.first() != Some(&0) {
                return Err(bad(format!(
                    "{}: options must have distinct scores down to 0",
                    it.code
                )));
            }
            let domain = it
                .code
                .rsplit_once('.')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            items.push(Item {
                code: it.code,
                key: it.key,
                domain,
                zh: it.zh,
                en: it.en,
                hint: it.hint,
                options,
            });
        }
        let domains: Vec<DomainDef> = raw
            .domain
            .into_iter()
            .map(|d| DomainDef {
                code: d.code,
                key: d.key,
                zh: d.zh,
                en: d.en,
                max: d.max,
            })
            .collect();
        for d in &domains {
            let sum: u32 = items
                .iter()
                .filter(|i| i.domain == d.code)
                .map(|i| u32::from(i.max()))
                .sum();
            if sum != d.max {
                return Err(bad(format!(
                    "domain {} max {} but its items sum to {sum}",
                    d.code, d.max
                )));
            }
        }
        if let Some(i) = items
            .iter()
            .find(|i| !domains.iter().any(|d| d.code == i.domain))
        {
            return Err(bad(format!("{}: no such domain", i.code)));
        }
        let total: u32 = domains.iter().map(|d| d.max).sum();
        if total != raw.standard.max_total {
            return Err(bad(format!(
                "domains sum to {total}, not {}",
                raw.standard.max_total
            )));
        }
        for t in 0..=total {
            let n = raw
                .level
                .iter()
                .filter(|b| b.min <= t && t <= b.max)
                .count();
            if n != 1 {
                return Err(bad(format!("total {t} falls in {n} level bands")));
            }
        }
        if raw.level.iter().any(|b| b.level > 4) {
            return Err(bad("levels run 0 to 4"));
        }
        for name in [PARAM_STACK, PARAM_REASSESS_MONTHS] {
            if !raw.parameter.iter().any(|p| p.name == name) {
                return Err(bad(format!("parameter {name} missing")));
            }
        }
        let diagnoses = raw
            .annex_a
            .diagnoses
            .into_iter()
            .map(|(key, icd, zh)| Diagnosis { key, icd, zh })
            .collect();
        Ok(Standard {
            code: raw.standard.code,
            zh: raw.standard.zh,
            max_total: total,
            domains,
            items,
            bands: raw.level,
            rules: raw.change_rules,
            parameters: raw.parameter,
            risk_events: raw.risk_event,
            diagnoses,
        })
    }

    /// An item by its code (`B.1.1`).
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// A parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    fn param_on(&self, name: &str, on: NaiveDate) -> Result<i64, RulesError> {
        self.parameter(name)
            .and_then(|p| p.on(on))
            .ok_or_else(|| RulesError::Parameter {
                name: name.to_string(),
                reason: format!("no value on {on}"),
            })
    }

    /// Months between routine assessments on `on` (常规评估周期).
    pub fn reassessment_months(&self, on: NaiveDate) -> Result<u32, RulesError> {
        let v = self.param_on(PARAM_REASSESS_MONTHS, on)?;
        u32::try_from(v).map_err(|_| RulesError::Parameter {
            name: PARAM_REASSESS_MONTHS.into(),
            reason: "negative".into(),
        })
    }

    /// The day a routine reassessment falls due after one finished on `last`.
    pub fn due_after(&self, last: NaiveDate) -> Result<NaiveDate, RulesError> {
        let months = self.reassessment_months(last)?;
        last.checked_add_months(Months::new(months))
            .ok_or_else(|| RulesError::Parameter {
                name: PARAM_REASSESS_MONTHS.into(),
                reason: "date out of range".into(),
            })
    }

    /// The C.3 level for a total.
    pub fn band(&self, total: u32) -> Option<&Band> {
        self.bands.iter().find(|b| b.min <= total && total <= b.max)
    }

    /// Scores an assessment done on `on`. Every item must be answered with
    /// one of its options' scores; the first bad answer is refused naming the
    /// item (see [`Standard::check_answers`] for all of them).
    pub fn assess(
        &self,
        answers: &BTreeMap<String, u8>,
        facts: &Facts,
        on: NaiveDate,
    ) -> Result<Outcome, RulesError> {
        if let Some(e) = self.check_answers(answers).into_iter().next() {
            return Err(RulesError::Answer {
                item: e.item,
                reason: e.reason,
            });
        }
        if let Some((k, _)) = facts
            .risk_events
            .iter()
            .find(|(k, n)| **n > MAX_RISK_EVENTS || !self.risk_events.iter().any(|t| &t.key == *k))
        {
            return Err(RulesError::Answer {
                item: format!("risk_events.{k}"),
                reason: format!("unknown type or more than {MAX_RISK_EVENTS}"),
            });
        }
        let mut steps = Vec::new();
        let mut domain_scores = Vec::with_capacity(self.domains.len());
        for d in &self.domains {
            let score: u32 = self
                .items
                .iter()
                .filter(|i| i.domain == d.code)
                .map(|i| u32::from(answers.get(&i.code).copied().unwrap_or(0)))
                .sum();
            steps.push(Step {
                clause: "C.1".into(),
                zh: format!("{} {}：{score}/{} 分", d.code, d.zh, d.max),
                en: format!("{} {}: {score} of {}", d.code, d.en, d.max),
            });
            domain_scores.push(DomainScore {
                code: d.code.clone(),
                zh: d.zh.clone(),
                en: d.en.clone(),
                score,
                max: d.max,
            });
        }
        let total: u32 = domain_scores.iter().map(|d| d.score).sum();
        steps.push(Step {
            clause: "C.2".into(),
            zh: format!("总分 {total}/{} 分", self.max_total),
            en: format!("Total {total} of {}", self.max_total),
        });
        let band = self
            .band(total)
            .ok_or_else(|| bad(format!("no band for {total}")))?;
        let initial = band.level;
        steps.push(Step {
            clause: band.clause.clone(),
            zh: format!(
                "总分 {total} 在 {}–{} 分之间，初步等级为 {}（{}）",
                band.min, band.max, initial, band.zh
            ),
            en: format!(
                "Total {total} is within {}–{}: initial level {initial}",
                band.min, band.max
            ),
        });
        let mut applied = Vec::new();
        let r = &self.rules;
        let final_level;
        if facts.coma {
            applied.push(AppliedRule::Coma);
            final_level = 4;
            steps.push(Step {
                clause: r.coma_clause.clone(),
                zh: format!("{}：最终等级 4", r.coma_zh),
                en: "In a coma: final level set to 4 (complete loss)".into(),
            });
        } else {
            let mut raises = 0u8;
            if facts.dementia || facts.mental_disorder {
                applied.push(AppliedRule::Diagnosis);
                raises += 1;
                steps.push(Step {
                    clause: r.diagnosis_clause.clone(),
                    zh: r.diagnosis_zh.clone(),
                    en: "Dementia (F00–F03) or another mental disorder (F04–F99): one level up"
                        .into(),
                });
            }
            let events = facts.risk_event_total();
            if events >= r.risk_event_threshold {
                applied.push(AppliedRule::RiskEvents);
                raises += 1;
                steps.push(Step {
                    clause: r.risk_clause.clone(),
                    zh: format!("近30天照护风险事件 {events} 次：{}", r.risk_zh),
                    en: format!(
                        "{events} care-risk events in 30 days (≥ {}): one level up",
                        r.risk_event_threshold
                    ),
                });
            }
            if raises == 2 {
                let stack = self.param_on(PARAM_STACK, on)? != 0;
                let p = self.parameter(PARAM_STACK);
                let clause = p.map(|p| p.clause.clone()).unwrap_or_default();
                if stack {
                    steps.push(Step {
                        clause,
                        zh: "两条规则同时适用，按参数叠加提高两级".into(),
                        en: "Both rules apply and the parameter stacks them: two levels up".into(),
                    });
                } else {
                    raises = 1;
                    steps.push(Step {
                        clause,
                        zh: "两条规则同时适用，按参数只提高一级（不叠加）".into(),
                        en: "Both rules apply; the parameter does not stack them: one level up"
                            .into(),
                    });
                }
            }
            let raised = initial.saturating_add(raises);
            if raised > 4 {
                applied.push(AppliedRule::Cap);
                steps.push(Step {
                    clause: "C.4".into(),
                    zh: r.cap_zh.clone(),
                    en: "Capped at level 4 (complete loss)".into(),
                });
            }
            final_level = raised.min(4);
        }
        let level = level_of(final_level);
        let initial_level = level_of(initial);
        steps.push(Step {
            clause: "C.5".into(),
            zh: format!(
                "最终等级 {final_level}（{}）",
                self.bands
                    .iter()
                    .find(|b| b.level == final_level)
                    .map(|b| b.zh.as_str())
                    .unwrap_or("")
            ),
            en: format!("Final level {final_level} ({})", level.label_en()),
        });
        Ok(Outcome {
            domains: domain_scores,
            total,
            initial_level,
            final_level: level,
            applied,
            steps,
        })
    }

    /// Every problem with a set of answers: an unknown item, a missing item,
    /// a score that is not one of the item's options.
    pub fn check_answers(&self, answers: &BTreeMap<String, u8>) -> Vec<AnswerError> {
        let mut errs = Vec::new();
        for code in answers.keys() {
            if self.item(code).is_none() {
                errs.push(AnswerError {
                    item: code.chars().take(20).collect(),
                    reason: "not an item of GB/T 42195-2022 Annex B".into(),
                });
            }
        }
        for it in &self.items {
            match answers.get(&it.code) {
                None => errs.push(AnswerError {
                    item: it.code.clone(),
                    reason: format!("{} is not answered", it.zh),
                }),
                Some(s) if !it.options.iter().any(|o| o.score == *s) => {
                    let allowed: Vec<String> =
                        it.options.iter().map(|o| o.score.to_string()).collect();
                    errs.push(AnswerError {
                        item: it.code.clone(),
                        reason: format!(
                            "{} has no option scored {s}; options: {}",
                            it.zh,
                            allowed.join(", ")
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        errs
    }
}

/// The `AbilityLevel` for a number 0–4 (4 beyond).
pub fn level_of(n: u8) -> AbilityLevel {
    match n {
        0 => AbilityLevel::Intact,
        1 => AbilityLevel::Mild,
        2 => AbilityLevel::Moderate,
        3 => AbilityLevel::Severe,
        _ => AbilityLevel::Complete,
    }
}

/// A refused answer: the item's code and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    pub item: String,
    pub reason: String,
}

/// The Annex A facts the level rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// A.5.11 昏迷.
    #[serde(default)]
    pub coma: bool,
    /// A.4.1 痴呆 F00–F03.
    #[serde(default)]
    pub dementia: bool,
    /// A.4.1 其他精神和行为障碍 F04–F99 (psychiatrist's diagnosis).
    #[serde(default)]
    pub mental_disorder: bool,
    /// A.2.14 近30天内照护风险事件, count by type key (fall, wandering, …).
    #[serde(default)]
    pub risk_events: BTreeMap<String, u32>,
}

impl Facts {
    /// Care-risk events of all types in the past 30 days.
    pub fn risk_event_total(&self) -> u32 {
        self.risk_events
            .values()
            .fold(0u32, |a, n| a.saturating_add(*n))
    }
}

/// A C.4 rule that changed the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedRule {
    Coma,
    Diagnosis,
    RiskEvents,
    Cap,
}

/// One domain's score (C.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainScore {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub score: u32,
    pub max: u32,
}

/// One step of the explanation: the clause and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub clause: String,
    pub zh: String,
    pub en: String,
}

/// What an assessment comes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub domains: Vec<DomainScore>,
    pub total: u32,
    /// C.3 初步等级.
    pub initial_level: AbilityLevel,
    /// C.5 最终等级.
    pub final_level: AbilityLevel,
    pub applied: Vec<AppliedRule>,
    pub steps: Vec<Step>,
}

#[cfg(test)]
mod tests;
