//! Visiting rounds (探访关爱) and home-care beds (家庭养老床位): who must be
//! visited each month, by which day, and the completion share of a home-care
//! bed contract under which it goes on the worklist. The figures are dated data
//! in `data/policy/visits.toml` (plan clause 三（二）, indicator 8); the latest
//! value on or before a day applies.

use chrono::{Datelike, NaiveDate};
use laoxiao_model::person::{LivingArrangement, SpecialDifficulty};
use serde::Deserialize;

use crate::error::RulesError;

const EMBEDDED: &str = include_str!("../../../data/policy/visits.toml");

#[derive(Debug, Clone, Deserialize)]
struct Dated<T> {
    from: NaiveDate,
    value: T,
}

#[derive(Debug, Clone, Deserialize)]
struct Who {
    clause: String,
    special_difficulty: Vec<String>,
    living_arrangement: Vec<Dated<Vec<String>>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Frequency {
    clause: String,
    months: Vec<Dated<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
struct DueDay {
    clause: String,
    day: Vec<Dated<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Alert {
    clause: String,
    percent: Vec<Dated<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
struct File {
    who: Who,
    frequency: Frequency,
    due_day: DueDay,
    completion_alert: Alert,
}

/// The visiting rules as read from the data file.
#[derive(Debug, Clone)]
pub struct VisitRules {
    file: File,
    special: Vec<SpecialDifficulty>,
}

/// The rules that apply to one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRules {
    /// The month's first day.
    pub month: NaiveDate,
    /// Special-difficulty categories that make a person due (any of them).
    pub special_difficulty: Vec<SpecialDifficulty>,
    /// Living arrangements that make a person due without a special difficulty.
    pub living_arrangement: Vec<LivingArrangement>,
    /// The day a visit is due by; after it an open task is overdue.
    pub due_date: NaiveDate,
    /// Whether rounds fall in this month (frequency: every n months, from January).
    pub round_month: bool,
    /// The clauses the rules come from.
    pub clauses: Vec<String>,
}

fn at<T: Clone>(values: &[Dated<T>], day: NaiveDate) -> Option<T> {
    values
        .iter()
        .filter(|d| d.from <= day)
        .max_by_key(|d| d.from)
        .map(|d| d.value.clone())
}

fn bad(why: String) -> RulesError {
    RulesError::Parameters {
        file: "data/policy/visits.toml".into(),
        reason: why,
    }
}

/// The first day of a month given as `YYYY-MM`.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 7 || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()
}

/// The month's last day.
pub fn month_end(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

impl MonthRules {
    /// Whether a person is due a visit this month: not living in a care home,
    /// and one of the month's special-difficulty categories or living
    /// arrangements. The store's round generation applies the same lists in
    /// SQL (`laoxiao_store::visits`), excluding people with an active
    /// residence in a care home; the entitlement check asks this.
    pub fn due(&self, categories: &[SpecialDifficulty], living: Option<LivingArrangement>) -> bool {
        if living == Some(LivingArrangement::InInstitution) {
            return false;
        }
        self.special_difficulty
            .iter()
            .any(|c| categories.contains(c))
            || living.is_some_and(|l| self.living_arrangement.contains(&l))
    }
}

impl VisitRules {
    /// The embedded rules (parsed once).
    pub fn embedded() -> Result<&'static VisitRules, RulesError> {
        static RULES: std::sync::OnceLock<Result<VisitRules, RulesError>> =
            std::sync::OnceLock::new();
        crate::parsed_once(&RULES, || VisitRules::parse(EMBEDDED))
    }

    /// Parses a rules file (same format as `data/policy/visits.toml`).
    pub fn parse(text: &str) -> Result<VisitRules, RulesError> {
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let special = file
            .who
            .special_difficulty
            .iter()
            .map(|c| {
                c.parse::<SpecialDifficulty>()
                    .map_err(|_| bad(format!("unknown special difficulty {c:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for d in &file.who.living_arrangement {
            for c in &d.value {
                c.parse::<LivingArrangement>()
                    .map_err(|_| bad(format!("unknown living arrangement {c:?}")))?;
            }
        }
        if file
            .due_day
            .day
            .iter()
            .any(|d| !(1..=28).contains(&d.value))
        {
            return Err(bad("due_day.day must be 1..=28".into()));
        }
        if file
            .frequency
            .months
            .iter()
            .any(|d| !(1..=12).contains(&d.value))
        {
            return Err(bad("frequency.months must be 1..=12".into()));
        }
        if file.completion_alert.percent.iter().any(|d| d.value > 100) {
            return Err(bad("completion_alert.percent must be at most 100".into()));
        }
        Ok(VisitRules { file, special })
    }

    /// The rules for the month starting on `first` (any day of it is taken
    /// to its first).
    pub fn for_month(&self, day: NaiveDate) -> Result<MonthRules, RulesError> {
        let first = day.with_day(1).unwrap_or(day);
        let living = at(&self.file.who.living_arrangement, first)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.parse::<LivingArrangement>().ok())
            .collect();
        let due = at(&self.file.due_day.day, first)
            .ok_or_else(|| bad(format!("no due day for {first}")))?;
        let every = at(&self.file.frequency.months, first)
            .ok_or_else(|| bad(format!("no frequency for {first}")))?;
        Ok(MonthRules {
            month: first,
            special_difficulty: self.special.clone(),
            living_arrangement: living,
            due_date: first.with_day(due).unwrap_or(first),
            round_month: (first.month() - 1).is_multiple_of(every.max(1)),
            clauses: vec![
                self.file.who.clause.clone(),
                self.file.frequency.clause.clone(),
                self.file.due_day.clause.clone(),
            ],
        })
    }

    /// The completion share (percent) under which a home-care bed contract
    /// goes on the worklist for the month containing `day`.
    pub fn completion_alert(&self, day: NaiveDate) -> u32 {
        at(&self.file.completion_alert.percent, day).unwrap_or(0)
    }

    /// Where the alert threshold comes from.
    pub fn completion_clause(&self) -> &str {
        &self.file.completion_alert.clause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn embedded_rules_visit_every_special_difficulty_monthly_by_the_25th() {
        let r = VisitRules::embedded().expect("rules");
        let m = r.for_month(d("2026-02-17")).expect("month");
        assert_eq!(m.month, d("2026-02-01"));
        assert_eq!(m.due_date, d("2026-02-25"));
        assert!(m.round_month);
        assert_eq!(m.special_difficulty.len(), 5);
        assert!(m.living_arrangement.is_empty());
        assert_eq!(r.completion_alert(d("2026-02-01")), 80);
    }

    #[test]
    fn the_latest_dated_value_applies() {
        let text = EMBEDDED.replace(
            "living_arrangement = [{ from = \"2022-01-01\", value = [] }]",
            "living_arrangement = [{ from = \"2022-01-01\", value = [] }, { from = \"2025-07-01\", value = [\"living_alone\"] }]",
        );
        let r = VisitRules::parse(&text).expect("rules");
        assert!(
            r.for_month(d("2025-06-30"))
                .expect("m")
                .living_arrangement
                .is_empty()
        );
        assert_eq!(
            r.for_month(d("2025-07-01")).expect("m").living_arrangement,
            vec![LivingArrangement::LivingAlone]
        );
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(VisitRules::parse(&EMBEDDED.replace("value = 25", "value = 31")).is_err());
        assert!(VisitRules::parse(&EMBEDDED.replace("\"severe_disability\"", "\"rich\"")).is_err());
    }

    #[test]
    fn months_parse_and_end() {
        assert_eq!(parse_month("2024-02"), Some(d("2024-02-01")));
        assert_eq!(parse_month("2024-2"), None);
        assert_eq!(parse_month("2024-13"), None);
        assert_eq!(month_end(d("2024-02-01")), d("2024-02-29"));
        assert_eq!(month_end(d("2023-12-01")), d("2023-12-31"));
    }
}
