//! Alarm response rules (告警响应规则), read from `data/policy/alarms.toml`:
//! per device kind, the minutes to acknowledge an alarm (响应时限) and to
//! reach the person (到达时限), each a dated parameter; the intake's allowed
//! clock skew; the plan's equipment target. The plan gives no response times,
//! so the deadlines are platform parameters (docs/alarms.md).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use laoxiao_model::alarms::{AlarmState, DeviceKind};
use serde::Deserialize;

use crate::error::RulesError;

const EMBEDDED: &str = include_str!("../../../data/policy/alarms.toml");
const FILE: &str = "data/policy/alarms.toml";
/// Deadlines beyond a day are refused as typing errors.
const MAX_MINUTES: i64 = 24 * 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    intake: RawIntake,
    target: Target,
    deadline: Vec<RawDeadline>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntake {
    clock_skew_seconds: i64,
    #[allow(dead_code)]
    clause: String,
    #[allow(dead_code)]
    from: NaiveDate,
}

/// The plan's equipment target (智能安防设备应装尽装).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The year by which it is due (2025).
    pub year: i32,
    /// The share of empty-nest and lone elderly people to equip, in percent.
    pub share_percent: i64,
    pub clause: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    kind: String,
    acknowledge_minutes: i64,
    reach_minutes: i64,
    from: NaiveDate,
    #[serde(default)]
    until: Option<NaiveDate>,
    clause: String,
}

/// One kind's deadlines from a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub kind: DeviceKind,
    pub acknowledge_minutes: i64,
    pub reach_minutes: i64,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    pub clause: String,
}

/// The rules, checked.
#[derive(Debug, Clone)]
pub struct AlarmRules {
    /// How far a platform's timestamp may be from the server's clock (seconds).
    pub clock_skew_seconds: i64,
    pub target: Target,
    pub deadlines: Vec<Deadline>,
}

/// Why an alarm was escalated (上报原因).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    /// Not acknowledged by its deadline (超时未响应).
    NotAcknowledged,
    /// Not reached by its deadline (超时未到达).
    NotReached,
}

impl Escalation {
    pub fn code(self) -> &'static str {
        match self {
            Escalation::NotAcknowledged => "not_acknowledged",
            Escalation::NotReached => "not_reached",
        }
    }
}

impl AlarmRules {
    /// The embedded rules (parsed once).
    pub fn embedded() -> Result<&'static AlarmRules, RulesError> {
        static RULES: std::sync::OnceLock<Result<AlarmRules, RulesError>> =
            std::sync::OnceLock::new();
        crate::parsed_once(&RULES, || AlarmRules::parse(EMBEDDED))
    }

    /// Parses and checks a rules file: every device kind has a deadline on
    /// every day from its first, deadlines are 1 minute to a day, the reach
    /// deadline is not before the acknowledge one.
    pub fn parse(text: &str) -> Result<AlarmRules, RulesError> {
        let bad = |reason: String| RulesError::Parameters {
            file: FILE.to_string(),
            reason,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !(1..=3600).contains(&raw.intake.clock_skew_seconds) {
            return Err(bad("intake.clock_skew_seconds must be 1 to 3600".into()));
        }
        if !(0..=100).contains(&raw.target.share_percent) {
            return Err(bad("target.share_percent must be 0 to 100".into()));
        }
        let mut deadlines = Vec::new();
        for d in raw.deadline {
            let kind = DeviceKind::parse(&d.kind)
                .ok_or_else(|| bad(format!("unknown device kind {:?}", d.kind)))?;
            for (name, m) in [
                ("acknowledge_minutes", d.acknowledge_minutes),
                ("reach_minutes", d.reach_minutes),
            ] {
                if !(1..=MAX_MINUTES).contains(&m) {
                    return Err(bad(format!(
                        "{}: {name} must be 1 to {MAX_MINUTES}",
                        d.kind
                    )));
                }
            }
            if d.reach_minutes < d.acknowledge_minutes {
                return Err(bad(format!(
                    "{}: reach_minutes is before acknowledge_minutes",
                    d.kind
                )));
            }
            if d.until.is_some_and(|u| u < d.from) {
                return Err(bad(format!("{}: until is before from", d.kind)));
            }
            deadlines.push(Deadline {
                kind,
                acknowledge_minutes: d.acknowledge_minutes,
                reach_minutes: d.reach_minutes,
                from: d.from,
                until: d.until,
                clause: d.clause,
            });
        }
        for k in DeviceKind::VALUES {
            let Some(kind) = DeviceKind::parse(k.code) else {
                continue;
            };
            if !deadlines.iter().any(|d| d.kind == kind) {
                return Err(bad(format!("no deadline for device kind {}", k.code)));
            }
        }
        Ok(AlarmRules {
            clock_skew_seconds: raw.intake.clock_skew_seconds,
            target: raw.target,
            deadlines,
        })
    }

    /// The deadlines of an alarm of `kind` raised on `day`.
    pub fn deadline(&self, kind: DeviceKind, day: NaiveDate) -> Result<&Deadline, RulesError> {
        self.deadlines
            .iter()
            .filter(|d| d.kind == kind && d.from <= day && d.until.is_none_or(|u| u >= day))
            .max_by_key(|d| d.from)
            .ok_or_else(|| RulesError::Parameter {
                name: format!("alarm deadline {}", kind.code()),
                reason: format!("no value on {day}"),
            })
    }

    /// When an alarm of `kind` received at `at` must be acknowledged and reached.
    pub fn due(
        &self,
        kind: DeviceKind,
        at: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), RulesError> {
        let d = self.deadline(kind, at.date_naive())?;
        Ok((
            at + Duration::minutes(d.acknowledge_minutes),
            at + Duration::minutes(d.reach_minutes),
        ))
    }
}

/// Whether an alarm in `state` with these deadlines is past one at `now`
/// (a deadline is passed once `now` is after it; a closed alarm never is).
pub fn escalation(
    state: AlarmState,
    ack_due: DateTime<Utc>,
    reach_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Escalation> {
    match state {
        AlarmState::Open if now > ack_due => Some(Escalation::NotAcknowledged),
        AlarmState::Open | AlarmState::Acknowledged if now > reach_due => {
            Some(Escalation::NotReached)
        }
        _ => None,
    }
}

/// The value at percentile `p` (0–100) of sorted values, nearest rank
/// (the smallest value with at least p % of the values at or below it).
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (u64::from(p.min(100)) * n as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(n) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn embedded_rules_give_a_button_5_and_30_minutes() {
        let r = AlarmRules::embedded().expect("rules");
        assert_eq!(r.clock_skew_seconds, 300);
        let (ack, reach) = r
            .due(DeviceKind::EmergencyButton, t("2026-03-01T10:00:00Z"))
            .expect("due");
        assert_eq!(ack, t("2026-03-01T10:05:00Z"));
        assert_eq!(reach, t("2026-03-01T10:30:00Z"));
        assert_eq!(r.target.year, 2025);
    }

    #[test]
    fn a_later_dated_deadline_replaces_the_earlier_from_its_day() {
        let extra = format!(
            "{EMBEDDED}\n[[deadline]]\nkind = \"fall_detector\"\nacknowledge_minutes = 2\nreach_minutes = 15\nfrom = \"2026-06-01\"\nclause = \"x\"\n"
        );
        let r = AlarmRules::parse(&extra).expect("rules");
        let before = r
            .deadline(
                DeviceKind::FallDetector,
                NaiveDate::from_ymd_opt(2026, 5, 31).expect("d"),
            )
            .expect("d");
        assert_eq!(before.acknowledge_minutes, 5);
        let after = r
            .deadline(
                DeviceKind::FallDetector,
                NaiveDate::from_ymd_opt(2026, 6, 1).expect("d"),
            )
            .expect("d");
        assert_eq!((after.acknowledge_minutes, after.reach_minutes), (2, 15));
    }

    #[test]
    fn bad_files_are_refused() {
        let no_gas = EMBEDDED.replace("kind = \"gas_sensor\"", "kind = \"smoke_sensor\"");
        assert!(AlarmRules::parse(&no_gas).is_err());
        let zero = EMBEDDED.replacen("acknowledge_minutes = 5", "acknowledge_minutes = 0", 1);
        assert!(AlarmRules::parse(&zero).is_err());
        let backwards = EMBEDDED.replacen("reach_minutes = 30", "reach_minutes = 4", 1);
        assert!(AlarmRules::parse(&backwards).is_err());
    }

    #[test]
    fn escalation_after_each_deadline_only() {
        let (ack, reach) = (t("2026-03-01T10:05:00Z"), t("2026-03-01T10:30:00Z"));
        let at = |s| escalation(AlarmState::Open, ack, reach, t(s));
        assert_eq!(at("2026-03-01T10:05:00Z"), None);
        assert_eq!(
            at("2026-03-01T10:05:01Z"),
            Some(Escalation::NotAcknowledged)
        );
        assert_eq!(
            escalation(
                AlarmState::Acknowledged,
                ack,
                reach,
                t("2026-03-01T10:29:59Z")
            ),
            None
        );
        assert_eq!(
            escalation(
                AlarmState::Acknowledged,
                ack,
                reach,
                t("2026-03-01T10:30:01Z")
            ),
            Some(Escalation::NotReached)
        );
        assert_eq!(
            escalation(AlarmState::OnSite, ack, reach, t("2026-03-01T11:00:00Z")),
            None
        );
        assert_eq!(
            escalation(AlarmState::Closed, ack, reach, t("2026-03-01T11:00:00Z")),
            None
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[3, 8, 20], 50), Some(8));
        assert_eq!(percentile(&[3, 8, 20], 90), Some(20));
    }
}
