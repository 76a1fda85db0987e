//! Spatial planning's API (设施布局规划): `/api/planning…`. The gap map's
//! coverage (服务半径覆盖), its cells and facilities as GeoJSON,
//! accessibility (可达性, 2SFCA), the slot table (每千人口托位数), the
//! siting tool (选址) and saving its sites as planned facilities (筹建中),
//! and the imported resident grid (常住人口网格).
//!
//! Answers are aggregates over an area inside the caller's scope (an area
//! outside it is refused with 422 on `area`); the default area is the
//! caller's home area. The analysis itself is the whole city's (catchments
//! cross borders), kept by the store until a register changes.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::{Area, FacilityKind, FieldError};
use laoxiao_rules::RulesError;
use laoxiao_rules::planning::report::{self, CellFilter};
use laoxiao_rules::planning::{Analysis, Layer, Options, Params};
use laoxiao_store::planning::{self as store_planning, SiteToSave};
use laoxiao_store::{Perm, Reference, Scope};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, query_params};
use crate::{AppState, blocking};

/// The analysis dates accepted (the plan's years and the next plan's).
pub const DATE_RANGE: (&str, &str) = ("2020-01-01", "2035-12-31");
/// Default number of uncovered clusters listed.
pub const DEFAULT_CLUSTERS: u32 = 20;
/// Largest resident-grid upload, in bytes (as the console's imports).
pub const MAX_GRID_BYTES: usize = crate::console::MAX_UPLOAD_BYTES;
/// A division code of the city (county, town or village).
pub const AREA_PATTERN: &str = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$";

/// The planning rules in force (embedded; parsed once).
pub fn params() -> Result<&'static Params, ApiError> {
    static P: OnceLock<Result<Params, String>> = OnceLock::new();
    P.get_or_init(|| Params::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::Internal(format!("planning rules: {e}")))
}

/// A rules error as the API's: a bad parameter is 422 naming the field.
pub fn rules_error(e: RulesError) -> ApiError {
    match e {
        RulesError::Parameter { name, reason } => {
            // The rules name a few fields as the CLI does; the API's names.
            let field = match name.as_str() {
                "spacing" => "spacing_m",
                other => other,
            };
            ApiError::invalid(vec![FieldError::new(field, reason)])
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// Field errors collected over one request, answered together.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}

fn bound(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// The analysis date: today by default (kept within the range).
pub fn check_date(d: Option<NaiveDate>) -> Result<NaiveDate, FieldError> {
    let (lo, hi) = (bound(DATE_RANGE.0), bound(DATE_RANGE.1));
    match d {
        Some(d) if (lo..=hi).contains(&d) => Ok(d),
        Some(_) => Err(FieldError::new(
            "date",
            format!("a date from {} to {}", DATE_RANGE.0, DATE_RANGE.1),
        )),
        None => Ok(chrono::Local::now().date_naive().clamp(lo, hi)),
    }
}

/// The cell side: 100, 250 or 1,000 m (100 by default).
pub fn check_cell(c: Option<u32>) -> Result<f64, FieldError> {
    match c {
        None => Ok(100.0),
        Some(c @ (100 | 250 | 1000)) => Ok(f64::from(c)),
        Some(c) => Err(FieldError::new(
            "cell",
            format!("{c} m is not one of 100, 250, 1000"),
        )),
    }
}

/// The density basis: residents (the rules' default) or elderly.
pub fn check_basis(b: Option<&str>) -> Result<Option<Layer>, FieldError> {
    match b {
        None => Ok(None),
        Some("residents") => Ok(Some(Layer::Residents)),
        Some("elderly") => Ok(Some(Layer::Elderly)),
        Some(_) => Err(FieldError::new("basis", "residents or elderly")),
    }
}

/// A rule's code, checked against the rules in force.
pub fn check_rule(p: &Params, r: Option<&str>) -> Result<String, FieldError> {
    let code = r.unwrap_or("institution");
    if p.rule(code).is_some() {
        Ok(code.to_string())
    } else {
        Err(FieldError::new(
            "rule",
            format!("one of {}", p.rule_codes()),
        ))
    }
}

/// The area asked for, inside the caller's scope; by default the caller's
/// home area (the city for the system and city-wide roles).
pub fn scope_area(
    reference: &Reference,
    auth: &Auth,
    scope: &Scope,
    asked: Option<&str>,
) -> Result<Area, FieldError> {
    let areas = &reference.areas;
    let area = match asked {
        Some(c) => areas.get(c).ok_or_else(|| {
            FieldError::new(
                "area",
                format!(
                    "unknown area code {:?}",
                    c.chars().take(20).collect::<String>()
                ),
            )
        })?,
        None => auth
            .principal
            .as_ref()
            .and_then(|p| areas.get(&p.user.area_code))
            .or_else(|| areas.root())
            .ok_or_else(|| FieldError::new("area", "the area tree has no city"))?,
    };
    if !scope.contains_path(&area.path) {
        return Err(FieldError::new("area", "the area lies outside your own"));
    }
    Ok(area.clone())
}

/// The analysis of a date under options (kept by the store).
pub fn analysis(
    c: &mut laoxiao_store::Conn,
    r: &Reference,
    date: NaiveDate,
    options: &Options,
) -> Result<Arc<Analysis>, ApiError> {
    let p = params()?;
    let (_, a) = r.planning.analysis(c, &r.areas, date, p, options)?;
    Ok(a)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn geojson(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/geo+json")], Json(v)).into_response()
}

query_params! {
    /// The coverage report's area, rule and reading.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CoverageParams {
        /// The analysis date (default today), 2020-01-01 to 2035-12-31.
        pub date: Option<NaiveDate>,
        /// The area: a county, town or village code inside the caller's scope
        /// (default: the caller's home area).
        #[param(pattern = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")]
        pub area: Option<String>,
        /// The rule: `institution` (养老机构服务半径, 500 m / 1,000 m) or
        /// `home_care_walk` (15分钟步行居家养老服务圈). Default `institution`.
        #[param(pattern = "^(institution|home_care_walk)$")]
        pub rule: Option<String>,
        /// Cell side in metres: 100 (default), 250 or 1000.
        #[param(minimum = 100, maximum = 1000)]
        pub cell: Option<u32>,
        /// What density (居住区人口密度) counts: `residents` (default) or `elderly`.
        #[param(pattern = "^(residents|elderly)$")]
        pub basis: Option<String>,
        /// Count planned facilities (筹建中) as if they operated.
        pub with_planned: Option<bool>,
        /// Uncovered clusters to list, 0–500 (default 20).
        #[param(minimum = 0, maximum = 500)]
        pub clusters: Option<u32>,
    }
}

/// The options a request's reading fields give.
fn options(
    e: &mut Errors,
    cell: Option<u32>,
    basis: Option<&str>,
    with_planned: Option<bool>,
) -> Options {
    let cell_m = e.take(check_cell(cell)).unwrap_or(100.0);
    let basis = e.take(check_basis(basis)).flatten();
    Options {
        cell_m,
        basis,
        with_planned: with_planned.unwrap_or(false),
    }
}

/// Coverage under a rule (服务半径覆盖): the area and the areas directly
/// below it, counts of the elderly covered, not covered and not assessed
/// (overall and by density class), and the biggest uncovered clusters.
#[utoipa::path(
    get,
    path = "/api/planning/coverage",
    operation_id = "planning_coverage",
    tag = "planning",
    summary = "Coverage of an area under a distance rule",
    params(CoverageParams),
    responses(
        (status = 200, description = "The coverage report with the reading it was made under", body = crate::schema::CoverageReportSchema),
        (status = 422, description = "A bad parameter, named (`area` outside the caller's scope, `cell`, `rule`, `date`, …)", body = ErrorBody),
    )
)]
pub async fn coverage(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<CoverageParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let mut e = Errors::default();
    let date = e.take(check_date(p.date));
    let rule = e.take(check_rule(params()?, p.rule.as_deref()));
    let area = e.take(scope_area(
        &state.store.reference,
        &auth,
        &scope,
        p.area.as_deref(),
    ));
    let opts = options(&mut e, p.cell, p.basis.as_deref(), p.with_planned);
    let clusters = p.clusters.unwrap_or(DEFAULT_CLUSTERS);
    if clusters > report::MAX_CLUSTERS as u32 {
        e.0.push(FieldError::new("clusters", "from 0 to 500"));
    }
    let (Some(date), Some(rule), Some(area)) = (date, rule, area) else {
        return Err(ApiError::invalid(e.0));
    };
    e.finish()?;
    let r = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        let rep = report::coverage_report(&a, &rule, Some(&area.code), clusters as usize)
            .map_err(rules_error)?;
        to_json(&rep)
    })
    .await?;
    Ok(Json(r))
}

query_params! {
    /// Which cells.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CellsParams {
        /// The analysis date (default today), 2020-01-01 to 2035-12-31.
        pub date: Option<NaiveDate>,
        /// The area inside the caller's scope (default: the caller's home area).
        #[param(pattern = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")]
        pub area: Option<String>,
        /// Only this rule's answers (default: every rule's).
        #[param(pattern = "^(institution|home_care_walk)$")]
        pub rule: Option<String>,
        /// `all` (default) or `uncovered` (cells where someone is not covered).
        #[param(pattern = "^(all|uncovered)$")]
        pub filter: Option<String>,
        /// Cell side in metres: 100 (default), 250 or 1000. At most 60,000
        /// cells are answered: ask a smaller area or a coarser grid.
        #[param(minimum = 100, maximum = 1000)]
        pub cell: Option<u32>,
        /// `residents` (default) or `elderly`.
        #[param(pattern = "^(residents|elderly)$")]
        pub basis: Option<String>,
        /// Count planned facilities as if they operated.
        pub with_planned: Option<bool>,
        /// `json` (default) or `geojson` (a FeatureCollection of squares).
        #[param(pattern = "^(json|geojson)$")]
        pub format: Option<String>,
    }
}

/// The cells of the gap map: each populated cell with its people, density
/// class and, per rule, the nearest facility and the people not covered.
#[utoipa::path(
    get,
    path = "/api/planning/cells",
    operation_id = "planning_cells",
    tag = "planning",
    summary = "The cells of an area, as rows or GeoJSON",
    params(CellsParams),
    responses(
        (status = 200, description = "`json`: the cells as rows; `geojson`: a FeatureCollection of the cells' squares (WGS-84)",
            content(
                (crate::schema::PlanningCellsSchema = "application/json"),
                (crate::schema::GeoJsonSchema = "application/geo+json")
            )),
        (status = 422, description = "A bad parameter, named; `cells` when more than 60,000 cells would be answered", body = ErrorBody),
    )
)]
pub async fn cells(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<CellsParams>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let mut e = Errors::default();
    let date = e.take(check_date(p.date));
    let rule = match p.rule.as_deref() {
        Some(r) => e.take(check_rule(params()?, Some(r))).map(Some),
        None => Some(None),
    };
    let area = e.take(scope_area(
        &state.store.reference,
        &auth,
        &scope,
        p.area.as_deref(),
    ));
    let filter = match p.filter.as_deref() {
        None | Some("all") => Some(CellFilter::All),
        Some("uncovered") => Some(CellFilter::Uncovered),
        Some(_) => {
            e.0.push(FieldError::new("filter", "all or uncovered"));
            None
        }
    };
    let geo = match p.format.as_deref() {
        None | Some("json") => Some(false),
        Some("geojson") => Some(true),
        Some(_) => {
            e.0.push(FieldError::new("format", "json or geojson"));
            None
        }
    };
    let opts = options(&mut e, p.cell, p.basis.as_deref(), p.with_planned);
    let (Some(date), Some(rule), Some(area), Some(filter), Some(geo)) =
        (date, rule, area, filter, geo)
    else {
        return Err(ApiError::invalid(e.0));
    };
    e.finish()?;
    let size = opts.cell_m;
    let (rows, reading) = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        let rows =
            report::cells(&a, Some(&area.code), rule.as_deref(), filter).map_err(rules_error)?;
        Ok((rows, report::Reading::of(&a)))
    })
    .await?;
    if geo {
        return Ok(geojson(report::cells_geojson(&rows, size)));
    }
    Ok(Json(json!({
        "reading": reading,
        "cell_m": size,
        "total": rows.len(),
        "items": rows,
    }))
    .into_response())
}

query_params! {
    /// Which facilities.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FacilitiesParams {
        /// The analysis date (default today): facilities operating on it.
        pub date: Option<NaiveDate>,
        /// The area inside the caller's scope (default: the caller's home area).
        #[param(pattern = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")]
        pub area: Option<String>,
        /// Facility kinds, comma-separated (default: every kind).
        #[param(pattern = "^[a-z_]+(,[a-z_]+)*$", max_length = 400)]
        pub kinds: Option<String>,
        /// Count planned facilities as if they operated.
        pub with_planned: Option<bool>,
        /// Cell side in metres (100, 250 or 1000; shares the kept analysis).
        #[param(minimum = 100, maximum = 1000)]
        pub cell: Option<u32>,
    }
}

/// Facility kinds from a comma-separated list.
pub fn check_kinds(s: Option<&str>) -> Result<Vec<FacilityKind>, FieldError> {
    let Some(s) = s else { return Ok(Vec::new()) };
    s.split(',')
        .map(|k| {
            FacilityKind::ALL
                .iter()
                .copied()
                .find(|x| x.code() == k.trim())
                .ok_or_else(|| {
                    FieldError::new(
                        "kinds",
                        format!(
                            "unknown kind {:?}; expected codes of: {}",
                            k.chars().take(40).collect::<String>(),
                            FacilityKind::expected()
                        ),
                    )
                })
        })
        .collect()
}

/// The counted facilities (operating on the date, with coordinates) of an
/// area as GeoJSON points.
#[utoipa::path(
    get,
    path = "/api/planning/facilities",
    operation_id = "planning_facilities",
    tag = "planning",
    summary = "Facilities counted by the analysis, as GeoJSON points",
    params(FacilitiesParams),
    responses(
        (status = 200, description = "A FeatureCollection of points (WGS-84) with id, name, kind, beds, slots, area, planned",
            content((crate::schema::GeoJsonSchema = "application/geo+json"))),
        (status = 422, description = "A bad parameter, named", body = ErrorBody),
    )
)]
pub async fn facilities(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FacilitiesParams>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let mut e = Errors::default();
    let date = e.take(check_date(p.date));
    let area = e.take(scope_area(
        &state.store.reference,
        &auth,
        &scope,
        p.area.as_deref(),
    ));
    let kinds = e.take(check_kinds(p.kinds.as_deref()));
    let opts = options(&mut e, p.cell, None, p.with_planned);
    let (Some(date), Some(area), Some(kinds)) = (date, area, kinds) else {
        return Err(ApiError::invalid(e.0));
    };
    e.finish()?;
    let v = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        let ai = report::area_of(&a, Some(&area.code)).map_err(rules_error)?;
        Ok(report::facilities_geojson(&report::facilities_in(
            &a, ai, &kinds,
        )))
    })
    .await?;
    Ok(geojson(v))
}

query_params! {
    /// An accessibility run.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AccessParams {
        /// The analysis date (default today), 2020-01-01 to 2035-12-31.
        pub date: Option<NaiveDate>,
        /// `beds` (养老床位 for the elderly, default) or `slots` (托位 for infants).
        #[param(pattern = "^(beds|slots)$")]
        pub side: Option<String>,
        /// Catchment radius in metres, 50–20,000 (default from the rules: 1,000).
        #[param(minimum = 50, maximum = 20000)]
        pub radius: Option<u32>,
        /// Distance decay: `uniform` (2SFCA), `gaussian:<metres>` or
        /// `step:<m>=<w>,<m>=<w>…` (E2SFCA), at most 1,024 characters.
        #[param(max_length = 1024)]
        pub decay: Option<String>,
        /// The demand counted: `elderly`, `infants` or `residents` (default by side).
        #[param(pattern = "^(elderly|infants|residents)$")]
        pub demand: Option<String>,
        /// The area inside the caller's scope (default: the caller's home area).
        #[param(pattern = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")]
        pub area: Option<String>,
        /// Cell side in metres: 100 (default), 250 or 1000.
        #[param(minimum = 100, maximum = 1000)]
        pub cell: Option<u32>,
        /// Count planned facilities as if they operated.
        pub with_planned: Option<bool>,
        /// Also list the area's cells with their value (at most 60,000).
        pub cells: Option<bool>,
    }
}

/// Accessibility (可达性) by 2SFCA / E2SFCA: supply (beds or slots) per
/// person of demand within reach, by area, and the supply facilities with
/// no demand in reach.
#[utoipa::path(
    get,
    path = "/api/planning/access",
    operation_id = "planning_access",
    tag = "planning",
    summary = "Accessibility of beds or slots (2SFCA / E2SFCA) by area",
    params(AccessParams),
    responses(
        (status = 200, description = "The accessibility report; with `cells=true`, the area's cells with their value (`null`: no facility in reach)", body = crate::schema::AccessReportSchema),
        (status = 422, description = "A bad parameter, named (`radius`, `decay`, `side`, `demand`, `area`, `cell`, `cells`)", body = ErrorBody),
    )
)]
pub async fn access(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<AccessParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let mut e = Errors::default();
    let date = e.take(check_date(p.date));
    let area = e.take(scope_area(
        &state.store.reference,
        &auth,
        &scope,
        p.area.as_deref(),
    ));
    let opts = options(&mut e, p.cell, None, p.with_planned);
    let (Some(date), Some(area)) = (date, area) else {
        return Err(ApiError::invalid(e.0));
    };
    e.finish()?;
    let side = p.side.unwrap_or_else(|| "beds".into());
    let (radius, decay, demand) = (p.radius, p.decay, p.demand);
    let with_cells = p.cells.unwrap_or(false);
    let v = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        let req = report::AccessRequest::parse(
            &a,
            &side,
            radius.map(f64::from),
            decay.as_deref(),
            demand.as_deref(),
        )
        .map_err(rules_error)?;
        let run = report::access(&a, &req);
        let rep = report::access_report(&a, &run, Some(&area.code)).map_err(rules_error)?;
        let mut v = to_json(&rep)?;
        if with_cells {
            let cells = access_cells(&a, &run, &area.code)?;
            if let Value::Object(m) = &mut v {
                m.insert("cells".into(), cells);
            }
        }
        Ok(v)
    })
    .await?;
    Ok(Json(v))
}

/// An area's cells with their accessibility value (bounded like `/cells`).
pub fn access_cells(a: &Analysis, run: &report::AccessRun, area: &str) -> Result<Value, ApiError> {
    let ai = report::area_of(a, Some(area)).map_err(rules_error)?;
    let ids = a.cells_in(ai);
    if ids.len() > report::MAX_CELLS {
        return Err(ApiError::invalid(vec![FieldError::new(
            "cells",
            format!(
                "{} cells: more than {}; choose a smaller area or a coarser grid (250 or 1000 m)",
                ids.len(),
                report::MAX_CELLS
            ),
        )]));
    }
    let layer = run.request.demand.index();
    let rows: Vec<Value> = ids
        .into_iter()
        .map(|c| {
            let key = a.grid.keys[c];
            let (lng, lat) = laoxiao_spatial::unproject(a.grid.centre(c));
            json!({
                "col": key.0,
                "row": key.1,
                "lng": (lng * 1e6).round() / 1e6,
                "lat": (lat * 1e6).round() / 1e6,
                "demand": a.grid.value(c, layer),
                "value": run.value.get(c).copied().flatten(),
            })
        })
        .collect();
    Ok(Value::Array(rows))
}

query_params! {
    /// The slot table's area.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct SlotsParams {
        /// The analysis date (default today), 2020-01-01 to 2035-12-31.
        pub date: Option<NaiveDate>,
        /// The area inside the caller's scope (default: the caller's home area).
        #[param(pattern = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")]
        pub area: Option<String>,
        /// Count planned facilities as if they operated.
        pub with_planned: Option<bool>,
    }
}

/// The slot table (每千人口托位数): slots per 1,000 residents of the area
/// and the areas below it against their norm (8 or 10 per 1,000 in towns and
/// villages, 4.6 for counties and the city, indicator 38).
#[utoipa::path(
    get,
    path = "/api/planning/slots",
    operation_id = "planning_slots",
    tag = "planning",
    summary = "Childcare slots per 1,000 residents against the norms",
    params(SlotsParams),
    responses(
        (status = 200, description = "The slot table", body = crate::schema::SlotsReportSchema),
        (status = 422, description = "A bad parameter, named", body = ErrorBody),
    )
)]
pub async fn slots(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<SlotsParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let mut e = Errors::default();
    let date = e.take(check_date(p.date));
    let area = e.take(scope_area(
        &state.store.reference,
        &auth,
        &scope,
        p.area.as_deref(),
    ));
    let (Some(date), Some(area)) = (date, area) else {
        return Err(ApiError::invalid(e.0));
    };
    e.finish()?;
    let opts = Options {
        with_planned: p.with_planned.unwrap_or(false),
        ..Options::default()
    };
    let v = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        to_json(&report::slots_report(&a, Some(&area.code)).map_err(rules_error)?)
    })
    .await?;
    Ok(Json(v))
}

/// Sites to save as planned facilities.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitesBody {
    /// 1 to 200 sites, saved together or not at all.
    #[schema(value_type = Vec<crate::schema::SiteToSaveSchema>, min_items = 1, max_items = 200)]
    pub sites: Vec<SiteToSave>,
}

/// Save proposed sites as facilities with status `planned` (筹建中), in the
/// caller's scope, each audited. A village care station sits at its village;
/// every other kind at the town holding the site.
#[utoipa::path(
    post,
    path = "/api/planning/sites",
    operation_id = "planning_save_sites",
    tag = "planning",
    summary = "Save sites as planned facilities",
    request_body = SitesBody,
    responses(
        (status = 201, description = "The new facilities' ids, in the sites' order", body = crate::schema::SavedSitesSchema),
        (status = 422, description = "A site refused (`sites[i].field`), or an area outside the caller's scope; nothing saved", body = ErrorBody),
    )
)]
pub async fn save_sites(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<SitesBody>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::WriteFacilities)?;
    let ids = blocking(&state, move |c, r| {
        Ok(store_planning::save_sites(c, r, &scope, &b.sites)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "ids": ids }))).into_response())
}

/// The imported resident grid in force, or `null` (residents are then
/// estimated from the county totals).
#[utoipa::path(
    get,
    path = "/api/planning/resident-grid",
    operation_id = "planning_resident_grid",
    tag = "planning",
    summary = "The imported resident grid in force",
    responses((status = 200, description = "The grid's description, or null", body = crate::schema::GridInfoSchema))
)]
pub async fn grid_info(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(Perm::Aggregates)?;
    let g = blocking(&state, move |c, _| Ok(store_planning::grid_info(c)?)).await?;
    Ok(Json(to_json(&g)?))
}

query_params! {
    /// Where a resident grid comes from.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct GridParams {
        /// Its source (a census extract, a mobile-signal product…), at most 200 characters.
        #[param(min_length = 1, max_length = 200)]
        pub source: Option<String>,
    }
}

/// The body of a CSV upload: `text/csv`, within the upload limit.
pub(crate) async fn csv_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mime = ct
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if mime.as_deref() != Some("text/csv") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "expected text/csv, got {:?}",
            ct.unwrap_or_default()
        )));
    }
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: MAX_GRID_BYTES,
            }
        } else {
            ApiError::BadRequest(format!(
                "could not read the request body: {}",
                e.body_text()
            ))
        }
    })
}

/// Load a resident grid (常住人口网格): CSV with `lng`, `lat`, `residents`
/// (or 经度, 纬度, 常住人口) and optionally `coord_system`; it replaces the
/// grid in force, all or nothing. City administrators only.
#[utoipa::path(
    post,
    path = "/api/planning/resident-grid",
    operation_id = "planning_import_resident_grid",
    tag = "planning",
    summary = "Load (replace) the resident grid",
    params(GridParams),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV, at most 64 MiB and 2,000,000 rows"),
    responses(
        (status = 200, description = "The grid now in force", body = crate::schema::GridInfoSchema),
        (status = 413, description = "Larger than 64 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not `text/csv` (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Rows refused (row, column, reason); nothing loaded", body = ErrorBody),
    )
)]
pub async fn import_grid(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<GridParams>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Import)?;
    let source = p
        .source
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "api".into());
    if source.chars().count() > 200 || source.chars().any(char::is_control) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "source",
            "1 to 200 printable characters",
        )]));
    }
    let bytes = csv_body(req, &state).await?;
    let info = blocking(&state, move |c, _| {
        let points = store_planning::parse_grid_csv(&bytes)?;
        Ok(store_planning::import_grid(c, &scope, &points, &source)?)
    })
    .await?;
    Ok(Json(to_json(&info)?))
}

/// Remove the imported resident grid: residents are estimated again.
#[utoipa::path(
    delete,
    path = "/api/planning/resident-grid",
    operation_id = "planning_clear_resident_grid",
    tag = "planning",
    summary = "Remove the resident grid",
    responses((status = 200, description = "`cleared`: whether a grid was in force", body = Object))
)]
pub async fn clear_grid(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Import)?;
    let n = blocking(&state, move |c, _| {
        Ok(store_planning::clear_grid(c, &scope)?)
    })
    .await?;
    Ok(Json(json!({ "cleared": n })))
}

/// What the siting tool optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SitingMode {
    /// `k` new sites covering the most uncovered people under `rule`.
    Count,
    /// As few sites as reach `target` (a covered share, 0–1) under `rule`.
    Target,
    /// Childcare sites sized to the county's slot shortfall (4.6 per 1,000).
    Slots,
}

/// Where candidate sites come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CandidateSource {
    /// The centres of the county's villages and towns.
    Centres,
    /// The centres of a square grid (`spacing_m`) over the populated cells.
    Grid,
    /// The `points` given.
    Points,
}

/// A candidate point (WGS-84).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidatePoint {
    #[schema(minimum = -180, maximum = 180)]
    pub lng: f64,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// At most 100 characters (a number is given when absent).
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

/// A siting request for one county.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitingBody {
    /// The county (6-digit code) inside the caller's scope.
    #[schema(pattern = "^3304[0-9]{2}$", example = "330402")]
    pub county: String,
    pub mode: SitingMode,
    /// `institution` (default) or `home_care_walk`; modes `count` and `target`.
    #[schema(pattern = "^(institution|home_care_walk)$")]
    pub rule: Option<String>,
    /// Sites to propose, 1–200 (mode `count`; required there).
    #[schema(minimum = 1, maximum = 200)]
    pub k: Option<u32>,
    /// The covered share to reach, above 0 and up to 1 (mode `target`; required there).
    #[schema(exclusive_minimum = 0, maximum = 1)]
    pub target: Option<f64>,
    /// Default `centres`.
    pub candidates: Option<CandidateSource>,
    /// Grid spacing in metres, 50–5,000 (candidates `grid`; default 250).
    #[schema(minimum = 50, maximum = 5000)]
    pub spacing_m: Option<f64>,
    /// Candidates `points`: 1 to 2,000 points.
    #[schema(max_items = 2000)]
    pub points: Option<Vec<CandidatePoint>>,
    /// The accepted optimality gap, 0 (prove optimal, default) to 0.5; the
    /// solver stops after 20 seconds and reports the gap it reached.
    #[schema(minimum = 0, maximum = 0.5)]
    pub max_gap: Option<f64>,
    /// Count planned facilities as if they operated.
    pub with_planned: Option<bool>,
    /// Cell side in metres: 100 (default), 250 or 1000.
    #[schema(minimum = 100, maximum = 1000)]
    pub cell: Option<u32>,
}

/// Time the solver may take per request.
pub const SITING_SECONDS: u64 = 20;
/// Candidate points one request may give.
pub const MAX_POINTS: usize = 2_000;

/// A siting request checked: the county and the rules' request, or every
/// field error.
pub fn siting_request(
    reference: &Reference,
    auth: &Auth,
    scope: &Scope,
    b: &SitingBody,
) -> Result<(laoxiao_rules::planning::siting::SitingRequest, Options), Vec<FieldError>> {
    use laoxiao_rules::planning::siting::{Candidates, Mode, SitingRequest};
    let mut e = Errors::default();
    let county = match scope_area(reference, auth, scope, Some(&b.county)) {
        Ok(a) if a.level == laoxiao_model::AreaLevel::County => Some(a.code),
        Ok(_) => {
            e.0.push(FieldError::new(
                "county",
                "a county's 6-digit code: siting runs per county",
            ));
            None
        }
        Err(fe) => {
            e.0.push(FieldError::new("county", fe.reason));
            None
        }
    };
    let rule = match params() {
        Ok(p) => e.take(check_rule(p, b.rule.as_deref())),
        Err(_) => None,
    };
    // A field given is held to its schema's bounds even where the mode or
    // the candidate source does not use it.
    if !matches!(b.mode, SitingMode::Count) && b.k.is_some_and(|k| !(1..=200).contains(&k)) {
        e.0.push(FieldError::new("k", "from 1 to 200"));
    }
    if !matches!(b.mode, SitingMode::Target)
        && b.target
            .is_some_and(|t| !(t.is_finite() && t > 0.0 && t <= 1.0))
    {
        e.0.push(FieldError::new(
            "target",
            "a share above 0 and up to 1 (0.95 = 95%)",
        ));
    }
    let source = b.candidates.unwrap_or(CandidateSource::Centres);
    if !matches!(source, CandidateSource::Grid)
        && b.spacing_m
            .is_some_and(|s| !(s.is_finite() && (50.0..=5_000.0).contains(&s)))
    {
        e.0.push(FieldError::new("spacing_m", "from 50 to 5000 metres"));
    }
    if !matches!(source, CandidateSource::Points)
        && let Some(pts) = &b.points
    {
        if pts.len() > MAX_POINTS {
            e.0.push(FieldError::new(
                "points",
                format!("at most {MAX_POINTS} points"),
            ));
        }
        for (i, p) in pts.iter().enumerate().take(MAX_POINTS) {
            let bad_point = !(p.lng.is_finite()
                && p.lat.is_finite()
                && (-180.0..=180.0).contains(&p.lng)
                && (-90.0..=90.0).contains(&p.lat));
            let bad_name = p.name.as_ref().is_some_and(|n| n.chars().count() > 100);
            if bad_point || bad_name {
                e.0.push(FieldError::new(
                    format!("points[{i}]"),
                    "not a longitude, latitude and name of at most 100 characters",
                ));
            }
        }
    }
    let mode = match b.mode {
        SitingMode::Count => match b.k {
            Some(k @ 1..=200) => rule.clone().map(|rule| Mode::Count {
                rule,
                k: k as usize,
            }),
            Some(_) => {
                e.0.push(FieldError::new("k", "from 1 to 200"));
                None
            }
            None => {
                e.0.push(FieldError::new("k", "is required for mode count"));
                None
            }
        },
        SitingMode::Target => match b.target {
            Some(t) if t.is_finite() && t > 0.0 && t <= 1.0 => {
                rule.clone().map(|rule| Mode::Target { rule, share: t })
            }
            Some(_) => {
                e.0.push(FieldError::new(
                    "target",
                    "a share above 0 and up to 1 (0.95 = 95%)",
                ));
                None
            }
            None => {
                e.0.push(FieldError::new("target", "is required for mode target"));
                None
            }
        },
        SitingMode::Slots => Some(Mode::Slots),
    };
    let candidates = match b.candidates.unwrap_or(CandidateSource::Centres) {
        CandidateSource::Centres => Some(Candidates::Centres),
        CandidateSource::Grid => {
            let s = b.spacing_m.unwrap_or(250.0);
            if s.is_finite() && (50.0..=5_000.0).contains(&s) {
                Some(Candidates::Grid { spacing_m: s })
            } else {
                e.0.push(FieldError::new("spacing_m", "from 50 to 5000 metres"));
                None
            }
        }
        CandidateSource::Points => match &b.points {
            Some(pts) if !pts.is_empty() && pts.len() <= MAX_POINTS => {
                let mut out = Vec::with_capacity(pts.len());
                for (i, p) in pts.iter().enumerate() {
                    let name = p.name.clone().unwrap_or_default();
                    if !(p.lng.is_finite()
                        && p.lat.is_finite()
                        && (-180.0..=180.0).contains(&p.lng)
                        && (-90.0..=90.0).contains(&p.lat))
                    {
                        e.0.push(FieldError::new(
                            format!("points[{i}]"),
                            "not a longitude and latitude",
                        ));
                    } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
                        e.0.push(FieldError::new(
                            format!("points[{i}].name"),
                            "at most 100 printable characters",
                        ));
                    } else {
                        out.push((p.lng, p.lat, name));
                    }
                }
                Some(Candidates::Points(out))
            }
            _ => {
                e.0.push(FieldError::new(
                    "points",
                    format!("give 1 to {MAX_POINTS} points for candidates points"),
                ));
                None
            }
        },
    };
    let max_gap = b.max_gap.unwrap_or(0.0);
    if !(max_gap.is_finite() && (0.0..=0.5).contains(&max_gap)) {
        e.0.push(FieldError::new("max_gap", "a share from 0 to 0.5"));
    }
    let opts = options(&mut e, b.cell, None, b.with_planned);
    match (county, mode, candidates) {
        (Some(county), Some(mode), Some(candidates)) if e.0.is_empty() => Ok((
            SitingRequest {
                county,
                mode,
                candidates,
                max_gap,
                time_limit: std::time::Duration::from_secs(SITING_SECONDS),
            },
            opts,
        )),
        _ => Err(e.0),
    }
}

/// A siting error as the API's (the rules call the county `area`).
pub fn siting_error(e: RulesError) -> ApiError {
    match e {
        RulesError::Parameter { name, reason } if name == "area" => {
            ApiError::invalid(vec![FieldError::new("county", reason)])
        }
        other => rules_error(other),
    }
}

/// The siting tool (选址): where new facilities should go in a county — `k`
/// sites covering the most uncovered people (maximal covering), as few
/// sites as reach a covered share, or childcare sites sized to the slot
/// shortfall. Sites come from village and town centres, a grid, or given
/// points; the answer says whether the solution is proven optimal and the
/// gap to the proven bound.
#[utoipa::path(
    post,
    path = "/api/planning/siting",
    operation_id = "planning_siting",
    tag = "planning",
    summary = "Propose sites for new facilities in a county",
    request_body = SitingBody,
    responses(
        (status = 200, description = "The proposed sites, coverage before and after, the optimality gap and the time taken", body = crate::schema::SitingReportSchema),
        (status = 422, description = "A bad field, named (`county` outside the caller's scope or not a county, `k` for mode count, `target` for mode target, `points`, …)", body = ErrorBody),
    )
)]
pub async fn siting(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<SitingBody>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::Aggregates)?;
    let (req, opts) =
        siting_request(&state.store.reference, &auth, &scope, &b).map_err(ApiError::invalid)?;
    let date = check_date(None).map_err(|e| ApiError::invalid(vec![e]))?;
    let v = blocking(&state, move |c, r| {
        let a = analysis(c, r, date, &opts)?;
        let rep = laoxiao_rules::planning::siting::site(&a, &req).map_err(siting_error)?;
        to_json(&rep)
    })
    .await?;
    Ok(Json(v))
}
