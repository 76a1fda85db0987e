//! The context that validation needs beyond the record itself: the area tree,
//! the city boundary and the national class-size limits.

use crate::area::{AreaLevel, AreaTree};
use crate::error::FieldError;
use crate::facility::ClassType;
use laoxiao_spatial::IndexedBoundary;

/// One row of the national class-size table (托育机构设置标准).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassLimit {
    pub class_type: ClassType,
    pub min_age_months: u32,
    pub max_age_months: u32,
    pub max_size: i64,
    /// Children per caregiver, where the standard sets one.
    pub children_per_caregiver: Option<i64>,
    pub effective_from: chrono::NaiveDate,
    /// Document and clause, for messages.
    pub source: String,
}

/// The class-size table, parsed from `data/standards/childcare_class_limits.csv`.
#[derive(Debug, Clone, Default)]
pub struct ClassLimits {
    rows: Vec<ClassLimit>,
}

const CLASS_LIMITS_CSV: &str = include_str!("../../../data/standards/childcare_class_limits.csv");

impl ClassLimits {
    /// The embedded national table.
    pub fn embedded() -> Result<Self, crate::ModelError> {
        Self::parse(CLASS_LIMITS_CSV)
    }

    /// Parses the table (simple CSV without quoted fields).
    pub fn parse(text: &str) -> Result<Self, crate::ModelError> {
        let bad = |reason: String| crate::ModelError::ReferenceData {
            file: "childcare_class_limits.csv",
            reason,
        };
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != 8 {
                return Err(bad(format!(
                    "line {}: expected 8 fields, got {}",
                    i + 1,
                    f.len()
                )));
            }
            let num = |s: &str, what: &str| -> Result<i64, crate::ModelError> {
                s.parse::<i64>()
                    .map_err(|e| bad(format!("line {}: {what}: {e}", i + 1)))
            };
            rows.push(ClassLimit {
                class_type: ClassType::parse(f[0])
                    .ok_or_else(|| bad(format!("line {}: class type {}", i + 1, f[0])))?,
                min_age_months: num(f[1], "min_age_months")? as u32,
                max_age_months: num(f[2], "max_age_months")? as u32,
                max_size: num(f[3], "max_size")?,
                children_per_caregiver: if f[4].is_empty() {
                    None
                } else {
                    Some(num(f[4], "children_per_caregiver")?)
                },
                effective_from: chrono::NaiveDate::parse_from_str(f[5], "%Y-%m-%d")
                    .map_err(|e| bad(format!("line {}: effective_from: {e}", i + 1)))?,
                source: format!("{} {}", f[6], f[7]),
            });
        }
        Ok(ClassLimits { rows })
    }

    pub fn get(&self, t: ClassType) -> Option<&ClassLimit> {
        self.rows.iter().find(|r| r.class_type == t)
    }

    pub fn all(&self) -> &[ClassLimit] {
        &self.rows
    }
}

/// Validation context, built once and shared.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub areas: &'a AreaTree,
    /// The city outline, indexed so that a million points check in well under a second.
    pub boundary: &'a IndexedBoundary,
    pub class_limits: &'a ClassLimits,
}

impl Checker<'_> {
    /// Ok when `code` is a known area at one of `levels`; else the reason.
    pub fn area_at_levels(&self, code: &str, levels: &[AreaLevel]) -> Result<(), String> {
        match self.areas.get(code) {
            None => Err(format!("unknown area code {code:?}")),
            Some(a) if levels.contains(&a.level) => Ok(()),
            Some(a) => {
                let want: Vec<&str> = levels.iter().map(|l| l.code()).collect();
                Err(format!(
                    "area {code} ({}) is at {} level; expected {}",
                    a.name,
                    a.level,
                    want.join(" or ")
                ))
            }
        }
    }

    /// Pushes an error unless both coordinates are absent, or both present and inside the boundary.
    pub fn check_point(&self, lng: Option<f64>, lat: Option<f64>, errs: &mut Vec<FieldError>) {
        match (lng, lat) {
            (None, None) => {}
            (Some(_), None) => errs.push(FieldError::new("lat", "required when lng is given")),
            (None, Some(_)) => errs.push(FieldError::new("lng", "required when lat is given")),
            (Some(x), Some(y)) => {
                if !x.is_finite() || !y.is_finite() {
                    errs.push(FieldError::new("lng", "coordinates must be numbers"));
                } else if !self.boundary.contains(x, y) {
                    errs.push(FieldError::new(
                        "lng",
                        format!("point ({x:.6}, {y:.6}) lies outside Jiaxing's boundary (WGS-84)"),
                    ));
                }
            }
        }
    }
}
