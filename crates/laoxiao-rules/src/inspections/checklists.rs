//! Inspection checklists (检查清单, `checklist`) per facility kind, from
//! `data/inspections/checklists.toml` (dated; the items are drafts to be
//! replaced by the county's lists), and the overall result (检查结果,
//! `inspection_result`) an inspection's item outcomes give.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

const FILE: &str = "checklists.toml";
const TEXT: &str = include_str!("../../../../data/inspections/checklists.toml");
/// The most items a checklist may hold.
pub const MAX_ITEMS: usize = 100;

/// One item of a checklist (检查事项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub zh: String,
    #[serde(default)]
    pub en: String,
    /// A failure makes the result 不合格.
    #[serde(default)]
    pub critical: bool,
}

/// The checklist of one facility kind, in force from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    pub kind: String,
    pub zh: String,
    pub from: NaiveDate,
    pub source: String,
    /// The items are drafts, not the official list.
    #[serde(default)]
    pub draft: bool,
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
struct File {
    checklist: Vec<Checklist>,
}

fn bad(reason: impl Into<String>) -> RulesError {
    RulesError::ReferenceData {
        file: FILE,
        reason: reason.into(),
    }
}

fn parse() -> Result<Vec<Checklist>, RulesError> {
    let f: File = toml::from_str(TEXT).map_err(|e| bad(e.to_string()))?;
    for c in &f.checklist {
        if c.items.is_empty() || c.items.len() > MAX_ITEMS {
            return Err(bad(format!("{}: 1 to {MAX_ITEMS} items", c.kind)));
        }
        let mut codes: Vec<&str> = c.items.iter().map(|i| i.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        if codes.len() != c.items.len() {
            return Err(bad(format!("{}: item codes repeat", c.kind)));
        }
    }
    Ok(f.checklist)
}

/// Every checklist (each kind, each dated version).
pub fn all() -> Result<&'static [Checklist], RulesError> {
    static CELL: std::sync::OnceLock<Result<Vec<Checklist>, RulesError>> =
        std::sync::OnceLock::new();
    crate::parsed_once(&CELL, parse).map(Vec::as_slice)
}

/// The facility kinds that have a checklist (the kinds a plan may cover).
pub const KINDS: &[&str] = &[
    "elderly_institution",
    "town_home_care_center",
    "village_care_station",
    "childcare_institution",
];

/// The checklist of a kind in force on a day.
pub fn for_kind(kind: &str, day: NaiveDate) -> Result<Option<&'static Checklist>, RulesError> {
    Ok(all()?
        .iter()
        .filter(|c| c.kind == kind && c.from <= day)
        .max_by_key(|c| c.from))
}

/// An item's outcome (检查结论).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 符合.
    Pass,
    /// 不符合.
    Fail,
    /// 不适用.
    NotApplicable,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not_applicable",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Pass => "符合",
            Outcome::Fail => "不符合",
            Outcome::NotApplicable => "不适用",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Pass, Outcome::Fail, Outcome::NotApplicable]
            .into_iter()
            .find(|o| o.code() == s.trim() || o.label_zh() == s.trim())
    }
}

/// The overall result of an inspection (检查结果, `inspection_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 合格: no item failed.
    Pass,
    /// 基本合格: only items that are not critical failed (rectification ordered).
    BasicPass,
    /// 不合格: a critical item failed (rectification ordered; subsidies held).
    Fail,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::BasicPass => "basic_pass",
            Verdict::Fail => "fail",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Verdict::Pass => "合格",
            Verdict::BasicPass => "基本合格",
            Verdict::Fail => "不合格",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::BasicPass, Verdict::Fail]
            .into_iter()
            .find(|v| v.code() == s.trim() || v.label_zh() == s.trim())
    }
}

/// The result the outcomes give: any critical failure 不合格, any other
/// failure 基本合格, none 合格.
pub fn verdict(c: &Checklist, outcomes: &[(String, Outcome)]) -> Verdict {
    let failed = |critical: bool| {
        outcomes.iter().any(|(code, o)| {
            *o == Outcome::Fail
                && c.items
                    .iter()
                    .any(|i| &i.code == code && i.critical == critical)
        })
    };
    if failed(true) {
        Verdict::Fail
    } else if failed(false) {
        Verdict::BasicPass
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_checklist_and_verdicts_follow_the_items() {
        let day = NaiveDate::from_ymd_opt(2025, 6, 1).expect("day");
        for k in KINDS {
            let c = for_kind(k, day).expect("parse").expect("a checklist");
            assert!(c.draft, "the items are drafts until the county's lists");
            assert!(c.items.iter().any(|i| i.critical));
        }
        let c = for_kind("elderly_institution", day).expect("p").expect("c");
        let all_pass: Vec<_> = c
            .items
            .iter()
            .map(|i| (i.code.clone(), Outcome::Pass))
            .collect();
        assert_eq!(verdict(c, &all_pass), Verdict::Pass);
        let mut v = all_pass.clone();
        v[2].1 = Outcome::Fail; // risk_assessment: not critical
        assert_eq!(verdict(c, &v), Verdict::BasicPass);
        v[1].1 = Outcome::Fail; // fire_safety: critical
        assert_eq!(verdict(c, &v), Verdict::Fail);
        assert!(
            for_kind(
                "elderly_institution",
                NaiveDate::from_ymd_opt(2019, 1, 1).expect("d")
            )
            .expect("p")
            .is_none()
        );
        assert_eq!(Outcome::parse("不适用"), Some(Outcome::NotApplicable));
        assert_eq!(Verdict::parse("basic_pass"), Some(Verdict::BasicPass));
    }
}
