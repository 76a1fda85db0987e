//! Childcare staff compliance (托育机构工作人员): the yearly health check
//! (《托育机构管理规范（试行）》 art. 28) and the certificate to work
//! (持证上岗), as worklist lines for the institution and the county. The
//! period and the warning window are dated parameters
//! (`staff.health_check_months`, `staff.health_check_warning_days` in
//! `data/policy/childcare.toml`).

use chrono::{Months, NaiveDate};
use laoxiao_rules::subsidies::params::Params;

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::worklist::WorkItem;
use crate::{Perm, Scope};

/// The roles that care for the children or their health (托育从业人员).
const CARE_ROLES: &str = "('nursery_staff', 'infant_carer', 'health_staff')";

/// What the staff of the scope's childcare institutions owe on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StaffChecks {
    /// Employed carers and health staff counted.
    pub staff: i64,
    /// No health check on record, or the last one older than the period.
    pub lapsed: i64,
    /// A check that lapses within the warning window.
    pub due: i64,
    /// Working without a qualification certificate.
    pub uncertified: i64,
    /// Checks before this day have lapsed.
    pub lapsed_before: NaiveDate,
    /// Checks before this day (and not lapsed) are due.
    pub due_before: NaiveDate,
}

fn param(p: &Params, name: &str, day: NaiveDate) -> Result<i64> {
    p.int(name, day)
        .map(|(n, _)| n)
        .map_err(|e| StoreError::Reference(e.to_string()))
}

/// The counts for the scope's childcare institutions on `today`.
pub fn checks(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<StaffChecks> {
    let params = Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))?;
    let months = param(params, "staff.health_check_months", today)?.clamp(1, 120);
    let warn = param(params, "staff.health_check_warning_days", today)?.clamp(0, 365);
    let lapsed_before = today
        .checked_sub_months(Months::new(months as u32))
        .unwrap_or(today);
    let due_before = lapsed_before + chrono::Duration::days(warn);
    let mut p: Vec<Value> = vec![today.into()];
    let mut w = format!(
        "s.deleted_at IS NULL AND f.deleted_at IS NULL AND f.kind = 'childcare_institution' \
         AND s.role IN {CARE_ROLES} AND s.hired_date <= $1 AND (s.left_date IS NULL OR s.left_date > $1)"
    );
    scope.push_sql(&mut w, &mut p, "f.area_path", Some("f.id"));
    let rows = conn.query(
        &format!(
            "SELECT s.health_check_date, s.certified FROM staff s JOIN facility f ON f.id = s.facility_id WHERE {w}"
        ),
        &p,
    )?;
    let mut out = StaffChecks {
        lapsed_before,
        due_before,
        ..Default::default()
    };
    for r in &rows {
        out.staff += 1;
        match r.get::<Option<NaiveDate>>("health_check_date")? {
            None => out.lapsed += 1,
            Some(d) if d < lapsed_before => out.lapsed += 1,
            Some(d) if d < due_before => out.due += 1,
            Some(_) => {}
        }
        if !r.get::<bool>("certified")? {
            out.uncertified += 1;
        }
    }
    Ok(out)
}

/// The worklist lines: health checks lapsed (urgent) or due, staff without a
/// certificate. For those who keep the staff register (an institution: its
/// own; area staff: their area's).
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    if !scope.can(Perm::WriteFacilities) {
        return Ok(Vec::new());
    }
    let c = checks(conn, scope, today)?;
    let staff = "/console/staff";
    Ok(vec![
        WorkItem::new(
            "staff_health_lapsed",
            "托育人员体检已过期或无记录",
            "Childcare staff whose health check has lapsed or is missing",
            c.lapsed,
            &format!(
                "{staff}?health_check_date_to={}",
                c.lapsed_before.pred_opt().unwrap_or(c.lapsed_before)
            ),
        )
        .urgent(),
        WorkItem::new(
            "staff_health_due",
            "托育人员体检即将到期",
            "Childcare staff health checks due soon",
            c.due,
            &format!(
                "{staff}?health_check_date_from={}&health_check_date_to={}",
                c.lapsed_before,
                c.due_before.pred_opt().unwrap_or(c.due_before)
            ),
        ),
        WorkItem::new(
            "staff_uncertified",
            "托育人员未持证上岗",
            "Childcare staff working without a certificate",
            c.uncertified,
            &format!("{staff}?certified=false"),
        ),
    ])
}
