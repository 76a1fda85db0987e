//! Spatial planning (设施布局规划): reads the registers into the planning
//! analysis's inputs (projected points of the elderly, infants and facilities,
//! the areas, the county residents, an imported resident grid), keeps them and
//! the last analyses until a register changes, keeps the imported resident
//! grid, and saves proposed sites as planned facilities.
//!
//! Personal data: the inputs hold each person's projected point, role and
//! area, and the person ids (to list who is not covered, for roles that read
//! people); no names, ID numbers or addresses. Nothing here logs them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Datelike, Months, NaiveDate};
use laoxiao_model::facility::FacilityStatus;
use laoxiao_model::{AreaLevel, AreaTree, Facility, FacilityKind, PersonRole};
use laoxiao_rules::planning::{
    Analysis, FacilityPoint, Inputs, Layer, Options, Params, PersonPoint,
};
use laoxiao_spatial::project;

pub mod tables;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, RowError, StoreError};
use crate::indicators::facts::{batches, sqlite_each};
use crate::scope::{Perm, Scope};
use crate::versions::{self, Versions};
use crate::{Reference, audit, facilities, now_rfc3339};

/// The version key bumped by resident-grid imports.
pub const RESIDENT_GRID: &str = "resident_grid";
/// Rows of an imported resident grid at most.
pub const MAX_GRID_POINTS: usize = 2_000_000;
/// Residents of one imported point at most.
pub const MAX_POINT_RESIDENTS: f64 = 1_000_000.0;
/// Analyses kept per process (tens of MB each at scale 1).
const KEEP_ANALYSES: usize = 3;
/// Sites saved in one call at most.
pub const MAX_SAVED_SITES: usize = 200;

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![laoxiao_model::FieldError::new(field, reason.into())])
}

/// The inputs with the ids behind them and what they were read at.
#[derive(Debug)]
pub struct Loaded {
    pub inputs: Arc<Inputs>,
    /// Person ids in the inputs' order.
    pub person_ids: Vec<Box<str>>,
    pub versions: Versions,
    pub grid_version: i64,
    pub date: NaiveDate,
    pub took: Duration,
}

#[derive(Debug, Clone, PartialEq)]
struct AnalysisKey {
    versions: Versions,
    grid_version: i64,
    date: NaiveDate,
    params: String,
    cell_m: u32,
    basis: Option<Layer>,
    with_planned: bool,
}

/// What a process keeps (in [`crate::Reference`]).
#[derive(Debug, Default)]
pub struct Kept {
    inputs: Mutex<Option<Arc<Loaded>>>,
    analyses: Mutex<Vec<(AnalysisKey, Arc<Analysis>)>>,
}

impl Kept {
    /// The inputs for `date` at the database's current versions.
    pub fn inputs(
        &self,
        conn: &mut Conn,
        areas: &AreaTree,
        date: NaiveDate,
    ) -> Result<Arc<Loaded>> {
        let now = versions::read(conn)?;
        let grid_version = grid_version(conn)?;
        let mut held = self
            .inputs
            .lock()
            .map_err(|_| StoreError::Database("planning inputs lock poisoned".into()))?;
        if let Some(l) = held.as_ref()
            && l.versions == now
            && l.grid_version == grid_version
            && l.date == date
        {
            return Ok(Arc::clone(l));
        }
        *held = None;
        let loaded = Arc::new(load(conn, areas, date, now, grid_version)?);
        *held = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The analysis of `date` under `params` and `options` (kept: the last
    /// few are answered from memory until a register changes).
    pub fn analysis(
        &self,
        conn: &mut Conn,
        areas: &AreaTree,
        date: NaiveDate,
        params: &Params,
        options: &Options,
    ) -> Result<(Arc<Loaded>, Arc<Analysis>)> {
        options
            .check()
            .map_err(|e| invalid("options", e.to_string()))?;
        let loaded = self.inputs(conn, areas, date)?;
        let key = AnalysisKey {
            versions: loaded.versions,
            grid_version: loaded.grid_version,
            date,
            params: format!("{}:{}", params.source, params.version),
            cell_m: options.cell_m as u32,
            basis: options.basis,
            with_planned: options.with_planned,
        };
        {
            let held = self
                .analyses
                .lock()
                .map_err(|_| StoreError::Database("planning analyses lock poisoned".into()))?;
            if let Some((_, a)) = held.iter().find(|(k, _)| *k == key) {
                return Ok((loaded, Arc::clone(a)));
            }
        }
        let a = Arc::new(
            Analysis::run(params, Arc::clone(&loaded.inputs), options)
                .map_err(|e| invalid("options", e.to_string()))?,
        );
        let mut held = self
            .analyses
            .lock()
            .map_err(|_| StoreError::Database("planning analyses lock poisoned".into()))?;
        held.retain(|(k, _)| k.versions == key.versions && k.grid_version == key.grid_version);
        held.push((key, Arc::clone(&a)));
        while held.len() > KEEP_ANALYSES {
            held.remove(0);
        }
        Ok((loaded, a))
    }

    /// Forgets everything kept.
    pub fn clear(&self) {
        if let Ok(mut h) = self.inputs.lock() {
            *h = None;
        }
        if let Ok(mut h) = self.analyses.lock() {
            h.clear();
        }
    }
}

fn grid_version(conn: &mut Conn) -> Result<i64> {
    Ok(conn
        .query_opt(
            "SELECT version FROM register_version WHERE register = $1",
            &[RESIDENT_GRID.into()],
        )?
        .map(|r| r.get::<i64>("version"))
        .transpose()?
        .unwrap_or(0))
}

fn ymd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Reads the inputs for `date`: people active on the register with a point,
/// elderly (60 or over on the date) or infants (under 3); every facility with
/// a point; the county residents of the latest year up to the date's (else the
/// earliest); the imported grid.
pub fn load(
    conn: &mut Conn,
    areas: &AreaTree,
    date: NaiveDate,
    versions: Versions,
    grid_version: i64,
) -> Result<Loaded> {
    let start = Instant::now();
    let all = areas.all().to_vec();
    let area_pos: std::collections::HashMap<&str, u32> = all
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.as_str(), i as u32))
        .collect();
    let elderly_born_by = date
        .checked_sub_months(Months::new(60 * 12))
        .unwrap_or(NaiveDate::MIN);
    let infant_born_after = date
        .checked_sub_months(Months::new(3 * 12))
        .unwrap_or(NaiveDate::MIN);
    let mut inputs = Inputs {
        date: Some(date),
        ..Inputs::default()
    };
    let mut person_ids: Vec<Box<str>> = Vec::new();
    let mut take = |id: &str,
                    role: &str,
                    birth: Option<&str>,
                    area: &str,
                    lng: Option<f64>,
                    lat: Option<f64>| {
        let Some(&area) = area_pos.get(area) else {
            return;
        };
        let Some(birth) = birth.and_then(ymd) else {
            return;
        };
        let layer = match PersonRole::parse(role) {
            Some(PersonRole::Elderly) if birth <= elderly_born_by => Layer::Elderly,
            Some(PersonRole::Infant) if birth > infant_born_after && birth <= date => {
                Layer::Infants
            }
            _ => return,
        };
        match (lng, lat) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                inputs.people.push(PersonPoint {
                    at: project(x, y),
                    layer,
                    area,
                });
                person_ids.push(id.into());
            }
            _ => inputs.people_without_point += 1,
        }
    };
    const COLS: &str = "id, role, birth_date, residence_area_code, lng, lat";
    let streamed = sqlite_each(
        conn,
        &format!(
            "SELECT {COLS} FROM person NOT INDEXED WHERE deleted_at IS NULL AND status = 'active'"
        ),
        &[],
        |r| {
            let id: String = r.get(0)?;
            let role: String = r.get(1)?;
            let birth: Option<String> = r.get(2)?;
            let area: String = r.get(3)?;
            take(&id, &role, birth.as_deref(), &area, r.get(4)?, r.get(5)?);
            Ok(())
        },
    )?;
    if streamed.is_none() {
        batches(
            conn,
            &format!(
                "SELECT {COLS} FROM person WHERE deleted_at IS NULL AND status = 'active' AND {{after}}"
            ),
            &[],
            |rows| {
                for r in rows {
                    take(
                        &r.get::<String>("id")?,
                        &r.get::<String>("role")?,
                        r.get::<Option<String>>("birth_date")?.as_deref(),
                        &r.get::<String>("residence_area_code")?,
                        r.get("lng")?,
                        r.get("lat")?,
                    );
                }
                Ok(())
            },
        )?;
    }
    for r in conn.query(
        "SELECT id, name, kind, area_code, lng, lat, beds, approved_slots, status, opening_date, \
         closed_date FROM facility WHERE deleted_at IS NULL ORDER BY id",
        &[],
    )? {
        if let Some(f) = facility_point(&r, &area_pos, date)? {
            inputs.facilities.push(f);
        } else {
            inputs.facilities_without_point += 1;
        }
    }
    inputs.county_residents = residents(conn, areas, date.year())?;
    let mut grid = Vec::new();
    for r in conn.query(
        "SELECT lng, lat, residents FROM resident_grid ORDER BY seq",
        &[],
    )? {
        let (x, y, n): (f64, f64, f64) = (r.get("lng")?, r.get("lat")?, r.get("residents")?);
        grid.push((project(x, y), n));
    }
    inputs.resident_grid = (!grid.is_empty()).then_some(grid);
    inputs.areas = all;
    Ok(Loaded {
        inputs: Arc::new(inputs),
        person_ids,
        versions,
        grid_version,
        date,
        took: start.elapsed(),
    })
}

fn facility_point(
    r: &Row,
    area_pos: &std::collections::HashMap<&str, u32>,
    date: NaiveDate,
) -> Result<Option<FacilityPoint>> {
    let (lng, lat): (Option<f64>, Option<f64>) = (r.get("lng")?, r.get("lat")?);
    let (Some(lng), Some(lat)) = (lng, lat) else {
        return Ok(None);
    };
    let area: String = r.get("area_code")?;
    let Some(&area) = area_pos.get(area.as_str()) else {
        return Ok(None);
    };
    let kind: String = r.get("kind")?;
    let Some(kind) = FacilityKind::parse(&kind) else {
        return Ok(None);
    };
    let status = FacilityStatus::parse(&r.get::<String>("status")?).unwrap_or_default();
    let opening = r
        .get::<Option<String>>("opening_date")?
        .as_deref()
        .and_then(ymd);
    let closed = r
        .get::<Option<String>>("closed_date")?
        .as_deref()
        .and_then(ymd);
    // Operating on the date: as the subsidy rules read it.
    let operating = match status {
        FacilityStatus::Operating => true,
        FacilityStatus::Closed => closed.is_some(),
        FacilityStatus::Planned | FacilityStatus::Suspended => false,
    } && opening.is_none_or(|o| o <= date)
        && closed.is_none_or(|c| c > date);
    Ok(Some(FacilityPoint {
        id: r.get("id")?,
        name: r.get("name")?,
        kind,
        at: project(lng, lat),
        beds: r.get::<Option<i64>>("beds")?.unwrap_or(0).max(0) as f64,
        slots: r.get::<Option<i64>>("approved_slots")?.unwrap_or(0).max(0) as f64,
        area,
        operating,
        planned: status == FacilityStatus::Planned,
    }))
}

/// Residents per county (and the city) from `area_population`: the latest
/// year up to `year`, else the earliest after it.
fn residents(conn: &mut Conn, areas: &AreaTree, year: i32) -> Result<BTreeMap<String, f64>> {
    let mut best: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT area_code, year, residents FROM area_population",
        &[],
    )? {
        let code: String = r.get("area_code")?;
        let Some(a) = areas.get(&code) else { continue };
        if !matches!(a.level, AreaLevel::City | AreaLevel::County) {
            continue;
        }
        let (y, n): (i64, i64) = (r.get("year")?, r.get("residents")?);
        // Prefer years up to `year` (latest first), then later years (earliest first).
        let rank = if y <= i64::from(year) { y } else { -y };
        let e = best.entry(code).or_insert((i64::MIN, 0.0));
        if rank > e.0 {
            *e = (rank, n as f64);
        }
    }
    Ok(best.into_iter().map(|(k, (_, n))| (k, n)).collect())
}

/// The imported resident grid now in force.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridInfo {
    pub points: i64,
    pub residents: f64,
    pub source: String,
    pub imported_at: String,
    pub imported_by: String,
}

/// The imported grid's description, when one is in force.
pub fn grid_info(conn: &mut Conn) -> Result<Option<GridInfo>> {
    let Some(r) = conn.query_opt(
        "SELECT points, residents, source, imported_at, imported_by, cleared FROM resident_grid_import \
         ORDER BY id DESC LIMIT 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    if r.get::<bool>("cleared")? {
        return Ok(None);
    }
    Ok(Some(GridInfo {
        points: r.get("points")?,
        residents: r.get("residents")?,
        source: r.get("source")?,
        imported_at: r.get("imported_at")?,
        imported_by: r.get("imported_by")?,
    }))
}

/// Parses a resident grid file: CSV with a header naming `lng`, `lat` and
/// `residents` (or 经度, 纬度, 常住人口), and optionally `coord_system`
/// (wgs84, gcj02, bd09; WGS-84 when absent). Every bad row is reported.
pub fn parse_grid_csv(bytes: &[u8]) -> Result<Vec<(f64, f64, f64)>> {
    let text = std::str::from_utf8(bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes))
        .map_err(|_| StoreError::UnsupportedFile("the resident grid must be UTF-8 CSV".into()))?;
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rd
        .headers()
        .map_err(|e| StoreError::File(e.to_string()))?
        .clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(ix), Some(iy), Some(iv)) = (
        find(&["lng", "经度"]),
        find(&["lat", "纬度"]),
        find(&["residents", "常住人口"]),
    ) else {
        return Err(StoreError::ImportRejected(vec![RowError {
            row: 1,
            column: "header".into(),
            reason: "the header must name lng, lat and residents (or 经度, 纬度, 常住人口)".into(),
        }]));
    };
    let ic = find(&["coord_system", "坐标系"]);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (n, rec) in rd.records().enumerate() {
        let row = n + 2;
        if out.len() >= MAX_GRID_POINTS {
            return Err(StoreError::LimitExceeded {
                limit: "resident_grid_points",
                env: "-",
                value: MAX_GRID_POINTS as u64,
                what: format!("the resident grid has more than {MAX_GRID_POINTS} rows"),
            });
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    column: "-".into(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let mut bad = |column: &str, reason: String| {
            if errors.len() < 1000 {
                errors.push(RowError {
                    row,
                    column: column.into(),
                    reason,
                });
            }
        };
        let num = |i: usize| rec.get(i).map(str::trim).unwrap_or("").parse::<f64>().ok();
        let cs = match ic
            .and_then(|i| rec.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(laoxiao_spatial::CoordSystem::Wgs84),
            Some(s) => laoxiao_spatial::CoordSystem::parse(s),
        };
        let Some(cs) = cs else {
            bad(
                "coord_system",
                format!(
                    "expected one of {}",
                    laoxiao_spatial::CoordSystem::expected()
                ),
            );
            continue;
        };
        let (x, y, v) = (num(ix), num(iy), num(iv));
        let Some(x) = x.filter(|x| (73.0..=136.0).contains(x)) else {
            bad("lng", "not a longitude in China (73 to 136)".into());
            continue;
        };
        let Some(y) = y.filter(|y| (3.0..=54.0).contains(y)) else {
            bad("lat", "not a latitude in China (3 to 54)".into());
            continue;
        };
        let Some(v) = v.filter(|v| v.is_finite() && (0.0..=MAX_POINT_RESIDENTS).contains(v)) else {
            bad(
                "residents",
                format!("not a number from 0 to {MAX_POINT_RESIDENTS}"),
            );
            continue;
        };
        let (x, y) = laoxiao_spatial::to_wgs84(cs, x, y);
        out.push((x, y, v));
    }
    if !errors.is_empty() {
        return Err(StoreError::ImportRejected(errors));
    }
    if out.is_empty() {
        return Err(StoreError::ImportRejected(vec![RowError {
            row: 2,
            column: "-".into(),
            reason: "the file has no rows".into(),
        }]));
    }
    Ok(out)
}

/// Replaces the resident grid (all or nothing), audited; city-wide roles only.
pub fn import_grid(
    conn: &mut Conn,
    scope: &Scope,
    points: &[(f64, f64, f64)],
    source: &str,
) -> Result<GridInfo> {
    scope.require(Perm::Import)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "the resident grid is city-wide: a city administrator loads it".into(),
        ));
    }
    if points.len() > MAX_GRID_POINTS {
        return Err(invalid("points", format!("at most {MAX_GRID_POINTS}")));
    }
    let source: String = source.chars().take(200).collect();
    let total: f64 = points.iter().map(|p| p.2).sum();
    conn.transaction(|c| {
        c.execute("DELETE FROM resident_grid", &[])?;
        for (chunk_no, chunk) in points.chunks(500).enumerate() {
            let mut sql = String::from("INSERT INTO resident_grid (seq, lng, lat, residents) VALUES ");
            let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
            for (i, p) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = params.len();
                sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
                params.push(((chunk_no * 500 + i) as i64).into());
                params.push(p.0.into());
                params.push(p.1.into());
                params.push(p.2.into());
            }
            c.execute(&sql, &params)?;
        }
        let now = now_rfc3339();
        c.execute(
            "INSERT INTO resident_grid_import (imported_at, imported_by, source, points, residents, cleared) \
             VALUES ($1, $2, $3, $4, $5, FALSE)",
            &[
                now.as_str().into(),
                scope.actor.user.as_str().into(),
                source.as_str().into(),
                (points.len() as i64).into(),
                total.into(),
            ],
        )?;
        versions::bump(c, RESIDENT_GRID)?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "import",
                entity: "resident_grid",
                entity_id: None,
                before: None,
                after: Some(
                    serde_json::json!({"points": points.len(), "residents": total, "source": source})
                        .to_string(),
                ),
            },
        )?;
        Ok(GridInfo {
            points: points.len() as i64,
            residents: total,
            source: source.clone(),
            imported_at: now,
            imported_by: scope.actor.user.clone(),
        })
    })
}

/// Removes the imported grid: the analysis estimates residents again.
pub fn clear_grid(conn: &mut Conn, scope: &Scope) -> Result<bool> {
    scope.require(Perm::Import)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "the resident grid is city-wide: a city administrator clears it".into(),
        ));
    }
    conn.transaction(|c| {
        let n = c.execute("DELETE FROM resident_grid", &[])?;
        c.execute(
            "INSERT INTO resident_grid_import (imported_at, imported_by, source, points, residents, cleared) \
             VALUES ($1, $2, 'cleared', 0, 0, TRUE)",
            &[now_rfc3339().as_str().into(), scope.actor.user.as_str().into()],
        )?;
        versions::bump(c, RESIDENT_GRID)?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "delete",
                entity: "resident_grid",
                entity_id: None,
                before: Some(serde_json::json!({ "points": n }).to_string()),
                after: None,
            },
        )?;
        Ok(n > 0)
    })
}

/// A proposed site to save as a planned facility (筹建中).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct SiteToSave {
    pub name: String,
    pub kind: FacilityKind,
    pub lng: f64,
    pub lat: f64,
    /// The village (for a village care station) or town the site lies in.
    pub area_code: String,
    pub beds: Option<i64>,
    pub approved_slots: Option<i64>,
}

/// Saves sites as facilities with status `planned`, in the caller's scope,
/// one transaction, each audited; returns their ids. A village care station
/// sits at village level; every other kind at the town holding the area.
pub fn save_sites(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    sites: &[SiteToSave],
) -> Result<Vec<String>> {
    if sites.is_empty() || sites.len() > MAX_SAVED_SITES {
        return Err(invalid(
            "sites",
            format!("give 1 to {MAX_SAVED_SITES} sites"),
        ));
    }
    let mut facilities_out = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let field = |f: &str| format!("sites[{i}].{f}");
        let area = reference.areas.get(&s.area_code).ok_or_else(|| {
            invalid(
                &field("area_code"),
                format!("unknown area {:?}", s.area_code),
            )
        })?;
        let area_code = if s.kind == FacilityKind::VillageCareStation {
            if area.level != AreaLevel::Village {
                return Err(invalid(
                    &field("area_code"),
                    "a village care station needs a village",
                ));
            }
            area.code.clone()
        } else {
            reference
                .areas
                .ancestor_at(&area.code, AreaLevel::Town)
                .map(|t| t.code.clone())
                .ok_or_else(|| invalid(&field("area_code"), "give a town or a village"))?
        };
        let name = s.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid(
                &field("name"),
                "give a name of 1 to 100 characters",
            ));
        }
        if !(s.lng.is_finite() && s.lat.is_finite()) {
            return Err(invalid(&field("lng"), "not a coordinate"));
        }
        let f = Facility {
            id: facilities::new_id(),
            name: name.to_string(),
            kind: s.kind,
            area_code,
            lng: Some(s.lng),
            lat: Some(s.lat),
            beds: s.beds,
            approved_slots: s.approved_slots,
            status: FacilityStatus::Planned,
            ..Facility::default()
        };
        facilities_out.push(f);
    }
    conn.transaction(|c| {
        let mut ids = Vec::new();
        for f in &facilities_out {
            let after = facilities::create_in(c, reference, scope, f)?;
            ids.push(after.id);
        }
        Ok(ids)
    })
}
