//! Status against target: for a value of a year, the next target and its
//! year, and whether the area has met it, is on the straight path from the
//! 2020 baseline (or the last target passed) to it, or is behind.

use laoxiao_model::AreaLevel;
use serde::Serialize;

use super::{Definition, Direction, TargetScope};
use crate::plan::{Comparator, Target};

/// 状态
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// 已达标: the value meets the next target.
    Met,
    /// 进度正常: at or beyond the straight path to the next target.
    OnTrack,
    /// 滞后: short of the path.
    Behind,
    /// 无数据: no value (nothing to divide by, nothing reported).
    NoData,
    /// 无目标: the area has no target for this indicator (a city total at
    /// county level with no county target of its own).
    NoTarget,
}

impl StatusKind {
    pub fn code(self) -> &'static str {
        match self {
            StatusKind::Met => "met",
            StatusKind::OnTrack => "on_track",
            StatusKind::Behind => "behind",
            StatusKind::NoData => "no_data",
            StatusKind::NoTarget => "no_target",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            StatusKind::Met => "已达标",
            StatusKind::OnTrack => "进度正常",
            StatusKind::Behind => "滞后",
            StatusKind::NoData => "无数据",
            StatusKind::NoTarget => "无目标",
        }
    }
}

/// An area's own target for a year (a county's own plan), in the plan's
/// notation; year 2020 sets the area's own baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaTarget {
    pub year: i32,
    pub target: Target,
}

/// The status of one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub status: StatusKind,
    /// The next target's year and cell (as the plan prints it).
    pub target_year: Option<i32>,
    pub target: Option<String>,
    pub target_value: Option<f64>,
    /// Where the straight path stands in this year.
    pub expected: Option<f64>,
    /// Target − value (value − target where lower is better): positive is
    /// the shortfall, zero or negative means met.
    pub gap: Option<f64>,
    /// Whether the target is the area's own rather than the plan's.
    pub own_target: bool,
}

/// The points a path runs through: (year, target) with a figure.
fn points(def: &Definition, level: AreaLevel, own: &[AreaTarget]) -> (Vec<(i32, Target)>, bool) {
    let own_points: Vec<(i32, Target)> = own
        .iter()
        .filter(|t| t.target.value.is_some())
        .map(|t| (t.year, t.target.clone()))
        .collect();
    if own_points.iter().any(|(y, _)| *y > 2020) {
        let mut p = own_points;
        // The plan's baseline still anchors the path when the area gives none.
        if !p.iter().any(|(y, _)| *y == 2020)
            && def.targets_apply_to == TargetScope::EveryArea
            && def.baseline_2020.value.is_some()
        {
            p.push((2020, def.baseline_2020.clone()));
        }
        p.sort_by_key(|(y, _)| *y);
        return (p, true);
    }
    if def.targets_apply_to == TargetScope::City && level != AreaLevel::City {
        return (Vec::new(), false);
    }
    let mut p: Vec<(i32, Target)> = [
        (2020, &def.baseline_2020),
        (2022, &def.target_2022),
        (2025, &def.target_2025),
    ]
    .into_iter()
    .filter(|(_, t)| t.value.is_some())
    .map(|(y, t)| (y, t.clone()))
    .collect();
    if let Some(b) = own_points.iter().find(|(y, _)| *y == 2020) {
        p.retain(|(y, _)| *y != 2020);
        p.insert(0, b.clone());
    }
    (p, false)
}

fn meets(def: &Definition, t: &Target, v: f64) -> bool {
    let Some(tv) = t.value else { return false };
    let v = def.round(v);
    match (tv.comparator, def.direction) {
        (Comparator::AtLeast, _) | (Comparator::Eq, Direction::Higher) => v >= tv.value,
        (Comparator::AtMost, _) | (Comparator::Eq, Direction::Lower) => v <= tv.value,
    }
}

/// The status of `value` for `year` in an area of `level`, against the
/// area's own targets if it has any, else the plan's (where they apply).
pub fn status(
    def: &Definition,
    level: AreaLevel,
    own: &[AreaTarget],
    year: i32,
    value: Option<f64>,
) -> Status {
    let (pts, own_target) = points(def, level, own);
    let targets: Vec<&(i32, Target)> = pts.iter().filter(|(y, _)| *y > 2020).collect();
    let next = targets
        .iter()
        .find(|(y, _)| *y >= year)
        .or_else(|| targets.last())
        .copied();
    let Some((ty, target)) = next else {
        return Status {
            status: if value.is_some() {
                StatusKind::NoTarget
            } else {
                StatusKind::NoData
            },
            target_year: None,
            target: None,
            target_value: None,
            expected: None,
            gap: None,
            own_target,
        };
    };
    let tv = target.value.map(|t| t.value);
    let mut s = Status {
        status: StatusKind::NoData,
        target_year: Some(*ty),
        target: Some(target.raw.clone()),
        target_value: tv,
        expected: None,
        gap: None,
        own_target,
    };
    // The path starts at the last point before the year (the baseline, or a
    // target already passed) and runs straight to the next target.
    let start = pts
        .iter()
        .rev()
        .find(|(y, _)| *y < *ty && *y <= year.max(2020));
    if let (Some((sy, st)), Some(t)) = (start, tv)
        && let Some(b) = st.value.map(|b| b.value)
    {
        let span = f64::from(ty - sy);
        let k = if span > 0.0 {
            (f64::from(year.min(*ty) - sy) / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        s.expected = Some(b + (t - b) * k);
    }
    let Some(v) = value else { return s };
    s.gap = tv.map(|t| match def.direction {
        Direction::Higher => def.round(t - v),
        Direction::Lower => def.round(v - t),
    });
    s.status = if meets(def, target, v) {
        StatusKind::Met
    } else {
        match s.expected {
            Some(e) => {
                let (v, e) = (def.round(v), def.round(e));
                let on = match def.direction {
                    Direction::Higher => v >= e,
                    Direction::Lower => v <= e,
                };
                if on {
                    StatusKind::OnTrack
                } else {
                    StatusKind::Behind
                }
            }
            None => StatusKind::Behind,
        }
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::definition;

    fn def(n: u32) -> &'static Definition {
        definition(n).expect("defs").expect("indicator")
    }

    #[test]
    fn boundaries_of_met_on_track_and_behind() {
        // 14 护理型床位占比: 54 (2020) → 56 (2022) → 60 (2025), two decimals.
        let d = def(14);
        let at = |year, v| status(d, AreaLevel::City, &[], year, Some(v));
        // 2021: halfway from 54 to 56 is 55.
        assert_eq!(at(2021, 55.0).status, StatusKind::OnTrack);
        assert_eq!(at(2021, 54.99).status, StatusKind::Behind);
        assert_eq!(at(2021, 55.0).expected, Some(55.0));
        assert_eq!(
            at(2021, 56.0).status,
            StatusKind::Met,
            "the target itself counts as met"
        );
        assert_eq!(
            at(2021, 55.999).status,
            StatusKind::Met,
            "rounded to the decimals shown"
        );
        assert_eq!(at(2022, 55.99).status, StatusKind::Behind);
        assert_eq!(at(2022, 55.99).gap, Some(0.01));
        // 2023: from the 2022 target (56) a third of the way to 60.
        let s = at(2023, 57.34);
        assert_eq!(s.target_year, Some(2025));
        assert!((s.expected.expect("path") - 57.333_333).abs() < 1e-3);
        assert_eq!(s.status, StatusKind::OnTrack);
        assert_eq!(at(2023, 57.32).status, StatusKind::Behind);
        // After 2025 the 2025 target still holds.
        assert_eq!(at(2026, 60.0).status, StatusKind::Met);
        assert_eq!(at(2026, 59.0).status, StatusKind::Behind);
        assert_eq!(
            status(d, AreaLevel::City, &[], 2022, None).status,
            StatusKind::NoData
        );
    }

    #[test]
    fn lower_is_better_and_at_least_targets() {
        // 31 婴儿死亡率: 2 (2020), "5以下" for 2022 and 2025.
        let d = def(31);
        assert_eq!(
            status(d, AreaLevel::County, &[], 2022, Some(5.0)).status,
            StatusKind::Met
        );
        let s = status(d, AreaLevel::County, &[], 2022, Some(5.01));
        assert_eq!(s.status, StatusKind::Behind);
        assert_eq!(s.gap, Some(0.01));
        // 39 普惠性托位: "20以上" (2022).
        let d = def(39);
        assert_eq!(
            status(d, AreaLevel::Town, &[], 2022, Some(20.0)).status,
            StatusKind::Met
        );
        assert_eq!(
            status(d, AreaLevel::Town, &[], 2022, Some(19.9)).status,
            StatusKind::Behind
        );
        // 2021: the path from 0 (2020) to 20 stands at 10.
        assert_eq!(
            status(d, AreaLevel::Town, &[], 2021, Some(10.0)).status,
            StatusKind::OnTrack
        );
        assert_eq!(
            status(d, AreaLevel::Town, &[], 2021, Some(9.9)).status,
            StatusKind::Behind
        );
    }

    #[test]
    fn city_totals_have_no_county_target_unless_the_county_sets_one() {
        let d = def(10);
        let s = status(d, AreaLevel::County, &[], 2022, Some(12.0));
        assert_eq!(s.status, StatusKind::NoTarget);
        assert_eq!(
            status(d, AreaLevel::City, &[], 2022, Some(82.0)).status,
            StatusKind::Met
        );
        let own = [AreaTarget {
            year: 2025,
            target: Target::parse("14").expect("target"),
        }];
        let s = status(d, AreaLevel::County, &own, 2025, Some(13.0));
        assert_eq!(
            (s.status, s.own_target, s.gap),
            (StatusKind::Behind, true, Some(1.0))
        );
        // A rate's own target replaces the city's.
        let own = [AreaTarget {
            year: 2025,
            target: Target::parse("70").expect("target"),
        }];
        let s = status(def(14), AreaLevel::County, &own, 2025, Some(65.0));
        assert_eq!(
            (s.status, s.target.as_deref()),
            (StatusKind::Behind, Some("70"))
        );
    }
}
