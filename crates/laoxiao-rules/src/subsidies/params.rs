//! Dated parameters (政策参数) from `data/policy/*.toml`: every value has the
//! date it came into force, optionally the date it ended, its unit and the
//! plan clause it comes from. A change is a new entry, so a past month
//! recomputes exactly as it was paid. A reform (what-if) is a file in the
//! same format whose entries take precedence from their dates on.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

/// The most entries a parameter file may hold (bounds a reform upload).
pub const MAX_PARAMETERS: usize = 2_000;
/// The most dated values one parameter may hold.
pub const MAX_VALUES: usize = 400;
/// The largest number a value may be (10 billion: far above any amount).
pub const MAX_VALUE: i64 = 10_000_000_000;

/// A parameter's value: an integer (yuan, percent, count, month) or a word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// One dated value of a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dated {
    pub from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub value: Value,
    /// A stand-in, not an official figure (the county incomes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub placeholder: bool,
    /// Where a value loaded at run time came from (statistics bureau file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Set on entries that came from a reform file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reform: bool,
}

/// A parameter with its dated values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    #[serde(default)]
    pub zh: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub clause: String,
    pub values: Vec<Dated>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    parameter: Vec<Parameter>,
}

/// A value as a rule used it: what an explanation shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Used {
    pub name: String,
    pub value: Value,
    pub unit: String,
    pub from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub clause: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub placeholder: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reform: bool,
}

/// The embedded parameter files, by name.
pub const FILES: &[(&str, &str)] = &[
    (
        "childcare.toml",
        include_str!("../../../../data/policy/childcare.toml"),
    ),
    (
        "eldercare.toml",
        include_str!("../../../../data/policy/eldercare.toml"),
    ),
    (
        "funding.toml",
        include_str!("../../../../data/policy/funding.toml"),
    ),
    (
        "income.toml",
        include_str!("../../../../data/policy/income.toml"),
    ),
    (
        "complaints.toml",
        include_str!("../../../../data/policy/complaints.toml"),
    ),
    (
        "open_data.toml",
        include_str!("../../../../data/policy/open_data.toml"),
    ),
    (
        "inspections.toml",
        include_str!("../../../../data/policy/inspections.toml"),
    ),
    (
        "entitlements.toml",
        include_str!("../../../../data/policy/entitlements.toml"),
    ),
    (
        "key_projects.toml",
        include_str!("../../../../data/policy/key_projects.toml"),
    ),
];

/// All parameters, by name, with a version digest over their content.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    by_name: BTreeMap<String, Parameter>,
    version: String,
}

fn bad(file: &str, reason: impl Into<String>) -> RulesError {
    RulesError::Parameters {
        file: file.chars().take(100).collect(),
        reason: reason.into(),
    }
}

/// Parses one parameter file and checks every entry.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Parameter>, RulesError> {
    if text.len() > 1_000_000 {
        return Err(bad(file, "larger than 1 MB"));
    }
    let f: File = toml::from_str(text).map_err(|e| bad(file, e.to_string()))?;
    if f.parameter.len() > MAX_PARAMETERS {
        return Err(bad(file, format!("more than {MAX_PARAMETERS} parameters")));
    }
    for p in &f.parameter {
        let name = &p.name;
        if name.is_empty()
            || name.len() > 100
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(bad(
                file,
                format!(
                    "parameter name {name:?}: letters, digits, dots and underscores, at most 100"
                ),
            ));
        }
        if p.values.is_empty() || p.values.len() > MAX_VALUES {
            return Err(bad(
                file,
                format!("parameter {name}: 1 to {MAX_VALUES} dated values"),
            ));
        }
        for v in &p.values {
            if let Some(u) = v.until
                && u < v.from
            {
                return Err(bad(
                    file,
                    format!("parameter {name}: until {u} is before from {}", v.from),
                ));
            }
            match &v.value {
                Value::Int(n) if !(-MAX_VALUE..=MAX_VALUE).contains(n) => {
                    return Err(bad(
                        file,
                        format!("parameter {name}: value {n} out of range"),
                    ));
                }
                Value::Text(s) if s.len() > 200 => {
                    return Err(bad(file, format!("parameter {name}: text value too long")));
                }
                _ => {}
            }
        }
    }
    Ok(f.parameter)
}

fn fnv(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

impl Params {
    /// The embedded parameters (`data/policy/`, parsed once).
    pub fn embedded() -> Result<&'static Params, RulesError> {
        static PARAMS: std::sync::OnceLock<Result<Params, RulesError>> = std::sync::OnceLock::new();
        crate::parsed_once(&PARAMS, || Params::from_files(FILES))
    }

    /// Parameters from named files (tests, the embedded set).
    pub fn from_files(files: &[(&str, &str)]) -> Result<Params, RulesError> {
        let mut by_name = BTreeMap::new();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (file, text) in files {
            fnv(&mut hash, text.as_bytes());
            for p in parse_file(file, text)? {
                if by_name.contains_key(&p.name) {
                    return Err(bad(file, format!("parameter {} given twice", p.name)));
                }
                by_name.insert(p.name.clone(), p);
            }
        }
        Ok(Params {
            by_name,
            version: format!("{hash:016x}"),
        })
    }

    /// Digest of every value in force: stored with each run so that a run
    /// says which parameters it used.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn all(&self) -> impl Iterator<Item = &Parameter> {
        self.by_name.values()
    }

    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.by_name.get(name)
    }

    fn rehash(&mut self) {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for p in self.by_name.values() {
            fnv(&mut hash, p.name.as_bytes());
            for v in &p.values {
                fnv(&mut hash, format!("{v:?}").as_bytes());
            }
        }
        self.version = format!("{hash:016x}");
    }

    /// Adds loaded figures (a county's income for a year) in front of the
    /// embedded ones: on the same `from`, the loaded entry wins.
    pub fn add_values(&mut self, name: &str, values: Vec<Dated>) -> Result<(), RulesError> {
        let Some(p) = self.by_name.get_mut(name) else {
            return Err(bad("loaded values", format!("unknown parameter {name}")));
        };
        for v in values {
            p.values.retain(|old| old.from != v.from);
            p.values.push(v);
        }
        self.rehash();
        Ok(())
    }

    /// These parameters with a reform file's entries in force from their
    /// dates: the reform's value wins on any date it covers. A reform may
    /// only change parameters that exist (a typo must not pass silently).
    pub fn with_reform(&self, reform_text: &str) -> Result<Params, RulesError> {
        let mut out = self.clone();
        for p in parse_file("reform", reform_text)? {
            let Some(base) = out.by_name.get_mut(&p.name) else {
                return Err(bad("reform", format!("unknown parameter {}", p.name)));
            };
            for mut v in p.values {
                v.reform = true;
                base.values.push(v);
            }
        }
        out.rehash();
        Ok(out)
    }

    /// The value of `name` on `date`: among the entries covering the date,
    /// the reform's first, then the latest `from`.
    pub fn at(&self, name: &str, date: NaiveDate) -> Result<Used, RulesError> {
        let p = self
            .by_name
            .get(name)
            .ok_or_else(|| RulesError::Parameter {
                name: name.to_string(),
                reason: "no such parameter".into(),
            })?;
        let best = p
            .values
            .iter()
            .filter(|v| v.from <= date && v.until.is_none_or(|u| u >= date))
            .max_by_key(|v| (v.reform, v.from))
            .ok_or_else(|| RulesError::Parameter {
                name: name.to_string(),
                reason: format!("no value in force on {date}"),
            })?;
        Ok(Used {
            name: p.name.clone(),
            value: best.value.clone(),
            unit: p.unit.clone(),
            from: best.from,
            until: best.until,
            clause: match &best.source {
                Some(s) => format!("{} (数值来源: {s})", p.clause),
                None => p.clause.clone(),
            },
            placeholder: best.placeholder,
            reform: best.reform,
        })
    }

    /// The integer value of `name` on `date`.
    pub fn int(&self, name: &str, date: NaiveDate) -> Result<(i64, Used), RulesError> {
        let u = self.at(name, date)?;
        match u.value {
            Value::Int(n) => Ok((n, u)),
            Value::Text(_) => Err(RulesError::Parameter {
                name: name.to_string(),
                reason: "is a word where a number is needed".into(),
            }),
        }
    }

    /// True when the parameter exists.
    pub fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("ok")
    }

    #[test]
    fn embedded_parse_and_every_amount_cites_a_clause() {
        let p = Params::embedded().expect("ok");
        for par in p.all() {
            assert!(!par.clause.is_empty(), "{} has no clause", par.name);
            assert!(!par.zh.is_empty(), "{} has no Chinese name", par.name);
        }
        assert_eq!(
            p.int("centenarian.monthly", d("2025-06-15")).expect("ok").0,
            600
        );
        assert!(p.at("centenarian.monthly", d("2021-12-31")).is_err());
    }

    #[test]
    fn a_later_entry_supersedes_and_a_reform_wins_from_its_date() {
        let text = r#"
[[parameter]]
name = "x"
clause = "c"
values = [{ from = "2022-01-01", value = 1 }, { from = "2024-01-01", value = 2 }]
"#;
        let p = Params::from_files(&[("t.toml", text)]).expect("ok");
        assert_eq!(p.int("x", d("2023-12-31")).expect("ok").0, 1);
        assert_eq!(p.int("x", d("2024-01-01")).expect("ok").0, 2);
        let r = p
            .with_reform(
                r#"[[parameter]]
name = "x"
values = [{ from = "2023-06-01", until = "2023-06-30", value = 9 }]"#,
            )
            .expect("ok");
        assert_eq!(r.int("x", d("2023-05-31")).expect("ok").0, 1);
        let (v, used) = r.int("x", d("2023-06-15")).expect("ok");
        assert_eq!((v, used.reform), (9, true));
        assert_eq!(r.int("x", d("2023-07-01")).expect("ok").0, 1);
        assert_ne!(r.version(), p.version());
        let e = p
            .with_reform(
                "[[parameter]]\nname = \"y\"\nvalues = [{ from = \"2022-01-01\", value = 1 }]",
            )
            .expect_err("an error");
        assert!(e.to_string().contains("unknown parameter y"), "{e}");
    }

    #[test]
    fn bad_files_name_the_parameter() {
        let e = parse_file(
            "t",
            "[[parameter]]\nname = \"x\"\nvalues = [{ from = \"2022-02-01\", until = \"2022-01-01\", value = 1 }]",
        )
        .expect_err("an error");
        assert!(e.to_string().contains("parameter x"), "{e}");
        let e =
            parse_file("t", "[[parameter]]\nname = \"a b\"\nvalues = []").expect_err("an error");
        assert!(e.to_string().contains("\"a b\""), "{e}");
    }
}
