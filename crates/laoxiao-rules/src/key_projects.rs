//! Key projects (重点项目, 附件1 of the plan): whether a project keeps to its
//! schedule (进度状态). Pure: the facts of one project on one day and the
//! dated parameters of `data/policy/key_projects.toml` in, a status and its
//! reasons out. See docs/key-projects.md.
//!
//! A project is *completed* (已竣工) once marked so. Otherwise it is *behind
//! schedule* (进度滞后) when any of these holds, else *on track* (正常推进):
//! - a milestone (节点) is past its planned date by more than
//!   `key_project.milestone_grace_days` and not done;
//! - the latest report's percent complete is more than
//!   `key_project.behind_points` below the linear expectation over the
//!   planned start and end (0 % on the start day, 100 % on the end day);
//! - the project has started and its latest report (or its start, with no
//!   report) is older than `key_project.report_stale_days`;
//! - the planned end has passed.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::RulesError;
use crate::subsidies::{Params, Value};

/// A project's schedule status (进度状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStatus {
    /// 正常推进
    OnTrack,
    /// 进度滞后
    Behind,
    /// 已竣工
    Completed,
}

impl ScheduleStatus {
    pub const ALL: [ScheduleStatus; 3] = [
        ScheduleStatus::OnTrack,
        ScheduleStatus::Behind,
        ScheduleStatus::Completed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ScheduleStatus::OnTrack => "on_track",
            ScheduleStatus::Behind => "behind",
            ScheduleStatus::Completed => "completed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ScheduleStatus::OnTrack => "正常推进",
            ScheduleStatus::Behind => "进度滞后",
            ScheduleStatus::Completed => "已竣工",
        }
    }

    /// The code or the Chinese label.
    pub fn parse(s: &str) -> Option<ScheduleStatus> {
        let s = s.trim();
        ScheduleStatus::ALL
            .into_iter()
            .find(|v| v.code() == s || v.label_zh() == s)
    }
}

/// Why a project is behind (one entry per cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A milestone past its planned date (plus the grace) and not done.
    MilestoneLate {
        title: String,
        planned_on: NaiveDate,
    },
    /// The latest percent complete is below the expectation by more than the
    /// parameter.
    BelowExpected { expected: i64, actual: i64 },
    /// No report for longer than the parameter allows.
    NoRecentReport { since: NaiveDate },
    /// The planned end has passed and the project is not completed.
    PastEnd { planned_end: NaiveDate },
}

/// The parameters in force on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScheduleParams {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub behind_points: i64,
    pub milestone_grace_days: i64,
    pub report_stale_days: i64,
}

fn date_param(p: &Params, name: &str, day: NaiveDate) -> Result<NaiveDate, RulesError> {
    let bad = |reason: &str| RulesError::Parameter {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    match p.at(name, day)?.value {
        Value::Text(s) => s.parse().map_err(|_| bad("is not a date (YYYY-MM-DD)")),
        Value::Int(_) => Err(bad("is a number where a date is needed")),
    }
}

impl ScheduleParams {
    /// The parameters in force on `day`.
    pub fn at(p: &Params, day: NaiveDate) -> Result<ScheduleParams, RulesError> {
        Ok(ScheduleParams {
            period_start: date_param(p, "key_project.period_start", day)?,
            period_end: date_param(p, "key_project.period_end", day)?,
            behind_points: p.int("key_project.behind_points", day)?.0,
            milestone_grace_days: p.int("key_project.milestone_grace_days", day)?.0,
            report_stale_days: p.int("key_project.report_stale_days", day)?.0,
        })
    }

    /// The embedded parameters in force on `day`.
    pub fn embedded(day: NaiveDate) -> Result<ScheduleParams, RulesError> {
        ScheduleParams::at(Params::embedded()?, day)
    }
}

/// A milestone as the rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub title: String,
    pub planned_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// The facts of one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub completed: bool,
    pub planned_start: NaiveDate,
    pub planned_end: NaiveDate,
    /// The latest report's date and percent complete.
    pub latest: Option<(NaiveDate, i64)>,
    pub milestones: Vec<Milestone>,
}

/// The percent complete a linear schedule expects on `day`: 0 up to the
/// start, 100 from the end, rounded down in between.
pub fn expected_percent(start: NaiveDate, end: NaiveDate, day: NaiveDate) -> i64 {
    if day <= start {
        return 0;
    }
    if day >= end {
        return 100;
    }
    let total = (end - start).num_days().max(1);
    let done = (day - start).num_days();
    done * 100 / total
}

/// The status of a project on `day`, with the reasons when behind.
pub fn status(f: &Facts, p: &ScheduleParams, day: NaiveDate) -> (ScheduleStatus, Vec<Reason>) {
    if f.completed {
        return (ScheduleStatus::Completed, Vec::new());
    }
    let mut reasons = Vec::new();
    for m in &f.milestones {
        if m.done_on.is_none() && (day - m.planned_on).num_days() > p.milestone_grace_days {
            reasons.push(Reason::MilestoneLate {
                title: m.title.clone(),
                planned_on: m.planned_on,
            });
        }
    }
    let expected = expected_percent(f.planned_start, f.planned_end, day);
    let actual = f.latest.map(|(_, pc)| pc).unwrap_or(0);
    if expected - actual > p.behind_points {
        reasons.push(Reason::BelowExpected { expected, actual });
    }
    if day > f.planned_start {
        let since = f.latest.map(|(d, _)| d).unwrap_or(f.planned_start);
        if (day - since).num_days() > p.report_stale_days {
            reasons.push(Reason::NoRecentReport { since });
        }
    }
    if day > f.planned_end {
        reasons.push(Reason::PastEnd {
            planned_end: f.planned_end,
        });
    }
    if reasons.is_empty() {
        (ScheduleStatus::OnTrack, reasons)
    } else {
        (ScheduleStatus::Behind, reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn params() -> ScheduleParams {
        ScheduleParams {
            period_start: d("2021-01-01"),
            period_end: d("2025-12-31"),
            behind_points: 15,
            milestone_grace_days: 0,
            report_stale_days: 120,
        }
    }

    fn facts(latest: Option<(&str, i64)>) -> Facts {
        Facts {
            completed: false,
            planned_start: d("2024-01-01"),
            planned_end: d("2025-01-01"),
            latest: latest.map(|(s, p)| (d(s), p)),
            milestones: Vec::new(),
        }
    }

    #[test]
    fn the_embedded_parameters_are_the_plan_period() {
        let p = ScheduleParams::embedded(d("2024-06-01")).expect("params");
        assert_eq!(p.period_start, d("2021-01-01"));
        assert_eq!(p.period_end, d("2025-12-31"));
        assert!(p.behind_points > 0 && p.behind_points < 100);
        assert!(p.report_stale_days > 0);
    }

    #[test]
    fn linear_expectation_runs_from_0_to_100() {
        let (s, e) = (d("2024-01-01"), d("2024-12-31"));
        assert_eq!(expected_percent(s, e, d("2023-06-01")), 0);
        assert_eq!(expected_percent(s, e, s), 0);
        // 182 of 365 days: 49 %.
        assert_eq!(expected_percent(s, e, d("2024-07-01")), 49);
        assert_eq!(expected_percent(s, e, e), 100);
        assert_eq!(expected_percent(s, e, d("2026-01-01")), 100);
    }

    #[test]
    fn a_recent_report_near_the_expectation_is_on_track() {
        // 2024-07-01: 182 of 366 days = 49 % expected; 40 % is 9 points short.
        let (s, r) = status(&facts(Some(("2024-06-20", 40))), &params(), d("2024-07-01"));
        assert_eq!(s, ScheduleStatus::OnTrack, "{r:?}");
        assert!(r.is_empty());
    }

    #[test]
    fn more_than_the_threshold_below_is_behind() {
        let (s, r) = status(&facts(Some(("2024-06-20", 30))), &params(), d("2024-07-01"));
        assert_eq!(s, ScheduleStatus::Behind);
        assert_eq!(
            r,
            vec![Reason::BelowExpected {
                expected: 49,
                actual: 30
            }]
        );
        // Exactly the threshold is still on track (more than, not at).
        let (s, _) = status(&facts(Some(("2024-06-20", 34))), &params(), d("2024-07-01"));
        assert_eq!(s, ScheduleStatus::OnTrack);
    }

    #[test]
    fn a_late_milestone_is_behind_until_done() {
        let mut f = facts(Some(("2024-06-20", 60)));
        f.milestones.push(Milestone {
            title: "主体结构封顶".into(),
            planned_on: d("2024-06-30"),
            done_on: None,
        });
        let (s, r) = status(&f, &params(), d("2024-06-30"));
        assert_eq!(s, ScheduleStatus::OnTrack, "due today is not late");
        assert!(r.is_empty());
        let (s, r) = status(&f, &params(), d("2024-07-01"));
        assert_eq!(s, ScheduleStatus::Behind);
        assert!(matches!(&r[0], Reason::MilestoneLate { title, .. } if title == "主体结构封顶"));
        f.milestones[0].done_on = Some(d("2024-07-02"));
        assert_eq!(
            status(&f, &params(), d("2024-07-03")).0,
            ScheduleStatus::OnTrack
        );
    }

    #[test]
    fn no_report_for_too_long_or_past_the_end_is_behind() {
        let (s, r) = status(&facts(Some(("2024-01-15", 99))), &params(), d("2024-06-01"));
        assert_eq!(s, ScheduleStatus::Behind);
        assert_eq!(
            r,
            vec![Reason::NoRecentReport {
                since: d("2024-01-15")
            }]
        );
        let (_, r) = status(
            &facts(Some(("2025-01-10", 100))),
            &params(),
            d("2025-01-20"),
        );
        assert_eq!(
            r,
            vec![Reason::PastEnd {
                planned_end: d("2025-01-01")
            }]
        );
        let mut done = facts(None);
        done.completed = true;
        assert_eq!(
            status(&done, &params(), d("2030-01-01")),
            (ScheduleStatus::Completed, vec![])
        );
    }

    #[test]
    fn statuses_parse_from_code_or_label() {
        for s in ScheduleStatus::ALL {
            assert_eq!(ScheduleStatus::parse(s.code()), Some(s));
            assert_eq!(ScheduleStatus::parse(s.label_zh()), Some(s));
        }
        assert_eq!(ScheduleStatus::parse("late"), None);
    }
}
