//! Monthly home-service vouchers (居家养老服务券): what an elderly person's
//! entitlement pays, per service category and calendar month, before the
//! family pays the rest of an order. The amounts are dated parameters in
//! `data/policy/vouchers.toml`, the city's choice (the plan names the
//! mechanism, not the amounts); `docs/family.md` explains them.
//!
//! A person matching several entries gets, per category, the largest amount
//! among the entries in effect on the month's first day (vouchers do not
//! stack). The split of an order is [`split`]: the voucher pays
//! `min(total, balance)`, the family the rest.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use laoxiao_model::family::ServiceCategory;
use laoxiao_model::person::{AbilityLevel, SpecialDifficulty};
use serde::Deserialize;

use crate::error::RulesError;

const FILE: &str = "data/policy/vouchers.toml";
const EMBEDDED: &str = include_str!("../../../data/policy/vouchers.toml");
/// A monthly amount above this (yuan) is refused as a typing error.
const MAX_MONTHLY_YUAN: i64 = 100_000;

/// Who an entry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// People with this special-difficulty category (特殊困难类别).
    Difficulty(SpecialDifficulty),
    /// People at this ability level (0–4) or worse.
    AbilityAtLeast(u8),
}

/// One voucher entry of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Voucher {
    pub name: String,
    pub zh: String,
    pub who: Who,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub clause: String,
    /// Fen per month, by category (a missing category: 0).
    pub monthly_fen: BTreeMap<&'static str, i64>,
}

impl Voucher {
    /// Whether the entry is for a person with these categories and ability
    /// (the voucher rule, shared with the entitlement check).
    pub fn applies(
        &self,
        difficulties: &[SpecialDifficulty],
        ability: Option<AbilityLevel>,
    ) -> bool {
        match &self.who {
            Who::Difficulty(d) => difficulties.contains(d),
            Who::AbilityAtLeast(n) => ability
                .and_then(|a| a.code().parse::<u8>().ok())
                .is_some_and(|a| a >= *n),
        }
    }

    /// Whether the entry is in effect on `day`.
    pub fn in_effect(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|t| day <= t)
    }
}

/// The voucher table.
#[derive(Debug, Clone, PartialEq)]
pub struct Vouchers {
    pub entries: Vec<Voucher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    voucher: Vec<RawVoucher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoucher {
    name: String,
    zh: String,
    who: RawWho,
    from: String,
    #[serde(default)]
    to: Option<String>,
    clause: String,
    monthly_yuan: BTreeMap<String, i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWho {
    #[serde(default)]
    special_difficulty: Option<String>,
    #[serde(default)]
    ability_at_least: Option<u8>,
}

fn err(reason: String) -> RulesError {
    RulesError::Parameters {
        file: FILE.to_string(),
        reason,
    }
}

fn date(name: &str, s: &str) -> Result<NaiveDate, RulesError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| err(format!("{name}: {s:?} is not a YYYY-MM-DD date")))
}

impl Vouchers {
    /// The embedded table (parsed once).
    pub fn embedded() -> Result<&'static Vouchers, RulesError> {
        static V: OnceLock<Result<Vouchers, String>> = OnceLock::new();
        V.get_or_init(|| Vouchers::parse(EMBEDDED).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| err(e.clone()))
    }

    /// Parses a table in the file's format.
    pub fn parse(text: &str) -> Result<Vouchers, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut entries = Vec::new();
        for v in raw.voucher {
            let who = match (&v.who.special_difficulty, v.who.ability_at_least) {
                (Some(d), None) => {
                    Who::Difficulty(SpecialDifficulty::parse(d).ok_or_else(|| {
                        err(format!("{}: unknown special difficulty {d:?}", v.name))
                    })?)
                }
                (None, Some(n)) if n <= 4 => Who::AbilityAtLeast(n),
                _ => {
                    return Err(err(format!(
                        "{}: who is one special_difficulty or one ability_at_least (0-4)",
                        v.name
                    )));
                }
            };
            let mut monthly_fen = BTreeMap::new();
            for (k, y) in &v.monthly_yuan {
                let c = ServiceCategory::parse(k)
                    .ok_or_else(|| err(format!("{}: unknown category {k:?}", v.name)))?;
                if !(0..=MAX_MONTHLY_YUAN).contains(y) {
                    return Err(err(format!(
                        "{}: {k} = {y} outside 0..={MAX_MONTHLY_YUAN} yuan",
                        v.name
                    )));
                }
                monthly_fen.insert(c.code(), y * 100);
            }
            let from = date(&v.name, &v.from)?;
            let to = v.to.as_deref().map(|t| date(&v.name, t)).transpose()?;
            entries.push(Voucher {
                name: v.name,
                zh: v.zh,
                who,
                from,
                to,
                clause: v.clause,
                monthly_fen,
            });
        }
        Ok(Vouchers { entries })
    }

    /// The monthly voucher (fen) for one category of a person, for the month
    /// starting `month_first`, and the entry that gives it (`None`: no entry
    /// applies, 0 fen).
    pub fn monthly(
        &self,
        difficulties: &[SpecialDifficulty],
        ability: Option<AbilityLevel>,
        category: ServiceCategory,
        month_first: NaiveDate,
    ) -> (i64, Option<&Voucher>) {
        let mut best: (i64, Option<&Voucher>) = (0, None);
        for v in &self.entries {
            if !v.in_effect(month_first) || !v.applies(difficulties, ability) {
                continue;
            }
            let amount = v.monthly_fen.get(category.code()).copied().unwrap_or(0);
            if amount > best.0 {
                best = (amount, Some(v));
            }
        }
        best
    }
}

/// How an order's total is paid: the voucher first, up to the balance left
/// this month; the family the rest. Fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub voucher_fen: i64,
    pub family_fen: i64,
}

/// Splits `total_fen` against a voucher `balance_fen` (negative balances
/// count as 0).
pub fn split(total_fen: i64, balance_fen: i64) -> Split {
    let voucher_fen = total_fen.min(balance_fen.max(0)).max(0);
    Split {
        voucher_fen,
        family_fen: total_fen - voucher_fen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn embedded_table_parses_and_takes_the_largest_entry() {
        let v = Vouchers::embedded().expect("embedded");
        // 特困 and severely impaired: bathing 100 yuan (特困) vs 150 (失能) → 150.
        let (fen, entry) = v.monthly(
            &[SpecialDifficulty::ExtremePoverty],
            Some(AbilityLevel::Severe),
            ServiceCategory::Bathing,
            d("2026-12-01"),
        );
        assert_eq!(fen, 15_000);
        assert_eq!(entry.map(|e| e.name.as_str()), Some("severe_impairment"));
        // Meals: 200 (特困) beats 100 (失能).
        assert_eq!(
            v.monthly(
                &[SpecialDifficulty::ExtremePoverty],
                Some(AbilityLevel::Severe),
                ServiceCategory::Meals,
                d("2026-12-01")
            )
            .0,
            20_000
        );
        // Moderately impaired, no difficulty: nothing.
        assert_eq!(
            v.monthly(
                &[],
                Some(AbilityLevel::Moderate),
                ServiceCategory::Meals,
                d("2026-12-01")
            )
            .0,
            0
        );
        // Before the table's date: nothing.
        assert_eq!(
            v.monthly(
                &[SpecialDifficulty::ExtremePoverty],
                None,
                ServiceCategory::Meals,
                d("2025-12-01")
            )
            .0,
            0
        );
    }

    #[test]
    fn split_pays_the_voucher_first() {
        assert_eq!(
            split(8_000, 10_000),
            Split {
                voucher_fen: 8_000,
                family_fen: 0
            }
        );
        assert_eq!(
            split(8_000, 5_000),
            Split {
                voucher_fen: 5_000,
                family_fen: 3_000
            }
        );
        assert_eq!(
            split(8_000, 0),
            Split {
                voucher_fen: 0,
                family_fen: 8_000
            }
        );
        assert_eq!(
            split(8_000, -300),
            Split {
                voucher_fen: 0,
                family_fen: 8_000
            }
        );
    }

    #[test]
    fn bad_tables_are_refused() {
        let bad = "[[voucher]]\nname='x'\nzh='x'\nwho={ability_at_least=7}\nfrom='2026-01-01'\nclause='c'\nmonthly_yuan={meals=1}\n";
        assert!(Vouchers::parse(bad).is_err());
        let bad = "[[voucher]]\nname='x'\nzh='x'\nwho={ability_at_least=3}\nfrom='2026-01-01'\nclause='c'\nmonthly_yuan={massage=1}\n";
        assert!(Vouchers::parse(bad).is_err());
    }
}
