//! The context that validation needs beyond the record itself: the area tree,
//! the city boundary and the national class-size rule.

use crate::area::{AreaLevel, AreaTree};
use crate::error::FieldError;
use crate::facility::ClassType;
use laoxiao_spatial::IndexedBoundary;

/// What class validation asks of the national class-size rule. The table and
/// its lookup are rules (`laoxiao_rules::ClassLimits` implements this); the
/// model only names the question, so it does not depend on the rules crate.
pub trait ClassSizeRule: std::fmt::Debug + Sync {
    /// The largest class the standard allows for this type, and the document
    /// and clause to cite; `None` where it sets none.
    fn max_class_size(&self, class_type: ClassType) -> Option<(i64, &str)>;

    /// The most children one caregiver (保育人员) may have in a class of this
    /// type on `on` (the 师幼比 read as 1:n), and the source to cite; `None`
    /// where neither the standard nor a dated parameter sets one.
    fn children_per_caregiver(
        &self,
        class_type: ClassType,
        on: chrono::NaiveDate,
    ) -> Option<(i64, String)>;

    /// The ages a class of this type takes, in whole months (from inclusive,
    /// to exclusive), and the source to cite; `None` where none is set.
    fn age_months(&self, class_type: ClassType) -> Option<(i32, i32, &str)>;
}

/// Validation context, built once and shared.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub areas: &'a AreaTree,
    /// The city outline, indexed so that a million points check in well under a second.
    pub boundary: &'a IndexedBoundary,
    pub class_limits: &'a dyn ClassSizeRule,
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

/// Test stand-ins for the rules the model asks about (the model's own tests
/// cannot use the rules crate, which depends on the model).
#[cfg(test)]
pub(crate) mod test_rules {
    use super::ClassSizeRule;
    use crate::facility::ClassType;

    /// Runs `f` with a checker on the real area tree and boundary and
    /// [`NationalMaxima`].
    pub(crate) fn with_checker(f: impl FnOnce(&super::Checker<'_>)) {
        let areas = crate::jiaxing::areas().expect("areas");
        let boundary: laoxiao_spatial::IndexedBoundary =
            crate::jiaxing::city_boundary().expect("boundary").into();
        f(&super::Checker {
            areas: &areas,
            boundary: &boundary,
            class_limits: &NationalMaxima,
        });
    }

    /// The national maxima as `data/standards/childcare_class_limits.csv` has them.
    #[derive(Debug)]
    pub(crate) struct NationalMaxima;

    impl ClassSizeRule for NationalMaxima {
        fn max_class_size(&self, class_type: ClassType) -> Option<(i64, &str)> {
            let max = match class_type {
                ClassType::InfantClass => 10,
                ClassType::YoungToddlerClass => 15,
                ClassType::OlderToddlerClass => 20,
                ClassType::MixedAgeClass => 18,
            };
            Some((max, "托育机构设置标准（试行） 第十五条"))
        }

        fn children_per_caregiver(
            &self,
            class_type: ClassType,
            _on: chrono::NaiveDate,
        ) -> Option<(i64, String)> {
            let n = match class_type {
                ClassType::InfantClass => 3,
                ClassType::YoungToddlerClass => 5,
                ClassType::OlderToddlerClass => 7,
                ClassType::MixedAgeClass => return None,
            };
            Some((n, "托育机构设置标准（试行） 第十五条".into()))
        }

        fn age_months(&self, class_type: ClassType) -> Option<(i32, i32, &str)> {
            let (lo, hi) = match class_type {
                ClassType::InfantClass => (6, 12),
                ClassType::YoungToddlerClass => (12, 24),
                ClassType::OlderToddlerClass => (24, 36),
                ClassType::MixedAgeClass => (18, 36),
            };
            Some((lo, hi, "托育机构设置标准（试行） 第十五条"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_rules::NationalMaxima;
    use super::*;
    use crate::facility::ChildcareClass;
    use crate::register::Record as _;
    use chrono::NaiveDate;

    #[test]
    fn class_validation_asks_the_class_size_rule() {
        let areas = crate::jiaxing::areas().expect("areas");
        let boundary: IndexedBoundary = crate::jiaxing::city_boundary().expect("boundary").into();
        let ck = Checker {
            areas: &areas,
            boundary: &boundary,
            class_limits: &NationalMaxima,
        };
        let class = |class_type, capacity| ChildcareClass {
            id: "C1".into(),
            facility_id: "F1".into(),
            class_type,
            capacity,
            caregivers: 1,
            ..Default::default()
        };
        assert!(
            class(ClassType::InfantClass, 10)
                .validate(&ck, NaiveDate::MIN)
                .is_empty()
        );
        let errs = class(ClassType::InfantClass, 11).validate(&ck, NaiveDate::MIN);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "capacity");
        assert!(
            errs[0]
                .reason
                .contains("national maximum of 10 for a 乳儿班 (托育机构设置标准"),
            "{}",
            errs[0].reason
        );
        // A type the rule sets no maximum for is held to the general bound only.
        #[derive(Debug)]
        struct NoMaxima;
        impl ClassSizeRule for NoMaxima {
            fn max_class_size(&self, _: ClassType) -> Option<(i64, &str)> {
                None
            }
            fn children_per_caregiver(&self, _: ClassType, _: NaiveDate) -> Option<(i64, String)> {
                None
            }
            fn age_months(&self, _: ClassType) -> Option<(i32, i32, &str)> {
                None
            }
        }
        let ck = Checker {
            class_limits: &NoMaxima,
            ..ck
        };
        assert!(
            class(ClassType::InfantClass, 11)
                .validate(&ck, NaiveDate::MIN)
                .is_empty()
        );
    }

    /// Each type at its ratio's edge: n children per caregiver pass, one
    /// more is refused on `caregivers`, citing the standard; a type without
    /// a ratio (混龄班 here) is held to none; an empty class needs no one.
    #[test]
    fn class_validation_holds_the_caregiver_ratio() {
        super::test_rules::with_checker(ratio_edges);
    }

    fn ratio_edges(ck: &Checker<'_>) {
        let ck = *ck;
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
        let class = |class_type, enrolled, caregivers| ChildcareClass {
            id: "C1".into(),
            facility_id: "F1".into(),
            class_type,
            capacity: 10,
            enrolled,
            caregivers,
            ..Default::default()
        };
        for (ty, per, zh) in [
            (ClassType::InfantClass, 3, "乳儿班"),
            (ClassType::YoungToddlerClass, 5, "托小班"),
            (ClassType::OlderToddlerClass, 7, "托大班"),
        ] {
            // Two caregivers: 2n children pass, 2n + 1 do not (capacity allowing).
            let ok = class(ty, (2 * per).min(10), 2);
            assert!(ok.validate(&ck, day).is_empty(), "{ty:?}");
            if 2 * per < 10 {
                let errs = class(ty, 2 * per + 1, 2).validate(&ck, day);
                assert_eq!(errs.len(), 1, "{errs:?}");
                assert_eq!(errs[0].field, "caregivers");
                assert!(
                    errs[0]
                        .reason
                        .contains(&format!("need at least 3 caregivers in a {zh} (1:{per}"))
                        && errs[0].reason.contains("第十五条"),
                    "{}",
                    errs[0].reason
                );
            }
            // One child, no caregiver: refused; no child, no caregiver: fine.
            assert_eq!(class(ty, 1, 0).validate(&ck, day).len(), 1);
            assert!(class(ty, 0, 0).validate(&ck, day).is_empty());
        }
        assert!(
            class(ClassType::MixedAgeClass, 10, 1)
                .validate(&ck, day)
                .is_empty()
        );
    }
}
