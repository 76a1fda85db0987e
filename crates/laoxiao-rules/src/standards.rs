//! National standards as rules. For now the childcare class-size table of
//! 《托育机构设置标准（试行）》: per class type the children's ages, the
//! largest class and the children per caregiver, from
//! `data/standards/childcare_class_limits.csv` (embedded, see its SOURCES.md).
//!
//! Class validation in the model asks this table through
//! [`laoxiao_model::ClassSizeRule`], so the model needs no dependency on the rules.

use laoxiao_model::{ClassSizeRule, ClassType};

use crate::error::RulesError;

const CLASS_LIMITS: (&str, &str) = (
    "childcare_class_limits.csv",
    include_str!("../../../data/standards/childcare_class_limits.csv"),
);

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

/// The class-size table, parsed from `data/standards/childcare_class_limits.csv`,
/// with the dated parameters (`ratio.<class type>` in
/// `data/policy/childcare.toml`) for the ratios the standard does not set.
#[derive(Debug, Clone, Default)]
pub struct ClassLimits {
    rows: Vec<ClassLimit>,
    params: Option<crate::subsidies::params::Params>,
}

impl ClassLimits {
    /// The embedded national table, with the embedded parameters.
    pub fn embedded() -> Result<Self, RulesError> {
        let mut t = Self::parse(CLASS_LIMITS.1)?;
        t.params = Some(crate::subsidies::params::Params::embedded()?.clone());
        Ok(t)
    }

    /// Parses the table (simple CSV without quoted fields).
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let bad = |reason: String| RulesError::ReferenceData {
            file: CLASS_LIMITS.0,
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
            let num = |s: &str, what: &str| -> Result<i64, RulesError> {
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
        Ok(ClassLimits { rows, params: None })
    }

    pub fn get(&self, t: ClassType) -> Option<&ClassLimit> {
        self.rows.iter().find(|r| r.class_type == t)
    }

    pub fn all(&self) -> &[ClassLimit] {
        &self.rows
    }
}

impl ClassSizeRule for ClassLimits {
    fn max_class_size(&self, class_type: ClassType) -> Option<(i64, &str)> {
        self.get(class_type)
            .map(|l| (l.max_size, l.source.as_str()))
    }

    fn age_months(&self, class_type: ClassType) -> Option<(i32, i32, &str)> {
        self.get(class_type).map(|l| {
            (
                i32::try_from(l.min_age_months).unwrap_or(i32::MAX),
                i32::try_from(l.max_age_months).unwrap_or(i32::MAX),
                l.source.as_str(),
            )
        })
    }

    /// The standard's ratio where it sets one (in force from its date), else
    /// the dated parameter `ratio.<class type>` on `on`.
    fn children_per_caregiver(
        &self,
        class_type: ClassType,
        on: chrono::NaiveDate,
    ) -> Option<(i64, String)> {
        let row = self.get(class_type);
        if let Some(l) = row
            && let Some(n) = l.children_per_caregiver
            && l.effective_from <= on
        {
            return Some((n, l.source.clone()));
        }
        let name = format!("ratio.{}", class_type.code());
        self.params
            .as_ref()
            .and_then(|p| p.int(&name, on).ok())
            .map(|(n, used)| (n, format!("{name}: {}", used.clause)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_come_from_the_standard_then_the_dated_parameter() {
        let t = ClassLimits::embedded().expect("table");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
        let (n, src) = t
            .children_per_caregiver(ClassType::InfantClass, day)
            .expect("infant ratio");
        assert_eq!(n, 3);
        assert!(src.contains("第十五条"), "{src}");
        // The standard sets none for 混龄班: the parameter, which says so.
        let (n, src) = t
            .children_per_caregiver(ClassType::MixedAgeClass, day)
            .expect("mixed ratio");
        assert_eq!(n, 5);
        assert!(
            src.starts_with("ratio.mixed_age_class") && src.contains("待核实"),
            "{src}"
        );
        // Before the standard and the parameter: no ratio.
        let before = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).expect("day");
        assert!(
            t.children_per_caregiver(ClassType::InfantClass, before)
                .is_none()
        );
        assert!(
            t.children_per_caregiver(ClassType::MixedAgeClass, before)
                .is_none()
        );
        // A table without parameters knows only the standard's.
        let bare = ClassLimits::parse(CLASS_LIMITS.1).expect("bare");
        assert!(
            bare.children_per_caregiver(ClassType::MixedAgeClass, day)
                .is_none()
        );
    }

    #[test]
    fn embedded_table_has_the_national_figures() {
        let t = ClassLimits::embedded().expect("table");
        assert_eq!(t.all().len(), 4);
        let want = [
            (ClassType::InfantClass, 6, 12, 10, Some(3)),
            (ClassType::YoungToddlerClass, 12, 24, 15, Some(5)),
            (ClassType::OlderToddlerClass, 24, 36, 20, Some(7)),
            (ClassType::MixedAgeClass, 18, 36, 18, None),
        ];
        for (ty, lo, hi, max, ratio) in want {
            let l = t.get(ty).expect("row");
            assert_eq!(
                (l.min_age_months, l.max_age_months, l.max_size),
                (lo, hi, max)
            );
            assert_eq!(l.children_per_caregiver, ratio, "{ty}");
            assert!(l.source.contains("国卫人口发〔2019〕58号"), "{}", l.source);
            let (m, src) = t.max_class_size(ty).expect("rule");
            assert_eq!((m, src), (max, l.source.as_str()));
        }
    }

    #[test]
    fn parse_refuses_bad_rows() {
        let head = "class_type,min_age_months,max_age_months,max_size,children_per_caregiver,effective_from,source,clause\n";
        for (row, want) in [
            ("infant_class,6,12,10,3,2019-10-08,doc", "expected 8 fields"),
            ("nursery,6,12,10,3,2019-10-08,doc,1", "class type nursery"),
            ("infant_class,6,12,ten,3,2019-10-08,doc,1", "max_size"),
            ("infant_class,6,12,10,3,2019-13-08,doc,1", "effective_from"),
        ] {
            let e = ClassLimits::parse(&format!("{head}{row}\n")).expect_err(row);
            assert_eq!(e.code(), "reference_data_invalid");
            let msg = e.to_string();
            assert!(
                msg.contains("childcare_class_limits.csv") && msg.contains(want),
                "{row}: {msg}"
            );
        }
        let t = ClassLimits::parse(&format!("{head}\ninfant_class,6,12,10,,2019-10-08,doc,1\n"))
            .expect("blank ratio");
        assert_eq!(
            t.get(ClassType::InfantClass)
                .expect("row")
                .children_per_caregiver,
            None
        );
        assert!(t.max_class_size(ClassType::MixedAgeClass).is_none());
    }
}
