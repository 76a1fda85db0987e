//! The worklist (待办): what a user has to act on today, gathered from every
//! workflow. Each workflow module offers
//! `pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>>`
//! answering only what the scope may see and act on; the role homes of the
//! console list them, most urgent first.
//!
//! This module also holds the worklist's own sources, the ones the registers
//! answer today: transfer requests waiting for the caller (迁入申请待处理),
//! records without coordinates (缺少坐标: the maps and the service-radius
//! indicators cannot place them), facilities whose rating (等级评定) has
//! lapsed, and elderly people without an ability level (能力等级: indicators
//! 6 and 7 count by it). [`gather`] adds the lines other workflows pass in.
//! The role homes' summaries ([`area_summary`], [`facility_home`]) are here
//! too, so the console holds no SQL.

use chrono::NaiveDate;
use laoxiao_model::activity::{SkillGrade, StaffRole};
use laoxiao_model::person::mask_name;
use serde::Serialize;

use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{now_rfc3339, path_upper};

/// One line of a worklist: a count of records waiting for one action, and where
/// to act on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    /// Stable snake_case key, e.g. `visits_overdue` (tests and the API use it).
    pub key: &'static str,
    /// The line in Chinese, e.g. 本月逾期未探访.
    pub zh: String,
    /// The line in English.
    pub en: String,
    /// How many records wait (0 lines are left out by the callers).
    pub count: i64,
    /// The console page that lists them, filtered (a path starting with `/console/`).
    pub url: String,
    /// Past a deadline (overdue visits, alarms not acknowledged, offers about to lapse).
    pub urgent: bool,
}

impl WorkItem {
    /// A line; `urgent` false.
    pub fn new(key: &'static str, zh: &str, en: &str, count: i64, url: &str) -> Self {
        WorkItem {
            key,
            zh: zh.to_string(),
            en: en.to_string(),
            count,
            url: url.to_string(),
            urgent: false,
        }
    }

    /// The same line, marked past its deadline.
    pub fn urgent(mut self) -> Self {
        self.urgent = true;
        self
    }
}

/// Most urgent first, then the largest counts; lines with nothing waiting dropped.
pub fn order(mut items: Vec<WorkItem>) -> Vec<WorkItem> {
    items.retain(|i| i.count > 0);
    items.sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.count.cmp(&a.count)));
    items
}

/// The keys of this module's own sources, in the order [`records`] knows them.
pub const SOURCES: [&str; 5] = [
    "transfers_waiting",
    "facilities_no_coords",
    "people_no_coords",
    "ratings_lapsed",
    "elderly_no_ability",
];

/// Most records a worklist page lists at once.
pub const MAX_RECORDS: u32 = 200;

/// A source's condition on its table, and the table's scope columns.
struct Source {
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    /// What the scope must be allowed to do to act on the line.
    perm: Perm,
    table: &'static str,
    /// Extra condition; `$today` is replaced by a parameter.
    cond: &'static str,
    /// The facility-id column (operators see their facility's lines only).
    facility_col: Option<&'static str>,
    urgent: bool,
}

const REGISTER_SOURCES: [Source; 4] = [
    Source {
        key: "facilities_no_coords",
        zh: "设施缺少坐标",
        en: "Facilities without coordinates",
        perm: Perm::WriteFacilities,
        table: "facility",
        cond: "(lng IS NULL OR lat IS NULL) AND status <> 'closed'",
        facility_col: Some("id"),
        urgent: false,
    },
    Source {
        key: "people_no_coords",
        zh: "人员缺少坐标",
        en: "People without coordinates",
        perm: Perm::WritePeople,
        table: "person",
        cond: "(lng IS NULL OR lat IS NULL) AND status = 'active'",
        facility_col: None,
        urgent: false,
    },
    Source {
        key: "ratings_lapsed",
        zh: "等级评定已过有效期",
        en: "Ratings past their validity",
        perm: Perm::WriteFacilities,
        table: "facility",
        cond: "rating IS NOT NULL AND rating_valid_until IS NOT NULL \
               AND rating_valid_until < $today AND status = 'operating'",
        facility_col: Some("id"),
        urgent: true,
    },
    Source {
        key: "elderly_no_ability",
        zh: "老年人缺少能力等级",
        en: "Elderly people without an ability level",
        perm: Perm::WritePeople,
        table: "person",
        cond: "role = 'elderly' AND ability_level IS NULL AND status = 'active'",
        facility_col: None,
        urgent: false,
    },
];

fn source_where(src: &Source, scope: &Scope, today: NaiveDate, p: &mut Vec<Value>) -> String {
    let mut cond = src.cond.to_string();
    if cond.contains("$today") {
        p.push(today.to_string().into());
        cond = cond.replace("$today", &format!("${}", p.len()));
    }
    let mut w = format!("deleted_at IS NULL AND {cond}");
    scope.push_sql(&mut w, p, "area_path", src.facility_col);
    w
}

/// Open transfer requests for people whose record the scope holds: the
/// holder decides them (the same rule as [`crate::transfers::list`]'s
/// incoming box, without expiring anything: a read stays a read).
fn transfers_where(scope: &Scope, p: &mut Vec<Value>) -> String {
    p.push(now_rfc3339().into());
    let mut w = format!(
        "t.status = 'open' AND t.expires_at > ${} AND p.deleted_at IS NULL",
        p.len()
    );
    if let Some(path) = scope.area_path() {
        p.push(path.into());
        w.push_str(&format!(" AND p.area_path >= ${}", p.len()));
        p.push(path_upper(path).into());
        w.push_str(&format!(" AND p.area_path < ${}", p.len()));
    }
    w
}

/// This module's own lines for the scope: only those its role may act on
/// (an analyst or auditor gets none), zero lines included (see [`order`]).
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    let mut out = Vec::new();
    // Operators hold no people: transfers are the areas' staff's.
    if scope.can(Perm::WritePeople) && scope.facility().is_none() {
        let mut p = Vec::new();
        let w = transfers_where(scope, &mut p);
        let n = conn.query_i64(
            &format!(
                "SELECT COUNT(*) FROM transfer_request t JOIN person p ON p.id = t.person_id WHERE {w}"
            ),
            &p,
        )?;
        out.push(WorkItem::new(
            "transfers_waiting",
            "迁入申请待处理",
            "Transfer requests waiting for you",
            n,
            "/console/transfers",
        ));
    }
    for src in &REGISTER_SOURCES {
        if !scope.can(src.perm) {
            continue;
        }
        let mut p = Vec::new();
        let w = source_where(src, scope, today, &mut p);
        let n = conn.query_i64(&format!("SELECT COUNT(*) FROM {} WHERE {w}", src.table), &p)?;
        let mut item = WorkItem::new(
            src.key,
            src.zh,
            src.en,
            n,
            &format!("/console/worklist/{}", src.key),
        );
        item.urgent = src.urgent;
        out.push(item);
    }
    Ok(out)
}

/// The whole worklist of a scope: this module's lines and `extra` (the other
/// workflows' `work_items`: assessments due, visits overdue, alarms open,
/// offers waiting), ordered by [`order`].
pub fn gather(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
    extra: Vec<WorkItem>,
) -> Result<Vec<WorkItem>> {
    let mut items = work_items(conn, scope, today)?;
    items.extend(extra);
    Ok(order(items))
}

/// One record behind a worklist line: never a name in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkRecord {
    pub id: String,
    /// A facility's name (public), or a person's masked name.
    pub label: String,
    pub area_code: String,
    /// Where to act on it.
    pub url: String,
}

/// The records behind one of this module's lines (at most [`MAX_RECORDS`], by
/// id). An unknown key, or one the scope may not act on, is not found.
pub fn records(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
    key: &str,
) -> Result<Vec<WorkRecord>> {
    let not_found = || StoreError::NotFound {
        what: "worklist",
        id: key.to_string(),
    };
    let src = REGISTER_SOURCES
        .iter()
        .find(|s| s.key == key)
        .filter(|s| scope.can(s.perm))
        .ok_or_else(not_found)?;
    let mut p = Vec::new();
    let w = source_where(src, scope, today, &mut p);
    let (area, base) = if src.table == "facility" {
        ("area_code", "/console/facilities/")
    } else {
        ("residence_area_code", "/console/people/")
    };
    let rows = conn.query(
        &format!(
            "SELECT id, name, {area} AS area_code FROM {} WHERE {w} ORDER BY id LIMIT {MAX_RECORDS}",
            src.table
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            let id: String = r.get("id")?;
            let name: String = r.get("name")?;
            Ok(WorkRecord {
                url: format!("{base}{}", segment(&id)),
                label: if src.table == "facility" {
                    name
                } else {
                    mask_name(&name)
                },
                area_code: r.get("area_code")?,
                id,
            })
        })
        .collect()
}

/// Percent-encodes an id for a URL path segment.
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What a town or village home shows of its area: counts, no map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AreaSummary {
    /// Elderly people on the register (active).
    pub elderly: i64,
    /// Of them with a special-difficulty category (特殊困难).
    pub special_difficulty: i64,
    /// Of them living alone or in an empty nest (独居/空巢).
    pub alone_or_empty_nest: i64,
    /// Infants on the register (active).
    pub infants: i64,
    /// Live facilities in the area, all kinds.
    pub facilities: i64,
    /// Of them care homes (养老机构), and their beds.
    pub care_homes: i64,
    pub beds: i64,
}

/// The area summary of the scope's subtree under `path`.
pub fn area_summary(conn: &mut Conn, scope: &Scope, path: &str) -> Result<AreaSummary> {
    let mut p: Vec<Value> = vec![path.into(), path_upper(path).into()];
    let mut w = String::from("deleted_at IS NULL AND area_path >= $1 AND area_path < $2");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let mut s = AreaSummary::default();
    if scope.can(Perm::ReadPeople) {
        let r = conn
            .query_opt(
                &format!(
                    "SELECT \
                     CAST(COALESCE(SUM(CASE WHEN role = 'elderly' THEN 1 ELSE 0 END), 0) AS BIGINT) AS elderly, \
                     CAST(COALESCE(SUM(CASE WHEN role = 'elderly' AND special_difficulty IS NOT NULL \
                          AND special_difficulty <> '' AND special_difficulty <> ';;' THEN 1 ELSE 0 END), 0) AS BIGINT) AS special, \
                     CAST(COALESCE(SUM(CASE WHEN role = 'elderly' AND living_arrangement IN ('living_alone', 'empty_nest') \
                          THEN 1 ELSE 0 END), 0) AS BIGINT) AS alone, \
                     CAST(COALESCE(SUM(CASE WHEN role = 'infant' THEN 1 ELSE 0 END), 0) AS BIGINT) AS infants \
                     FROM person WHERE {w} AND status = 'active'"
                ),
                &p,
            )?
            .ok_or_else(|| StoreError::Database("area summary returned no row".into()))?;
        s.elderly = r.get("elderly")?;
        s.special_difficulty = r.get("special")?;
        s.alone_or_empty_nest = r.get("alone")?;
        s.infants = r.get("infants")?;
    }
    if scope.can(Perm::ReadFacilities) {
        let mut p: Vec<Value> = vec![path.into(), path_upper(path).into()];
        let mut w = String::from("deleted_at IS NULL AND area_path >= $1 AND area_path < $2");
        scope.push_sql(&mut w, &mut p, "area_path", Some("id"));
        let r = conn
            .query_opt(
                &format!(
                    "SELECT COUNT(*) AS n, \
                     CAST(COALESCE(SUM(CASE WHEN kind = 'elderly_institution' THEN 1 ELSE 0 END), 0) AS BIGINT) AS homes, \
                     CAST(COALESCE(SUM(CASE WHEN kind = 'elderly_institution' THEN COALESCE(beds, 0) ELSE 0 END), 0) AS BIGINT) AS beds \
                     FROM facility WHERE {w}"
                ),
                &p,
            )?
            .ok_or_else(|| StoreError::Database("area summary returned no row".into()))?;
        s.facilities = r.get("n")?;
        s.care_homes = r.get("homes")?;
        s.beds = r.get("beds")?;
    }
    Ok(s)
}

/// A facility as an inspector's home lists it: its rating and filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area_code: String,
    pub rating: Option<String>,
    pub rating_valid_until: Option<String>,
    /// The rating's validity ended before today.
    pub lapsed: bool,
    pub filing_status: String,
    pub filing_date: Option<String>,
}

/// The facilities an inspector visits (督查): care homes, stations and
/// childcare institutions operating in the scope under `path`, lapsed
/// ratings first, then unfiled, then by id (at most [`MAX_RECORDS`]).
pub fn inspections(
    conn: &mut Conn,
    scope: &Scope,
    path: &str,
    today: NaiveDate,
) -> Result<Vec<InspectionLine>> {
    scope.require(Perm::ReadFacilities)?;
    let d = today.to_string();
    let mut p: Vec<Value> = vec![path.into(), path_upper(path).into(), d.as_str().into()];
    let mut w = String::from(
        "deleted_at IS NULL AND status = 'operating' AND area_path >= $1 AND area_path < $2",
    );
    scope.push_sql(&mut w, &mut p, "area_path", Some("id"));
    let rows = conn.query(
        &format!(
            "SELECT id, name, kind, area_code, rating, rating_valid_until, filing_status, filing_date, \
             CASE WHEN rating IS NOT NULL AND rating_valid_until < $3 THEN 1 ELSE 0 END AS lapsed \
             FROM facility WHERE {w} \
             AND kind IN ('elderly_institution', 'childcare_institution', 'town_home_care_center', 'village_care_station') \
             ORDER BY lapsed DESC, CASE WHEN filing_status IN ('unfiled', 'pending') THEN 0 ELSE 1 END, id \
             LIMIT {MAX_RECORDS}"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            Ok(InspectionLine {
                id: r.get("id")?,
                name: r.get("name")?,
                kind: r.get("kind")?,
                area_code: r.get("area_code")?,
                rating: r.get("rating")?,
                rating_valid_until: r.get("rating_valid_until")?,
                lapsed: r.get::<i64>("lapsed")? == 1,
                filing_status: r.get("filing_status")?,
                filing_date: r.get("filing_date")?,
            })
        })
        .collect()
}

/// A staff member as the operator's home lists them: the name masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffLine {
    pub id: String,
    pub name_masked: String,
    pub role: StaffRole,
    pub certified: bool,
    pub certificate: Option<String>,
    pub skill_grade: SkillGrade,
}

/// An operator's facility today (我的机构).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityHome {
    pub facility: laoxiao_model::Facility,
    /// People resident on `today` (入住, care homes).
    pub residents: i64,
    /// Infants enrolled on `today` (入托, childcare).
    pub children: i64,
    /// Beds (care homes) or approved slots (childcare) free: capacity less
    /// residents or children, never below 0; `None` without a capacity.
    pub free: Option<i64>,
    /// Staff employed on `today` (at most [`MAX_RECORDS`] listed).
    pub staff: Vec<StaffLine>,
    pub staff_total: i64,
    pub staff_certified: i64,
    /// The rating's validity ended before `today`.
    pub rating_lapsed: bool,
    /// The rating's validity ends within [`RATING_NOTICE_DAYS`] days.
    pub rating_lapsing: bool,
}

/// How long before a rating lapses the operator is told.
pub const RATING_NOTICE_DAYS: i64 = 90;

/// The operator's facility, or `None` for a scope without one (every other role).
pub fn facility_home(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Option<FacilityHome>> {
    let Some(id) = scope.facility().filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let facility = crate::facilities::get(conn, scope, id)?;
    let d = today.to_string();
    let residents = conn.query_i64(
        "SELECT COUNT(*) FROM residence WHERE facility_id = $1 AND deleted_at IS NULL \
         AND admitted_date <= $2 AND (discharged_date IS NULL OR discharged_date > $2)",
        &[id.into(), d.as_str().into()],
    )?;
    let children = conn.query_i64(
        "SELECT COUNT(*) FROM enrolment WHERE facility_id = $1 AND deleted_at IS NULL \
         AND start_date <= $2 AND (end_date IS NULL OR end_date >= $2)",
        &[id.into(), d.as_str().into()],
    )?;
    let employed = "facility_id = $1 AND deleted_at IS NULL AND hired_date <= $2 \
                    AND (left_date IS NULL OR left_date > $2)";
    let staff_total = conn.query_i64(
        &format!("SELECT COUNT(*) FROM staff WHERE {employed}"),
        &[id.into(), d.as_str().into()],
    )?;
    let staff_certified = conn.query_i64(
        &format!("SELECT COUNT(*) FROM staff WHERE {employed} AND certified = $3"),
        &[id.into(), d.as_str().into(), true.into()],
    )?;
    let staff = conn
        .query(
            &format!(
                "SELECT id, name, role, certified, certificate, skill_grade FROM staff \
                 WHERE {employed} ORDER BY role, id LIMIT {MAX_RECORDS}"
            ),
            &[id.into(), d.as_str().into()],
        )?
        .iter()
        .map(|r| {
            Ok(StaffLine {
                id: r.get("id")?,
                name_masked: mask_name(&r.get::<String>("name")?),
                role: StaffRole::parse(&r.get::<String>("role")?).unwrap_or(StaffRole::Other),
                certified: r.get("certified")?,
                certificate: r.get("certificate")?,
                skill_grade: SkillGrade::parse(&r.get::<String>("skill_grade")?)
                    .unwrap_or(SkillGrade::Ungraded),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (used, capacity) = if facility.kind.is_elderly() {
        (residents, facility.beds)
    } else {
        (children, facility.approved_slots)
    };
    let until = facility.rating.and(facility.rating_valid_until);
    Ok(Some(FacilityHome {
        free: capacity.map(|c| (c - used).max(0)),
        rating_lapsed: until.is_some_and(|u| u < today),
        rating_lapsing: until
            .is_some_and(|u| u >= today && (u - today).num_days() <= RATING_NOTICE_DAYS),
        facility,
        residents,
        children,
        staff,
        staff_total,
        staff_certified,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_urgent_first_and_drops_empty_lines() {
        let items = vec![
            WorkItem::new("a", "甲", "A", 5, "/console/a"),
            WorkItem::new("b", "乙", "B", 0, "/console/b").urgent(),
            WorkItem::new("c", "丙", "C", 1, "/console/c").urgent(),
            WorkItem::new("d", "丁", "D", 9, "/console/d"),
        ];
        let keys: Vec<_> = order(items).into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["c", "d", "a"]);
    }
}
