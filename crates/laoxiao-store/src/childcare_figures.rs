//! Supervision figures for childcare (托育机构监管指标), issue 16 part 7: per
//! institution and per area, over a window of days, the occupancy (入托率),
//! the attendance rate (出勤率), ratio breaches (超出师幼比的班级日),
//! outdoor-time shortfalls (户外活动不足的班级日, 管理规范 art. 18), the
//! morning and midday check coverage (晨午检覆盖率, art. 24) and the staff's
//! certificates (持证上岗) and health checks (体检, art. 28).
//!
//! Counts only: no child, family or staff member is named. Every figure is
//! one `GROUP BY` per institution in SQL; the area totals add the
//! institutions' rows (a few hundred at city scale), never the registers'
//! rows. The rules are the day's own: the ratio in force
//! (`laoxiao_rules::ClassLimits`, `ratio.mixed_age_class`) and
//! `day.outdoor_minutes`, both dated, so a change inside the window applies
//! from its date.
//!
//! Who: `ReadChildcareDay` (the city, the county, inspectors; an operator sees
//! its own institution only).

use std::collections::HashMap;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};
use laoxiao_model::facility::{ClassType, FilingStatus};
use laoxiao_model::{AreaLevel, ClassSizeRule, FacilityKind, FacilityStatus, FieldError};
use laoxiao_rules::subsidies::params::Params;
use serde::Serialize;

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Reference, path_upper};

/// The longest window, in days (a quarter).
pub const MAX_DAYS: i64 = 92;
/// Most institutions one answer lists (the city has a few hundred).
pub const MAX_INSTITUTIONS: usize = 5000;
/// The roles that care for the children or their health, as indicator 42
/// and `staff_checks` count them (托育从业人员).
const CARE_ROLES: &str = "('nursery_staff', 'infant_carer', 'health_staff')";
/// Children present or collected: they came that day.
const CAME: &str = "a.status IN ('present', 'left')";
/// Care types expected every weekday (全日托, 半日托; an enrolment without a
/// care type predates them and was full-day). Hourly and temporary care are
/// booked, not daily.
const REGULAR: &str = "(e.care_type IS NULL OR e.care_type IN ('full_day', 'half_day'))";

/// The counts of an institution or an area; the rates are derived from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Institutions counted (1 for an institution's own line).
    pub institutions: i64,
    /// Approved slots (备案托位), the register's `approved_slots`.
    pub approved_slots: i64,
    /// …of inclusive (普惠) institutions.
    pub inclusive_slots: i64,
    /// Classes and their places (班级学位, the classes' capacity).
    pub classes: i64,
    pub places: i64,
    /// Children enrolled (在托) on the window's last counted day.
    pub enrolled: i64,
    /// Weekday child-days expected: full-day and half-day enrolments active
    /// on each weekday of the window up to today.
    pub expected_days: i64,
    /// …of them the child came (present or collected).
    pub attended_days: i64,
    /// Child-days a child came, every care type and day of the window.
    pub child_days: i64,
    /// …with a morning check recorded (晨检), with a midday check (午检).
    pub morning_checked: i64,
    pub midday_checked: i64,
    /// Class-days with children.
    pub class_days: i64,
    /// …with more children than the caregivers on duty may care for.
    pub ratio_breaches: i64,
    /// Class-days with children before today (a day's outdoor time is judged
    /// once it is over).
    pub outdoor_days: i64,
    /// …with less outdoor time than `day.outdoor_minutes`.
    pub outdoor_short: i64,
    /// Carers and health staff employed on the last counted day.
    pub staff: i64,
    /// …with a qualification certificate (持证上岗).
    pub staff_certified: i64,
    /// …whose health check is missing or older than `staff.health_check_months`.
    pub staff_health_lapsed: i64,
}

fn pct(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 * 100.0 / b as f64)
}

impl Counts {
    /// Adds another line's counts (saturating: a capped figure beats a lost page).
    pub fn add(&mut self, o: &Counts) {
        for (a, b) in [
            (&mut self.institutions, o.institutions),
            (&mut self.approved_slots, o.approved_slots),
            (&mut self.inclusive_slots, o.inclusive_slots),
            (&mut self.classes, o.classes),
            (&mut self.places, o.places),
            (&mut self.enrolled, o.enrolled),
            (&mut self.expected_days, o.expected_days),
            (&mut self.attended_days, o.attended_days),
            (&mut self.child_days, o.child_days),
            (&mut self.morning_checked, o.morning_checked),
            (&mut self.midday_checked, o.midday_checked),
            (&mut self.class_days, o.class_days),
            (&mut self.ratio_breaches, o.ratio_breaches),
            (&mut self.outdoor_days, o.outdoor_days),
            (&mut self.outdoor_short, o.outdoor_short),
            (&mut self.staff, o.staff),
            (&mut self.staff_certified, o.staff_certified),
            (&mut self.staff_health_lapsed, o.staff_health_lapsed),
        ] {
            *a = a.saturating_add(b);
        }
    }

    /// Occupancy (入托率): children enrolled per approved slot, percent.
    pub fn occupancy(&self) -> Option<f64> {
        pct(self.enrolled, self.approved_slots)
    }

    /// Attendance rate (出勤率), percent of the expected weekday child-days.
    pub fn attendance_rate(&self) -> Option<f64> {
        pct(self.attended_days, self.expected_days)
    }

    /// Morning check coverage (晨检覆盖率), percent of the child-days a child came.
    pub fn morning_coverage(&self) -> Option<f64> {
        pct(self.morning_checked, self.child_days)
    }

    /// Midday check coverage (午检覆盖率), percent of the child-days a child came.
    pub fn midday_coverage(&self) -> Option<f64> {
        pct(self.midday_checked, self.child_days)
    }

    /// Certified share (持证上岗率) of the carers and health staff, percent.
    pub fn certified_share(&self) -> Option<f64> {
        pct(self.staff_certified, self.staff)
    }
}

/// One institution's line (机构).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub kind: FacilityKind,
    pub area_code: String,
    pub inclusive: bool,
    pub filing_status: FilingStatus,
    pub counts: Counts,
}

/// An area's totals (区域合计).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaLine {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub counts: Counts,
}

/// The ratio in force for a class type on the last counted day (师幼比).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioInForce {
    pub class_type: ClassType,
    pub children_per_caregiver: i64,
    pub clause: String,
}

/// The supervision figures of an area over a window (托育机构监管指标).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The last day counted: `to`, or today when `to` is later. `None` when
    /// the window has not begun.
    pub counted_to: Option<NaiveDate>,
    /// The area asked for, its totals.
    pub area: AreaLine,
    /// Its counties (the city) or towns (a county), every one in scope, zeros
    /// included; none below a county.
    pub children: Vec<AreaLine>,
    pub institutions: Vec<Institution>,
    /// `day.outdoor_minutes` on the last counted day and its clause.
    pub outdoor_required: i64,
    pub outdoor_clause: String,
    pub ratios: Vec<RatioInForce>,
    /// `staff.health_check_months`: a staff check older than this has lapsed.
    pub health_check_months: i64,
}

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

fn param(p: &Params, name: &str, day: NaiveDate) -> Result<(i64, String)> {
    p.int(name, day)
        .map(|(n, used)| (n, used.clause.to_string()))
        .map_err(|e| StoreError::Reference(e.to_string()))
}

/// A run of days (first, last) with one value of a dated rule.
type Run = (NaiveDate, NaiveDate, i64);
/// A class type's runs (`None`: one rule for every class).
type Guarded<'a> = (Option<(&'a str, &'a str)>, &'a [Run]);

/// The days `from..=to`, one by one (at most [`MAX_DAYS`]).
fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// A dated value as runs of days with one value each (a rule changing
/// inside the window applies from its date).
fn runs(
    from: NaiveDate,
    to: NaiveDate,
    value: impl Fn(NaiveDate) -> Result<Option<i64>>,
) -> Result<Vec<Run>> {
    let mut out: Vec<Run> = Vec::new();
    for d in days(from, to) {
        let Some(v) = value(d)? else { continue };
        match out.last_mut() {
            Some(last) if last.2 == v && last.1 + Duration::days(1) == d => last.1 = d,
            _ => out.push((d, d, v)),
        }
    }
    Ok(out)
}

/// The scope and the chosen area, as conditions on a path column and a
/// facility-id column.
struct Filter<'a> {
    scope: &'a Scope,
    path: &'a str,
}

impl Filter<'_> {
    fn push(&self, w: &mut String, p: &mut Vec<Value>, path_col: &str, facility_col: &str) {
        p.push(self.path.into());
        w.push_str(&format!(" AND {path_col} >= ${}", p.len()));
        p.push(path_upper(self.path).into());
        w.push_str(&format!(" AND {path_col} < ${}", p.len()));
        self.scope.push_sql(w, p, path_col, Some(facility_col));
    }
}

/// The supervision figures of `area_code` (default: the caller's home area)
/// over `from..=to` (at most [`MAX_DAYS`] days), counted up to `today`.
pub fn figures(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    area_code: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Report> {
    scope.require(Perm::ReadChildcareDay)?;
    if from < today - Duration::days(3660) {
        return Err(invalid("from", "within the last ten years"));
    }
    // The day's rules counted here are dated: before their first value
    // nothing can be judged (a 500 otherwise, found by schemathesis).
    let rules_from = Params::embedded()
        .ok()
        .and_then(|p| p.get("day.outdoor_minutes"))
        .and_then(|p| p.values.iter().map(|v| v.from).min());
    if let Some(first) = rules_from
        && from < first
    {
        return Err(invalid(
            "from",
            format!("on or after {first}, when the childcare day rules took effect"),
        ));
    }
    if to > today + Duration::days(366) {
        return Err(invalid("to", "within a year from today"));
    }
    if to < from {
        return Err(invalid("to", format!("on or after from ({from})")));
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(invalid(
            "to",
            format!("at most {MAX_DAYS} days from from ({from}), both included"),
        ));
    }
    let area = match area_code {
        Some(code) => {
            if !matches!(code.len(), 6 | 9 | 12) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("area", "an area code of 6, 9 or 12 digits"));
            }
            reference.areas.get(code)
        }
        None => match scope.area_path() {
            Some(path) => path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .and_then(|c| reference.areas.get(c)),
            None => reference.areas.root(),
        },
    }
    .filter(|a| scope.contains_path(&a.path))
    .ok_or_else(|| StoreError::NotFound {
        what: "area",
        id: area_code.unwrap_or_default().to_string(),
    })?;
    let filter = Filter {
        scope,
        path: &area.path,
    };
    let last = to.min(today);
    let counted = from <= last;
    let params = Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
    let rule_day = if counted { last } else { from };
    let (outdoor_required, outdoor_clause) = param(params, "day.outdoor_minutes", rule_day)?;
    let (check_months, _) = param(params, "staff.health_check_months", rule_day)?;
    let check_months = check_months.clamp(1, 120);
    let ratios = ClassType::ALL
        .iter()
        .filter_map(|t| {
            reference
                .class_limits
                .children_per_caregiver(*t, rule_day)
                .map(|(n, clause)| RatioInForce {
                    class_type: *t,
                    children_per_caregiver: n,
                    clause,
                })
        })
        .collect();

    let mut institutions = institutions(conn, &filter)?;
    let index: HashMap<String, usize> = institutions
        .iter()
        .enumerate()
        .map(|(i, x)| (x.line.id.clone(), i))
        .collect();
    if counted && !institutions.is_empty() {
        let mut add = |rows: Vec<(String, Counts)>| {
            for (id, c) in rows {
                // Rows of institutions not listed (not operating, another
                // kind) are dropped: every total is of the listed lines.
                if let Some(&i) = index.get(&id) {
                    institutions[i].line.counts.add(&c);
                }
            }
        };
        add(enrolled(conn, &filter, last)?);
        let weekdays: Vec<NaiveDate> = days(from, last)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .collect();
        add(expected(conn, &filter, &weekdays)?);
        add(attendance(conn, &filter, from, last, &weekdays)?);
        let ratio_runs: Vec<(ClassType, Vec<Run>)> = ClassType::ALL
            .iter()
            .map(|t| {
                runs(from, last, |d| {
                    Ok(reference
                        .class_limits
                        .children_per_caregiver(*t, d)
                        .map(|(n, _)| n))
                })
                .map(|r| (*t, r))
            })
            .collect::<Result<_>>()?;
        let outdoor_runs = runs(from, last, |d| {
            param(params, "day.outdoor_minutes", d).map(|(n, _)| Some(n))
        })?;
        add(class_days(
            conn,
            &filter,
            from,
            last,
            today,
            &ratio_runs,
            &outdoor_runs,
        )?);
        let lapsed_before = last
            .checked_sub_months(Months::new(check_months as u32))
            .unwrap_or(last);
        add(staff(conn, &filter, last, lapsed_before)?);
    }

    // The totals: the area's, and its counties' or towns'.
    let mut total = Counts::default();
    let child_len = match area.level {
        AreaLevel::City => Some(6),
        AreaLevel::County => Some(9),
        AreaLevel::Town | AreaLevel::Village => None,
    };
    let mut children: Vec<AreaLine> = match child_len {
        Some(_) => reference
            .areas
            .children(&area.code)
            .into_iter()
            .filter(|a| scope.contains_path(&a.path))
            .map(|a| AreaLine {
                code: a.code.clone(),
                name: a.name.clone(),
                level: a.level,
                counts: Counts::default(),
            })
            .collect(),
        None => Vec::new(),
    };
    children.sort_by(|a, b| a.code.cmp(&b.code));
    let child_pos: HashMap<String, usize> = children
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.clone(), i))
        .collect();
    for x in &institutions {
        total.add(&x.line.counts);
        let code = x.path_rest(&area.path);
        if let Some(&i) = code.and_then(|c| child_pos.get(c)) {
            children[i].counts.add(&x.line.counts);
        }
    }
    let institutions = institutions.into_iter().map(|x| x.line).collect();
    Ok(Report {
        from,
        to,
        counted_to: counted.then_some(last),
        area: AreaLine {
            code: area.code.clone(),
            name: area.name.clone(),
            level: area.level,
            counts: total,
        },
        children,
        institutions,
        outdoor_required,
        outdoor_clause,
        ratios,
        health_check_months: check_months,
    })
}

/// An institution while its counts are gathered, with its area path.
struct Gathered {
    line: Institution,
    path: String,
}

impl Gathered {
    /// The code of the area right below `area_path` holding the institution.
    fn path_rest(&self, area_path: &str) -> Option<&str> {
        self.path
            .strip_prefix(area_path)
            .and_then(|rest| rest.split('/').next())
            .filter(|c| !c.is_empty())
    }
}

/// The operating childcare institutions and kindergarten nursery classes in
/// the filter, with their slots and classes.
fn institutions(conn: &mut Conn, f: &Filter) -> Result<Vec<Gathered>> {
    let mut p: Vec<Value> = vec![
        FacilityKind::ChildcareInstitution.code().into(),
        FacilityKind::KindergartenNurseryClass.code().into(),
        FacilityStatus::Operating.code().into(),
    ];
    let mut w = String::from("f.deleted_at IS NULL AND f.kind IN ($1, $2) AND f.status = $3");
    f.push(&mut w, &mut p, "f.area_path", "f.id");
    let rows = conn.query(
        &format!(
            "SELECT f.id, f.name, f.kind, f.area_code, f.area_path, f.approved_slots, f.inclusive, \
             f.filing_status, COALESCE(c.classes, 0) AS classes, COALESCE(c.places, 0) AS places \
             FROM facility f LEFT JOIN (SELECT facility_id, COUNT(*) AS classes, \
             CAST(SUM(capacity) AS BIGINT) AS places FROM childcare_class WHERE deleted_at IS NULL \
             GROUP BY facility_id) c ON c.facility_id = f.id \
             WHERE {w} ORDER BY f.area_path, f.name, f.id LIMIT {}",
            MAX_INSTITUTIONS + 1
        ),
        &p,
    )?;
    if rows.len() > MAX_INSTITUTIONS {
        return Err(invalid(
            "area",
            format!("more than {MAX_INSTITUTIONS} institutions; choose a smaller area"),
        ));
    }
    rows.iter()
        .map(|r| {
            let slots = r.get::<Option<i64>>("approved_slots")?.unwrap_or(0);
            let inclusive: bool = r.get("inclusive")?;
            Ok(Gathered {
                line: Institution {
                    id: r.get("id")?,
                    name: r.get("name")?,
                    kind: r.parse("kind")?,
                    area_code: r.get("area_code")?,
                    inclusive,
                    filing_status: r.parse("filing_status")?,
                    counts: Counts {
                        institutions: 1,
                        approved_slots: slots,
                        inclusive_slots: if inclusive { slots } else { 0 },
                        classes: r.get("classes")?,
                        places: r.get("places")?,
                        ..Counts::default()
                    },
                },
                path: r.get("area_path")?,
            })
        })
        .collect()
}

/// Children enrolled on `day`, by institution.
fn enrolled(conn: &mut Conn, f: &Filter, day: NaiveDate) -> Result<Vec<(String, Counts)>> {
    let mut p: Vec<Value> = vec![day.into()];
    let mut w = String::from(
        "e.deleted_at IS NULL AND e.start_date <= $1 AND (e.end_date IS NULL OR e.end_date >= $1)",
    );
    f.push(&mut w, &mut p, "f.area_path", "e.facility_id");
    conn.query(
        &format!(
            "SELECT e.facility_id, COUNT(*) AS n FROM enrolment e JOIN facility f ON f.id = e.facility_id \
             WHERE {w} GROUP BY e.facility_id"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok((
            r.get("facility_id")?,
            Counts {
                enrolled: r.get("n")?,
                ..Counts::default()
            },
        ))
    })
    .collect()
}

/// `WITH d (day) AS (VALUES …)`: the weekdays as a table, parameters from
/// `p`'s end.
fn weekday_table(p: &mut Vec<Value>, weekdays: &[NaiveDate]) -> String {
    let rows: Vec<String> = weekdays
        .iter()
        .map(|d| {
            p.push((*d).into());
            format!("(CAST(${} AS TEXT))", p.len())
        })
        .collect();
    format!("WITH d (day) AS (VALUES {}) ", rows.join(", "))
}

/// Expected child-days: each full-day or half-day enrolment on each weekday
/// it is active.
fn expected(conn: &mut Conn, f: &Filter, weekdays: &[NaiveDate]) -> Result<Vec<(String, Counts)>> {
    let (Some(first), Some(last)) = (weekdays.first(), weekdays.last()) else {
        return Ok(Vec::new());
    };
    let mut p: Vec<Value> = Vec::new();
    let with = weekday_table(&mut p, weekdays);
    p.push((*last).into());
    let mut w = format!(
        "e.deleted_at IS NULL AND {REGULAR} AND e.start_date <= ${}",
        p.len()
    );
    p.push((*first).into());
    w.push_str(&format!(
        " AND (e.end_date IS NULL OR e.end_date >= ${})",
        p.len()
    ));
    f.push(&mut w, &mut p, "f.area_path", "e.facility_id");
    conn.query(
        &format!(
            "{with}SELECT e.facility_id, COUNT(*) AS n FROM enrolment e \
             JOIN facility f ON f.id = e.facility_id \
             JOIN d ON e.start_date <= d.day AND (e.end_date IS NULL OR e.end_date >= d.day) \
             WHERE {w} GROUP BY e.facility_id"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok((
            r.get("facility_id")?,
            Counts {
                expected_days: r.get("n")?,
                ..Counts::default()
            },
        ))
    })
    .collect()
}

/// Child-days the children came: on the expected weekdays (the attendance
/// rate's numerator), on every day, and with a morning or midday check.
fn attendance(
    conn: &mut Conn,
    f: &Filter,
    from: NaiveDate,
    last: NaiveDate,
    weekdays: &[NaiveDate],
) -> Result<Vec<(String, Counts)>> {
    let mut p: Vec<Value> = Vec::new();
    let (with, on_weekday) = if weekdays.is_empty() {
        (String::new(), "1 = 0")
    } else {
        (
            weekday_table(&mut p, weekdays),
            "a.day IN (SELECT day FROM d)",
        )
    };
    p.push(from.into());
    let mut w = format!("a.day >= ${}", p.len());
    p.push(last.into());
    w.push_str(&format!(" AND a.day <= ${}", p.len()));
    f.push(&mut w, &mut p, "a.facility_path", "a.facility_id");
    let count =
        |cond: &str| format!("CAST(SUM(CASE WHEN {CAME} AND {cond} THEN 1 ELSE 0 END) AS BIGINT)");
    conn.query(
        &format!(
            "{with}SELECT a.facility_id, {} AS attended, {} AS came, {} AS morning, {} AS midday \
             FROM childcare_attendance a JOIN enrolment e ON e.id = a.enrolment_id \
             WHERE {w} GROUP BY a.facility_id",
            count(&format!("{REGULAR} AND {on_weekday}")),
            count("1 = 1"),
            count("a.morning_check IS NOT NULL"),
            count("a.midday_check IS NOT NULL"),
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok((
            r.get("facility_id")?,
            Counts {
                attended_days: r.get("attended")?,
                child_days: r.get("came")?,
                morning_checked: r.get("morning")?,
                midday_checked: r.get("midday")?,
                ..Counts::default()
            },
        ))
    })
    .collect()
}

/// `CASE WHEN … THEN n … END` of dated runs; the integers are computed here
/// from the rules (literals: PostgreSQL would not know a parameter's type in
/// a CASE result), the days and class types are parameters.
fn runs_case(p: &mut Vec<Value>, day_col: &str, runs: &[Guarded<'_>]) -> String {
    let mut s = String::from("CASE");
    for (cond, list) in runs {
        for (a, b, n) in list.iter() {
            s.push_str(" WHEN ");
            if let Some((col, code)) = cond {
                p.push((*code).into());
                s.push_str(&format!("{col} = ${} AND ", p.len()));
            }
            p.push((*a).into());
            s.push_str(&format!("{day_col} >= ${} AND ", p.len()));
            p.push((*b).into());
            s.push_str(&format!("{day_col} <= ${} THEN {n}", p.len()));
        }
    }
    s.push_str(" END");
    s
}

/// Class-days with children: ratio breaches (children who came against the
/// caregivers on duty × the ratio in force) and outdoor shortfalls (days
/// before today under the minimum).
fn class_days(
    conn: &mut Conn,
    f: &Filter,
    from: NaiveDate,
    last: NaiveDate,
    today: NaiveDate,
    ratio_runs: &[(ClassType, Vec<Run>)],
    outdoor_runs: &[Run],
) -> Result<Vec<(String, Counts)>> {
    let mut p: Vec<Value> = vec![from.into(), last.into(), today.into()];
    let mut wa = format!("{CAME} AND a.class_id IS NOT NULL AND a.day >= $1 AND a.day <= $2");
    f.push(&mut wa, &mut p, "a.facility_path", "a.facility_id");
    let mut wv = String::from("v.kind = 'outdoor' AND v.day >= $1 AND v.day <= $2");
    f.push(&mut wv, &mut p, "v.facility_path", "v.facility_id");
    let ratio_list: Vec<Guarded<'_>> = ratio_runs
        .iter()
        .map(|(t, r)| (Some(("c.class_type", t.code())), r.as_slice()))
        .collect();
    // A class type without a ratio (none known) cannot breach: NULL compares false.
    let ratio = runs_case(&mut p, "cd.day", &ratio_list);
    let outdoor = runs_case(&mut p, "cd.day", &[(None, outdoor_runs)]);
    conn.query(
        &format!(
            "WITH cd AS (SELECT a.facility_id, a.class_id, a.day, COUNT(*) AS came \
             FROM childcare_attendance a WHERE {wa} GROUP BY a.facility_id, a.class_id, a.day), \
             o AS (SELECT v.class_id, v.day, CAST(SUM(v.minutes) AS BIGINT) AS minutes \
             FROM childcare_day_event v WHERE {wv} GROUP BY v.class_id, v.day) \
             SELECT cd.facility_id, COUNT(*) AS class_days, \
             CAST(SUM(CASE WHEN cd.came > COALESCE(k.caregivers_on_duty, c.caregivers) * ({ratio}) \
             THEN 1 ELSE 0 END) AS BIGINT) AS breaches, \
             CAST(SUM(CASE WHEN cd.day < $3 THEN 1 ELSE 0 END) AS BIGINT) AS judged, \
             CAST(SUM(CASE WHEN cd.day < $3 AND COALESCE(o.minutes, 0) < ({outdoor}) \
             THEN 1 ELSE 0 END) AS BIGINT) AS short \
             FROM cd JOIN childcare_class c ON c.id = cd.class_id \
             LEFT JOIN childcare_class_day k ON k.class_id = cd.class_id AND k.day = cd.day \
             LEFT JOIN o ON o.class_id = cd.class_id AND o.day = cd.day \
             GROUP BY cd.facility_id"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok((
            r.get("facility_id")?,
            Counts {
                class_days: r.get("class_days")?,
                ratio_breaches: r.get("breaches")?,
                outdoor_days: r.get("judged")?,
                outdoor_short: r.get("short")?,
                ..Counts::default()
            },
        ))
    })
    .collect()
}

/// Carers and health staff employed on `day`: certified, health check lapsed.
fn staff(
    conn: &mut Conn,
    f: &Filter,
    day: NaiveDate,
    lapsed_before: NaiveDate,
) -> Result<Vec<(String, Counts)>> {
    let mut p: Vec<Value> = vec![day.into(), lapsed_before.into()];
    let mut w = format!(
        "s.deleted_at IS NULL AND s.role IN {CARE_ROLES} AND s.hired_date <= $1 \
         AND (s.left_date IS NULL OR s.left_date > $1)"
    );
    f.push(&mut w, &mut p, "f.area_path", "s.facility_id");
    conn.query(
        &format!(
            "SELECT s.facility_id, COUNT(*) AS staff, \
             CAST(SUM(CASE WHEN s.certified THEN 1 ELSE 0 END) AS BIGINT) AS certified, \
             CAST(SUM(CASE WHEN s.health_check_date IS NULL OR s.health_check_date < $2 THEN 1 ELSE 0 END) \
             AS BIGINT) AS lapsed \
             FROM staff s JOIN facility f ON f.id = s.facility_id WHERE {w} GROUP BY s.facility_id"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok((
            r.get("facility_id")?,
            Counts {
                staff: r.get("staff")?,
                staff_certified: r.get("certified")?,
                staff_health_lapsed: r.get("lapsed")?,
                ..Counts::default()
            },
        ))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn runs_join_equal_days_and_split_on_a_change() {
        let r = runs(d("2025-03-01"), d("2025-03-05"), |x| {
            Ok(Some(if x < d("2025-03-04") { 5 } else { 6 }))
        })
        .expect("runs");
        assert_eq!(
            r,
            vec![
                (d("2025-03-01"), d("2025-03-03"), 5),
                (d("2025-03-04"), d("2025-03-05"), 6)
            ]
        );
    }

    #[test]
    fn rates_are_none_without_a_denominator() {
        let c = Counts {
            enrolled: 3,
            approved_slots: 4,
            ..Counts::default()
        };
        assert_eq!(c.occupancy(), Some(75.0));
        assert_eq!(c.attendance_rate(), None);
    }
}
